"""`h5:PATH` — an HDF5 image cache written by ``python -m data.prepare``.

Reading a large data set image by image (1.2 M UnityEyes renders, each a JPEG
plus a JSON to parse and crop; NYU frames, two PNGs each) is too slow to feed
training, so ``data.prepare`` converts any source once into one HDF5 file
that this module reads lazily, a batch at a time.

File layout (``FORMAT_VERSION`` 1):

* ``images``: (N, H, W), chunked and lzf-compressed. ``uint8`` holding
  ``round(x * 127.5 + 127.5)`` when every image of the source is exactly an
  8-bit gray level image (all grayscale sources), else ``float16`` holding
  ``x`` itself (depth crops, refined images).
* ``frame/``: one dataset per frame column (``c000``, ``c001``, ... with
  attribute ``name``), in column order, with the column's own dtype (strings
  as UTF-8), so labels round-trip exactly.
* attributes: ``description`` (the source's), ``spec`` (the SPEC it was made
  from), ``image_shape``, ``count``, ``storage`` (``uint8``/``float16``),
  ``format_version`` and, written last, ``complete = True``. A file without
  ``complete`` is an interrupted prepare and is refused.
"""

import concurrent.futures
import os
import sys
import threading
from typing import Dict, Optional, TextIO, Tuple

import h5py
import numpy as np
import pandas as pd

from core import files
from core import progress as progress_lib
from core import provenance
from data import input_files
from data import source as source_lib
from data import spec_options

FORMAT_VERSION = 1
IMAGES = "images"
FRAME = "frame"
# Chunk cache per open file: random batches touch many chunks; a few tens of
# MB keep a small cache's chunks decompressed.
_CHUNK_CACHE_BYTES = 64 << 20
# write_cache reads at most this many bytes of float32 images per step, so
# the default 4096-image chunk of 224x224 depth crops (822 MB, twice with the
# read-ahead) shrinks to 1337 images.
MAX_CHUNK_BYTES = 256 << 20


