"""The one interface every image source of the project implements.

A source is a finite, indexable collection of single-channel images of one
size with an optional table of labels. Readers of the real data sets
(UnityEyes, MPIIGaze, NYU hands), image folders, prepared HDF5 caches and the
embedded generated worlds all return an :class:`ImageSource`, so the SimGAN
trainer, the refine binary and the estimators never know where images come
from.

Conventions shared by all sources:

* ``read(indices)`` returns float32 images of shape ``(n, H, W, 1)`` scaled
  to ``[-1, 1]``, the range of the refiner's tanh output, so real and
  refined images reach the discriminator in the same range (a range
  mismatch would let D tell them apart by it). Grayscale 8-bit images map
  as ``x / 127.5 - 1``; depth sources document their own mapping.
* ``frame`` is a :class:`pandas.DataFrame` with one row per image, in index
  order. Its first column is ``filename`` (the relative name under which a
  refined copy is written); any further columns are labels, carried through
  refinement unchanged. Gaze sources use ``gaze_x, gaze_y, gaze_z`` (a unit
  vector in the MPIIGaze normalised camera frame).
* Bad input raises :class:`DataError` with a one-line message that starts
  with the offending path.
"""

import abc
import os
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

GAZE_COLUMNS = ("gaze_x", "gaze_y", "gaze_z")


class DataError(ValueError):
  """Malformed or missing input data. The message is one line: 'PATH: fault'."""

  def __init__(self, path, fault: str):
    # A fault often quotes the file (a value, a library's message): its
    # line breaks and runs of spaces become single spaces.
    fault = " ".join(str(fault).split())
    super().__init__(f"{path}: {fault}")
    self.path = str(path)
    self.fault = fault

  def __reduce__(self):
    # Pickled by its two arguments, so an error raised in a worker process
    # (benchmarks/stages.py runs stages in a pool) reaches the parent intact.
    return DataError, (self.path, self.fault)


def path_inside(root: str, name: str, origin: str) -> str:
  """ROOT/NAME for a file name that came from data, checked to stay inside.

  A name read from a cache, a .mat or a labels.csv is data, not a path to
  trust: an absolute name or one with '..' would write outside the output
  folder. Such a name is a DataError naming where it came from.

  Args:
    root: the output folder.
    name: a relative file name from the data (may hold subfolders).
    origin: the source file (or source) the name was read from.
  """
  parts = name.replace("\\", "/").split("/")
  bad = (not name or os.path.isabs(name) or ".." in parts or
         os.path.splitdrive(name)[0])
  path = os.path.join(root, name)
  real_root = os.path.realpath(root)
  if bad or not os.path.realpath(path).startswith(real_root + os.sep):
    raise DataError(origin, f"entry {name!r} is not a relative file name "
                    "inside the output folder; refusing to write it")
  return path


class ImageSource(abc.ABC):
  """A finite, indexable set of single-channel images with optional labels."""

  def __init__(self, description: str, frame: pd.DataFrame,
               image_shape: Tuple[int, int]):
    if "filename" not in frame.columns or frame.columns[0] != "filename":
      raise ValueError("frame must have 'filename' as its first column")
    self.description = description
    self.frame = frame.reset_index(drop=True)
    self.image_shape = tuple(int(s) for s in image_shape)
    # What made these images when the SPEC alone does not say (e.g. the
    # refiner of a refined set): a digest recorded with them, or None.
    self.made_by: Optional[str] = None

  def __len__(self) -> int:
    return len(self.frame)

  @property
  def identity(self) -> Dict[str, Optional[str]]:
    """What determines these images, for a run's provenance: the SPEC and
    what made the data."""
    return {"spec": self.description, "made_by": self.made_by}

  @property
  def filenames(self) -> Sequence[str]:
    return self.frame["filename"].tolist()

  @property
  def label_columns(self) -> Tuple[str, ...]:
    return tuple(self.frame.columns[1:])

  @property
  def has_labels(self) -> bool:
    return len(self.label_columns) > 0

  def labels(self, columns: Sequence[str] = GAZE_COLUMNS) -> np.ndarray:
    """Numeric labels of the given columns as float32, shape (N, len(columns))."""
    missing = [c for c in columns if c not in self.frame.columns]
    if missing:
      raise DataError(self.description, f"has no label column(s) {missing}")
    return self.frame[list(columns)].to_numpy(np.float32)

  @abc.abstractmethod
  def read(self, indices: np.ndarray) -> np.ndarray:
    """Images at `indices` as float32 (n, H, W, 1) in [-1, 1]."""

  def read_all(self) -> np.ndarray:
    return self.read(np.arange(len(self)))

  def subset(self, indices: np.ndarray,
             description: Optional[str] = None) -> "ImageSource":
    """A view on some of this source's images (same order as `indices`)."""
    return SubsetSource(self, np.asarray(indices, np.int64), description)

  def __repr__(self):
    return (f"{type(self).__name__}({self.description!r}, n={len(self)}, "
            f"shape={self.image_shape}, labels={list(self.label_columns)})")


