"""Binaries SIGKILLed and run again, as a user runs them (issue 14).

Each binary runs in a subprocess and is killed (SIGKILL: no handler, no
cleanup, as the OOM killer or a lost machine) at a chosen point: between
units, inside a checkpoint write (a test-only wrapper pauses TensorFlow's
save there, helpers.paused_code), after a stage of a reproduction. The same
command is then run again. It must end where an uninterrupted run of that
command ends, go on from the last complete checkpoint or stage (nothing
finished is redone) and never take a half-written file for a whole one.

Tolerances. Every run uses --threads=1,1: each op runs on one thread, so a
resumed run replays the same float operations and in practice ends
bit-identical. The tolerance (rtol 1e-5, atol 1e-6) leaves room for
kernels that reorder a sum (another oneDNN blocking), while one unit of
Algorithm 1 moves every raw weight by ~2e-4 (Adam at 2e-4) and the exported
running average by ~5e-5: a unit lost or done twice is far outside it
(checked on the reference run's last two checkpoints).
"""

import hashlib
import json
import math
import os
import random
import re
import signal
import time

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from refiner import workdir as workdir_lib
from tests import helpers

RTOL, ATOL = 1e-5, 1e-6
_NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}

# A tiny SimGAN: 2 + 1 pretraining units and 4 adversarial ones, a
# checkpoint after every unit (any unit is a resume point) and snapshots at
# the adversarial units 4 and 6.
_REFINER = ("--synthetic=embedded-eyes-sim?n=16",
            "--real=embedded-eyes-real?n=16", "--refiner_pretrain_steps=2",
            "--discriminator_pretrain_steps=1", "--steps=4",
            "--batch_size=4", "--history_batches=2", "--checkpoint_every=1",
            "--snapshot_every=2", "--threads=1,1")
_UNITS = 7
_SNAPSHOTS = [4, 6]

# A tiny gaze estimator: evaluations (and checkpoints) at steps 2, 4, 6;
# patience 10 never stops it early.
_GAZE = ("--train=embedded-eyes-sim?n=40", "--batch_size=8", "--max_steps=6",
         "--eval_every=2", "--validation_fraction=0.25", "--patience=10",
         "--threads=1,1")
_GAZE_STEPS = [2, 4, 6]

# The smallest reproduction: one row, its stages in this process.
_TABLE2 = ("--preset=smoke", "--rows=synthetic_1x", "--jobs=1",
           "--threads=1,1")


class _Reference:
  """An uninterrupted run, started in the background when a test first asks
  for it, so that it runs beside that test's killed runs (two cores)."""

  def __init__(self, background, folder):
    self._background = background
    self._folder = folder
    self.result = None

  def folder(self):
    """The run's output folder, once it has ended well."""
    if self.result is None:
      self.result = self._background.result()
      assert self.result.returncode == 0, self.result.stderr[-3000:]
    return self._folder


@pytest.fixture(scope="module")
def refiner_reference(tmp_path_factory):
  folder = tmp_path_factory.mktemp("refiner_reference")
  with helpers.start_module("refiner.train", *_REFINER,
                            f"--workdir={folder / 'run'}",
                            log=folder / "log") as run:
    yield _Reference(run, folder / "run")


@pytest.fixture(scope="module")
def gaze_reference(tmp_path_factory):
  folder = tmp_path_factory.mktemp("gaze_reference")
  with helpers.start_module("gaze.train", *_GAZE,
                            f"--workdir={folder / 'run'}",
                            log=folder / "log") as run:
    yield _Reference(run, folder / "run")


@pytest.fixture(scope="module")
def table2_reference(tmp_path_factory):
  folder = tmp_path_factory.mktemp("table2_reference")
  with helpers.start_module("benchmarks.reproduce_table2", *_TABLE2,
                            f"--results={folder / 'results'}",
                            log=folder / "log", env=_NO_GPU) as run:
    yield _Reference(run, folder / "results")


# -- what the tests compare ---------------------------------------------------


def _kill_inside(tmp_path, module, *args, **pause):
  """`python -m MODULE ARGS`, SIGKILLed once paused inside a write (the
  `pause` arguments of helpers.paused_code)."""
  mark = tmp_path / "paused"
  with helpers.Background("-c", helpers.paused_code(module, mark, **pause),
                          *args, log=tmp_path / "killed") as run:
    run.kill_when(mark.exists)
  mark.unlink()


