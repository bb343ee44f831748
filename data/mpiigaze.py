"""Reader of MPIIGaze's normalised eye images (``Data/Normalized``).

SPEC: ``mpiigaze:ROOT[?split=test|real&overlap=BOOL&persons=p00,p03]`` where
ROOT is the MPIIGaze folder holding ``Data/Normalized/pXX/dayYY.mat`` and
``Evaluation Subset/sample list for eye image/pXX.txt``.

Splits:

* ``split=test`` (default): the official evaluation subset, the lines
  ``dayNN/NNNN.jpg left|right`` of each person's sample list (3000 per
  person), labelled with ``gaze_x, gaze_y, gaze_z`` (the unit gaze in the
  normalised camera frame) and ``head_pitch, head_yaw`` in degrees (from the
  Rodrigues head pose, as hysts/pytorch_mpiigaze computes them).
* ``split=real``: every normalised eye image, both eyes, unlabelled: the
  refiner's real domain.

Persons (a design choice of this project): by default the refiner's real
images and the test images come from *disjoint* persons, ``split=real`` from
p10-p14 and ``split=test`` from p00-p09, so a refiner never sees the people
the gaze estimator is tested on. ``overlap=true`` makes both splits use all
15 persons (the same pool, which appears to be the paper's setup);
``persons=p00,p03`` names them explicitly. Every selected person must exist.

Right eyes are mirrored into the left-eye convention (hysts does the same):
the image is flipped horizontally and the gaze's x negated (so its yaw, and
the head yaw, change sign). UnityEyes renders one eye, so the synthetic and
real domains then agree; the real split is mirrored too.

Images are 36x60 uint8 in the files; they are resized with area averaging to
35x55 (the paper's networks) unless ``image_size`` says otherwise, and kept
in memory as uint8 (35x55 bytes each: all 15 persons' eye images take about
0.8 GB). The .mat files are read when the source is opened (about 0.1 s
per 1000-frame day file with the resize, so some 25 s for all of MPIIGaze),
and malformed files fail then rather than in the middle of training.

Files are MATLAB v5, read with ``scipy.io.loadmat(struct_as_record=False,
squeeze_me=True)``: ``data.left|right.{gaze (N,3), image (N,36,60), pose
(N,3)}`` and ``filenames`` (N cells such as ``'0001.jpg'``); squeezing turns
a single-frame day into (36,60) / (3,) arrays and a bare string, which is
undone here.
"""

import dataclasses
import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from data import gaze_vectors
from data import input_files
from data import source as source_lib
from data import spec_options
from data import unityeyes

DataError = source_lib.DataError

DEFAULT_IMAGE_SHAPE = (35, 55)
ALL_PERSONS = tuple(f"p{i:02d}" for i in range(15))
TEST_PERSONS = ALL_PERSONS[:10]
REAL_PERSONS = ALL_PERSONS[10:]
EYES = ("left", "right")
FIELDS = ("gaze", "image", "pose")
LABEL_COLUMNS = source_lib.GAZE_COLUMNS + ("head_pitch", "head_yaw")
OPTIONS = ("split", "overlap", "persons")
SAMPLE_LISTS = os.path.join("Evaluation Subset", "sample list for eye image")

_PERSON = re.compile(r"p\d\d")
_DAY = re.compile(r"day(\d+)\.mat")
_SAMPLE = re.compile(r"(day\d+)/([^/\s]+)")


@dataclasses.dataclass
class Day:
  """One dayYY.mat: N frames, per eye gaze (N,3), image (N,h,w), pose (N,3)."""
  path: str
  filenames: List[str]
  gaze: Dict[str, np.ndarray]
  image: Dict[str, np.ndarray]
  pose: Dict[str, np.ndarray]

  def rows(self) -> Dict[str, int]:
    """Frame filename -> row (the sample lists name frames by filename)."""
    return {name: i for i, name in enumerate(self.filenames)}


