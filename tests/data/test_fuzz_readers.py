"""Fuzzing the readers: a damaged data file is a DataError, nothing else.

Each reader gets tiny files in its real format (written by the fixture
builders of its own tests), then one of them truncated, bit-flipped,
overwritten, or holding a value of the wrong type. Whatever the damage,
opening the source and reading every image either works or raises
data.source.DataError; any other exception (or a RuntimeWarning: damage let
through) fails the test, and a read that hangs is killed with its stack
dumped (faulthandler) rather than left to stall the suite. The quick tests
run a fixed set of examples; the slow ones (``make test-slow``) draw many
more, at random.
"""

import faulthandler
import json
import os
import shutil
import sys
import tempfile
import warnings

import cv2
import h5py
import hypothesis
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pandas as pd
import pytest
import scipy.io

from data import cache
from data import folders
from data import mpiigaze
from data import nyu_hand
from data import source as source_lib
from data import specs
from data import unityeyes
from tests.data import test_cache
from tests.data import test_mpiigaze
from tests.data import test_nyu_hand
from tests.data import test_unityeyes

# (examples, derandomize): the quick run is the same every time.
BUDGETS = [pytest.param((25, True), id="quick"),
           pytest.param((400, False), id="long", marks=pytest.mark.slow)]
# Far above any one example here (the slowest reads two 640x480 PNGs).
_HANG_SECONDS = 120


def _fuzz(budget, strategy, check):
  """Runs check(value) for `budget` examples of `strategy`."""
  examples, derandomize = budget

  @hypothesis.settings(
      max_examples=examples, derandomize=derandomize, deadline=None,
      database=None, print_blob=False,
      suppress_health_check=list(hypothesis.HealthCheck))
  @hypothesis.given(strategy)
  def run(value):
    check(value)

  run()


def _reads_or_refuses(read):
  """Calls read(): it may work or raise DataError, nothing else, no hang.

  A RuntimeWarning (an overflow, a complex number cast to real) counts as
  another exception: it is damaged data that a reader let through.
  """
  faulthandler.dump_traceback_later(_HANG_SECONDS, exit=True,
                                    file=sys.__stderr__)
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("error", RuntimeWarning)
      read()
  except source_lib.DataError as e:
    assert str(e).startswith(e.path + ": ") and "\n" not in str(e)
  finally:
    faulthandler.cancel_dump_traceback_later()


@st.composite
def damaged(draw, data: bytes):
  """`data` truncated, with bits flipped, or with bytes overwritten; headers
  (the first 512 bytes) are hit as often as the rest."""
  size = len(data)
  position = st.one_of(st.integers(0, min(size, 512) - 1),
                       st.integers(0, size - 1))
  how = draw(st.sampled_from(["truncate", "flip", "overwrite"]))
  if how == "truncate":
    return data[:draw(position)]
  out = bytearray(data)
  if how == "flip":
    for at, bit in draw(st.lists(st.tuples(position, st.integers(0, 7)),
                                 min_size=1, max_size=8)):
      out[at] ^= 1 << bit
  else:
    at = draw(position)
    patch = draw(st.binary(min_size=1, max_size=64))
    out[at:at + len(patch)] = patch
  return bytes(out)


def _files(folder):
  """{relative name: bytes} of every file under `folder`."""
  out = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      with open(path, "rb") as f:
        out[os.path.relpath(path, folder)] = f.read()
  return out


@st.composite
def one_file_damaged(draw, files):
  """(name, damaged bytes) of one of `files` ({name: bytes})."""
  name = draw(st.sampled_from(sorted(files)))
  return name, draw(damaged(files[name]))


class Scratch:
  """A copy of a template folder per example, with one file replaced."""

  def __init__(self, template):
    self.template = template
    self.parent = tempfile.mkdtemp(prefix="fuzz")

  def copy(self, replace=None):
    folder = tempfile.mkdtemp(dir=self.parent)
    shutil.rmtree(folder)
    shutil.copytree(self.template, folder)
    for name, data in (replace or {}).items():
      with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    return folder

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    shutil.rmtree(self.parent, ignore_errors=True)


