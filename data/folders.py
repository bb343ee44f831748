"""`folder:PATH` — a directory of PNG/JPEG images, optionally with labels.csv.

Colour images are converted to grayscale. Without `image_size` every image
must have the same size; with it, every image is resized (cv2.INTER_AREA).
`labels.csv`, if present, has a `filename` column naming images relative to
the folder plus any label columns; they are carried through refinement
unchanged. Images are read once at open time: folders are the small, hand-made
case (large data sets go through `data.prepare` into an `h5:` cache).
"""

import os
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import pandas as pd

from core import files
from data import input_files
from data import source as source_lib
from data import spec_options

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
LABELS_FILE = "labels.csv"


def list_images(folder: str):
  """Image files under `folder` (recursive), as sorted relative paths."""
  names = []
  for root, _, files in os.walk(folder):
    for name in files:
      if name.lower().endswith(IMAGE_EXTENSIONS):
        names.append(os.path.relpath(os.path.join(root, name), folder))
  return sorted(names)


def read_gray(path: str) -> np.ndarray:
  """Reads one image as 8-bit grayscale; DataError if unreadable, truncated
  or over the input caps (data/input_files.py)."""
  # IMREAD_UNCHANGED first, so 16-bit and alpha images are handled on purpose.
  image = input_files.read_image(path, cv2.IMREAD_UNCHANGED)
  if image.ndim == 3:
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    image = cv2.cvtColor(image, code)
  if image.dtype != np.uint8:
    raise source_lib.DataError(path, f"has {image.dtype} pixels; folder "
                               "sources expect 8-bit images")
  return image


def _read_labels(folder: str, names) -> pd.DataFrame:
  path = os.path.join(folder, LABELS_FILE)
  if not os.path.exists(path):
    return pd.DataFrame({"filename": names})
  try:
    frame = pd.read_csv(path)
  except (pd.errors.ParserError, pd.errors.EmptyDataError,
          UnicodeDecodeError) as e:
    raise source_lib.DataError(path, f"is not a readable CSV ({e})".replace(
        "\n", " "))
  if "filename" not in frame.columns:
    raise source_lib.DataError(path, "has no 'filename' column")
  empty = frame["filename"].isna().to_numpy()
  if empty.any():
    raise source_lib.DataError(
        path, f"has no filename on line {int(np.argmax(empty)) + 2}")
  frame["filename"] = frame["filename"].astype(str)
  missing = sorted(set(frame["filename"]) - set(names))
  if missing:
    raise source_lib.DataError(
        path, f"names {len(missing)} file(s) missing from the folder, e.g. "
        f"{missing[0]!r}")
  if frame["filename"].duplicated().any():
    dup = frame["filename"][frame["filename"].duplicated()].iloc[0]
    raise source_lib.DataError(path, f"lists {dup!r} more than once")
  # Only the labelled images are used, in the order labels.csv gives.
  columns = ["filename"] + [c for c in frame.columns if c != "filename"]
  return frame[columns]


def load_folder(folder: str,
                image_size: Optional[Tuple[int, int]] = None
               ) -> source_lib.ArraySource:
  """Reads a folder of images into an ArraySource (see module docstring)."""
  if not os.path.isdir(folder):
    raise source_lib.DataError(folder, "is not a directory")
  names = list_images(folder)
  if not names:
    raise source_lib.DataError(folder, "holds no PNG or JPEG images")
  frame = _read_labels(folder, names)
  if frame.empty:
    raise source_lib.DataError(os.path.join(folder, LABELS_FILE),
                               "names no image (no rows)")
  images = []
  first_shape = None
  for name in frame["filename"]:
    path = os.path.join(folder, name)
    image = read_gray(path)
    if image_size is not None:
      if image.shape != tuple(image_size):
        image = cv2.resize(image, (image_size[1], image_size[0]),
                           interpolation=cv2.INTER_AREA)
    elif first_shape is None:
      first_shape = image.shape
    elif image.shape != first_shape:
      raise source_lib.DataError(
          path, f"is {image.shape[0]}x{image.shape[1]} but the first image "
          f"is {first_shape[0]}x{first_shape[1]}; pass --image_size=HxW "
          "to resize them all")
    images.append(image)
  return source_lib.ArraySource(f"folder:{folder}",
                                source_lib.uint8_to_unit(np.stack(images)),
                                frame)


def from_spec(path: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> source_lib.ImageSource:
  """Opens `folder:PATH` (a folder source takes no options)."""
  spec_options.SpecOptions(f"folder:{path}", options, ())
  return load_folder(path, image_size)


def write_images(folder: str, frame: pd.DataFrame, images: np.ndarray,
                 write_labels: bool = True, origin: str = "") -> None:
  """Writes [-1, 1] images under their frame file names (PNG, atomically).

  Each image goes to a temporary name first and is renamed into place, so a
  killed writer never leaves a half-written image. Names keep their extension
  (labels refer to them); JPEG names are written at quality 100, everything
  else as PNG. Every name is checked to stay inside `folder` first
  (source.path_inside; `origin`, the source the frame came from, is named
  in the error). With `write_labels`, an old labels.csv is removed before
  the first image and the new one written last (`write_labels_file`).
  """
  names = list(frame["filename"])
  paths = [source_lib.path_inside(folder, name, origin or folder)
           for name in names]  # All checked before the first write.
  if write_labels:
    remove_labels(folder)
  pixels = source_lib.unit_to_uint8(images[..., 0])
  for name, path, image in zip(names, paths, pixels):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    ext = os.path.splitext(name)[1].lower() or ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, 100] if ext in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(ext, image, params)
    if not ok:
      raise source_lib.DataError(path, "could not be encoded")
    # Unsynced, one disk flush per image would be most of the time; the
    # labels.csv written after them (`write_labels_file`) flushes them all.
    files.write_atomic(path, encoded.tobytes(), sync=False)
  if write_labels:
    write_labels_file(folder, frame)


def remove_labels(folder: str) -> None:
  """Removes FOLDER/labels.csv, if any, before images are written there.

  labels.csv is the marker of a complete folder, written after its images:
  an old one beside half-rewritten images would vouch for a mix.
  """
  files.remove(os.path.join(folder, LABELS_FILE))


def write_labels_file(folder: str, frame: pd.DataFrame) -> None:
  """Writes FOLDER/labels.csv once the images written before it are on
  disk: the marker of a complete folder."""
  files.sync_all()
  write_frame(os.path.join(folder, LABELS_FILE), frame)


def write_frame(path: str, frame: pd.DataFrame) -> None:
  """Writes a frame as CSV atomically."""
  files.write_atomic(path, frame.to_csv(index=False))
