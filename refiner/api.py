"""The refiner from Python: load one, refine numpy images, train one.

A notebook reaches a trained refiner R_θ (paper §2) in three lines::

    from refiner import Refiner
    r = Refiner.load("runs/my_refiner")   # a refiner.train workdir
    refined = r.refine(images)            # numpy in, numpy out

and trains one (Algorithm 1) with ``refiner.train(synthetic, real, workdir,
steps=..., **hparams)`` on numpy arrays or the SPEC strings of
``python -m refiner.train``.

Images are numpy arrays. uint8 arrays hold 8-bit levels 0..255; float arrays
are taken as [-1, 1], the range every source reads images in and R's tanh
outputs (data/source.py). Floats in [0, 1] cannot be told from [-1, 1] ones:
scale them first (2x - 1). Each call gives back the dtype, range and shape
it was given.
"""

import os
from typing import Optional, Tuple, Union

import keras
import numpy as np

from core import inference
from core import provenance
from data import source as source_lib
from data import specs
from refiner import networks
from refiner import simgan
from refiner import train_lib
from refiner import workdir as workdir_lib

# A float image is on [-1, 1] give or take noise or augmentation; one whose
# magnitude passes this is on another scale (0..255 levels, most likely),
# which R would map to saturated nonsense without an error.
_FLOAT_LIMIT = 1.5
# Keras' suffix for weight files, the one snapshots carry (workdir.py).
_WEIGHTS_SUFFIX = ".weights.h5"

Images = Union[np.ndarray, source_lib.ImageSource, str]


def _to_unit(images: np.ndarray, what: str) -> np.ndarray:
  """uint8 levels or [-1, 1] floats as float32 in [-1, 1].

  Raises:
    ValueError: empty, neither uint8 nor float, not finite, or floats far
      outside [-1, 1].
  """
  if images.size == 0:
    raise ValueError(f"{what} are empty (shape {images.shape})")
  if images.dtype == np.uint8:
    return source_lib.uint8_to_unit(images)
  if not np.issubdtype(images.dtype, np.floating):
    raise ValueError(f"{what} have dtype {images.dtype}; pass uint8 levels "
                     "(0..255) or floats in [-1, 1]")
  low, high = float(images.min()), float(images.max())  # NaN propagates.
  if not (np.isfinite(low) and np.isfinite(high)):
    raise ValueError(f"{what} hold NaN or infinite values")
  if max(high, -low) > _FLOAT_LIMIT:
    raise ValueError(
        f"float {what} must be in [-1, 1] but span [{low:g}, {high:g}]; pass "
        "8-bit levels as uint8, or scale them to [-1, 1] (x / 127.5 - 1)")
  return images.astype(np.float32, copy=False)


def _smallest_side(model: keras.Model) -> int:
  """The smallest height or width R's padding accepts.

  Reflect padding by p needs more than p pixels and symmetric padding at
  least p (TensorFlow's MirrorPad); zero padding takes any size.
  """
  smallest = 1
  for layer in model.layers:
    if isinstance(layer, networks.SpatialPad):
      need = {"reflect": layer.size + 1, "symmetric": layer.size}.get(
          layer.mode, 1)
      smallest = max(smallest, need)
  return smallest