# Values of any type, for fields that should hold something else.
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(), st.text(max_size=20))
JSON_VALUES = st.recursive(
    _SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
ARRAYS = hnp.arrays(
    st.sampled_from([np.uint8, np.int16, np.int64, np.float32, np.float64,
                     np.complex128, np.bool_]),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
    elements=None)
MAT_VALUES = st.one_of(ARRAYS, st.text(max_size=20),
                       st.lists(st.text(max_size=5), max_size=3),
                       st.floats(), st.fixed_dictionaries(
                           {"x": st.floats(), "y": st.text(max_size=3)}))


# folder: PNGs and a JPEG with labels.csv.


@pytest.fixture(scope="module")
def folder_template(tmp_path_factory):
  folder = tmp_path_factory.mktemp("folder")
  rng = np.random.default_rng(0)
  for name in ("a.png", "b.png", "c.jpg"):
    assert cv2.imwrite(str(folder / name),
                       rng.integers(0, 256, (6, 8)).astype(np.uint8))
  cv2.imwrite(str(folder / "d.png"), np.zeros((6, 8, 3), np.uint8))
  pd.DataFrame({"filename": ["a.png", "b.png", "c.jpg", "d.png"],
                "gaze_x": [0.1, 0.2, 0.3, 0.4]}).to_csv(
                    folder / "labels.csv", index=False)
  return str(folder)


@pytest.mark.parametrize("budget", BUDGETS)
def test_folder_of_damaged_images(folder_template, budget):
  files = _files(folder_template)
  with Scratch(folder_template) as scratch:
    def check(damage):
      folder = scratch.copy(dict([damage]))
      _reads_or_refuses(
          lambda: specs.open_source(f"folder:{folder}").read_all())
    _fuzz(budget, one_file_damaged(files), check)


# UnityEyes: <n>.jpg + <n>.json.


@pytest.fixture(scope="module")
def unityeyes_template(tmp_path_factory):
  imgs = tmp_path_factory.mktemp("unityeyes")
  for stem, centre in (("1", (80, 60)), ("2", (70, 50))):
    test_unityeyes.write_render(imgs, stem, height=120, width=160,
                                eye_centre=centre, half_width=30,
                                half_height=12)
  return str(imgs)


def _read_unityeyes(folder):
  source = unityeyes.open_folder(folder)
  source.read(np.arange(len(source)))


@pytest.mark.parametrize("budget", BUDGETS)
def test_unityeyes_damaged_files(unityeyes_template, budget):
  files = _files(unityeyes_template)
  with Scratch(unityeyes_template) as scratch:
    _fuzz(budget, one_file_damaged(files),
          lambda damage: _reads_or_refuses(
              lambda: _read_unityeyes(scratch.copy(dict([damage])))))


_UNITYEYES_KEYS = ["interior_margin_2d", "caruncle_2d", "head_pose",
                   "eye_details", "eye_details.look_vec",
                   "interior_margin_2d.8", "caruncle_2d.0"]


@pytest.mark.parametrize("budget", BUDGETS)
def test_unityeyes_json_values_of_the_wrong_type(unityeyes_template, budget):
  with open(os.path.join(unityeyes_template, "1.json")) as f:
    template = json.load(f)
  with Scratch(unityeyes_template) as scratch:
    def check(change):
      key, value = change
      data = json.loads(json.dumps(template))
      *parents, last = key.split(".")
      node = data
      for part in parents:
        node = node[part]
      node[int(last) if isinstance(node, list) else last] = value
      text = json.dumps(data).encode()
      _reads_or_refuses(lambda: _read_unityeyes(
          scratch.copy({"1.json": text})))
    _fuzz(budget, st.tuples(st.sampled_from(_UNITYEYES_KEYS), JSON_VALUES),
          check)


# MPIIGaze: Data/Normalized/p00/day01.mat and the sample list.


@pytest.fixture(scope="module")
def mpiigaze_template(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("MPIIGaze"))
  day = os.path.join(test_mpiigaze.normalized(root, "p00"), "day01.mat")
  test_mpiigaze.write_day(day, ["0001.jpg", "0002.jpg"], seed=0)
  test_mpiigaze.write_day(day.replace("day01", "day02"), ["0003.jpg"],
                          seed=1, compress=True)
  test_mpiigaze.write_list(root, "p00", ["day01/0001.jpg left",
                                         "day01/0002.jpg right",
                                         "day02/0003.jpg left"])
  return root


def _read_mpiigaze(root):
  for split in ("test", "real"):
    mpiigaze.open_root(root, split, persons="p00").read_all()


@pytest.mark.parametrize("budget", BUDGETS)
def test_mpiigaze_damaged_files(mpiigaze_template, budget):
  files = _files(mpiigaze_template)
  with Scratch(mpiigaze_template) as scratch:
    _fuzz(budget, one_file_damaged(files),
          lambda damage: _reads_or_refuses(
              lambda: _read_mpiigaze(scratch.copy(dict([damage])))))


_DAY_FIELDS = ["filenames", "data", "data.left", "data.right.gaze",
               "data.left.image", "data.right.image", "data.left.pose"]


@pytest.mark.parametrize("budget", BUDGETS)
def test_mpiigaze_mat_values_of_the_wrong_type(mpiigaze_template, budget):
  day = os.path.join("Data", "Normalized", "p00", "day01.mat")
  with Scratch(mpiigaze_template) as scratch:
    def check(change):
      field, value = change
      root = scratch.copy()
      arrays = test_mpiigaze.write_day(os.path.join(root, day),
                                       ["0001.jpg", "0002.jpg"], seed=0)
      filenames = np.array([["0001.jpg"], ["0002.jpg"]], dtype=object)
      mat = {"data": arrays, "filenames": filenames}
      *parents, last = field.split(".")
      node = mat
      for part in parents:
        node = node[part]
      node[last] = value
      try:
        scipy.io.savemat(os.path.join(root, day), mat)
      except Exception:  # pylint: disable=broad-except
        hypothesis.reject()  # scipy cannot write it: no file to read.
      _reads_or_refuses(lambda: _read_mpiigaze(root))
    _fuzz(budget, st.tuples(st.sampled_from(_DAY_FIELDS), MAT_VALUES),
          check)


# NYU hands: joint_data.mat and two 640x480 PNGs of one frame.


@pytest.fixture(scope="module")
def nyu_template(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp("nyu") / "train")
  test_nyu_hand.write_split(folder, 1)
  for name in os.listdir(folder):  # Kinects 2 and 3 are not fuzzed.
    if name.endswith(("_2_0000001.png", "_3_0000001.png")):
      os.remove(os.path.join(folder, name))
  return folder


def _read_nyu(folder):
  specs.open_source(f"nyu:{folder}?domain=real", (32, 32)).read_all()


@pytest.mark.parametrize("budget", BUDGETS)
def test_nyu_damaged_files(nyu_template, budget):
  files = _files(nyu_template)
  with Scratch(nyu_template) as scratch:
    _fuzz(budget, one_file_damaged(files),
          lambda damage: _reads_or_refuses(
              lambda: _read_nyu(scratch.copy(dict([damage])))))


@pytest.mark.parametrize("budget", BUDGETS)
def test_nyu_joints_of_the_wrong_type(nyu_template, budget):
  with Scratch(nyu_template) as scratch:
    def check(value):
      folder = scratch.copy()
      try:
        scipy.io.savemat(os.path.join(folder, nyu_hand.JOINT_FILE),
                         {"joint_uvd": value})
      except Exception:  # pylint: disable=broad-except
        hypothesis.reject()
      _reads_or_refuses(lambda: _read_nyu(folder))
    finite = st.floats(-1e6, 1e6)
    joints = st.one_of(
        MAT_VALUES,
        # The right shape, with values anywhere (inf, nan, huge).
        hnp.arrays(np.float64, (3, 1, 36, 3),
                   elements=st.one_of(finite, st.floats())))
    _fuzz(budget, joints, check)


# HDF5 cache written by data.prepare.


@pytest.fixture(scope="module")
def cache_template(tmp_path_factory):
  folder = tmp_path_factory.mktemp("cache")
  gray_source = test_cache._gray_source  # pylint: disable=protected-access
  cache.write_cache(gray_source(n=12, shape=(5, 7)), str(folder / "c.h5"),
                    chunk=5, log=None)
  return str(folder)


def _read_cache(folder):
  source = specs.open_source(f"h5:{os.path.join(folder, 'c.h5')}")
  source.read_all()
  source.read(np.arange(len(source))[::-1])


@pytest.mark.parametrize("budget", BUDGETS)
def test_cache_damaged_file(cache_template, budget):
  files = _files(cache_template)
  with Scratch(cache_template) as scratch:
    _fuzz(budget, one_file_damaged(files),
          lambda damage: _reads_or_refuses(
              lambda: _read_cache(scratch.copy(dict([damage])))))


_CACHE_ATTRIBUTES = ["count", "image_shape", "storage", "format_version",
                     "complete", "description"]


@pytest.mark.parametrize("budget", BUDGETS)
def test_cache_attributes_of_the_wrong_type(cache_template, budget):
  with Scratch(cache_template) as scratch:
    def check(change):
      name, value = change
      folder = scratch.copy()
      with h5py.File(os.path.join(folder, "c.h5"), "r+") as f:
        if name.startswith("frame/"):
          del f[name]
          try:
            f[name] = value
          except Exception:  # pylint: disable=broad-except
            hypothesis.reject()
          f[name].attrs["name"] = "gaze_x"
        else:
          try:
            f.attrs[name] = value
          except Exception:  # pylint: disable=broad-except
            hypothesis.reject()
      _reads_or_refuses(lambda: _read_cache(folder))
    names = st.sampled_from(_CACHE_ATTRIBUTES + ["frame/c001", "frame/c000"])
    values = st.one_of(ARRAYS, st.text(max_size=10), st.integers(-2**62,
                                                                 2**62))
    _fuzz(budget, st.tuples(names, values), check)


def test_found_by_the_long_fuzz_runs_are_one_line_errors(tmp_path):
  # labels.csv whose filename cell is empty (a vertical tab broke a line).
  folder = tmp_path / "f"
  folder.mkdir()
  (folder / "labels.csv").write_bytes(
      b"filename,gaze_x\na.png,0.1\x0bb.png,0.2\nc.jpg-0.3\nd.png,0.4\n")
  with pytest.raises(source_lib.DataError, match="has no filename on line"):
    folders._read_labels(str(folder), ["a.png"])  # pylint: disable=protected-access
  huge = np.full((1, 3), 1e200)
  with pytest.raises(source_lib.DataError, match="too large to normalise"):
    mpiigaze._labels(huge, np.zeros((1, 3)), "left", "day01.mat")  # pylint: disable=protected-access
