"""Reading the files a data set provides: every fault one DataError.

Data files come from elsewhere (a download, another tool, a disk that
filled up), so a reader takes none of them on trust: a truncated, corrupt
or hostile file must end in one :class:`data.source.DataError` naming it —
never another exception, a hang, or a process killed for memory. What the
readers share for that is here, once:

* caps (core/limits.py, re-exported here) on the bytes of one image or JSON file and on
  the pixels of one decoded image. A PNG or JPEG of a few kilobytes can
  declare gigapixels (a decompression bomb), so the header's size is
  checked before anything is decoded, and the decoded size after. The
  defaults, 64 MiB and 40 megapixels, are far above the real data sets
  (UnityEyes renders of up to a few megapixels, NYU's 640x480 frames);
  binaries raise them with ``--max_file_mib`` and
  ``--max_image_megapixels`` (core/cli.py). The caps hold for this
  process (readers run in tf.data threads, which see them too).
* :func:`read_bytes`, :func:`decode_image`, :func:`read_image`: files and
  PNG/JPEG images, the only image formats the data sets use.
* :func:`load_mat`: MATLAB files, checked first for the damage that
  crashes scipy's reader.
"""

import mmap
import os
import stat
import struct
from typing import Optional, Tuple
import zlib

import cv2
import numpy as np

# The caps, re-exported: readers and their tests use them from here.
from core.limits import Limits, MEGAPIXEL, MIB, limits, set_limits  # pylint: disable=unused-import
from data import source as source_lib

DataError = source_lib.DataError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (they carry the image size): C0-CF without
# C4 (Huffman tables), C8 (reserved) and CC (arithmetic coding).
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# JPEG markers without a length field: TEM, RST0-7, SOI.
_JPEG_BARE = frozenset([0x01, *range(0xD0, 0xD9)])


def check_pixels(where: str, height: int, width: int) -> None:
  """Refuses an image of more pixels than the cap, naming `where`.

  Raises:
    DataError: 'WHERE: is HxW = N pixels, over the cap of ...'.
  """
  cap = limits().max_pixels
  if int(height) * int(width) > cap:
    raise DataError(where, f"is {height}x{width} = {height * width:,} "
                    f"pixels, over the cap of {cap:,} ({cap / MEGAPIXEL:g} "
                    "megapixels; --max_image_megapixels raises it)")


def _regular_file(path: str) -> os.stat_result:
  """os.stat of `path`, refused unless it is a regular file: reading a FIFO
  or a device (``/dev/zero``) would hang or never end."""
  info = os.stat(path)
  if not stat.S_ISREG(info.st_mode):
    raise DataError(path, "is not a regular file")
  return info


def read_bytes(path: str) -> bytes:
  """The bytes of a regular file of at most the byte cap.

  Raises:
    DataError: unreadable, not a regular file, or over the cap.
  """
  cap = limits().max_file_bytes
  try:
    info = _regular_file(path)
    if info.st_size > cap:
      raise DataError(path, f"is {info.st_size:,} bytes, over the cap of "
                      f"{cap:,} ({cap / MIB:g} MiB; --max_file_mib raises "
                      "it)")
    with open(path, "rb") as f:
      return f.read()
  except OSError as e:
    raise DataError(path, f"cannot be read ({e.strerror or e})") from None


def image_size(data: bytes) -> Optional[Tuple[str, int, int]]:
  """(format, height, width) from a PNG or JPEG header; None if neither.

  Reads only the header (PNG: IHDR; JPEG: the first start-of-frame
  segment), so a decompression bomb is seen before it is decoded.
  """
  if data[:8] == _PNG_SIGNATURE and data[12:16] == b"IHDR" and len(
      data) >= 24:
    width, height = struct.unpack(">II", data[16:24])
    return "png", height, width
  if data[:2] != b"\xff\xd8":
    return None
  i = 2
  while i + 4 <= len(data):
    if data[i] != 0xFF:
      return None  # not at a marker: corrupt segment lengths
    marker = data[i + 1]
    if marker == 0xFF:  # fill byte before a marker
      i += 1
    elif marker in _JPEG_BARE:
      i += 2
    elif marker in _JPEG_FRAMES:
      if i + 9 > len(data):
        return None
      height, width = struct.unpack(">HH", data[i + 5:i + 9])
      return "jpeg", height, width
    elif marker == 0xDA:  # scan data before any frame header
      return None
    else:
      i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
  return None


