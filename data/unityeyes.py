"""Reader of UnityEyes renders: ``imgs/<n>.jpg`` + ``imgs/<n>.json``.

SPEC: ``unityeyes:PATH[?max_head_angle=20&equalize=false]`` where PATH is the
folder that holds ``imgs/`` (or ``imgs/`` itself).

Format (what the UnityEyes app writes; see GazeML src/datasources/unityeyes.py
and the real sample in david-wb/gaze-estimation test/data/imgs/1.json):

* ``<n>.jpg``: a colour render whose size is a generation setting (640x480,
  800x600, ...), so the image height is read from each image.
* ``<n>.json``: every leaf value is a *string*; tuples read
  ``"(x, y, z)"``. 2-D landmarks are in Unity screen space with **y measured
  upward from the bottom** of the image, so ``y_img = height - y``.
  ``eye_details.look_vec`` is the gaze in Unity camera space (y up) and
  ``head_pose`` is ``"(pitch, yaw, roll)"`` in degrees.

Each sample becomes a GazeML-style eye crop: the eye width is 1.5 times the
horizontal distance between the caruncle (mean of ``caruncle_2d``) and the
outer corner (``interior_margin_2d[8]``), the crop is centred on the centre
of the eyelid-margin bounding box and warped to 36x60, the size of MPIIGaze's
normalised eye images; it is then resized to the output size (35x55, the
paper's networks, by default) exactly as the MPIIGaze reader resizes its
36x60 images, so both domains go through the same last step.

Labels: ``gaze_x, gaze_y, gaze_z`` (``look_vec`` in the MPIIGaze frame, see
:mod:`data.gaze_vectors`) and ``head_pitch, head_yaw`` in degrees.

The JSON files are parsed when the source is opened (the labels must be in
the frame); the JPEGs are decoded and cropped only in :meth:`read`. Only the
six numbers the crop needs are kept per render besides the labels and names
(a few hundred bytes each). Parsing runs at roughly 100 us per JSON on one
core (about 2-4 minutes for 1.2 M renders); a prepared HDF5 cache
(``h5:`` sources) avoids repeating it.
"""

import ast
import concurrent.futures
import json
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pandas as pd

from data import gaze_vectors
from data import input_files
from data import source as source_lib
from data import spec_options

DataError = source_lib.DataError

# The crop size GazeML uses and MPIIGaze's normalised eye images have.
CROP_SHAPE = (36, 60)
# The paper's gaze networks take 35x55 images.
DEFAULT_IMAGE_SHAPE = (35, 55)
HEAD_COLUMNS = ("head_pitch", "head_yaw")
LABEL_COLUMNS = source_lib.GAZE_COLUMNS + HEAD_COLUMNS
OPTIONS = ("max_head_angle", "equalize")

# Per-sample numbers parsed from the JSON, in this order (parse_json gives
# them raw; convert() turns the first five into project conventions).
_LOOK = slice(0, 3)      # look_vec -> unit gaze in the MPIIGaze frame
_HEAD = slice(3, 5)      # head_pose pitch, yaw -> degrees, frontal = 0
_CROP = slice(5, 11)     # caruncle x,y; outer corner x,y; margin-box centre x,y
_NUM_FIELDS = 11

_JOBS_PER_TASK = 512
_NUMERIC_STEM = re.compile(r"\d+")


def resize_eye(eye: np.ndarray, image_shape: Tuple[int, int]) -> np.ndarray:
  """Resizes a uint8 eye image to (H, W): area averaging when shrinking.

  Shared with the MPIIGaze reader so that real and synthetic eyes reach the
  networks through the same interpolation.
  """
  height, width = image_shape
  if eye.shape == (height, width):
    return eye
  shrink = height <= eye.shape[0] and width <= eye.shape[1]
  return cv2.resize(eye, (width, height),
                    interpolation=cv2.INTER_AREA if shrink else
                    cv2.INTER_LINEAR)