class Refiner:
  """A trained refiner R_θ: synthetic images in, refined images out (§2).

  R is fully convolutional (§3.2: no striding or pooling), so it refines
  images of any height and width, not only those it was trained on.

  Args:
    model: the Keras refiner, mapping (N, H, W, C) images in [-1, 1] to
      refined ones of the same shape (networks.build_refiner).
    path: where it was loaded from, for the repr.
    snapshot: the snapshot whose weights it holds, or None.
  """

  def __init__(self, model: keras.Model, path: Optional[str] = None,
               snapshot: Optional[str] = None):
    self._model = model
    self._forward = None  # traced on the first refine call
    self._path = path
    self._snapshot = snapshot or None
    self._smallest = _smallest_side(model)

  @classmethod
  def load(cls, path: Union[str, os.PathLike],
           snapshot: Optional[str] = None) -> "Refiner":
    """Loads a trained refiner.

    Args:
      path: a refiner.train workdir (its refiner.keras), an exported
        refiner.keras file, or a snapshot WORKDIR/snapshots/NAME.weights.h5
        (its weights in the workdir's refiner).
      snapshot: a snapshot of the workdir (a file name in
        WORKDIR/snapshots, or an absolute path) whose weights replace the
        exported ones; with a .keras file, WORKDIR is the file's folder.

    Raises:
      DataError: a file is missing or unreadable, or `path` is none of the
        above.
      ValueError: a snapshot both as `path` and as `snapshot`.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
      model = workdir_lib.load_refiner(path, snapshot)
    elif path.endswith(_WEIGHTS_SUFFIX):
      if snapshot:
        raise ValueError(f"{path} is a snapshot already; pass snapshot= "
                         "only with a workdir or its refiner.keras")
      folder = os.path.dirname(os.path.abspath(path))
      if os.path.basename(folder) != workdir_lib.SNAPSHOT_DIR:
        # Weights alone have no architecture: it is the workdir's refiner.
        raise source_lib.DataError(
            path, f"is not in a workdir's {workdir_lib.SNAPSHOT_DIR}/ "
            f"folder; a snapshot loads into its workdir's "
            f"{workdir_lib.REFINER_FILE}")
      snapshot = os.path.basename(path)
      model = workdir_lib.load_refiner(os.path.dirname(folder),
                                       os.path.abspath(path))
    elif os.path.isfile(path):
      try:
        model = keras.models.load_model(path)
      except (ValueError, OSError) as e:
        raise source_lib.DataError(path, f"cannot be loaded: {e}")
      if snapshot:
        workdir_lib.load_snapshot(model, os.path.dirname(path), snapshot)
    else:
      raise source_lib.DataError(path, "does not exist; expected a "
                                 "refiner.train workdir or its "
                                 f"{workdir_lib.REFINER_FILE}")
    return cls(model, path, snapshot)

  @property
  def model(self) -> keras.Model:
    """The Keras refiner."""
    return self._model

  @property
  def channels(self) -> int:
    """Image channels R takes and gives (1: grayscale, as every source)."""
    return int(self._model.input_shape[-1])

  @property
  def path(self) -> Optional[str]:
    return self._path

  @property
  def snapshot(self) -> Optional[str]:
    return self._snapshot

  def __repr__(self):
    return (f"Refiner(path={self._path!r}, snapshot={self._snapshot!r}, "
            f"channels={self.channels})")

  def _accepted_shapes(self) -> str:
    c = self.channels
    if c == 1:
      return "(H, W), (N, H, W), (H, W, 1) or (N, H, W, 1)"
    return f"(H, W, {c}) or (N, H, W, {c})"

  def _as_batch(self, images: np.ndarray) -> np.ndarray:
    """`images` as (N, H, W, C): one image or a batch, gray or with C."""
    c = self.channels
    if images.ndim not in (2, 3, 4):
      raise ValueError(f"images must be {self._accepted_shapes()}, got "
                       f"{images.ndim} axes (shape {images.shape})")
    # A 3-d array whose last axis fits C is one image with a channel axis;
    # any other 3-d array is a batch of gray images.
    if images.ndim == 4:
      batch = images
    elif images.ndim == 3 and images.shape[-1] == c:
      batch = images[None]
    elif images.ndim == 3 and c == 1:
      batch = images[..., None]
    elif images.ndim == 2 and c == 1:
      batch = images[None, ..., None]
    else:
      batch = None
    if batch is None or batch.shape[-1] != c:
      raise ValueError(f"images of shape {images.shape} do not fit this "
                       f"{c}-channel refiner; pass {self._accepted_shapes()}")
    return batch

  def refine(self, images, batch_size: int = 256) -> np.ndarray:
    """Refines images: x̃ = R_θ(x) (§2), numpy in, numpy out.

    Args:
      images: one image or a batch of any height and width: (H, W) or
        (N, H, W) gray (for a 1-channel refiner), or (H, W, C) or
        (N, H, W, C) with C = `channels`. uint8 levels 0..255, or floats in
        [-1, 1] (the range of every source; floats in [0, 1] must be scaled
        to it first).
      batch_size: images per call of R.

    Returns:
      The refined images in the shape and dtype given: uint8 levels
      (rounded and clipped) for uint8, floats in [-1, 1] for floats.

    Raises:
      ValueError: an empty input, a shape that does not fit `channels`, a
        dtype other than uint8 or float, floats far outside [-1, 1] (e.g.
        0..255 as floats), or images smaller than R's padding allows.
    """
    if batch_size < 1:
      raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    images = np.asarray(images)
    if images.size == 0:
      raise ValueError(f"images are empty (shape {images.shape})")
    batch = self._as_batch(images)
    height, width = batch.shape[1:3]
    if min(height, width) < self._smallest:
      raise ValueError(f"images of {height}x{width} pixels are too small for "
                       f"this refiner's padding; it needs at least "
                       f"{self._smallest} pixels a side")
    batch = _to_unit(batch, "images")
    # Applied as refine_lib.RefinedSource applies it, so `python -m
    # refiner.refine` and this give the same images.
    if self._forward is None:
      self._forward = inference.forward(self._model)
    refined = inference.predict(self._forward, batch,
                                batch_size).reshape(images.shape)
    if images.dtype == np.uint8:
      return source_lib.unit_to_uint8(refined)
    return refined.astype(images.dtype, copy=False)


def _open(images: Images, role: str,
          image_size: Optional[Tuple[int, int]]) -> source_lib.ImageSource:
  """A SPEC, an ImageSource or an (N, H, W[, 1]) array as a source."""
  if isinstance(images, str):
    return specs.open_source(images, image_size)
  if isinstance(images, source_lib.ImageSource):
    return images
  images = np.asarray(images)
  if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 1):
    raise ValueError(f"{role} images must be a gray batch (N, H, W) or "
                     f"(N, H, W, 1), got shape {images.shape}")
  if image_size and tuple(images.shape[1:3]) != tuple(image_size):
    raise ValueError(f"{role} images are {images.shape[1]}x{images.shape[2]}"
                     f" but image_size is {image_size[0]}x{image_size[1]}; "
                     "image_size resizes SPEC sources only")
  unit = _to_unit(images, f"{role} images")
  source = source_lib.ArraySource(
      f"{role} array", unit,
      source_lib.frame_for([f"{i}.png" for i in range(len(unit))]))
  # The workdir's provenance is (hparams, source identities): the arrays'
  # digest makes other arrays another run, refused, and the same ones resume.
  source.made_by = provenance.arrays_digest([source.images])
  return source


def train(synthetic: Images, real: Images, workdir: str, *,
          image_size: Union[None, str, Tuple[int, int]] = None,
          overwrite: bool = False, snapshot_every: int = 0,
          checkpoint_every: int = 100, log_every: int = 10,
          image_every: int = 100, progress: bool = True,
          strategy: str = "default", **hparams) -> Refiner:
  """Trains a refiner by Algorithm 1 (§2, §3.1) and loads it.

  What `python -m refiner.train` does (train_lib.run_training): the same
  schedule, checkpoints, resumption and export. A workdir of another run
  (other hyper-parameters or images) is refused unless `overwrite`; the
  same run resumes (a finished one is only exported again).

  Args:
    synthetic: the synthetic images x_i: a SPEC string (data/specs.py), an
      ImageSource (labels, if any, are ignored by training) or an array
      (N, H, W) or (N, H, W, 1) of uint8 levels or [-1, 1] floats.
    real: the unlabelled real images y_j, likewise.
    workdir: the run's folder (refiner/workdir.py).
    image_size: (H, W) or 'HxW' to resize SPEC sources to (arrays are
      used as they are); default: the sources' own size, which must match.
    overwrite: empty a workdir of another run and start afresh.
    snapshot_every, checkpoint_every, log_every, image_every, progress: as
      for train_lib.train.
    strategy: a name of train_lib.STRATEGIES.
    **hparams: fields of simgan.HParams (steps, batch_size, arch, lam,
      ...) other than image_shape, which is the images' size.

  Returns:
    The trained refiner, loaded from `workdir`.

  Raises:
    DataError: a source is unreadable, or the images' sizes differ.
    ProvenanceError: the workdir holds another run or is in use.
    ValueError: bad arrays or hyper-parameters.
  """
  if isinstance(image_size, str):
    image_size = specs.parse_image_size(image_size)
  synthetic = _open(synthetic, "synthetic", image_size)
  real = _open(real, "real", image_size)
  config = simgan.HParams(image_shape=tuple(synthetic.image_shape), **hparams)
  train_lib.run_training(
      config, synthetic, real, workdir, strategy=strategy,
      checkpoint_every=checkpoint_every, log_every=log_every,
      image_every=image_every, snapshot_every=snapshot_every,
      progress=progress, overwrite=overwrite)
  return Refiner.load(workdir)
