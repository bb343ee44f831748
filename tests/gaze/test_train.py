"""The gaze.train binary, run as a user runs it (a subprocess)."""

import json

import pytest

from tests import helpers


def test_a_bad_schedule_value_is_one_error_line_before_any_output(tmp_path):
  helpers.assert_refused_before_writing(
      tmp_path / "run", "gaze.train", "--train=embedded-eyes-sim?n=20",
      "--batch_size=0", "--threads=1,1",
      line="error: batch_size must be positive")


@pytest.mark.slow
def test_trains_then_skips_a_finished_run(tmp_path):
  workdir = tmp_path / "run"
  args = ("--train=embedded-eyes-sim?n=40", f"--workdir={workdir}",
          "--batch_size=8", "--max_steps=2", "--eval_every=2",
          "--validation_fraction=0.25", "--augment", "--threads=1,1")
  proc = helpers.run_module("gaze.train", *args)
  assert proc.returncode == 0, proc.stderr[-3000:]
  stats = json.loads(proc.stdout.strip().splitlines()[-1])
  assert (stats["steps"], stats["n_train"], stats["n_validation"]) == (2, 30,
                                                                       10)
  done = json.loads((workdir / "DONE").read_text())
  assert done["hparams"]["schedule"]["batch_size"] == 8
  assert done["hparams"]["augment"] is True
  assert "--batch_size=8" in (workdir / "flags.txt").read_text()
  # The same command again finds DONE and trains nothing.
  again = helpers.run_module("gaze.train", *args)
  assert again.returncode == 0, again.stderr[-3000:]
  assert json.loads(again.stdout.strip().splitlines()[-1]) == stats