def _checkpoint(prefix, skip=()):
  """{variable: value} of checkpoint PREFIX, less the object graph and the
  variables whose names contain a `skip` string."""
  reader = tf.train.load_checkpoint(str(prefix))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name != "_CHECKPOINTABLE_OBJECT_GRAPH" and
          not any(s in name for s in skip)}


def _assert_all_close(expected, actual):
  """Two {name: array} with the same names and values within tolerance."""
  assert sorted(actual) == sorted(expected)
  for name, value in expected.items():
    np.testing.assert_allclose(actual[name], value, rtol=RTOL, atol=ATOL,
                               err_msg=name)


def _h5_arrays(path):
  """{dataset path: array} of an HDF5 file (a .weights.h5 snapshot)."""
  out = {}
  with h5py.File(path, "r") as f:
    f.visititems(lambda name, item: out.__setitem__(name, item[()])
                 if isinstance(item, h5py.Dataset) else None)
  return out


def _progress_units(stderr):
  """The units a refiner.train process completed, from its progress line."""
  return [int(n) for n in re.findall(
      r"(?:pretrain-R|pretrain-D|adversarial): (\d+)/\d+", stderr)]


def _resume_refiner(workdir, first_unit):
  """Runs the command again; it must go on at `first_unit` and finish."""
  done = helpers.run_module("refiner.train", *_REFINER,
                            f"--workdir={workdir}")
  assert done.returncode == 0, done.stderr[-3000:]
  assert done.stdout.strip().splitlines()[-1] == (
      f"finished at unit {_UNITS}/{_UNITS}; workdir {workdir}")
  # From the last whole checkpoint on, each unit once: none before redone.
  assert _progress_units(done.stderr) == list(range(first_unit, _UNITS + 1))
  return done


def _assert_same_refiner_run(expected, actual):
  """A resumed refiner workdir ends as the uninterrupted one: the whole
  final state, the exported refiner and the snapshots."""
  final = f"ckpt-{_UNITS}"
  state = _checkpoint(actual / "ckpt" / final)
  # R: 2 pretraining steps + 4 x Kg=2; D: 1 + 4 x Kd=1.
  assert [int(state[f"{name}/.ATTRIBUTES/VARIABLE_VALUE"]) for name in (
      "units_done", "refiner_updates", "discriminator_updates")] == [
          _UNITS, 10, 5]
  _assert_all_close(_checkpoint(expected / "ckpt" / final), state)
  want = workdir_lib.load_refiner(str(expected)).get_weights()
  got = workdir_lib.load_refiner(str(actual)).get_weights()
  assert len(got) == len(want)
  for a, b in zip(want, got):
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL)
  snapshots = workdir_lib.list_snapshots(str(actual))
  assert snapshots == workdir_lib.list_snapshots(str(expected))
  assert [unit for unit, _ in snapshots] == _SNAPSHOTS
  for _, name in snapshots:
    _assert_all_close(
        _h5_arrays(workdir_lib.snapshot_path(str(expected), name)),
        _h5_arrays(workdir_lib.snapshot_path(str(actual), name)))
  assert (actual / "saved_model" / "saved_model.pb").exists()


def _file_states(folder):
  """{relative path: (mtime_ns, sha256)} of the files under FOLDER, less
  what every run rewrites: the lock bookkeeping of core/provenance.py and
  flags.txt (the command's flags)."""
  out = {}
  for root, _, names in os.walk(folder):
    for name in names:
      if name.startswith(".lock") or name == "flags.txt":
        continue
      path = os.path.join(root, name)
      with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
      out[os.path.relpath(path, folder)] = (os.stat(path).st_mtime_ns,
                                            digest)
  return out