def _is_truncated(kind: str, data: bytes) -> bool:
  """Whether the file lacks its end: OpenCV decodes a truncated PNG or
  JPEG without an error, the missing rows filled with gray or zeros."""
  if kind == "png":
    return data[-12:-4] != b"\x00\x00\x00\x00IEND"
  # Some writers pad a JPEG after its end-of-image marker.
  return not data.rstrip(b"\x00\r\n\t ").endswith(b"\xff\xd9")


def decode_image(path: str, data: bytes, flags: int) -> np.ndarray:
  """Decodes the bytes of a PNG or JPEG file with ``cv2.imdecode(flags)``.

  Args:
    path: the file the bytes came from (named in errors).
    data: its bytes (see :func:`read_bytes`).
    flags: OpenCV's ``cv2.IMREAD_*`` flags.

  Raises:
    DataError: empty, neither PNG nor JPEG, over the pixel cap (checked on
      the header, before decoding), truncated, or corrupt.
  """
  if not data:
    raise DataError(path, "is empty (0 bytes)")
  header = image_size(data)
  if header is None:
    raise DataError(path, "is not a PNG or JPEG image (no readable header)")
  kind, height, width = header
  check_pixels(path, height, width)
  if _is_truncated(kind, data):
    raise DataError(path, f"is truncated (the {kind.upper()} data ends "
                    "early)")
  try:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
  except cv2.error as e:
    raise DataError(path, f"cannot be decoded ({e})") from None
  if image is None or image.size == 0:
    raise DataError(path, f"cannot be decoded (corrupt {kind.upper()} data)")
  check_pixels(path, *image.shape[:2])  # in case the header lied
  return image


def read_image(path: str, flags: int) -> np.ndarray:
  """:func:`decode_image` of the file at `path` (:func:`read_bytes`)."""
  return decode_image(path, read_bytes(path), flags)


# MAT v5 data element types (MATLAB's "MAT-File Format"): those scipy reads
# as numbers or text (INT8..UINT64, DOUBLE, SINGLE; UTF8/16/32), a nested
# array, and a compressed element.
_MAT_DATA_TYPES = frozenset([1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 16, 17, 18])
_MAT_MATRIX, _MAT_COMPRESSED = 14, 15
# Array classes (mxCLASS): those that hold nested arrays (cell, struct,
# object, function, opaque), char, sparse, and numbers (DOUBLE..UINT64).
_MAT_CONTAINERS = frozenset([1, 2, 3, 16, 17])
_MAT_CHAR, _MAT_SPARSE = 4, 5
_MAT_NUMBERS = frozenset(range(6, 16))


def _mat_elements(path: str, buffer, start: int, end: int, order: str,
                  padded: bool, holder: str = "the array holding it"):
  """(type, data start, data end) of the MAT v5 data elements that tile
  buffer[start:end]; a small element packs type and size in one word.

  Raises:
    DataError: an element that runs past the end of `holder`: scipy would
      read on into the next element.
  """
  i = start
  while end - i >= 8:
    first, size = struct.unpack_from(order + "II", buffer, i)
    if first >> 16:
      first, size, data, step = first & 0xFFFF, first >> 16, i + 4, 8
      limit = i + 8
    else:
      data, step = i + 8, 8 + size + (-size % 8 if padded else 0)
      limit = end
    if data + size > limit:
      raise DataError(path, "is a damaged MATLAB file: an element runs "
                      f"past the end of {holder}")
    yield first, data, data + size
    i += step