def load_day(path: str) -> Day:
  """Reads and checks one dayYY.mat (any N, including the squeezed N = 1).

  Raises:
    DataError: unreadable file, a missing variable or field, wrong shapes.
  """
  mat = input_files.load_mat(path, struct_as_record=False, squeeze_me=True)
  for name in ("data", "filenames"):
    if name not in mat:
      raise DataError(path, f"has no variable {name!r}")
  # squeeze_me turns a single cell into a bare str: re-wrap (as hysts does).
  filenames = [str(f) for f in
               np.atleast_1d(np.asarray(mat["filenames"], dtype=object))
               .ravel()]
  n = len(filenames)
  fields = {f: {} for f in FIELDS}
  for eye in EYES:
    node = _struct_field(mat["data"], eye, "data", path)
    for field in FIELDS:
      value = np.asarray(_struct_field(node, field, f"data.{eye}", path))
      key = f"data.{eye}.{field}"
      if field == "image":
        if value.ndim == 2 and n == 1:
          value = value[None]
        if value.ndim != 3 or value.shape[0] != n:
          raise DataError(path, f"{key} has shape {value.shape}, expected "
                          f"({n}, 36, 60) for {n} filenames")
        if value.dtype != np.uint8:
          raise DataError(path, f"{key} is {value.dtype}, expected uint8")
      else:
        if value.dtype.kind not in "biuf":  # text, cells, complex numbers
          raise DataError(path, f"{key} is {value.dtype}, expected real "
                          "numbers")
        if value.size != 3 * n:
          raise DataError(path, f"{key} has shape {value.shape}, expected "
                          f"({n}, 3) for {n} filenames")
        value = value.astype(np.float64).reshape(n, 3)
        if not np.all(np.isfinite(value)):
          raise DataError(path, f"{key} holds non-finite values")
      fields[field][eye] = value
  return Day(path, filenames, **fields)


def _struct_field(node, field: str, where: str, path: str):
  if field not in getattr(node, "_fieldnames", ()):
    raise DataError(path, f"has no field {where}.{field}")
  return getattr(node, field)


def _eye_images(images: np.ndarray, eye: str,
                image_shape: Tuple[int, int]) -> np.ndarray:
  """uint8 (n, h, w) -> uint8 (n, H, W), right eyes flipped horizontally."""
  if eye == "right":
    images = images[:, :, ::-1]
  return np.stack([unityeyes.resize_eye(np.ascontiguousarray(im), image_shape)
                   for im in images]) if len(images) else np.zeros(
                       (0,) + tuple(image_shape), np.uint8)


def _labels(gaze: np.ndarray, pose: np.ndarray, eye: str,
            path: str) -> np.ndarray:
  """Gaze (n,3) and Rodrigues pose (n,3) -> (n, 5) labels, left-eye frame."""
  if not (np.all(np.isfinite(gaze)) and np.all(np.isfinite(pose))):
    raise DataError(path, "holds a gaze or pose value that is not finite")
  # A damaged file's huge values overflow the norm: not finite, refused.
  with np.errstate(over="ignore"):
    norm = np.linalg.norm(gaze, axis=1, keepdims=True)
  if not np.all(np.isfinite(norm)):
    raise DataError(path, "holds a gaze vector too large to normalise")
  if np.any(norm == 0):
    raise DataError(path, "holds a zero gaze vector")
  gaze = gaze / norm
  with np.errstate(all="ignore"):
    head = np.degrees(gaze_vectors.rodrigues_to_head_pitch_yaw(pose))
  if not np.all(np.isfinite(head)):
    raise DataError(path, "holds a head pose too large to convert")
  if eye == "right":
    gaze = gaze_vectors.mirror_vector(gaze)
    head = head * [1.0, -1.0]
  return np.concatenate([gaze, head], axis=1)