def _last_json_line(proc):
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_same_estimator_run(expected, actual):
  """A resumed gaze workdir ends as the uninterrupted one: DONE, the log,
  the best model and the final checkpoint."""
  want = json.loads((expected / "DONE").read_text())
  got = json.loads((actual / "DONE").read_text())
  for key in ("steps", "best_step", "stopped_early", "hit_cap", "n_train",
              "n_validation", "hparams"):
    assert got[key] == want[key], key
  assert got["best_val_error_deg"] == pytest.approx(
      want["best_val_error_deg"], rel=RTOL)
  assert helpers.logged_steps(actual) == _GAZE_STEPS
  # Logged with 6 significant digits; the seconds are the wall clock's.
  for a, b in zip(helpers.train_log(expected), helpers.train_log(actual)):
    for column in ("train_loss", "train_error_deg", "val_error_deg"):
      assert float(b[column]) == pytest.approx(float(a[column]), rel=1e-4)
  load = keras.models.load_model
  for a, b in zip(load(expected / "estimator.keras").get_weights(),
                  load(actual / "estimator.keras").get_weights()):
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL)
  final = f"ckpt-{_GAZE_STEPS[-1]}"
  _assert_all_close(_checkpoint(expected / "ckpt" / final, ["train_seconds"]),
                    _checkpoint(actual / "ckpt" / final, ["train_seconds"]))


def _assert_nested_close(expected, actual, path="results"):
  """JSON values equal, floats within RTOL (metrics of the same weights)."""
  if isinstance(expected, dict):
    assert isinstance(actual, dict) and sorted(actual) == sorted(expected), (
        path)
    for key in expected:
      _assert_nested_close(expected[key], actual[key], f"{path}.{key}")
  elif isinstance(expected, list):
    assert isinstance(actual, list) and len(actual) == len(expected), path
    for i, (a, b) in enumerate(zip(expected, actual)):
      _assert_nested_close(a, b, f"{path}[{i}]")
  elif isinstance(expected, float):
    assert math.isclose(actual, expected, rel_tol=RTOL, abs_tol=ATOL), (
        path, expected, actual)
  else:
    assert actual == expected, path


# Processes, from Linux's /proc.
_NEEDS_PROC = pytest.mark.skipif(not os.path.isdir("/proc"),
                                 reason="reads processes from /proc")


def _stat(pid):
  """(parent pid, state, start time) of a process; None if it is gone."""
  try:
    with open(f"/proc/{pid}/stat") as f:
      fields = f.read().rsplit(")", 1)[1].split()
  except OSError:
    return None
  return int(fields[1]), fields[0], int(fields[19])


def _descendants(pid):
  """[(pid, start time)] of the processes below `pid`."""
  parents = {}
  for name in os.listdir("/proc"):
    if name.isdigit():
      stat = _stat(int(name))
      if stat:
        parents.setdefault(stat[0], []).append((int(name), stat[2]))
  out, todo = [], [pid]
  while todo:
    children = parents.get(todo.pop(), [])
    out += children
    todo += [child for child, _ in children]
  return out


def _alive(process):
  """Whether (pid, start time) still runs (not a zombie nor a new process
  that reuses the pid)."""
  stat = _stat(process[0])
  return bool(stat) and stat[1] != "Z" and stat[2] == process[1]


def _survivors(processes, wait):
  """The processes still alive after up to `wait` seconds."""
  deadline = time.monotonic() + wait
  while any(map(_alive, processes)) and time.monotonic() < deadline:
    time.sleep(0.2)
  return [p for p in processes if _alive(p)]


def _kill_reproduction_when(run, condition, grace_seconds=10):
  """SIGKILLs a reproduction's main process when `condition()` holds; its
  stage workers left after `grace_seconds` are killed too (the test started
  them), so the next run does not race them (test_no_stage_worker_
  outlives_... reports them). Grace 0 kills them with the main process: a
  smoke stage can finish within the second a worker takes to notice."""
  workers = run.kill_when(lambda: condition() and [_descendants(run.pid)])[0]
  for pid, _ in _survivors(workers, grace_seconds):
    os.kill(pid, signal.SIGKILL)


# -- refiner.train ---------------------------------------------------------


def test_refiner_killed_inside_a_checkpoint_write_ends_as_a_straight_run(
    tmp_path, refiner_reference):
  workdir = tmp_path / "run"
  # Killed after ckpt-5's files are written, before the state names them.
  _kill_inside(tmp_path, "refiner.train", *_REFINER, f"--workdir={workdir}",
               point="state", checkpoint=5)
  assert (workdir / "ckpt" / "ckpt-5.index").exists()
  assert helpers.latest_checkpoint_number(workdir / "ckpt") == 4
  assert not (workdir / "refiner.keras").exists()
  _resume_refiner(workdir, first_unit=5)
  expected = refiner_reference.folder()
  _assert_same_refiner_run(expected, workdir)
  # The tolerance sees one unit: the running average moves beyond it.
  last = _checkpoint(expected / "ckpt" / f"ckpt-{_UNITS}")
  before = _checkpoint(expected / "ckpt" / f"ckpt-{_UNITS - 1}")
  assert not all(np.allclose(last[k], before[k], rtol=RTOL, atol=ATOL)
                 for k in last if k.startswith("refiner_ema/"))