def _check_mat_array(path: str, buffer, start: int, end: int, order: str):
  """Checks one array (miMATRIX) as scipy reads it: flags at a fixed place
  (their tag unread), then dims, name and the data of the array's class."""
  if start == end:
    return  # an empty array: scipy reads nothing
  damaged = "is a damaged MATLAB file: "
  if end - start < 16:
    raise DataError(path, damaged + "an array lacks its flags")
  flags = struct.unpack_from(order + "I", buffer, start + 8)[0]
  array_class, is_complex = flags & 0xFF, flags >> 11 & 1
  elements = list(_mat_elements(path, buffer, start + 16, end, order,
                                padded=True))
  if elements and elements[0][2] - elements[0][1] < 8:
    # No dimensions: scipy builds an array of garbage size and crashes.
    raise DataError(path, damaged + "an array has fewer than two "
                    "dimensions")
  # Elements scipy reads after dims and name: the text of a char array;
  # real (and imaginary) parts of a number array; ir, jc and the parts of
  # a sparse one. With fewer, it reads the next array's tag as data.
  if array_class == _MAT_CHAR:
    needed = 1
  elif array_class == _MAT_SPARSE:
    needed = 3 + is_complex
  elif array_class in _MAT_NUMBERS:
    needed = 1 + is_complex
  else:
    needed = 0
  if len(elements) < 2 + needed:
    raise DataError(path, damaged + "an array lacks its data")
  container = array_class in _MAT_CONTAINERS
  for kind, data_start, data_end in elements:
    if kind == _MAT_MATRIX and container:
      _check_mat_array(path, buffer, data_start, data_end, order)
    elif kind not in _MAT_DATA_TYPES:
      raise DataError(path, damaged + f"an array of class {array_class} "
                      f"holds an element of data type {kind}")


def _check_mat_v5(path: str) -> None:
  """Refuses a MAT v5 file whose elements would crash scipy's reader.

  scipy (1.17) looks the data type of an array's element up in a C table
  without a range check (its loadmat is "not hardened for untrusted
  input"): a single flipped bit there is a segmentation fault, not an
  exception. The element tree is walked here first; anything else is left
  to scipy, which raises on it.
  """
  _regular_file(path)
  with open(path, "rb") as f:
    try:
      buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:  # an empty file: scipy says so
      return
  with buffer:
    # The version and byte order as scipy reads them.
    if len(buffer) < 128 or 0 in buffer[:4]:
      return  # MATLAB v4 (no header) or too short: scipy decides
    order = "<" if buffer[126:128] == b"IM" else ">"
    version = buffer[125 if buffer[126] == ord("I") else 124]
    if version == 2:  # v7.3: an HDF5 file behind a MAT header.
      raise DataError(path, "is a MATLAB v7.3 (HDF5) file, which this "
                      "reader does not read; re-save it as v7 in MATLAB: "
                      "load it, then save(FILE, '-v7')")
    if version != 1:
      return  # Not MATLAB v5: scipy decides
    for kind, start, end in _mat_elements(
        path, buffer, 128, len(buffer), order, padded=False,
        holder="the file (truncated?)"):
      if kind == _MAT_MATRIX:
        _check_mat_array(path, buffer, start, end, order)
      elif kind == _MAT_COMPRESSED:
        try:
          inner = zlib.decompress(buffer[start:end])
        except zlib.error as e:
          raise DataError(path, "is a damaged MATLAB file: a compressed "
                          f"element does not decompress ({e})") from None
        for inner_kind, a, b in _mat_elements(path, inner, 0, len(inner),
                                              order, padded=True):
          if inner_kind == _MAT_MATRIX:
            _check_mat_array(path, inner, a, b, order)


def load_mat(path: str, **kwargs) -> dict:
  """``scipy.io.loadmat(path, **kwargs)``, every fault a DataError.

  Raises:
    DataError: a missing or unreadable file, a MATLAB v7.3 file (an HDF5
      file scipy does not read; the message says how to re-save it), or
      anything malformed, including what would crash scipy's reader.
  """
  import scipy.io  # pylint: disable=g-import-not-at-top
  try:
    _check_mat_v5(path)
    return scipy.io.loadmat(path, **kwargs)
  except DataError:
    raise
  except RecursionError:
    raise DataError(path, "is a damaged MATLAB file: arrays nest too "
                    "deep") from None
  except Exception as e:  # scipy raises many types on corrupt files.
    raise DataError(path, f"is not a readable MATLAB file "
                    f"({type(e).__name__}: {str(e)[:200]})") from None