def _day_files(person_dir: str) -> List[str]:
  """dayYY.mat files of one person, in day order."""
  try:
    names = os.listdir(person_dir)
  except OSError as e:
    raise DataError(person_dir, f"cannot be listed ({e.strerror or e})")
  days = sorted((int(m.group(1)), name) for name in names
                if (m := _DAY.fullmatch(name)))
  if not days:
    raise DataError(person_dir, "holds no dayNN.mat files")
  return [name for _, name in days]


def select_persons(normalized: str, split: str, overlap: bool,
                   persons: Optional[str]) -> List[str]:
  """The persons a split reads (see the module docstring).

  Raises:
    DataError: no person folders at all, or a selected person is missing.
  """
  try:
    present = sorted(n for n in os.listdir(normalized)
                     if _PERSON.fullmatch(n) and
                     os.path.isdir(os.path.join(normalized, n)))
  except OSError as e:
    raise DataError(normalized, f"cannot be listed ({e.strerror or e})")
  if not present:
    raise DataError(normalized, "holds no pNN person folders")
  if persons:
    chosen = [p.strip() for p in persons.split(",") if p.strip()]
    bad = [p for p in chosen if not _PERSON.fullmatch(p)]
    if bad or not chosen:
      raise ValueError(f"mpiigaze: persons={persons!r} must list names "
                       f"like p00,p03")
    how = f"persons={persons}"
  elif overlap:
    chosen, how = list(ALL_PERSONS), "overlap=true"
  else:
    chosen = list(TEST_PERSONS if split == "test" else REAL_PERSONS)
    how = f"split={split} (without overlap=true)"
  missing = [p for p in chosen if p not in present]
  if missing:
    raise DataError(normalized, f"lacks person folder(s) {missing} that "
                    f"{how} reads; choose others with persons=pXX,...")
  return sorted(dict.fromkeys(chosen))


def _read_sample_list(list_path: str) -> List[Tuple[int, str, str, str]]:
  """(line number, day, frame filename, eye) of each sample-list line."""
  try:
    with open(list_path) as f:
      lines = f.read().splitlines()
  except FileNotFoundError:
    raise DataError(list_path, "does not exist (the Evaluation Subset's "
                    "sample list for this person)")
  except (OSError, UnicodeDecodeError) as e:
    raise DataError(list_path, f"cannot be read ({e})")
  samples = []
  for number, line in enumerate(lines, 1):
    parts = line.split()
    if not parts:
      continue
    match = _SAMPLE.fullmatch(parts[0]) if len(parts) == 2 else None
    if not match or parts[1] not in EYES:
      raise DataError(list_path, f"line {number}: expected "
                      f"'dayNN/NNNN.jpg left|right', got {line.strip()!r}")
    samples.append((number, match.group(1), match.group(2), parts[1]))
  if not samples:
    raise DataError(list_path, "lists no samples")
  return samples


def _png_name(person: str, day: str, filename: str, eye: str) -> str:
  return f"{person}/{day}/{os.path.splitext(filename)[0]}_{eye}.png"


def _test_person(normalized: str, root: str, person: str,
                 image_shape: Tuple[int, int]):
  """Images, labels and names of one person's evaluation samples."""
  list_path = os.path.join(root, SAMPLE_LISTS, f"{person}.txt")
  samples = _read_sample_list(list_path)
  days: Dict[str, Tuple[Day, Dict[str, int]]] = {}
  groups: Dict[Tuple[str, str], List[Tuple[int, int]]] = {}
  for position, (number, day, frame, eye) in enumerate(samples):
    if day not in days:
      path = os.path.join(normalized, person, f"{day}.mat")
      if not os.path.isfile(path):
        raise DataError(list_path, f"line {number}: names {day}/{frame} but "
                        f"{path} does not exist")
      loaded = load_day(path)
      days[day] = (loaded, loaded.rows())
    row = days[day][1].get(frame)
    if row is None:
      raise DataError(list_path, f"line {number}: frame {frame} is not in "
                      f"{days[day][0].path}")
    groups.setdefault((day, eye), []).append((position, row))
  # Gather per (day, eye) so the conversions run on arrays, not per sample.
  images = np.empty((len(samples),) + tuple(image_shape), np.uint8)
  labels = np.empty((len(samples), len(LABEL_COLUMNS)), np.float64)
  for (day, eye), members in groups.items():
    d = days[day][0]
    positions, rows = (np.array(v) for v in zip(*members))
    images[positions] = _eye_images(d.image[eye][rows], eye, image_shape)
    labels[positions] = _labels(d.gaze[eye][rows], d.pose[eye][rows], eye,
                                d.path)
  names = [_png_name(person, day, frame, eye)
           for _, day, frame, eye in samples]
  return [images], [labels], names