@pytest.mark.slow
def test_refiner_killed_between_units_ends_as_a_straight_run(
    tmp_path, refiner_reference):
  workdir = tmp_path / "run"
  ckpt = workdir / "ckpt"
  with helpers.start_module("refiner.train", *_REFINER,
                            f"--workdir={workdir}",
                            log=tmp_path / "killed") as run:
    run.kill_when(lambda: (helpers.latest_checkpoint_number(ckpt) or 0) >= 3)
  last = helpers.latest_checkpoint_number(ckpt)
  assert 3 <= last < _UNITS
  assert not (workdir / "refiner.keras").exists()
  _resume_refiner(workdir, first_unit=last + 1)
  _assert_same_refiner_run(refiner_reference.folder(), workdir)


@pytest.mark.slow
@pytest.mark.parametrize("point, number, first_unit", [
    # ckpt-5's variables in ckpt-5_temp/, no ckpt-5.index: resumes at 5.
    ("shards", 5, 5),
    # The state names ckpt-5, ckpt-2 not yet deleted: resumes at 6.
    ("sweep", 5, 6),
    # The last checkpoint written, the refiner not yet exported.
    ("state", _UNITS, _UNITS),
])
def test_refiner_killed_at_other_points_of_a_checkpoint_write(
    tmp_path, refiner_reference, point, number, first_unit):
  workdir = tmp_path / "run"
  _kill_inside(tmp_path, "refiner.train", *_REFINER, f"--workdir={workdir}",
               point=point, checkpoint=number)
  assert helpers.latest_checkpoint_number(workdir / "ckpt") == first_unit - 1
  assert not (workdir / "refiner.keras").exists()
  _resume_refiner(workdir, first_unit)
  _assert_same_refiner_run(refiner_reference.folder(), workdir)


@pytest.mark.slow
def test_refiner_killed_during_the_export_exports_again(
    tmp_path, refiner_reference):
  workdir = tmp_path / "run"
  # Killed writing the SavedModel: refiner.keras, the marker of a trained
  # workdir, comes after it (train_lib.export_refiner), so neither exists.
  _kill_inside(tmp_path, "refiner.train", *_REFINER, f"--workdir={workdir}",
               at=("keras", "Model.export"))
  assert helpers.latest_checkpoint_number(workdir / "ckpt") == _UNITS
  assert not (workdir / "refiner.keras").exists()
  assert not (workdir / "saved_model").exists()
  done = _resume_refiner(workdir, first_unit=_UNITS + 1)  # No unit run.
  assert "adversarial" not in done.stderr
  _assert_same_refiner_run(refiner_reference.folder(), workdir)
  assert not [n for n in os.listdir(workdir) if "tmp" in n or ".old" in n]


@pytest.mark.slow
def test_refiner_killed_at_random_moments_ends_as_a_straight_run(
    tmp_path, refiner_reference):
  """Kills at moments nobody chose (start-up, a unit, a summary, snapshot
  or checkpoint write, the export), seeded for a repeatable schedule."""
  workdir = tmp_path / "run"
  rng = random.Random(14)
  for i in range(5):
    delay = rng.uniform(4.0, 30.0)
    with helpers.start_module("refiner.train", *_REFINER,
                              f"--workdir={workdir}",
                              log=tmp_path / f"killed{i}") as run:
      deadline = time.monotonic() + delay
      while run.running() and time.monotonic() < deadline:
        time.sleep(0.05)
      finished = not run.running()
    if finished:  # It got to the end before this kill.
      break
  done = helpers.run_module("refiner.train", *_REFINER,
                            f"--workdir={workdir}")
  assert done.returncode == 0, done.stderr[-3000:]
  assert done.stdout.strip().splitlines()[-1] == (
      f"finished at unit {_UNITS}/{_UNITS}; workdir {workdir}")
  _assert_same_refiner_run(refiner_reference.folder(), workdir)


# -- gaze.train ------------------------------------------------------------


