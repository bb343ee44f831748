"""The Turing test's protocol, store, pool and report (benchmarks/turing)."""

import collections
import os

import numpy as np
import pytest

from benchmarks.turing import pool as pool_lib
from benchmarks.turing import protocol
from benchmarks.turing import report
from benchmarks.turing import store as store_lib
from data import source as source_lib

SIZES = {"real": 200, "refined": 200, "synthetic": 200}


def test_a_plan_follows_the_papers_protocol():
  """50 real + 50 refined (main block, first), then 10 real + 10 unrefined
  (control), no example among them, no image twice, real images of the
  control other than the main block's, both blocks shuffled."""
  trials = protocol.plan("alice", 0, SIZES)
  assert [t.number for t in trials] == list(range(120))
  main, control = trials[:100], trials[100:]
  assert collections.Counter((t.block, t.kind) for t in main) == {
      ("refined", "real"): 50, ("refined", "refined"): 50}
  assert collections.Counter((t.block, t.kind) for t in control) == {
      ("synthetic", "real"): 10, ("synthetic", "synthetic"): 10}
  assert min(t.image for t in trials) >= protocol.REFERENCES
  assert len({(t.kind, t.image) for t in trials}) == 120
  # Shuffled: not all real first (probability 2 / C(100, 50) otherwise).
  assert [t.kind for t in main] != sorted(t.kind for t in main)
  assert {t.truth for t in trials if t.kind != "real"} == {"synthetic"}


def test_a_plan_is_fixed_by_subject_and_seed():
  assert protocol.plan("alice", 0, SIZES) == protocol.plan("alice", 0, SIZES)
  assert protocol.plan("alice", 0, SIZES) != protocol.plan("bob", 0, SIZES)
  assert protocol.plan("alice", 0, SIZES) != protocol.plan("alice", 1, SIZES)


def test_a_small_pool_gives_balanced_shorter_blocks():
  """24 images of each kind: 4 beyond the examples, so 4 + 4 trials per
  block, the control reusing real images the main block showed."""
  trials = protocol.plan("s", 0, dict.fromkeys(SIZES, 24))
  assert collections.Counter((t.block, t.kind) for t in trials) == {
      ("refined", "real"): 4, ("refined", "refined"): 4,
      ("synthetic", "real"): 4, ("synthetic", "synthetic"): 4}


@pytest.mark.parametrize("subject", ["", "a/b", "../x", "x" * 33, "é"])
def test_bad_subject_ids_are_refused(subject):
  with pytest.raises(ValueError, match="subject id must be"):
    protocol.plan(subject, 0, SIZES)


def test_a_pool_of_only_examples_is_refused():
  with pytest.raises(ValueError, match="more than 20 images of each kind"):
    protocol.plan("s", 0, {"real": 20, "refined": 50, "synthetic": 50})


def test_the_store_keeps_answers_in_order_and_refuses_the_rest(tmp_path):
  path = str(tmp_path / "t.sqlite")
  trials = protocol.plan("alice", 0, SIZES)
  db = store_lib.Store(path)
  db.start("alice", 0, trials)
  db.start("alice", 1, protocol.plan("alice", 1, SIZES))  # Keeps its plan.
  assert db.next_trial("alice") == trials[0]
  db.shown("alice", 0)
  db.answer("alice", 0, "real")
  refusals = [("bob", 1, "real", 404), ("alice", 0, "real", 409),
              ("alice", 2, "real", 409), ("alice", 120, "real", 404),
              ("alice", 1, "maybe", 400)]
  for subject, number, answer, status in refusals:
    with pytest.raises(store_lib.AnswerError) as e:
      db.answer(subject, number, answer)
    assert e.value.status == status
  db.close()
  # A new connection (a restarted server) sees exactly one answer.
  db = store_lib.Store(path)
  (row,) = db.answers()
  assert row["subject"] == "alice" and row["number"] == 0
  assert (row["kind"], row["image"]) == (trials[0].kind, trials[0].image)
  assert row["answer"] == "real" and 0 <= row["response_seconds"] < 60
  assert db.next_trial("alice") == trials[1]
  assert db.progress("alice") == {"answered": 1, "total": 120}


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
  path = tmp_path / "turing.sqlite"
  path.write_bytes(b"not sqlite" * 100)
  with pytest.raises(ValueError, match="turing.sqlite: not a Turing-test "
                     "database"):
    store_lib.Store(str(path))


