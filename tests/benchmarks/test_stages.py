"""The resumable-stage plumbing: timings, the end-to-end clock, workers."""

import json
import os
import re

import pytest

from benchmarks import stages
from data import source as source_lib


class _ToyRun(stages.StagedRun):
  """Stages that write their name, or fail: run_stages' bookkeeping."""

  def run_stage(self, name):
    if name == "bad":
      raise source_lib.DataError(self.path(name), "is not a stage")
    with open(self.path(name), "w") as f:
      f.write(name)
    if name.startswith("threads"):  # The intra-op pool it was given.
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      with open(self.path(name), "w") as f:
        f.write(str(tf.config.threading.get_intra_op_parallelism_threads()))

  def worker_spec(self):
    return _ToyRun, dict(results=self.results)


def _stage_lines(out):
  """The stage lines of a run's stdout, less their clock."""
  return [line.split("] ", 1)[1] for line in out.splitlines()
          if "] stage " in line]


def test_stages_in_this_process_accumulate_timings(tmp_path, capsys):
  run = _ToyRun(str(tmp_path))
  run.run_stages(["a", "b"])
  run.run_stages(["a"])
  # Without a plan each call counts its own stages.
  assert _stage_lines(capsys.readouterr().out) == [
      "stage 1/2 a", "stage 1/2 a finished in 0m00s",
      "stage 2/2 b", "stage 2/2 b finished in 0m00s",
      "stage 1/1 a", "stage 1/1 a finished in 0m00s"]
  assert (tmp_path / "a").read_text() == "a"
  timings = json.loads((tmp_path / "timings.json").read_text())
  assert list(timings) == ["a", "b"]
  assert all(set(t) == {"wall_seconds", "cpu_seconds", "peak_rss_bytes"}
             for t in timings.values())
  # This process's peak so far: at least what it holds now.
  with open("/proc/self/status") as f:
    rss_now = next(int(line.split()[1]) * 1024 for line in f
                   if line.startswith("VmRSS:"))
  assert timings["b"]["peak_rss_bytes"] >= rss_now * 0.9
  run.add_timing("a", 2.0, 3.0, peak_rss=10**15)
  run.add_timing("a", 2.0, 3.0, peak_rss=1)
  assert run.timings()["a"]["cpu_seconds"] >= 6.0
  assert run.timings()["a"]["peak_rss_bytes"] == 10**15  # The largest.


def test_elapsed_adds_up_over_invocations(tmp_path):
  run = _ToyRun(str(tmp_path))
  assert run.add_elapsed(1.5) == 1.5
  assert run.add_elapsed(2.0) == 3.5
  assert json.loads((tmp_path / "elapsed.json").read_text()) == {
      "wall_seconds": 3.5}


def test_run_stages_in_workers_record_timings_and_raise_failures(tmp_path):
  run = _ToyRun(str(tmp_path))
  run.run_stages(["a", "b"], jobs=2)
  assert (tmp_path / "a").read_text() == "a"
  assert (tmp_path / "b").read_text() == "b"
  assert sorted(run.timings()) == ["a", "b"]
  # Each worker reports its own peak: a fresh Python process, far below
  # this test process's TensorFlow-laden one but above 10 MB.
  assert all(10**7 < t["peak_rss_bytes"] for t in run.timings().values())
  # A worker's DataError reaches the parent whole (it pickles by its
  # arguments); the stages keep their timings, the failed one too (its
  # seconds were spent), as in one process (`timed`).
  with pytest.raises(source_lib.DataError,
                     match=f"{tmp_path / 'bad'}: is not a stage"):
    run.run_stages(["c", "bad"], jobs=2)
  assert (tmp_path / "c").read_text() == "c"
  assert sorted(run.timings()) == ["a", "b", "bad", "c"]


def test_chained_stages_run_in_order_in_one_worker(tmp_path, capfd):
  run = _ToyRun(str(tmp_path))
  # 'c' after 'a' in one worker, 'b' beside them; a chain that fails at its
  # second stage keeps what its first stage wrote.
  run.plan_stages([("a", "c"), "b"], ["z"])
  run.run_stages([("a", "c"), "b"], jobs=2)
  # The workers write to this process's stdout: whole lines, numbered by
  # the plan in the order of the jobs.
  lines = _stage_lines(capfd.readouterr().out)
  assert sorted(lines) == [
      "stage 1/4 a", "stage 1/4 a finished in 0m00s",
      "stage 2/4 c", "stage 2/4 c finished in 0m00s",
      "stage 3/4 b", "stage 3/4 b finished in 0m00s"]
  assert lines.index("stage 1/4 a finished in 0m00s") < lines.index(
      "stage 2/4 c")
  assert sorted(run.timings()) == ["a", "b", "c"]
  assert all(t["peak_rss_bytes"] > 10**7 for t in run.timings().values())
  with pytest.raises(source_lib.DataError, match="is not a stage"):
    run.run_stages([("d", "bad"), "e"], jobs=2)
  assert (tmp_path / "d").read_text() == "d"
  # Each stage of a chain is timed as it ends, not when the chain does.
  assert {"d", "e"} <= set(run.timings())
  # In this process (jobs=1) a chain is its stages in order.
  other = _ToyRun(str(tmp_path / "one"))
  other.plan_stages([("x", "y"), "z"], ["w"])
  capfd.readouterr()
  other.run_stages([("x", "y"), "z"])
  other.run_stages(["w"])
  assert list(other.timings()) == ["x", "y", "z", "w"]
  assert _stage_lines(capfd.readouterr().out)[::2] == [
      "stage 1/4 x", "stage 2/4 y", "stage 3/4 z", "stage 4/4 w"]