class ArraySource(ImageSource):
  """Images held in memory (already scaled to [-1, 1])."""

  def __init__(self, description: str, images: np.ndarray,
               frame: pd.DataFrame):
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
      images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != 1:
      raise ValueError(f"images must be (N, H, W[, 1]), got {images.shape}")
    if len(images) != len(frame):
      raise ValueError(f"{len(images)} images but {len(frame)} frame rows")
    super().__init__(description, frame, images.shape[1:3])
    self.images = images

  def read(self, indices):
    return self.images[np.asarray(indices, np.int64)]

  def read_all(self):
    return self.images


class SubsetSource(ImageSource):
  """A subset of another source, by index."""

  def __init__(self, parent: ImageSource, indices: np.ndarray,
               description: Optional[str] = None):
    super().__init__(description or f"{parent.description}[subset]",
                     parent.frame.iloc[indices], parent.image_shape)
    self.parent = parent
    self.indices = indices
    self.made_by = parent.made_by

  def read(self, indices):
    return self.parent.read(self.indices[np.asarray(indices, np.int64)])


def split_train_validation(source: ImageSource, schedule
                          ) -> Tuple[ImageSource, ImageSource]:
  """(train, validation) subsets of one labelled source, fixed by the seed.

  The paper names no validation set for "until the validation error
  converges"; the estimators hold out a share of their own training source
  (never the test set). The indices come from core.estimator.split_indices:
  nested training subsets (a smaller `subset_fraction`'s images are part of
  a larger's) and the same validation images for every subset.

  Args:
    source: the labelled training source.
    schedule: a core.estimator.Schedule (seed, validation_fraction,
      max_validation, subset_fraction).

  Returns:
    Subsets described as SOURCE[train] and SOURCE[validation].

  Raises:
    DataError: no image is left for training.
  """
  # core.estimator imports TensorFlow; this module stays importable without.
  from core import estimator  # pylint: disable=g-import-not-at-top
  try:
    train, validation = estimator.split_indices(len(source), schedule)
  except ValueError as e:
    raise DataError(source.description, str(e)) from None
  return (source.subset(train, f"{source.description}[train]"),
          source.subset(validation, f"{source.description}[validation]"))


def uint8_to_unit(images: np.ndarray) -> np.ndarray:
  """8-bit gray levels to [-1, 1] (the mapping every grayscale source uses)."""
  return np.asarray(images, np.float32) / 127.5 - 1.0


def unit_to_uint8(images: np.ndarray) -> np.ndarray:
  """[-1, 1] back to 8-bit gray levels, rounded and clipped."""
  return np.clip(np.rint((np.asarray(images) + 1.0) * 127.5), 0,
                 255).astype(np.uint8)


def frame_for(filenames: Sequence[str],
              labels: Optional[np.ndarray] = None,
              columns: Sequence[str] = GAZE_COLUMNS) -> pd.DataFrame:
  """A source frame from file names and an optional (N, len(columns)) array."""
  frame = pd.DataFrame({"filename": list(filenames)})
  if labels is not None:
    labels = np.asarray(labels)
    for i, column in enumerate(columns):
      frame[column] = labels[:, i]
  return frame
