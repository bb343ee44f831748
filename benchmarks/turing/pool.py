"""The images a visual Turing test shows (paper §3.1, Table 1).

A finished reproduction draws them once, by its seed, into
``turing_pool.npz`` in its results folder: real images, refined synthetic
images and unrefined synthetic images (the control), as 8-bit gray levels.
The test's server reads only this file, so it starts in a second, needs no
TensorFlow and shows the very images the machine observer judged.
"""

import dataclasses
import os
import zipfile

import numpy as np

from core import files
from data import source as source_lib

POOL_FILE = "turing_pool.npz"
KINDS = ("real", "refined", "synthetic")


@dataclasses.dataclass(frozen=True)
class Pool:
  """uint8 images (n, height, width, channels) of each kind, one shape."""
  real: np.ndarray
  refined: np.ndarray
  synthetic: np.ndarray
  task: str  # What the images show ('gaze' or 'hand'), for the page.

  def images(self, kind: str) -> np.ndarray:
    return getattr(self, kind)

  @property
  def sizes(self):
    return {kind: len(self.images(kind)) for kind in KINDS}

  @property
  def image_shape(self):
    return self.real.shape[1:3]


def from_unit(real: np.ndarray, refined: np.ndarray, synthetic: np.ndarray,
              task: str) -> Pool:
  """A Pool of images in [-1, 1] (as every source reads them)."""
  return Pool(*(source_lib.unit_to_uint8(images)
                for images in (real, refined, synthetic)), task=task)


def write_pool(path: str, pool: Pool) -> None:
  """Writes `pool` to `path` atomically."""

  def write(tmp):
    with open(tmp, "wb") as f:  # np.savez would append '.npz' to a name.
      np.savez_compressed(f, task=np.array(pool.task),
                          **{kind: pool.images(kind) for kind in KINDS})

  files.write_with(path, write)


def read_pool(path: str) -> Pool:
  """The pool in `path`.

  Raises:
    DataError: a missing or malformed pool file (one line naming it).
  """
  if not os.path.isfile(path):
    raise source_lib.DataError(
        path, "no Turing-test images; a reproduction writes them in its "
        "'turing test' stage (make reproduce-table2)")
  try:
    with np.load(path, allow_pickle=False) as data:
      arrays = {kind: data[kind] for kind in KINDS}
      task = str(data["task"])
  except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
    raise source_lib.DataError(path, f"not a Turing-test pool: {e}") from e
  shapes = {arrays[kind].shape[1:] for kind in KINDS}
  if (any(a.dtype != np.uint8 or a.ndim != 4 or not len(a)
          for a in arrays.values()) or len(shapes) != 1):
    raise source_lib.DataError(
        path, "not a Turing-test pool: expected non-empty uint8 arrays "
        "(n, height, width, channels) of one shape, got " + ", ".join(
            f"{k} {arrays[k].dtype}{list(arrays[k].shape)}" for k in KINDS))
  return Pool(**arrays, task=task)
