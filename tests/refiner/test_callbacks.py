"""Training side effects: image grid, progress line, stop, snapshots."""

import io
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
  lines = stream.getvalue().split("\r")[1:]
  assert len(lines) == 2 and lines[1].endswith("\n")
  rate = r"[\d,.]+ units/s ETA (\d+m\d\ds|\?)"
  assert re.fullmatch(
      rf"pretrain-R: 2/6 \( 33\.3%\) {rate} adv=0\.000 reg=0\.500 *",
      lines[0]), lines[0]
  assert re.fullmatch(
      rf"adversarial: 6/6 \(100\.0%\) {rate} adv=0\.693 reg=0\.500 "
      r"d_loss=1\.250 acc_real=0\.750 acc_ref=0\.500 *\n", lines[1]), lines[1]


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
