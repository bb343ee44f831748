"""Training side effects: image grid, progress line, stop, snapshots."""

import io
import json
import os
import re
import types

import keras
import numpy as np

from refiner import callbacks
from refiner import workdir


class _Trainer:
  """What callbacks read of train_lib.Trainer: a 2+1+3-unit schedule."""

  def __init__(self, units_done=0, export_refiner=None):
    self.hparams = types.SimpleNamespace(total_units=6)
    self.gan = types.SimpleNamespace(
        units_done=types.SimpleNamespace(numpy=lambda: units_done),
        export_refiner=export_refiner)
    self.stop_requested = False

  def phase(self, unit):
    return ("pretrain-R" if unit < 2 else
            "pretrain-D" if unit < 3 else "adversarial")


def test_image_grid_rows_of_synthetic_refined_difference():
  synthetic = np.zeros((2, 2, 3, 1), np.float32)
  refined = np.full((2, 2, 3, 1), 0.25, np.float32)
  refined[1] = -1.0
  grid = callbacks.image_grid(synthetic, refined)
  assert grid.shape == (4, 9, 1)
  # [-1, 1] -> [0, 1]; the difference is doubled and clipped.
  np.testing.assert_allclose(grid[0, :, 0], [0.5] * 3 + [0.625] * 3 +
                             [0.75] * 3)
  np.testing.assert_allclose(grid[3, :, 0], [0.5] * 3 + [0.0] * 3 +
                             [0.0] * 3)


def test_progress_line_shows_phase_count_and_losses():
  stream = io.StringIO()
  line = callbacks.ProgressLine(every=2, stream=stream)
  trainer = _Trainer(units_done=0)
  line.on_train_begin(trainer)
  logs = {"refiner/adversarial": 0.0, "refiner/self_regularization": 0.5,
          "refiner/loss": 0.5}
  line.on_unit_end(trainer, 1, logs)
  assert stream.getvalue() == ""  # Every 2 units only.
  line.on_unit_end(trainer, 2, logs)
  line.on_unit_end(trainer, 3, {"discriminator/loss": 1.25,
                                "discriminator/accuracy_real": 0.75,
                                "discriminator/accuracy_refined": 0.5})
  line.on_unit_end(trainer, 6, {"refiner/adversarial": 0.6931})
  # A StringIO is no terminal: whole lines, not rewrites.
  lines = stream.getvalue().splitlines(keepends=True)
  assert len(lines) == 2 and lines[1].endswith("\n")
  rate = r"[\d,.]+ units/s ETA (\d+m\d\ds|\?)"
  assert re.fullmatch(
      rf"pretrain-R: 2/6 \( 33\.3%\) {rate} adv=0\.000 reg=0\.500\n",
      lines[0]), lines[0]
  assert re.fullmatch(
      rf"adversarial: 6/6 \(100\.0%\) {rate} adv=0\.693 reg=0\.500 "
      r"d_loss=1\.250 acc_real=0\.750 acc_ref=0\.500\n", lines[1]), lines[1]


def test_stop_after_counts_units_of_this_process():
  stop = callbacks.StopAfter(2)
  trainer = _Trainer(units_done=3)
  stop.on_train_begin(trainer)
  stop.on_unit_end(trainer, 4, {})
  assert not trainer.stop_requested
  stop.on_unit_end(trainer, 5, {})
  assert trainer.stop_requested


def test_snapshots_at_adversarial_units_only(tmp_path):
  refiner = keras.Sequential([keras.Input((4, 4, 1)),
                              keras.layers.Conv2D(1, 1, name="c")])
  trainer = _Trainer(export_refiner=refiner)
  snapshots = callbacks.Snapshots(str(tmp_path), every=2)
  for unit in range(1, 7):
    refiner.get_layer("c").kernel.assign(np.full((1, 1, 1, 1), unit, "f4"))
    snapshots.on_unit_end(trainer, unit, {})
  # Unit 2 is a pretraining unit (phase of unit index 1); 4 and 6 are
  # adversarial.
  assert workdir.list_snapshots(str(tmp_path)) == [
      (4, "refiner-000004.weights.h5"), (6, "refiner-000006.weights.h5")]
  assert sorted(os.listdir(tmp_path / "snapshots")) == [
      "refiner-000004.weights.h5", "refiner-000006.weights.h5"]
  refiner.load_weights(workdir.snapshot_path(str(tmp_path),
                                             "refiner-000004.weights.h5"))
  assert refiner.get_layer("c").kernel.numpy().item() == 4.0


def test_stop_when_the_criterion_stops_improving_and_resume(tmp_path):
  # Scores by unit (lower is better): the best is at unit 4; units 6 and 8
  # do not beat it, so with patience 2 training stops at unit 8.
  curve = {4: 3.0, 6: 3.5, 8: 3.1, 10: 1.0}
  unit_now = {"unit": 0}
  score = lambda refiner: curve[unit_now["unit"]]
  trainer = _Trainer()
  trainer.hparams.total_units = 12
  trainer.converged = False
  stop = callbacks.StopWhenConverged(score, every=2, patience=2,
                                     workdir=str(tmp_path))
  stop.on_train_begin(trainer)
  for unit in range(1, 13):
    unit_now["unit"] = unit
    stop.on_unit_end(trainer, unit, {})
    if trainer.stop_requested:
      break
  assert unit == 8 and trainer.converged
  record = json.loads((tmp_path / workdir.CONVERGENCE_FILE).read_text())
  assert record == {"patience": 2, "converged": True, "scores": [
      {"unit": 4, "score": 3.0}, {"unit": 6, "score": 3.5},
      {"unit": 8, "score": 3.1}]}
  # Killed after converging, before the export: a resumed run stops at once.
  again = _Trainer(units_done=8)
  again.converged = False
  callbacks.StopWhenConverged(score, 2, 2, str(tmp_path)).on_train_begin(again)
  assert again.stop_requested and again.converged
  # Resumed from an earlier checkpoint (unit 6): later scores are dropped
  # and training goes on.
  earlier = _Trainer(units_done=6)
  earlier.converged = False
  resumed = callbacks.StopWhenConverged(score, 2, 2, str(tmp_path))
  resumed.on_train_begin(earlier)
  assert not earlier.stop_requested
  assert [s["unit"] for s in resumed.scores] == [4, 6]