def _numbers(value, key: str, path: str, length: int) -> List[float]:
  """A '(x, y, z)' string (or a JSON list) as `length` leading floats."""
  if isinstance(value, str):
    # Fast path for the app's own format: 1.2 M files x 25 tuples each make
    # ast.literal_eval (7x slower) the bottleneck of opening the source.
    try:
      numbers = [float(v) for v in value.strip().strip("()").split(",")]
    except ValueError:
      try:
        numbers = ast.literal_eval(value.strip())
      except (ValueError, SyntaxError, TypeError, MemoryError,
              RecursionError):
        numbers = None
  else:
    numbers = value
  if isinstance(numbers, (list, tuple)) and len(numbers) >= length:
    try:
      return [float(v) for v in numbers[:length]]
    except (TypeError, ValueError):
      pass
  raise DataError(path, f"{key} is not a tuple of {length} numbers: "
                  f"{str(value)[:60]!r}")


def _field(data, key: str, path: str):
  value = data
  for part in key.split("."):
    if not isinstance(value, dict) or part not in value:
      raise DataError(path, f"is missing key {key!r}")
    value = value[part]
  return value


def _points(data, key: str, path: str, minimum: int) -> List[List[float]]:
  values = _field(data, key, path)
  if not isinstance(values, list) or len(values) < minimum:
    raise DataError(path, f"{key} must be a list of at least {minimum} "
                    f"'(x, y, z)' points")
  return [_numbers(v, f"{key}[{i}]", path, 2) for i, v in enumerate(values)]


def parse_json(path: str) -> List[float]:
  """The 11 raw numbers one sample needs from its JSON.

  Returns, as read (Unity conventions, see :func:`convert`): look_vec x, y, z;
  head_pose pitch, yaw in degrees; and in Unity screen coordinates (y up) the
  mean of ``caruncle_2d``, ``interior_margin_2d[8]`` and the centre of the
  ``interior_margin_2d`` bounding box (x, y each). Plain Python on purpose:
  per-file NumPy calls would triple the time to open 1.2 M files.

  Raises:
    DataError: unreadable or invalid JSON, a missing key, a malformed value.
  """
  text = input_files.read_bytes(path)
  try:
    data = json.loads(text)
  except (ValueError, RecursionError) as e:  # RecursionError: deep nesting
    raise DataError(path, f"is not valid JSON ({e})") from None
  margin = _points(data, "interior_margin_2d", path, 9)
  caruncle = _points(data, "caruncle_2d", path, 1)
  look_vec = _numbers(_field(data, "eye_details.look_vec", path),
                      "eye_details.look_vec", path, 3)
  head = _numbers(_field(data, "head_pose", path), "head_pose", path, 2)
  xs = [p[0] for p in margin]
  ys = [p[1] for p in margin]
  return look_vec + head + [
      sum(p[0] for p in caruncle) / len(caruncle),
      sum(p[1] for p in caruncle) / len(caruncle),
      margin[8][0], margin[8][1],
      0.5 * (min(xs) + max(xs)), 0.5 * (min(ys) + max(ys))]


def convert(raw: np.ndarray, paths: Sequence[str]) -> np.ndarray:
  """Raw JSON numbers (N, 11) -> labels in project conventions (N, 11).

  look_vec becomes the unit gaze in the MPIIGaze frame and head_pose (pitch,
  yaw) in degrees with frontal = 0 (:mod:`data.gaze_vectors`); the crop
  numbers are passed through.

  Raises:
    DataError: naming the first file with a zero look_vec, an eye without
      width, or non-finite values.
  """
  def fail(mask, fault):
    if mask.any():
      raise DataError(paths[int(np.argmax(mask))], fault)
  fail(~np.all(np.isfinite(raw), axis=1),
       "holds non-finite landmark, gaze or pose values")
  fail(np.all(raw[:, _LOOK] == 0, axis=1), "eye_details.look_vec is zero")
  fail(raw[:, 5] == raw[:, 7], "caruncle and outer eye corner "
       "(interior_margin_2d[8]) have the same x: the eye has no width")
  out = raw.copy()
  out[:, _LOOK] = gaze_vectors.unityeyes_look_vec_to_vector(raw[:, _LOOK])
  out[:, _HEAD] = gaze_vectors.unityeyes_head_pose(raw[:, _HEAD])
  return out


