"""core/provenance.py: one configuration and one writer per output folder."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from core import files
from core import provenance

_FIELDS = {"hparams": {"lr": 0.001, "steps": 10, "shape": (35, 55)},
           "train": {"spec": "embedded-eyes-sim", "made_by": None}}


def _with(**changes):
  fields = json.loads(json.dumps(_FIELDS))
  fields["hparams"].update(changes)
  return fields


def test_first_claim_records_the_fields_and_the_same_ones_resume(tmp_path):
  folder = str(tmp_path / "run")
  with provenance.claim(folder, _FIELDS) as digest:
    files.write_atomic(os.path.join(folder, "model.txt"), "weights")
  record = provenance.read(folder)
  # Tuples come back as lists: the record is what JSON gives back.
  assert record["fields"]["hparams"]["shape"] == [35, 55]
  assert record["digest"] == digest == provenance.digest(_FIELDS)
  with provenance.claim(folder, _FIELDS):  # Same fields: resumes.
    assert open(os.path.join(folder, "model.txt")).read() == "weights"


def test_other_fields_are_refused_naming_the_first_difference(tmp_path):
  folder = str(tmp_path / "run")
  with provenance.claim(folder, _FIELDS):
    files.write_atomic(os.path.join(folder, "model.txt"), "weights")
  with pytest.raises(provenance.ProvenanceError) as e:
    with provenance.claim(folder, _with(lr=0.01, steps=20)):
      pass
  assert str(e.value) == (
      f"{folder}: was made with hparams.lr=0.001, this run has "
      "hparams.lr=0.01; use another folder, or --overwrite to start it "
      "afresh")
  assert os.listdir(folder).count("model.txt") == 1  # Nothing touched.
  assert provenance.read(folder)["fields"]["hparams"]["lr"] == 0.001


def test_a_field_only_one_side_has_is_named(tmp_path):
  assert provenance.first_difference({"a": 1}, {"a": 1, "b": 2}) == (
      "b", "(absent)", 2)
  assert provenance.first_difference({"a": {"x": [1, 2]}},
                                     {"a": {"x": [1, 3]}}) == (
                                         "a.x", [1, 2], [1, 3])
  assert provenance.first_difference(_FIELDS, _FIELDS) is None


def test_overwrite_empties_a_folder_this_project_made(tmp_path):
  folder = str(tmp_path / "run")
  with provenance.claim(folder, _FIELDS):
    os.makedirs(os.path.join(folder, "ckpt"))
    files.write_atomic(os.path.join(folder, "ckpt", "a.txt"), "old")
  with provenance.claim(folder, _with(lr=0.5), overwrite=True):
    assert sorted(os.listdir(folder)) == [".lock", ".lock.json",
                                          "provenance.json"]
  assert provenance.read(folder)["fields"]["hparams"]["lr"] == 0.5


def test_files_of_unknown_origin_are_refused_even_with_overwrite(tmp_path):
  folder = tmp_path / "mine"
  folder.mkdir()
  (folder / "thesis.tex").write_text("precious")
  for overwrite in (False, True):
    with pytest.raises(provenance.ProvenanceError,
                       match="holds files but no provenance.json"):
      with provenance.claim(str(folder), _FIELDS, overwrite=overwrite):
        pass
  assert (folder / "thesis.tex").read_text() == "precious"


def test_an_unreadable_record_is_refused_and_overwrite_recovers(tmp_path):
  folder = tmp_path / "run"
  folder.mkdir()
  (folder / "provenance.json").write_text("{truncat")
  with pytest.raises(provenance.ProvenanceError,
                     match="not a readable provenance record"):
    with provenance.claim(str(folder), _FIELDS):
      pass
  with provenance.claim(str(folder), _FIELDS, overwrite=True):
    pass
  assert provenance.read(str(folder))["fields"] == provenance.canonical(
      _FIELDS)


def test_a_second_process_is_refused_naming_the_holder(tmp_path):
  folder = str(tmp_path / "run")
  holder = subprocess.Popen(
      [sys.executable, "-c",
       "import sys, time\n"
       "from core import provenance\n"
       f"with provenance.claim({folder!r}, {{'a': 1}}):\n"
       "  print('held', flush=True)\n"
       "  time.sleep(60)\n"],
      stdout=subprocess.PIPE, text=True,
      cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(provenance.ProvenanceError) as e:
      with provenance.claim(folder, {"a": 1}):
        pass
    assert str(e.value).startswith(
        f"{folder}: is in use by process {holder.pid} on ")
    holder.kill()  # A killed holder releases the lock with its process.
    holder.wait()
    deadline = time.monotonic() + 10
    while True:
      try:
        with provenance.claim(folder, {"a": 1}):
          break
      except provenance.ProvenanceError:
        assert time.monotonic() < deadline
        time.sleep(0.1)
  finally:
    holder.kill()
    holder.stdout.close()


def test_a_process_may_claim_a_folder_it_holds_again(tmp_path):
  folder = str(tmp_path / "run")
  with provenance.claim(folder, _FIELDS):
    with provenance.claim(folder, _FIELDS):  # The library under its binary.
      pass
    with pytest.raises(provenance.ProvenanceError, match="hparams.lr"):
      with provenance.claim(folder, _with(lr=1.0)):
        pass
    assert os.path.exists(os.path.join(folder, ".lock.json"))  # Still held.
  assert not os.path.exists(os.path.join(folder, ".lock.json"))


def test_arrays_digest_follows_values_shapes_and_dtypes():
  a = [np.zeros((2, 3), np.float32), np.ones(4, np.float32)]
  assert provenance.arrays_digest(a) == provenance.arrays_digest(
      [x.copy() for x in a])
  changed = [a[0].copy(), a[1].copy()]
  changed[1][2] = 1.0000001
  assert provenance.arrays_digest(changed) != provenance.arrays_digest(a)
  assert provenance.arrays_digest([a[0].reshape(3, 2), a[1]]) != \
      provenance.arrays_digest(a)
  assert provenance.arrays_digest([a[0].astype(np.float64), a[1]]) != \
      provenance.arrays_digest(a)
