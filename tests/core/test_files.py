"""Atomic writes (core/files.py)."""

import errno
import os
import stat
from unittest import mock

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
  # The file the caller named, never its temporary sibling.
  assert error.value.filename == str(tmp_path / "no" / "a.json")
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


def _recorded_syncs(events):
  """os.fsync, recording the inode it syncs (a temporary file keeps its
  inode when renamed, so the final path names it)."""
  fsync = os.fsync

  def record(fd):
    events.append(("fsync", os.fstat(fd).st_ino))
    fsync(fd)

  return record


def test_write_syncs_the_file_before_the_rename_and_the_folder_after(
    tmp_path):
  events = []
  replace = os.replace

  def record_replace(src, dst):
    events.append(("replace", os.path.basename(src), os.path.basename(dst)))
    replace(src, dst)

  path = str(tmp_path / "m.json")
  with mock.patch.object(files.os, "fsync", _recorded_syncs(events)), \
      mock.patch.object(files.os, "replace", record_replace):
    files.write_json(path, {"a": 1})
  assert events == [("fsync", os.stat(path).st_ino),
                    ("replace", f"m.tmp{os.getpid()}.json", "m.json"),
                    ("fsync", os.stat(tmp_path).st_ino)]
  assert files.read_json(path) == {"a": 1}


def test_failing_sync_keeps_the_old_content_and_no_temp_file(tmp_path):
  path = str(tmp_path / "a.csv")
  files.write_atomic(path, "old\n")
  with mock.patch.object(files.os, "fsync",
                         side_effect=OSError(errno.EIO, "I/O error")):
    with pytest.raises(OSError, match="I/O error"):
      files.write_atomic(path, "new\n")
  assert open(path).read() == "old\n"
  assert os.listdir(tmp_path) == ["a.csv"]


def test_a_folder_that_cannot_be_synced_is_no_error(tmp_path):
  # Windows cannot open a folder; some file systems refuse to sync one.
  synced = []
  fsync = os.fsync

  def file_only(fd):
    if stat.S_ISDIR(os.fstat(fd).st_mode):
      raise OSError(errno.EINVAL, "Invalid argument")
    synced.append(fd)
    fsync(fd)

  path = str(tmp_path / "a.txt")
  with mock.patch.object(files.os, "fsync", file_only):
    files.write_atomic(path, "text")
    files.remove(path)
  assert len(synced) == 1
  assert os.listdir(tmp_path) == []


def test_remove_withdraws_a_file_and_syncs_its_folder(tmp_path):
  path = str(tmp_path / "labels.csv")
  files.write_atomic(path, "filename\n")
  events = []
  with mock.patch.object(files.os, "fsync", _recorded_syncs(events)):
    files.remove(path)
    assert events == [("fsync", os.stat(tmp_path).st_ino)]
    files.remove(path)  # Already gone: nothing to do.
    assert len(events) == 1
  assert os.listdir(tmp_path) == []


def test_unsynced_writes_and_one_flush_for_them_all(tmp_path):
  events = []
  with mock.patch.object(files.os, "fsync", _recorded_syncs(events)), \
      mock.patch.object(files.os, "sync",
                        side_effect=lambda: events.append("sync")):
    files.write_atomic(str(tmp_path / "1.png"), b"\x89PNG", sync=False)
    files.write_atomic(str(tmp_path / "2.png"), b"\x89PNG", sync=False)
    assert events == []
    files.sync_all()
  assert events == ["sync"]
  assert sorted(os.listdir(tmp_path)) == ["1.png", "2.png"]