def test_gaze_killed_inside_a_checkpoint_write_resumes_and_done_is_final(
    tmp_path, gaze_reference):
  workdir = tmp_path / "run"
  # Killed after step 4's log row and checkpoint files, before the state
  # names them: the run resumes from step 2 and never was DONE.
  _kill_inside(tmp_path, "gaze.train", *_GAZE, f"--workdir={workdir}",
               point="state", checkpoint=4)
  assert not (workdir / "DONE").exists()
  assert helpers.logged_steps(workdir) == [2, 4]
  assert helpers.latest_checkpoint_number(workdir / "ckpt") == 2
  expected = gaze_reference.folder()
  finished = _file_states(expected)
  # The finished run's command again, beside the resumed run.
  with helpers.start_module("gaze.train", *_GAZE, f"--workdir={expected}",
                            log=tmp_path / "again") as again:
    stats = _last_json_line(helpers.run_module(
        "gaze.train", *_GAZE, f"--workdir={workdir}"))
    rerun = _last_json_line(again.result())
  assert (stats["resumed_from_step"], stats["steps"]) == (2, 6)
  _assert_same_estimator_run(expected, workdir)
  # DONE is final: the rerun trained nothing and rewrote nothing.
  assert rerun == _last_json_line(gaze_reference.result)
  done = json.loads((expected / "DONE").read_text())
  assert rerun == {k: v for k, v in done.items() if k != "hparams"}
  assert _file_states(expected) == finished


@pytest.mark.slow
def test_gaze_killed_between_evaluations_resumes(tmp_path, gaze_reference):
  workdir = tmp_path / "run"
  ckpt = workdir / "ckpt"
  with helpers.start_module("gaze.train", *_GAZE, f"--workdir={workdir}",
                            log=tmp_path / "killed") as run:
    run.kill_when(lambda: helpers.latest_checkpoint_number(ckpt))
  last = helpers.latest_checkpoint_number(ckpt)
  assert last in _GAZE_STEPS[:-1]
  assert not (workdir / "DONE").exists()
  stats = _last_json_line(helpers.run_module("gaze.train", *_GAZE,
                                             f"--workdir={workdir}"))
  assert (stats["resumed_from_step"], stats["steps"]) == (last, 6)
  _assert_same_estimator_run(gaze_reference.folder(), workdir)


@pytest.mark.slow
@pytest.mark.parametrize("point, number, resumed_from", [
    ("shards", 4, 2),
    # The last checkpoint complete and recorded: only DONE is missing, and
    # the run again trains nothing, it writes DONE.
    ("sweep", 6, 6),
])
def test_gaze_killed_at_other_points_of_a_checkpoint_write(
    tmp_path, gaze_reference, point, number, resumed_from):
  workdir = tmp_path / "run"
  _kill_inside(tmp_path, "gaze.train", *_GAZE, f"--workdir={workdir}",
               point=point, checkpoint=number)
  assert not (workdir / "DONE").exists()
  assert helpers.latest_checkpoint_number(workdir / "ckpt") == resumed_from
  stats = _last_json_line(helpers.run_module("gaze.train", *_GAZE,
                                             f"--workdir={workdir}"))
  assert (stats["resumed_from_step"], stats["steps"]) == (resumed_from, 6)
  _assert_same_estimator_run(gaze_reference.folder(), workdir)


# -- benchmarks.reproduce_table2 --------------------------------------------


def _stage_seconds(results, stage):
  path = results / "timings.json"
  timings = json.loads(path.read_text()) if path.exists() else {}
  return timings.get(stage, {}).get("wall_seconds", 0.0)