def crop_eye(gray: np.ndarray, crop: np.ndarray) -> np.ndarray:
  """GazeML's eye crop (no augmentation) of a grayscale render to 36x60.

  Args:
    gray: uint8 (ih, iw) image.
    crop: caruncle x,y, outer corner x,y and margin-box centre x,y in Unity
      screen coordinates (y up), as returned by :func:`parse_json`.

  Returns:
    uint8 (36, 60). GazeML composes translate / scale / re-centre matrices
    (src/datasources/unityeyes.py ``preprocess_entry``); without noise their
    product is the map below: scale by ``60 / eye_width`` about the
    margin-box centre, which lands on the crop's centre.
  """
  ih = gray.shape[0]
  oh, ow = CROP_SHAPE
  corner_x, _, outer_x, _, middle_x, middle_y = crop
  middle_y = ih - middle_y  # Unity's y runs up from the bottom.
  eye_width = 1.5 * abs(corner_x - outer_x)
  scale = ow / eye_width
  matrix = np.array([[scale, 0.0, 0.5 * ow - scale * middle_x],
                     [0.0, scale, 0.5 * oh - scale * middle_y]])
  return cv2.warpAffine(gray, matrix, (ow, oh))


def _sort_key(stem: str):
  if _NUMERIC_STEM.fullmatch(stem):
    return (0, int(stem), stem)
  return (1, 0, stem)


def find_pairs(folder: str) -> List[str]:
  """Stems n of the ``<n>.jpg`` + ``<n>.json`` pairs, sorted numerically.

  Raises:
    DataError: no pairs, or an image without its JSON or vice versa.
  """
  jpgs, jsons = set(), set()
  try:
    with os.scandir(folder) as entries:
      for entry in entries:
        stem, ext = os.path.splitext(entry.name)
        ext = ext.lower()
        if ext == ".jpg":
          jpgs.add(stem)
        elif ext == ".json":
          jsons.add(stem)
  except OSError as e:
    raise DataError(folder, f"cannot be listed ({e.strerror or e})")
  lone_jpgs = sorted(jpgs - jsons, key=_sort_key)
  if lone_jpgs:
    raise DataError(os.path.join(folder, lone_jpgs[0] + ".jpg"),
                    f"has no matching {lone_jpgs[0]}.json ("
                    f"{len(lone_jpgs)} image(s) lack their .json)")
  lone_jsons = sorted(jsons - jpgs, key=_sort_key)
  if lone_jsons:
    raise DataError(os.path.join(folder, lone_jsons[0] + ".json"),
                    f"has no matching {lone_jsons[0]}.jpg ("
                    f"{len(lone_jsons)} .json file(s) lack their image)")
  if not jpgs:
    raise DataError(folder, "holds no UnityEyes <n>.jpg + <n>.json pairs")
  return sorted(jpgs, key=_sort_key)


def parse_all(paths: List[str]) -> np.ndarray:
  """:func:`convert` of :func:`parse_json` over many files, (N, 11).

  Threads overlap file-system waits (network disks); on a local disk the
  parse is CPU-bound and they neither help nor hurt.
  """
  out = np.empty((len(paths), _NUM_FIELDS), np.float64)

  def job(start):
    for i in range(start, min(start + _JOBS_PER_TASK, len(paths))):
      out[i] = parse_json(paths[i])
  starts = range(0, len(paths), _JOBS_PER_TASK)
  if len(starts) == 1:
    job(0)
  else:
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=min(8, os.cpu_count() or 1)) as pool:
      futures = [pool.submit(job, s) for s in starts]
      try:
        for future in futures:
          future.result()  # Re-raises the first DataError.
      except BaseException:
        for future in futures:  # Fail fast instead of parsing the rest.
          future.cancel()
        raise
  return convert(out, paths)