def test_the_pool_round_trips_and_checks_what_it_reads(tmp_path):
  rng = np.random.default_rng(0)
  unit = [rng.uniform(-1, 1, (30, 8, 12, 1)).astype(np.float32)
          for _ in range(3)]
  pool = pool_lib.from_unit(*unit, task="eye")
  path = str(tmp_path / pool_lib.POOL_FILE)
  pool_lib.write_pool(path, pool)
  back = pool_lib.read_pool(path)
  assert back.task == "eye" and back.sizes == dict.fromkeys(pool_lib.KINDS,
                                                             30)
  for kind, images in zip(pool_lib.KINDS, unit):
    np.testing.assert_array_equal(back.images(kind),
                                  source_lib.unit_to_uint8(images))
  np.savez(path.replace(".npz", "_bad.npz"), real=unit[0], refined=unit[1],
           synthetic=unit[2], task=np.array("eye"))
  with pytest.raises(source_lib.DataError, match="expected non-empty uint8"):
    pool_lib.read_pool(path.replace(".npz", "_bad.npz"))
  with pytest.raises(source_lib.DataError, match="no Turing-test images"):
    pool_lib.read_pool(str(tmp_path / "missing.npz"))


def test_summary_gives_the_papers_p_values():
  """517 of 1000: the paper's p = 0.148 is the one-sided exact binomial p;
  two-sided it is 0.297. 162 of 200: p ≤ 1e-8, as the paper says."""
  main = report.summary(517, 1000)
  assert main["accuracy"] == 0.517
  assert main["p_one_sided"] == pytest.approx(0.1483, abs=5e-4)
  assert main["p_two_sided"] == pytest.approx(0.2967, abs=5e-4)
  assert report.summary(162, 200)["p_two_sided"] < 1e-8


def test_human_results_count_each_block_and_subject():
  answers = [
      {"subject": "a", "block": "refined", "kind": "real", "answer": "real",
       "response_seconds": 1.0},
      {"subject": "a", "block": "refined", "kind": "refined",
       "answer": "real", "response_seconds": 3.0},
      {"subject": "b", "block": "refined", "kind": "refined",
       "answer": "synthetic", "response_seconds": None},
      {"subject": "b", "block": "synthetic", "kind": "synthetic",
       "answer": "synthetic", "response_seconds": 2.0}]
  human = report.human_results(answers)
  main = human["blocks"]["refined"]
  assert {c: main[c] for c in report.CELLS} == {
      "real_as_real": 1, "real_as_synthetic": 0, "synthetic_as_real": 1,
      "synthetic_as_synthetic": 1}
  assert (main["correct"], main["trials"]) == (2, 3)
  assert human["blocks"]["synthetic"]["correct"] == 1
  a, b = human["subjects"]
  assert (a["subject"], a["answered"], a["median_response_seconds"]) == (
      "a", 2, 2.0)
  assert (b["refined"]["accuracy"], b["synthetic"]["accuracy"]) == (1.0, 1.0)


def test_table1_has_the_papers_layout_and_numbers(tmp_path):
  """Human answers and the machine observer, each as the paper's matrix."""
  db = store_lib.Store(str(tmp_path / store_lib.DB_FILE))
  trials = protocol.plan("a", 0, SIZES)
  db.start("a", 0, trials)
  for t in trials:  # Always 'real': right on every real image only.
    db.answer("a", t.number, "real")
  db.close()
  observed = {"classifier": "cnn", "n_per_class": 10, "real_as_real": 9,
              "real_as_synthetic": 1, "synthetic_as_real": 4,
              "synthetic_as_synthetic": 6}
  from core import files  # pylint: disable=g-import-not-at-top
  files.write_json(str(tmp_path / report.OBSERVER_FILE), {
      "refined": {**observed, **report.summary(15, 20)},
      "synthetic": {**observed, **report.summary(15, 20)}})
  text = report.write_table1(str(tmp_path))
  assert "| Ground truth real    |                 50 |" in text
  assert "| Ground truth refined |                 50 |" in text
  assert "| real vs refined                       | 50 / 100" in text
  assert "| real vs unrefined synthetic (control) | 10 / 20" in text
  assert "## Machine observer" in text and "| 15 / 20" in text
  assert "517 / 1000" in text and "162 / 200" in text
  assert open(os.path.join(tmp_path, report.TABLE1_FILE)).read() == text
  # An oracle row (observer only): ours, and no paper numbers beside it.
  files.write_json(str(tmp_path / report.OBSERVER_FILE), {
      "refined": {**observed, **report.summary(15, 20)},
      "synthetic": {**observed, **report.summary(15, 20)},
      "oracle": {**observed, **report.summary(11, 20)}})
  text = report.write_table1(str(tmp_path))
  (row,) = [line for line in text.splitlines()
            if line.startswith("| real vs oracle (the same scenes rendered")]
  cells = [c.strip() for c in row.strip("|").split("|")]
  assert cells[1] == "11 / 20" and float(cells[2]) == 55
  assert cells[5:] == ["—", "—", "—"]
  assert "10 (oracle: the refined scenes rendered as real" in text
