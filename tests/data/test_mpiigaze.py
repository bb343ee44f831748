"""Tests of the MPIIGaze reader on .mat files in the dataset's layout."""

import os

import cv2
import numpy as np
import pytest
import scipy.io

from data import mpiigaze
from data import source as source_lib
from data import specs

PERSONS = [f"p{i:02d}" for i in range(15)]


def pattern(n, eye, seed):
  """(n, 36, 60) uint8 images, distinct per frame and eye, not symmetric."""
  rows, cols = np.mgrid[:36, :60]
  offset = seed * 31 + (0 if eye == "left" else 100)
  return np.stack([(rows * 5 + cols * 3 + 17 * k + offset) % 256
                   for k in range(n)]).astype(np.uint8)


def write_day(path, frames, seed, drop=None, compress=False):
  """A dayYY.mat in the layout MPIIGaze ships; returns its arrays.

  Args:
    path: file to write.
    frames: frame filenames such as '0001.jpg'.
    seed: varies images and labels.
    drop: 'data', 'left' or 'gaze' to leave that variable or field out.
    compress: write zlib-compressed variables, as MATLAB does.
  """
  rng = np.random.default_rng(seed)
  n = len(frames)
  data = {}
  for eye in ("left", "right"):
    gaze = rng.normal(size=(n, 3))
    gaze[:, 2] = -np.abs(gaze[:, 2]) - 2.0
    gaze /= np.linalg.norm(gaze, axis=1, keepdims=True)
    # Insertion order gaze -> image -> pose, as in the real files.
    data[eye] = {"gaze": gaze, "image": pattern(n, eye, seed),
                 "pose": rng.normal(scale=0.2, size=(n, 3))}
  filenames = np.empty((n, 1), dtype=object)
  filenames[:, 0] = frames
  saved = {"left": dict(data["left"]), "right": dict(data["right"])}
  if drop == "left":
    del saved["left"]
  elif drop == "gaze":
    del saved["left"]["gaze"]
  mat = {"data": saved, "filenames": filenames}
  if drop == "data":
    del mat["data"]
  os.makedirs(os.path.dirname(path), exist_ok=True)
  scipy.io.savemat(path, mat, do_compression=compress)
  return data


