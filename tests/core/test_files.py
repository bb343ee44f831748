"""Atomic writes (core/files.py)."""

import os

import keras
import numpy as np
import pytest

from core import files


def test_temporary_sibling_keeps_the_suffix():
  pid = os.getpid()
  assert files.temporary_sibling("/d/a.b.png") == f"/d/a.b.tmp{pid}.png"
  assert files.temporary_sibling("r-000001.weights.h5") == (
      f"r-000001.tmp{pid}.weights.h5")
  assert files.temporary_sibling("m.keras") == f"m.tmp{pid}.keras"
  assert files.temporary_sibling("/d/plain") == f"/d/plain.tmp{pid}"
  assert files.temporary_sibling("x.xyz") == f"x.xyz.tmp{pid}"


def test_write_atomic_text_and_bytes(tmp_path):
  path = str(tmp_path / "a.txt")
  files.write_atomic(path, "first\n")
  files.write_atomic(path, "héllo\n")
  assert open(path, encoding="utf-8").read() == "héllo\n"
  files.write_atomic(str(tmp_path / "b.png"), b"\x89PNG\x00\xff")
  assert (tmp_path / "b.png").read_bytes() == b"\x89PNG\x00\xff"
  assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.png"]


def test_failing_writer_keeps_the_old_content_and_no_temp_file(tmp_path):
  path = str(tmp_path / "figure.png")
  files.write_atomic(path, "old")
  seen = []

  def write(tmp):
    seen.append(tmp)
    with open(tmp, "w") as f:
      f.write("half")
    raise KeyboardInterrupt  # Even a kill-like exception cleans up.

  with pytest.raises(KeyboardInterrupt):
    files.write_with(path, write)
  assert seen == [str(tmp_path / f"figure.tmp{os.getpid()}.png")]
  assert open(path).read() == "old"
  assert os.listdir(tmp_path) == ["figure.png"]


def test_missing_folder_is_an_os_error_naming_the_file(tmp_path):
  with pytest.raises(FileNotFoundError) as error:
    files.write_atomic(str(tmp_path / "no" / "a.json"), "{}")
  assert error.value.filename == str(tmp_path / "no" /
                                     f"a.tmp{os.getpid()}.json")
  assert os.listdir(tmp_path) == []


def test_json_round_trip_and_exact_text(tmp_path):
  path = str(tmp_path / "r.json")
  data = {"name": "gaze", "shape": [35, 55], "rate": 1.5, "ok": None}
  files.write_json(path, data)
  assert open(path).read() == (
      '{\n  "name": "gaze",\n  "shape": [\n    35,\n    55\n  ],\n'
      '  "rate": 1.5,\n  "ok": null\n}\n')
  assert files.read_json(path) == data


def test_csv_text():
  assert files.csv_text(["unit", "name"], [(1, "a,b"), (2.5, 'say "x"')]) == (
      'unit,name\n1,"a,b"\n2.5,"say ""x"""\n')
  assert files.csv_text(["a"], []) == "a\n"


def test_save_model_round_trip(tmp_path):
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
  path = str(tmp_path / "m.keras")
  files.save_model(model, path)
  loaded = keras.models.load_model(path)
  for a, b in zip(loaded.get_weights(), model.get_weights()):
    np.testing.assert_array_equal(a, b)
  assert os.listdir(tmp_path) == ["m.keras"]