def test_reproduction_killed_after_a_stage_does_not_redo_it(
    tmp_path, table2_reference):
  results = tmp_path / "results"
  estimator_dir = results / "estimators" / "synthetic_1x"
  with helpers.start_module("benchmarks.reproduce_table2", *_TABLE2,
                            f"--results={results}", log=tmp_path / "killed",
                            env=_NO_GPU) as run:
    run.kill_when((estimator_dir / "DONE").exists)
  assert not (results / "results.json").exists()
  trained = _file_states(estimator_dir)
  # 0 if the kill came before the stage's seconds were added.
  seconds = _stage_seconds(results, "estimator synthetic_1x")
  done = helpers.run_module("benchmarks.reproduce_table2", *_TABLE2,
                            f"--results={results}", env=_NO_GPU)
  assert done.returncode == 0, done.stderr[-3000:]
  assert "estimator synthetic_1x: already trained" in done.stdout
  assert "estimator synthetic_1x: training" not in done.stdout
  assert _file_states(estimator_dir) == trained
  expected = table2_reference.folder()
  want = json.loads((expected / "results.json").read_text())
  got = json.loads((results / "results.json").read_text())
  assert list(got["evaluations"]) == ["synthetic_1x", "knn_synthetic"]
  _assert_nested_close(want["evaluations"], got["evaluations"])
  _assert_nested_close(want["training"], got["training"])
  assert list(got["timings"]) == ["estimator synthetic_1x", "evaluation"]
  # Finding it done took a fraction of what training it took.
  added = got["timings"]["estimator synthetic_1x"]["wall_seconds"] - seconds
  assert added < _stage_seconds(expected, "estimator synthetic_1x")
  assert (results / "table2.md").read_text() == (
      expected / "table2.md").read_text()


@pytest.mark.slow
@_NEEDS_PROC
def test_no_stage_worker_outlives_a_killed_reproduction(tmp_path):
  results = tmp_path / "results"
  with helpers.start_module(
      "benchmarks.reproduce_table2", "--preset=smoke",
      "--rows=synthetic_1x,synthetic_4x", "--jobs=2", "--threads=1,1",
      f"--results={results}", log=tmp_path / "killed", env=_NO_GPU) as run:
    # Killed while both spawned workers train an estimator.
    workers = run.kill_when(
        lambda: run.stdout().count(": training") == 2 and
        [_descendants(run.pid)])[0]
  assert len(workers) >= 2  # The two workers (and the resource tracker).
  survivors = _survivors(workers, 10)
  for pid, _ in survivors:
    os.kill(pid, signal.SIGKILL)  # Not left training and holding locks.
  assert survivors == []
  assert not (results / "results.json").exists()


_TABLE2_REFINED = ("--preset=smoke",
                   "--rows=synthetic_1x,synthetic_4x,refined_1x",
                   "--jobs=2", "--threads=1,1")


@pytest.mark.slow
@_NEEDS_PROC
def test_reproduction_killed_in_every_kind_of_stage_ends_as_a_straight_run(
    tmp_path):
  """SimGAN, selection/refine and a refined row's estimator, each killed
  mid-way (stages in two spawned workers), against a straight run."""
  straight = tmp_path / "straight"
  results = tmp_path / "results"
  command = ("benchmarks.reproduce_table2", *_TABLE2_REFINED)
  kill_points = [
      # Mid SimGAN: its first checkpoint is written.
      ("simgan", lambda: helpers.latest_checkpoint_number(
          results / "simgan" / "ckpt")),
      # After the selection: refining, or training the refined row.
      ("selection", (results / "selection.json").exists),
      # Mid refined row.
      ("refined", lambda: helpers.latest_checkpoint_number(
          results / "estimators" / "refined_1x" / "ckpt")),
  ]
  with helpers.start_module(*command, f"--results={straight}",
                            log=tmp_path / "straight", env=_NO_GPU) as ref:
    logs = []
    for name, condition in kill_points:
      with helpers.start_module(*command, f"--results={results}",
                                log=tmp_path / name, env=_NO_GPU) as run:
        _kill_reproduction_when(run, condition, grace_seconds=0)
        logs.append(run.stdout())
      assert not (results / "results.json").exists()
    done = helpers.run_module(*command, f"--results={results}", env=_NO_GPU)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ref.result().returncode == 0, ref.result().stderr[-3000:]
  # Stages finished before a kill were found done, not redone.
  assert "estimator synthetic_1x: already trained" in logs[1]
  assert "SimGAN: already trained" in logs[2]
  assert "selecting the refiner snapshot" not in logs[2] + done.stdout
  assert "estimator refined_1x: training" in done.stdout  # Resumed.
  want = json.loads((straight / "results.json").read_text())
  got = json.loads((results / "results.json").read_text())
  for key in ("evaluations", "training", "refiner_training", "selection",
              "label_preservation"):
    _assert_nested_close(want[key], got[key], key)
  # The same stages; two workers finish side-by-side ones in either order.
  assert sorted(got["timings"]) == sorted(want["timings"])