def test_provenance_files(tmp_path):
  run = _ToyRun(str(tmp_path))
  run.write_provenance({"seed": 3})
  assert json.loads((tmp_path / "config.json").read_text()) == {"seed": 3}
  versions = json.loads((tmp_path / "versions.json").read_text())
  assert {"python", "tensorflow", "numpy", "git_commit"} <= set(versions)


def test_a_job_waits_for_the_stages_it_comes_after(tmp_path, capfd):
  run = _ToyRun(str(tmp_path))
  # In this process: 'w' is listed first but waits for the chain's end.
  run.run_stages(["w", ("a", "c")], after={"w": ["c"]})
  assert list(run.timings()) == ["a", "c", "w"]
  # In workers: 'threads_w' starts once 'c' has ended, ahead of
  # 'threads_b', which was listed after it but started at once; the two
  # that started side by side got an equal share of the cores.
  capfd.readouterr()
  other = _ToyRun(str(tmp_path / "pool"))
  other.run_stages([("threads_a", "c"), "threads_w", "threads_b"], jobs=2,
                   after={"threads_w": ["c"]})
  lines = _stage_lines(capfd.readouterr().out)
  c_end = next(i for i, line in enumerate(lines)
               if re.fullmatch(r"stage 2/4 c finished in .*", line))
  assert c_end < lines.index("stage 3/4 threads_w")
  share = str(max(1, os.cpu_count() // 2))
  # threads_w too, although it may start after threads_b has ended: the
  # thread count follows the plan, not the timing.
  for name in ("threads_a", "threads_b", "threads_w"):
    assert (tmp_path / "pool" / name).read_text() == share, name
  # A job that by the waits can never run beside another gets every core:
  # here each of two jobs, the second waiting for the first.
  alone = _ToyRun(str(tmp_path / "alone"))
  alone.run_stages(["threads_x", "threads_y"], jobs=2,
                   after={"threads_y": ["threads_x"]})
  for name in ("threads_x", "threads_y"):
    assert (tmp_path / "alone" / name).read_text() == str(os.cpu_count())


def test_a_job_is_alone_only_if_the_waits_keep_every_other_job_apart():
  # Table 2's and Table 4's plan: the refined rows' estimators wait for the
  # chain's last stage; the unrefined rows' estimators wait for nothing, so
  # each may overlap anything: nobody is alone.
  plan = [("estimator synthetic", "simgan", "selection", "refine"),
          "estimator refined", "estimator refined_4x", "estimator real"]
  after = {"estimator refined": ["refine"], "estimator refined_4x": ["refine"]}
  assert stages._alone(plan, stages._waits(plan, after)) == [False] * 4
  # Without the real row the chain is alone; the two refined rows still
  # overlap each other.
  assert stages._alone(plan[:3], stages._waits(plan[:3], after)) == [
      True, False, False]
  # A chain of jobs, each after the previous one's last stage (directly or
  # through another job): every one alone.
  chain = [("a", "b"), "c", "d"]
  assert stages._alone(chain, stages._waits(
      chain, {"c": ["b"], "d": ["c"]})) == [True] * 3
  # c waits for the chain's first stage only, so it can overlap b; d waits
  # for both ends.
  assert stages._alone(chain, stages._waits(
      chain, {"c": ["a"], "d": ["b", "c"]})) == [False, False, True]
  # d after c alone is not enough: b may still run when c has ended.
  assert stages._alone(chain, stages._waits(
      chain, {"c": ["a"], "d": ["c"]})) == [False] * 3


def test_waits_that_cannot_be_met_are_refused_before_anything_runs(
    tmp_path):
  run = _ToyRun(str(tmp_path))
  with pytest.raises(ValueError, match="after names jobs that are not run"):
    run.run_stages(["a"], after={"x": ["a"]})
  with pytest.raises(ValueError, match=r"in a cycle.*a after \['b'\]"):
    run.run_stages(["a", "b"], jobs=2, after={"a": ["b"], "b": ["a"]})
  # A chain cannot wait for its own later stage.
  with pytest.raises(ValueError, match="in a cycle"):
    run.run_stages([("a", "b")], after={"a": ["b"]})
  assert not (tmp_path / "a").exists() and run.timings() == {}
  # A wait on a stage outside the call (done by an earlier call) is none.
  run.run_stages(["a"], after={"a": ["earlier"]})
  assert (tmp_path / "a").read_text() == "a"