def chunk_images(image_shape: Tuple[int, int], itemsize: int) -> int:
  """Images per HDF5 chunk: about 16 KB per chunk, at least one image.

  Shuffled batches read scattered images, and HDF5 decompresses a whole chunk
  to return one image of it, so chunks stay small.
  """
  return max(1, (16 << 10) // (image_shape[0] * image_shape[1] * itemsize))


def write_frame(group: h5py.Group, frame: pd.DataFrame) -> None:
  """Stores each frame column as a typed dataset, in order."""
  for position, name in enumerate(frame.columns):
    column = frame[name]
    if column.dtype.kind in "biuf":
      values = column.to_numpy()
    else:
      # Strings and anything else (mixed objects) are stored as text.
      values = np.array([str(v) for v in column], dtype=h5py.string_dtype())
    dataset = group.create_dataset(f"c{position:03d}", data=values)
    dataset.attrs["name"] = str(name)


def read_frame(group: h5py.Group, count: int) -> pd.DataFrame:
  columns = {}
  for key in sorted(group.keys(), key=lambda k: int(k[1:])):
    dataset = group[key]
    if dataset.shape != (count,):
      raise ValueError(f"frame column {key} has shape {dataset.shape}, "
                       f"expected ({count},)")
    values = dataset[()]
    if h5py.check_string_dtype(dataset.dtype) is not None:
      values = [v.decode("utf-8") for v in values]
    columns[str(dataset.attrs["name"])] = values
  return pd.DataFrame(columns)


def _as_uint8(images: np.ndarray) -> Optional[np.ndarray]:
  """`images` as 8-bit gray levels if that is lossless, else None.

  Lossless means every value is within 1e-6 (far below half a gray level,
  0.0039) of ``q / 127.5 - 1`` for an integer q in 0..255: sources that scale
  8-bit data in a slightly different float order still qualify.
  """
  levels = np.rint(images * 127.5 + 127.5)
  if levels.min() < 0 or levels.max() > 255:
    return None
  levels = levels.astype(np.uint8)
  if np.abs(source_lib.uint8_to_unit(levels) - images).max() > 1e-6:
    return None
  return levels


def _create_images(f: h5py.File, name: str, count: int,
                   image_shape: Tuple[int, int], dtype) -> h5py.Dataset:
  rows = min(count, chunk_images(image_shape, np.dtype(dtype).itemsize))
  return f.create_dataset(name, shape=(count, *image_shape), dtype=dtype,
                          chunks=(rows, *image_shape), compression="lzf")


def _switch_to_float16(f: h5py.File, written: int, chunk: int) -> None:
  """Rewrites the first `written` uint8 images as float16 (streaming)."""
  old = f[IMAGES]
  new = _create_images(f, IMAGES + ".float16", old.shape[0], old.shape[1:],
                       np.float16)
  for start in range(0, written, chunk):
    stop = min(start + chunk, written)
    new[start:stop] = source_lib.uint8_to_unit(old[start:stop])
  del f[IMAGES]
  f.move(IMAGES + ".float16", IMAGES)


def write_cache(source: source_lib.ImageSource, path: str,
                chunk: int = 4096, spec: Optional[str] = None,
                log: Optional[TextIO] = sys.stderr) -> None:
  """Converts `source` into the cache file `path`, streaming.

  Images are read `chunk` at a time with ``source.read`` (fewer when a chunk
  would exceed ``MAX_CHUNK_BYTES``; the next chunk is read in a background
  thread while the current one is compressed and written), so memory holds
  two chunks, never the source. The file is built under a temporary name
  and renamed into place only once complete, so a killed run leaves no cache
  that looks valid. The progress line (core.progress) goes to `log`.

  Args:
    source: any ImageSource.
    path: the cache file to write (replaced if it exists).
    chunk: images per ``source.read`` call.
    spec: the SPEC the source was opened from, kept as an attribute.
    log: stream for progress lines, or None.
  """
  count = len(source)
  if count == 0:
    raise source_lib.DataError(source.description, "holds no images")
  if chunk <= 0:
    raise ValueError(f"chunk must be positive, got {chunk}")
  image_bytes = 4 * source.image_shape[0] * source.image_shape[1]
  chunk = min(chunk, max(1, MAX_CHUNK_BYTES // image_bytes))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  progress = progress_lib.Progress(count, "prepare", "images", log)

  def build(tmp):
    try:
      output = h5py.File(tmp, "w")
    except OSError as e:  # h5py's message names the temporary file.
      raise OSError(e.errno, os.strerror(e.errno) if e.errno else str(e),
                    path) from None
    with output as f, concurrent.futures.ThreadPoolExecutor(1) as reader:
      f.attrs["description"] = source.description
      f.attrs["spec"] = spec or source.description
      f.attrs["image_shape"] = np.asarray(source.image_shape, np.int64)
      f.attrs["count"] = count
      f.attrs["format_version"] = FORMAT_VERSION
      # What these images were made from (and by: a refiner's weights), so
      # a run trained on this file can tell when it was rewritten.
      f.attrs["made_by"] = provenance.digest(source.identity)
      write_frame(f.create_group(FRAME), source.frame)
      storage = None
      starts = list(range(0, count, chunk))

      def read(start):
        indices = np.arange(start, min(start + chunk, count))
        images = np.asarray(source.read(indices), np.float32)
        if images.shape != (len(indices), *source.image_shape, 1):
          raise source_lib.DataError(
              source.description, f"read returned {images.shape} for "
              f"{len(indices)} images of {source.image_shape}")
        if not np.isfinite(images).all():
          raise source_lib.DataError(
              source.description, f"images {start}..{indices[-1]} hold "
              "NaN or infinite values")
        return images[..., 0]

      pending = reader.submit(read, starts[0])
      for i, start in enumerate(starts):
        images = pending.result()
        if i + 1 < len(starts):
          pending = reader.submit(read, starts[i + 1])
        levels = _as_uint8(images) if storage != "float16" else None
        if storage is None:
          storage = "uint8" if levels is not None else "float16"
          _create_images(f, IMAGES, count, source.image_shape, storage)
        elif storage == "uint8" and levels is None:
          _switch_to_float16(f, start, chunk)
          storage = "float16"
        stop = start + len(images)
        f[IMAGES][start:stop] = levels if storage == "uint8" else images
        progress.set(stop)
      f.attrs["storage"] = storage
      f.attrs["complete"] = True

  files.write_with(path, build)


class CacheSource(source_lib.ImageSource):
  """Images of a prepared HDF5 cache, read lazily a batch at a time.

  h5py handles must not cross a fork and HDF5 serialises calls anyway, so
  the file is opened on first read in each process and reads hold a lock
  (tf.data calls `read` from several threads).
  """

  def __init__(self, path: str, description: str, frame: pd.DataFrame,
               image_shape: Tuple[int, int], storage: str):
    super().__init__(description, frame, image_shape)
    self.path = path
    self.storage = storage
    self._reset()

  def _reset(self):
    """Forgets the handle and the lock (new object, or a forked child)."""
    self._lock = threading.Lock()  # a child may inherit it locked
    self._file = None
    self._pid = os.getpid()

  def __getstate__(self):
    state = self.__dict__.copy()
    del state["_lock"], state["_file"], state["_pid"]
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._reset()

  def _process_lock(self) -> threading.Lock:
    """The lock guarding this process's handle (reset after a fork)."""
    if self._pid != os.getpid():
      self._reset()
    return self._lock

  def _images(self) -> h5py.Dataset:
    """The images dataset; call with the lock held."""
    if self._file is None:
      self._file = h5py.File(self.path, "r", rdcc_nbytes=_CHUNK_CACHE_BYTES)
    return self._file[IMAGES]

  def _to_unit(self, stored: np.ndarray) -> np.ndarray:
    if self.storage == "uint8":
      return source_lib.uint8_to_unit(stored)[..., None]
    return stored.astype(np.float32)[..., None]

  def _stored(self, read) -> np.ndarray:
    """read(the images dataset) under the lock; a damaged file (any error
    of h5py's, pixels that are not finite) is a DataError."""
    try:
      with self._process_lock():
        stored = read(self._images())
    except Exception as e:  # h5py raises many types on a damaged file.
      raise source_lib.DataError(
          self.path, f"cannot be read ({type(e).__name__}: {e})") from None
    if self.storage == "float16" and not np.isfinite(stored).all():
      raise source_lib.DataError(self.path, "holds NaN or infinite pixel "
                                 "values (a damaged file?)")
    return stored

  def read(self, indices):
    indices = np.asarray(indices, np.int64).reshape(-1)
    if len(indices) and (indices.min() < 0 or indices.max() >= len(self)):
      raise IndexError(f"{self.path}: index out of range 0..{len(self) - 1}")
    # Sorted, unique reads visit each chunk once, in file order. One read per
    # image: h5py's list ("fancy") selection was 10x slower here (4,300 vs
    # 40,000 images/s for scattered batches of 512 35x55 images).
    unique, inverse = np.unique(indices, return_inverse=True)

    def gather(images):
      stored = np.empty((len(unique), *self.image_shape), self.storage)
      for k, index in enumerate(unique):
        stored[k] = images[index]
      return stored
    return self._to_unit(self._stored(gather)[inverse])

  def read_all(self):
    return self._to_unit(self._stored(lambda images: images[()]))

  def close(self):
    """Closes this process's handle; the next read opens it again."""
    with self._process_lock():
      if self._file is not None:
        self._file.close()
        self._file = None


def open_cache(path: str) -> CacheSource:
  """Opens a cache, checking that it is complete and consistent."""
  if not os.path.isfile(path):
    raise source_lib.DataError(path, "is missing (write it with "
                               "python -m data.prepare)")
  try:
    with h5py.File(path, "r") as f:
      attrs = dict(f.attrs)
      if not attrs.get("complete", False):
        raise source_lib.DataError(
            path, "is an incomplete cache (an interrupted data.prepare?); "
            "prepare it again")
      if attrs.get("format_version") != FORMAT_VERSION:
        raise source_lib.DataError(
            path, f"has cache format {attrs.get('format_version')}, this "
            f"code reads format {FORMAT_VERSION}; prepare it again")
      count = int(attrs["count"])
      image_shape = tuple(int(s) for s in np.ravel(attrs["image_shape"]))
      storage = str(attrs["storage"])
      if (count < 0 or len(image_shape) != 2 or min(image_shape) < 1 or
          storage not in ("uint8", "float16")):
        raise source_lib.DataError(
            path, f"has attributes count={count}, image_shape={image_shape}"
            f", storage={storage!r}; not a cache of images")
      input_files.check_pixels(path, *image_shape)  # read() allocates them
      images = f[IMAGES]
      if images.shape != (count, *image_shape) or images.dtype != storage:
        raise source_lib.DataError(
            path, f"images are {images.shape} {images.dtype}, attributes "
            f"say ({count}, {image_shape}) {storage}")
      frame = read_frame(f[FRAME], count)
      if list(frame.columns[:1]) != ["filename"]:
        raise source_lib.DataError(path, "has no filename as its first "
                                   "frame column")
  except source_lib.DataError:
    raise
  except Exception as e:  # h5py raises many types on a damaged file.
    raise source_lib.DataError(
        path, f"is not a readable data.prepare cache ({type(e).__name__}: "
        f"{e})") from None
  source = CacheSource(path, f"h5:{path}", frame, image_shape, storage)
  if "made_by" in attrs:
    source.made_by = str(attrs["made_by"])
  return source


def from_spec(path: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> CacheSource:
  """Opens `h5:PATH`; `image_size`, if given, must be the cached size."""
  spec_options.SpecOptions(f"h5:{path}", options, ())
  source = open_cache(path)
  if image_size is not None and tuple(image_size) != source.image_shape:
    raise source_lib.DataError(
        path, f"holds {source.image_shape[0]}x{source.image_shape[1]} images "
        f"but {image_size[0]}x{image_size[1]} were asked for; prepare the "
        "cache with --image_size")
  return source