def _real_person(normalized: str, person: str,
                 image_shape: Tuple[int, int]):
  """Images and names of all of one person's eyes, frame by frame."""
  person_dir = os.path.join(normalized, person)
  images, names = [], []
  for name in _day_files(person_dir):
    day = load_day(os.path.join(person_dir, name))
    day_name = os.path.splitext(name)[0]
    left = _eye_images(day.image["left"], "left", image_shape)
    right = _eye_images(day.image["right"], "right", image_shape)
    # Interleave left and right of each frame.
    both = np.empty((2 * len(left),) + left.shape[1:], np.uint8)
    both[0::2], both[1::2] = left, right
    images.append(both)
    for frame in day.filenames:
      names += [_png_name(person, day_name, frame, eye) for eye in EYES]
  return images, names


class MPIIGazeSource(source_lib.ImageSource):
  """MPIIGaze normalised eye images held in memory as uint8."""

  def __init__(self, description: str, images: np.ndarray,
               frame: pd.DataFrame):
    super().__init__(description, frame, images.shape[1:3])
    self.images = images

  def read_uint8(self, indices: np.ndarray) -> np.ndarray:
    return self.images[np.asarray(indices, np.int64)]

  def read(self, indices):
    return source_lib.uint8_to_unit(self.read_uint8(indices))[..., None]


def open_root(root: str, split: str = "test", overlap: bool = False,
              persons: Optional[str] = None,
              image_shape: Tuple[int, int] = DEFAULT_IMAGE_SHAPE
             ) -> MPIIGazeSource:
  """Opens a split of an MPIIGaze folder (see the module docstring).

  Raises:
    ValueError: an unknown split or a malformed persons list.
    DataError: missing or malformed files, naming the file (and line).
  """
  if split not in ("test", "real"):
    raise ValueError(f"mpiigaze: split={split!r} is not test or real")
  normalized = os.path.join(root, "Data", "Normalized")
  if not os.path.isdir(normalized):
    raise DataError(root, "has no Data/Normalized folder (expected the "
                    "MPIIGaze root)")
  chosen = select_persons(normalized, split, overlap, persons)
  images, labels, names = [], [], []
  for person in chosen:
    if split == "test":
      person_images, person_labels, person_names = _test_person(
          normalized, root, person, image_shape)
      labels += person_labels
    else:
      person_images, person_names = _real_person(normalized, person,
                                                 image_shape)
    images += person_images
    names += person_names
  if not names:
    raise DataError(normalized, f"holds no frames for {chosen}")
  frame = source_lib.frame_for(
      names, np.concatenate(labels) if labels else None, LABEL_COLUMNS)
  description = f"mpiigaze:{root}?split={split}&persons={','.join(chosen)}"
  return MPIIGazeSource(description, np.concatenate(images), frame)


def from_spec(path: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> MPIIGazeSource:
  """``mpiigaze:ROOT?split=test|real&overlap=BOOL&persons=LIST``."""
  parsed = spec_options.SpecOptions(f"mpiigaze:{path}", options, OPTIONS)
  return open_root(path, parsed.choice("split", ("test", "real"), "test"),
                   parsed.boolean("overlap", False), parsed.text("persons"),
                   tuple(image_size or DEFAULT_IMAGE_SHAPE))
