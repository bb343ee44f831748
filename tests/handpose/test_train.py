"""The handpose.train binary, run as a user runs it (a subprocess)."""

import json

import keras
import numpy as np
import pytest

from tests import helpers


def test_a_bad_task_value_is_one_error_line_before_any_output(tmp_path):
  helpers.assert_refused_before_writing(
      tmp_path / "run", "handpose.train", "--train=embedded-hands-sim?n=8",
      "--foreground_weight=-1", "--threads=1,1",
      line="error: foreground_weight must be >= 0")


@pytest.mark.slow
def test_trains_and_evaluates_a_tiny_hourglass(tmp_path):
  workdir = tmp_path / "run"
  # A process per binary: they define the same flags (--workdir, ...).
  proc = helpers.run_module(
      "handpose.train", "--train=embedded-hands-sim?n=16",
      f"--workdir={workdir}", "--image_size=32x32", "--batch_size=4",
      "--filters=8", "--heatmap_size=16", "--depth=1", "--num_stacks=1",
      "--max_steps=2", "--foreground_weight=10", "--eval_every=2",
      "--validation_fraction=0.25", "--optimizer=rmsprop", "--threads=1,1")
  assert proc.returncode == 0, proc.stderr[-3000:]
  stats = json.loads(proc.stdout.strip().splitlines()[-1])
  assert (stats["steps"], stats["n_train"], stats["n_validation"]) == (2, 12,
                                                                       4)
  done = json.loads((workdir / "DONE").read_text())
  assert done["hparams"]["foreground_weight"] == 10.0
  assert done["hparams"]["schedule"]["optimizer"] == "rmsprop"
  assert "--filters=8" in (workdir / "flags.txt").read_text()
  out = tmp_path / "eval"
  proc = helpers.run_module(
      "handpose.evaluate", f"--workdir={workdir}",
      "--test=embedded-hands-real?split=test&n=6", f"--output={out}",
      "--threads=1,1")
  assert proc.returncode == 0, proc.stderr[-3000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert (result["n_images"], result["n_joints"]) == (6, 6 * 14)
  assert "curve" not in result  # It is in metrics.json only.
  for name in ("metrics.json", "errors.csv", "curve.csv", "flags.txt"):
    assert (out / name).exists(), name


def test_two_runs_of_one_command_train_bit_identical_models(tmp_path):
  # Two sources of run-to-run differences, both removed: non-deterministic
  # kernels (core.runtime.make_deterministic) and the order in which AddN
  # added the four gradient terms of each batch-normalised residual input
  # (core.runtime.gradients). With the tape's AddN about half of such pairs
  # of runs differed by step 10 (train loss 1.0597 vs 1.05898).
  logs, weights = [], []
  for name in ("a", "b"):
    workdir = tmp_path / name
    proc = helpers.run_module(
        "handpose.train",
        "--train=embedded-hands-sim?split=train&n=200&seed=0&views=1",
        f"--workdir={workdir}", "--image_size=64x64", "--batch_size=16",
        "--filters=32", "--heatmap_size=32", "--depth=3", "--sigma=2",
        "--foreground_weight=10", "--learning_rate=2e-3", "--max_steps=20",
        "--eval_every=10", "--max_validation=20", "--threads=1,1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    logs.append([{k: v for k, v in row.items() if k != "seconds"}
                 for row in helpers.train_log(str(workdir))])
    weights.append(keras.models.load_model(
        workdir / "estimator.keras").get_weights())
  assert [row["step"] for row in logs[0]] == ["10", "20"]
  assert logs[0] == logs[1]
  assert len(weights[0]) == len(weights[1])
  for w0, w1 in zip(*weights):
    np.testing.assert_array_equal(w0, w1)
