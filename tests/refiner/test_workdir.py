"""The refiner work directory: snapshot names, listing, loading."""

import os

import numpy as np
import pytest

from core import files
from data import source as source_lib
from refiner import networks
from refiner import workdir
from tests import helpers


def _export(folder, seed=0):
  """An untrained gaze refiner saved as FOLDER/refiner.keras."""
  os.makedirs(folder, exist_ok=True)
  refiner = networks.build_refiner("gaze")
  rng = np.random.default_rng(seed)
  refiner.set_weights([rng.normal(0, 0.05, w.shape).astype("f4")
                       for w in refiner.get_weights()])
  files.save_model(refiner, os.path.join(folder, workdir.REFINER_FILE))
  return refiner


def test_snapshot_names_sort_by_unit():
  assert workdir.snapshot_name(7) == "refiner-000007.weights.h5"
  assert workdir.snapshot_name(1234567) == "refiner-1234567.weights.h5"
  assert workdir.snapshot_path("/w", "refiner-000007.weights.h5") == (
      "/w/snapshots/refiner-000007.weights.h5")
  assert workdir.snapshot_path("/w", "/elsewhere/r.weights.h5") == (
      "/elsewhere/r.weights.h5")


def test_list_snapshots_skips_temporary_and_foreign_files(tmp_path):
  assert workdir.list_snapshots(str(tmp_path)) == []
  folder = tmp_path / workdir.SNAPSHOT_DIR
  folder.mkdir()
  for name in ("refiner-000010.weights.h5", "refiner-000002.weights.h5",
               # A write in progress (core.files' temporary sibling).
               "refiner-000012.tmp4321.weights.h5",
               "refiner-000004.keras", "notes.txt"):
    (folder / name).write_bytes(b"")
  assert workdir.list_snapshots(str(tmp_path)) == [
      (2, "refiner-000002.weights.h5"), (10, "refiner-000010.weights.h5")]


def test_load_refiner_and_a_snapshot(tmp_path):
  final = _export(str(tmp_path), seed=0)
  other = networks.build_refiner("gaze")
  other.set_weights([w + 0.01 for w in final.get_weights()])
  os.makedirs(tmp_path / workdir.SNAPSHOT_DIR)
  other.save_weights(workdir.snapshot_path(str(tmp_path),
                                           workdir.snapshot_name(5)))
  x = np.random.default_rng(1).uniform(-1, 1, (2, 35, 55, 1)).astype("f4")

  loaded = workdir.load_refiner(str(tmp_path))
  np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(final(x)))
  snap = workdir.load_refiner(str(tmp_path), workdir.snapshot_name(5))
  for a, b in zip(snap.get_weights(), other.get_weights()):
    np.testing.assert_array_equal(a, b)


def test_missing_or_broken_files_are_data_errors(tmp_path):
  path = os.path.join(tmp_path, "refiner.keras")
  with helpers.raises_exactly(
      source_lib.DataError,
      f"{path}: does not exist; train a refiner into this workdir first "
      "(python -m refiner.train)"):
    workdir.load_refiner(str(tmp_path))
  with open(path, "w") as f:
    f.write("not a zip file")
  with pytest.raises(source_lib.DataError,
                     match=f"^{path}: cannot be loaded: "):
    workdir.load_refiner(str(tmp_path))

  _export(str(tmp_path))
  snapshot = workdir.snapshot_path(str(tmp_path), "refiner-000009.weights.h5")
  with pytest.raises(source_lib.DataError,
                     match=f"^{snapshot}: cannot be loaded: "):
    workdir.load_refiner(str(tmp_path), "refiner-000009.weights.h5")
