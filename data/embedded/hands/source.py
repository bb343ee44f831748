"""The embedded hand world as an image source, and its SPEC.

    embedded-hands-sim?split=train|test&n=20000&seed=0&views=1
    embedded-hands-real?split=train|test|labelled&n=20000&seed=0&views=all

Images are rendered on read; the label frame (every image's joints and crop
box) is made when the source opens, from the parameters alone.
"""

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from data import nyu_hand
from data import source as source_lib
from data.embedded import world
from data.embedded.hands import kinematics
from data.embedded.hands import parameters
from data.embedded.hands import render as hand_render

SIM = parameters.SIM
REAL = parameters.REAL
DEFAULT_IMAGE_SIZE = nyu_hand.DEFAULT_IMAGE_SIZE
# The columns of nyu_hand's labelled frames, in its order.
LABEL_COLUMNS = (nyu_hand.JOINT_UV_COLUMNS + nyu_hand.JOINT_D_COLUMNS +
                 ("crop_x0", "crop_y0", "crop_side", "kinect", "frame_number"))
_DIRECTORIES = {
    (SIM, "train"): "hands-sim/train",
    (SIM, "test"): "hands-sim/test",
    (REAL, "train"): "hands-real/train",
    (REAL, "test"): "hands-real/test",
    (REAL, "labelled"): "hands-real/labelled",
}
# Pixels rendered per NumPy pass (images of a chunk x H x W): keeps the
# temporaries in cache.
_CHUNK_PIXELS = 1 << 17


class EmbeddedHandSource(world.RenderedSource):
  """One split of one domain of the embedded hand world (rendered on read).

  Image ``k`` is frame ``k // len(views)`` seen by camera
  ``views[k % len(views)]``.
  """

  def __init__(self, domain: str, split: str, n: int, seed: int,
               views: Sequence[int] = (1,),
               image_shape: Tuple[int, int] = DEFAULT_IMAGE_SIZE):
    key = parameters.stream_key(seed, domain, split)
    views = tuple(int(v) for v in views)
    frames = np.repeat(np.arange(n), len(views))
    image_views = np.tile(np.asarray(views, np.int64), n)
    directory = _DIRECTORIES[domain, split]
    digits = max(7, len(str(max(n - 1, 0))))
    filenames = [f"{directory}/{f:0{digits}d}_v{v}.png"
                 for f, v in zip(frames, image_views)]
    frame = source_lib.frame_for(filenames)
    if not (domain == REAL and split == "train"):
      labels = kinematics.labels_of(parameters.sample_parameters(key, frames),
                                    image_views, image_shape)
      uv = labels["uv"].reshape(len(frames), -1)
      columns = {c: uv[:, i] for i, c in enumerate(nyu_hand.JOINT_UV_COLUMNS)}
      columns.update({c: labels["d"][:, i]
                      for i, c in enumerate(nyu_hand.JOINT_D_COLUMNS)})
      columns.update({"crop_x0": labels["box"][:, 0],
                      "crop_y0": labels["box"][:, 1],
                      "crop_side": labels["box"][:, 2],
                      "kinect": image_views, "frame_number": frames})
      for column in LABEL_COLUMNS:
        frame[column] = columns[column]
    view_text = ",".join(map(str, views))
    super().__init__(f"{domain}?split={split}&n={n}&seed={seed}&views="
                     f"{view_text}", frame, image_shape)
    self.domain = domain
    self.split = split
    self.seed = seed
    self.views = views
    self.key = key
    self._frames = frames
    self._image_views = image_views

  def chunk_size(self) -> int:
    height, width = self.image_shape
    return max(1, _CHUNK_PIXELS // (height * width))

  def render(self, indices: np.ndarray) -> np.ndarray:
    frames, views = self._frames[indices], self._image_views[indices]
    real = self.domain == REAL
    view_params = (parameters.sample_view_parameters(self.key, frames, views)
                   if real else None)
    params = parameters.sample_parameters(self.key, frames)
    return hand_render.render_hands(params, views, self.image_shape, real,
                                    view_params)


def from_spec(kind: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> EmbeddedHandSource:
  """Opens `embedded-hands-sim` or `embedded-hands-real` with SPEC options.

  Options: ``split`` (sim: train|test; real: train|test|labelled; default
  train), ``n`` (number of frames; defaults in `parameters.DEFAULT_N`),
  ``seed`` (default 0), ``views`` (1 | 1,2,3 | all ...; default 1).
  `image_size` (H, W) renders at that size (default 224x224).
  """
  if kind not in parameters.SPLITS:
    raise source_lib.DataError(kind, f"not an embedded hand domain "
                               f"(expected {SIM} or {REAL})")
  parsed, split, n, seed = world.open_options(kind, options,
                                              parameters.SPLITS[kind],
                                              parameters.DEFAULT_N,
                                              extra=("views",))
  views = parsed.views()
  image_shape = world.image_shape(kind, image_size, DEFAULT_IMAGE_SIZE)
  return EmbeddedHandSource(kind, split, n, seed, views, image_shape)
