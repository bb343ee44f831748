"""The embedded eye world as an image source, and its SPEC.

    embedded-eyes-sim?split=train|test&n=20000&seed=0
    embedded-eyes-real?split=train|test|labelled&n=20000&seed=0
    embedded-eyes-oracle?split=train|test&n=20000&seed=0

The domains differ in two ways, as UnityEyes and MPIIGaze do in the paper
(§3.2): in *appearance* (the real stand-in is rendered with lashes, lid
margins, skin and sclera texture, light and a webcam; the simulator clean)
and in *population* (the real stand-in's people, head poses and gazes come
from other ranges: smaller, lower gaze cone, larger and darker irises,
narrower eyes, other eye shapes and skin tones; see
:mod:`.parameters`). The oracle is the simulator's images (same parameters,
labels and order: image i of ``embedded-eyes-oracle?split=S&n=N&seed=K`` is
image i of ``embedded-eyes-sim?split=S&n=N&seed=K``) rendered with the real
stand-in's appearance: what a perfect label-preserving refiner would make.
Its files are named ``oracle_train/000123.png`` where the simulator's are
``sim_train/000123.png``.

Images are rendered on read; the label frame (every image's gaze) is made
when the source opens, from the parameters alone.
"""

from typing import Dict, Optional, Tuple

import numpy as np

from data import source as source_lib
from data.embedded import world
from data.embedded.eyes import parameters
from data.embedded.eyes import render as eye_render

SIM = parameters.SIM
REAL = parameters.REAL
ORACLE = parameters.ORACLE
_DIRECTORIES = {
    (SIM, "train"): "sim_train",
    (SIM, "test"): "sim_test",
    (REAL, "train"): "real_train",
    (REAL, "test"): "real_test",
    (REAL, "labelled"): "real_labelled",
    (ORACLE, "train"): "oracle_train",
    (ORACLE, "test"): "oracle_test",
}
# Images rendered per NumPy pass: smaller chunks pay Python overhead per
# NumPy call, larger ones fall out of cache.
_CHUNK = 256


class EmbeddedEyeSource(world.RenderedSource):
  """One split of one domain of the embedded eye world (rendered on read)."""

  def __init__(self, domain: str, split: str, n: int, seed: int,
               image_shape: Tuple[int, int] = parameters.CANONICAL_SHAPE):
    key = parameters.stream_key(seed, domain, split)
    directory = _DIRECTORIES[domain, split]
    digits = max(6, len(str(max(n - 1, 0))))
    filenames = [f"{directory}/{i:0{digits}d}.png" for i in range(n)]
    labelled = not (domain == REAL and split == "train")
    labels = None
    if labelled:
      params = parameters.sample_parameters(key, np.arange(n),
                                            ("pitch", "yaw"), domain)
      labels = parameters.gaze_labels(params["pitch"],
                                      params["yaw"]).astype(np.float32)
    frame = source_lib.frame_for(filenames, labels)
    super().__init__(f"{domain}?split={split}&n={n}&seed={seed}", frame,
                     image_shape)
    self.domain = domain
    self.split = split
    self.seed = seed
    self.key = key

  def chunk_size(self) -> int:
    return _CHUNK

  def render(self, indices: np.ndarray) -> np.ndarray:
    images = eye_render.render_eyes(
        parameters.sample_parameters(self.key, indices, domain=self.domain),
        self.image_shape, self.domain in parameters.REAL_APPEARANCE)
    return source_lib.uint8_to_unit(images)


def from_spec(kind: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> EmbeddedEyeSource:
  """Opens `embedded-eyes-sim`, `-real` or `-oracle` with SPEC options.

  Options: ``split`` (sim, oracle: train|test; real: train|test|labelled;
  default train), ``n`` (number of images; defaults in `parameters.DEFAULT_N`),
  ``seed`` (default 0). `image_size` (H, W) renders at that size (default
  35x55).
  """
  if kind not in parameters.SPLITS:
    raise source_lib.DataError(kind, f"not an embedded eye domain "
                               f"(expected {SIM}, {REAL} or {ORACLE})")
  _, split, n, seed = world.open_options(kind, options,
                                         parameters.SPLITS[kind],
                                         parameters.DEFAULT_N)
  image_shape = world.image_shape(kind, image_size,
                                  parameters.CANONICAL_SHAPE)
  return EmbeddedEyeSource(kind, split, n, seed, image_shape)