def write_list(root, person, lines):
  folder = os.path.join(root, "Evaluation Subset", "sample list for eye image")
  os.makedirs(folder, exist_ok=True)
  with open(os.path.join(folder, f"{person}.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")


def normalized(root, person=""):
  return os.path.join(root, "Data", "Normalized", person)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
  """15 persons with a 2-frame day01; p00 and p10 add a 1-frame day02."""
  root = str(tmp_path_factory.mktemp("MPIIGaze"))
  arrays = {}
  for k, person in enumerate(PERSONS):
    arrays[person, "day01"] = write_day(
        os.path.join(normalized(root, person), "day01.mat"),
        ["0001.jpg", "0002.jpg"], seed=k, compress=k % 2 == 1)
    lines = ["day01/0002.jpg left", "day01/0001.jpg right"]
    if person in ("p00", "p10"):
      arrays[person, "day02"] = write_day(
          os.path.join(normalized(root, person), "day02.mat"), ["0005.jpg"],
          seed=100 + k)
      lines.append("day02/0005.jpg right")
    write_list(root, person, lines)
  return root, arrays


def _hysts_head_degrees(pose):
  v = cv2.Rodrigues(np.asarray(pose, np.float64))[0][:, 2]
  return np.degrees([np.arcsin(v[1]), np.arctan2(v[0], v[2])])


def test_test_split_labels_and_mirroring(dataset):
  root, arrays = dataset
  source = mpiigaze.from_spec(root, {}, (36, 60))
  assert list(source.frame.columns) == ["filename", "gaze_x", "gaze_y",
                                        "gaze_z", "head_pitch", "head_yaw"]
  assert len(source) == 10 * 2 + 1  # p00-p09; p00 lists a third sample.
  assert source.filenames[:3] == ["p00/day01/0002_left.png",
                                  "p00/day01/0001_right.png",
                                  "p00/day02/0005_right.png"]
  assert source.filenames[-1] == "p09/day01/0001_right.png"
  images = source_lib.unit_to_uint8(source.read([0, 1, 2]))[..., 0]
  labels = source.labels(list(mpiigaze.LABEL_COLUMNS))
  # Left eye: as stored.
  left = arrays["p00", "day01"]["left"]
  np.testing.assert_array_equal(images[0], left["image"][1])
  np.testing.assert_allclose(labels[0, :3], left["gaze"][1], atol=1e-6)
  np.testing.assert_allclose(labels[0, 3:], _hysts_head_degrees(
      left["pose"][1]), atol=1e-4)
  # Right eye: pixel-exact horizontal flip, gaze x and head yaw negated.
  for i, (day, row) in ((1, ("day01", 0)), (2, ("day02", 0))):
    right = arrays["p00", day]["right"]
    np.testing.assert_array_equal(images[i], right["image"][row][:, ::-1])
    np.testing.assert_allclose(labels[i, :3],
                               right["gaze"][row] * [-1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(labels[i, 3:], _hysts_head_degrees(
        right["pose"][row]) * [1, -1], atol=1e-4)


def test_default_size_is_35x55_with_area_resize(dataset):
  root, arrays = dataset
  source = mpiigaze.from_spec(root, {"persons": "p00"}, None)
  assert source.image_shape == (35, 55)
  images = source.read(np.arange(3))
  assert images.shape == (3, 35, 55, 1) and images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  flipped = np.ascontiguousarray(arrays["p00", "day01"]["right"]["image"][0]
                                 [:, ::-1])
  np.testing.assert_array_equal(
      source_lib.unit_to_uint8(images[1, ..., 0]),
      cv2.resize(flipped, (55, 35), interpolation=cv2.INTER_AREA))


def test_real_split_default_persons_disjoint(dataset):
  root, arrays = dataset
  real = mpiigaze.from_spec(root, {"split": "real"}, (36, 60))
  test = mpiigaze.from_spec(root, {}, (36, 60))
  assert list(real.frame.columns) == ["filename"]
  assert not real.has_labels
  # p10-p14: 2 frames x 2 eyes each, plus p10's 1-frame day02.
  assert len(real) == 5 * 4 + 2
  assert real.filenames[:6] == [
      "p10/day01/0001_left.png", "p10/day01/0001_right.png",
      "p10/day01/0002_left.png", "p10/day01/0002_right.png",
      "p10/day02/0005_left.png", "p10/day02/0005_right.png"]
  real_persons = {f.split("/")[0] for f in real.filenames}
  test_persons = {f.split("/")[0] for f in test.filenames}
  assert real_persons == set(PERSONS[10:])
  assert test_persons == set(PERSONS[:10])
  images = source_lib.unit_to_uint8(real.read([4, 5]))[..., 0]
  day = arrays["p10", "day02"]
  np.testing.assert_array_equal(images[0], day["left"]["image"][0])
  np.testing.assert_array_equal(images[1], day["right"]["image"][0][:, ::-1])


def test_overlap_and_persons_options(dataset):
  root, _ = dataset
  real = mpiigaze.from_spec(root, {"split": "real", "overlap": "true"}, None)
  test = mpiigaze.from_spec(root, {"overlap": "1"}, None)
  assert len(real) == 15 * 4 + 2 * 2
  assert len(test) == 15 * 2 + 2
  assert ({f.split("/")[0] for f in real.filenames} ==
          {f.split("/")[0] for f in test.filenames} == set(PERSONS))
  chosen = mpiigaze.from_spec(root, {"split": "real",
                                     "persons": "p03,p00"}, None)
  assert len(chosen) == 4 + 4 + 2
  assert chosen.filenames[0].startswith("p00/")
  with pytest.raises(ValueError, match="unknown option"):
    mpiigaze.from_spec(root, {"splits": "real"}, None)
  with pytest.raises(ValueError, match="split='train'"):
    mpiigaze.from_spec(root, {"split": "train"}, None)


def test_open_source_end_to_end(dataset):
  root, _ = dataset
  real = specs.open_source(f"mpiigaze:{root}?split=real", (35, 55))
  assert isinstance(real, mpiigaze.MPIIGazeSource)
  assert real.read_all().shape == (22, 35, 55, 1)
  test = specs.open_source(f"mpiigaze:{root}?split=test&persons=p01")
  assert test.labels().shape == (2, 3)


def _small_root(tmp_path, drop=None):
  root = str(tmp_path)
  write_day(os.path.join(normalized(root, "p00"), "day01.mat"),
            ["0001.jpg", "0002.jpg"], seed=0, drop=drop)
  write_list(root, "p00", ["day01/0001.jpg left", "day01/0002.jpg right"])
  return root


def test_truncated_and_malformed_mat(tmp_path):
  root = _small_root(tmp_path)
  path = os.path.join(normalized(root, "p00"), "day01.mat")
  with open(path, "rb") as f:
    data = f.read()
  with open(path, "wb") as f:
    f.write(data[:len(data) // 2])
  for split in ("test", "real"):
    with pytest.raises(source_lib.DataError,
                       match=r"day01\.mat: is a damaged MATLAB file: an "
                       r"element runs past the end of the file \(truncated"):
      mpiigaze.from_spec(root, {"split": split, "persons": "p00"}, None)
  for drop, fault in (("data", "has no variable 'data'"),
                      ("left", "has no field data.left"),
                      ("gaze", "has no field data.left.gaze")):
    write_day(path, ["0001.jpg", "0002.jpg"], seed=0, drop=drop)
    with pytest.raises(source_lib.DataError, match=r"day01\.mat: " + fault):
      mpiigaze.from_spec(root, {"persons": "p00"}, None)


def test_sample_list_errors(tmp_path):
  root = _small_root(tmp_path)
  list_path = os.path.join("sample list for eye image", "p00.txt")
  write_list(root, "p00", ["day01/0001.jpg left", "day09/0001.jpg left"])
  with pytest.raises(source_lib.DataError,
                     match=rf"{list_path}: line 2: names day09/0001\.jpg "
                     r"but .*day09\.mat does not exist"):
    mpiigaze.from_spec(root, {"persons": "p00"}, None)
  write_list(root, "p00", ["day01/0099.jpg right"])
  with pytest.raises(source_lib.DataError,
                     match=rf"{list_path}: line 1: frame 0099\.jpg is not in"):
    mpiigaze.from_spec(root, {"persons": "p00"}, None)
  write_list(root, "p00", ["day01/0001.jpg middle"])
  with pytest.raises(source_lib.DataError, match="line 1: expected"):
    mpiigaze.from_spec(root, {"persons": "p00"}, None)
  os.remove(os.path.join(root, "Evaluation Subset", list_path))
  with pytest.raises(source_lib.DataError,
                     match=rf"{list_path}: does not exist"):
    mpiigaze.from_spec(root, {"persons": "p00"}, None)


def test_missing_folders_and_persons(tmp_path):
  with pytest.raises(source_lib.DataError, match="has no Data/Normalized"):
    mpiigaze.from_spec(str(tmp_path), {}, None)
  os.makedirs(normalized(str(tmp_path)))
  with pytest.raises(source_lib.DataError,
                     match=r"Normalized/?: holds no pNN person folders"):
    mpiigaze.from_spec(str(tmp_path), {"split": "real"}, None)
  root = _small_root(tmp_path)
  # Defaults need p00-p09 (test) or p10-p14 (real); only p00 exists.
  with pytest.raises(source_lib.DataError, match=r"lacks person folder\(s\) "
                     r"\['p01'"):
    mpiigaze.from_spec(root, {}, None)
  with pytest.raises(source_lib.DataError, match=r"\['p10', 'p11'"):
    mpiigaze.from_spec(root, {"split": "real"}, None)
  os.makedirs(normalized(root, "p05"))
  with pytest.raises(source_lib.DataError, match=r"p05: holds no dayNN\.mat"):
    mpiigaze.from_spec(root, {"split": "real", "persons": "p05"}, None)


def test_labels_of_the_wrong_type(tmp_path):
  root = _small_root(tmp_path)
  path = os.path.join(normalized(root, "p00"), "day01.mat")
  arrays = write_day(path, ["0001.jpg", "0002.jpg"], seed=0)
  filenames = np.array([["0001.jpg"], ["0002.jpg"]], dtype=object)
  for value, fault in [
      (arrays["right"]["gaze"] * 1j, "is complex128, expected real numbers"),
      (np.array(["a", "b"]), "is <U1, expected real numbers"),
      (np.zeros((2, 4)), r"has shape \(2, 4\), expected \(2, 3\) for 2 "
       "filenames")]:
    data = {"left": arrays["left"], "right": dict(arrays["right"],
                                                  gaze=value)}
    scipy.io.savemat(path, {"data": data, "filenames": filenames})
    with pytest.raises(source_lib.DataError,
                       match=rf"day01\.mat: data\.right\.gaze {fault}$"):
      mpiigaze.from_spec(root, {"persons": "p00"}, None)
