"""What the embedded worlds share as image sources.

Both worlds render their images on read, from per-image parameters of
:mod:`data.embedded.streams`: :class:`RenderedSource` holds the one read
loop (index check, chunks, a small thread pool), and :func:`open_options`
and :func:`image_shape` check what a SPEC gives every embedded kind:
``split``, ``n``, ``seed`` and the render size.
"""

import abc
import concurrent.futures
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from data import source as source_lib
from data import spec_options

# Chunks are rendered on this many threads: NumPy and OpenCV release the GIL
# on arrays of a chunk's size.
THREADS = 2


class RenderedSource(source_lib.ImageSource):
  """A source whose images are rendered when read, chunk by chunk.

  A subclass says how many images one NumPy pass renders
  (:meth:`chunk_size`) and renders them (:meth:`render`). Each image is a
  pure function of its index, so chunking and threads never change a pixel.
  """

  @abc.abstractmethod
  def chunk_size(self) -> int:
    """Images rendered per NumPy pass (keeps the temporaries in cache)."""

  @abc.abstractmethod
  def render(self, indices: np.ndarray) -> np.ndarray:
    """Images `indices` (in range) as float32 (n, H, W) in [-1, 1]."""

  def read(self, indices: np.ndarray) -> np.ndarray:
    """Renders images `indices` (in chunks, on a small thread pool)."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    if len(indices) and (indices.min() < 0 or indices.max() >= len(self)):
      raise IndexError(f"{self.description}: index out of range "
                       f"[0, {len(self)})")
    step = self.chunk_size()
    chunks = [indices[i:i + step] for i in range(0, len(indices), step)]
    if len(chunks) > 1:
      with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        rendered = list(pool.map(self.render, chunks))
    else:
      rendered = [self.render(chunk) for chunk in chunks]
    height, width = self.image_shape
    images = (np.concatenate(rendered) if rendered else np.zeros(
        (0, height, width), np.float32))
    return images[..., None]


def open_options(kind: str, options: Mapping[str, str],
                 splits: Sequence[str],
                 default_n: Dict[Tuple[str, str], int],
                 extra: Sequence[str] = ()
                ) -> Tuple[spec_options.SpecOptions, str, int, int]:
  """The options every embedded kind takes, checked.

  Args:
    kind: the embedded kind (names it in errors).
    options: the SPEC's options.
    splits: the kind's splits; ``split`` defaults to ``train``.
    default_n: (kind, split) -> the number of items when ``n`` is absent.
    extra: the kind's options besides ``n``, ``seed`` and ``split``.

  Returns:
    (the options, for `extra`; split; n >= 1; seed >= 0).

  Raises:
    DataError: an unknown option, split or a bad ``n`` / ``seed``.
  """
  parsed = spec_options.SpecOptions(kind, options,
                                    ("n", "seed", "split") + tuple(extra))
  split = parsed.choice("split", splits, "train")
  n = parsed.integer("n", default_n[kind, split], minimum=1)
  seed = parsed.integer("seed", 0, minimum=0)
  return parsed, split, n, seed


def image_shape(kind: str, image_size: Optional[Tuple[int, int]],
                default: Tuple[int, int]) -> Tuple[int, int]:
  """The (H, W) an embedded world renders at: `image_size` or `default`."""
  shape = tuple(int(s) for s in image_size or default)
  if len(shape) != 2 or min(shape) < 1:
    raise source_lib.DataError(kind, f"image size {image_size} is not a "
                               f"positive (height, width)")
  return shape