def resolve_folder(path: str) -> str:
  """The folder holding the renders: PATH/imgs, or PATH if it holds them."""
  imgs = os.path.join(path, "imgs")
  if os.path.isdir(imgs):
    return imgs
  if os.path.isdir(path):
    return path
  raise DataError(path, "is not a folder (expected the folder that holds "
                  "UnityEyes' imgs/)")


class UnityEyesSource(source_lib.ImageSource):
  """UnityEyes renders as GazeML-style eye crops with gaze labels."""

  def __init__(self, folder: str, stems: Sequence[str], values: np.ndarray,
               image_shape: Tuple[int, int] = DEFAULT_IMAGE_SHAPE,
               equalize: bool = False, description: Optional[str] = None):
    frame = pd.DataFrame({"filename": [f"{s}.png" for s in stems]})
    for i, column in enumerate(LABEL_COLUMNS):
      frame[column] = values[:, i]
    super().__init__(description or f"unityeyes:{folder}", frame,
                     image_shape)
    self.folder = folder
    self.stems = list(stems)
    self.crops = np.ascontiguousarray(values[:, _CROP])
    self.equalize = equalize

  def image_path(self, index: int) -> str:
    return os.path.join(self.folder, self.stems[index] + ".jpg")

  def read_uint8(self, indices: np.ndarray) -> np.ndarray:
    """Eye crops at `indices` as uint8 (n, H, W)."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    out = np.empty((len(indices),) + self.image_shape, np.uint8)
    for k, i in enumerate(indices):
      gray = input_files.read_image(self.image_path(i), cv2.IMREAD_GRAYSCALE)
      eye = crop_eye(gray, self.crops[i])
      if self.equalize:
        eye = cv2.equalizeHist(eye)
      out[k] = resize_eye(eye, self.image_shape)
    return out

  def read(self, indices):
    return source_lib.uint8_to_unit(self.read_uint8(indices))[..., None]


def open_folder(path: str, image_shape: Tuple[int, int] = DEFAULT_IMAGE_SHAPE,
                max_head_angle: float = 0.0,
                equalize: bool = False) -> UnityEyesSource:
  """Indexes a UnityEyes folder and parses every JSON.

  Args:
    path: the folder holding ``imgs/``, or ``imgs/`` itself.
    image_shape: output (H, W).
    max_head_angle: if > 0, keep only renders with |head pitch| and |head
      yaw| at most this many degrees (GazeML keeps 20).
    equalize: histogram-equalise each 36x60 crop (as GazeML does) before the
      resize. Off by default: the refiner should learn the appearance gap.

  Raises:
    DataError: see :func:`find_pairs` and :func:`parse_json`.
  """
  folder = resolve_folder(path)
  stems = find_pairs(folder)
  values = parse_all([os.path.join(folder, s + ".json") for s in stems])
  if max_head_angle > 0:
    head = np.abs(values[:, _HEAD])
    keep = np.all(head <= max_head_angle, axis=1)
    if not keep.any():
      raise DataError(folder, f"no render has |head pitch| and |head yaw| <= "
                      f"{max_head_angle:g} degrees")
    stems = [s for s, k in zip(stems, keep) if k]
    values = values[keep]
  return UnityEyesSource(folder, stems, values, image_shape, equalize)


def from_spec(path: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> UnityEyesSource:
  """``unityeyes:PATH?max_head_angle=DEG&equalize=BOOL`` (see module doc)."""
  parsed = spec_options.SpecOptions(f"unityeyes:{path}", options, OPTIONS)
  return open_folder(path, tuple(image_size or DEFAULT_IMAGE_SHAPE),
                     parsed.number("max_head_angle", 0.0),
                     parsed.boolean("equalize", False))
