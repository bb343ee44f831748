"""Tests of gaze estimator training and evaluation (gaze/train_lib.py).

The early-stopping loop and its resume logic are core/estimator.py's
(tests/core/test_estimator.py); these tests cover what the gaze task plugs
into it: the L2 step, resumable (augmented) batches, the CNN learning the
gaze, and the evaluation files.
"""

import csv
import json
import os
from unittest import mock

import keras
import numpy as np
import pytest

from core import estimator
from data import source as source_lib
from gaze import metrics
from gaze import train_lib
from tests import helpers

SMALL = dict(batch_size=16, learning_rate=1e-3, optimizer="adam",
             validation_fraction=0.2, seed=0)


def _hparams(augment=False, **schedule):
  return train_lib.HParams(schedule=estimator.Schedule(**{**SMALL,
                                                          **schedule}),
                           augment=augment)


def _easy_source(n=160, seed=0):
  """35x55 images whose brightness ramp points where the eye looks.

  Gaze directions span +-30 degrees of yaw and pitch around the camera axis;
  the image is tanh of a plane whose slope is (gaze_x, gaze_y), so the CNN
  can read the gaze off the image.
  """
  rng = np.random.default_rng(seed)
  yaw, pitch = np.radians(rng.uniform(-30, 30, (2, n)))
  gaze = np.stack([-np.cos(pitch) * np.sin(yaw), -np.sin(pitch),
                   -np.cos(pitch) * np.cos(yaw)], axis=1)
  yy, xx = np.mgrid[0:35, 0:55]
  images = np.tanh(gaze[:, 0, None, None] * (xx - 27) / 6.0 +
                   gaze[:, 1, None, None] * (yy - 17) / 4.0)
  return source_lib.ArraySource(
      "easy", images.astype(np.float32),
      source_lib.frame_for([f"{i:04d}.png" for i in range(n)], gaze))


def test_defaults_are_the_papers_batch_and_rate():
  schedule = train_lib.HParams().schedule
  # Section 3.1: "a constant 0.001 learning rate and 512 batch size".
  assert (schedule.batch_size, schedule.learning_rate) == (512, 1e-3)
  assert train_lib.HParams().augment is False


def test_only_adam_or_sgd():
  with helpers.raises_exactly(
      ValueError, "the gaze estimator's optimizer must be one of "
      "['adam', 'sgd'], got 'rmsprop'"):
    _hparams(optimizer="rmsprop")


def test_train_step_changes_weights_and_reports_loss():
  model = keras.Sequential([keras.Input((35, 55, 1)),
                            keras.layers.Flatten(), keras.layers.Dense(3)])
  before = [w.copy() for w in model.get_weights()]
  loss_mean, error_mean = keras.metrics.Mean(), metrics.MeanAngularError()
  step = train_lib.make_train_step(model, keras.optimizers.SGD(0.01),
                                   loss_mean, error_mean)
  source = _easy_source(n=16)
  images, labels = source.read_all(), source.labels()
  loss = float(step(images, labels))
  predicted = model(images)  # after the step; recompute the loss before:
  expected = 0.5 * np.mean(np.sum(
      (images.reshape(16, -1) @ before[0] + before[1] - labels) ** 2, 1))
  assert loss == pytest.approx(expected, rel=1e-4)
  assert float(loss_mean.result()) == pytest.approx(loss)
  assert float(error_mean.result()) > 0
  assert all(np.any(a != b) for a, b in zip(before, model.get_weights()))
  assert predicted.shape == (16, 3)


def test_training_batches_are_resumable_and_augmented_by_position():
  source = _easy_source(n=64)
  hp = _hparams(augment=True, max_steps=4)
  batches = list(train_lib.training_batches(source, hp, start=0))
  assert len(batches) == 4
  assert batches[0][0].shape == (16, 35, 55, 1)
  # Restarting at batch 2 gives batches 2 and 3 again.
  again = list(train_lib.training_batches(source, hp, start=2))
  assert len(again) == 2
  for a, b in zip(batches[2] + batches[3], again[0] + again[1]):
    np.testing.assert_array_equal(a, b)
  # The same images unaugmented: same labels, other pixels.
  plain = list(train_lib.training_batches(
      source, _hparams(augment=False, max_steps=4), start=2))[0]
  np.testing.assert_array_equal(plain[1], again[0][1])
  assert np.abs(plain[0] - again[0][0]).mean() > 0.01


def test_training_reduces_validation_error(tmp_path):
  source = _easy_source()
  # Always predicting the mean direction scores ~23 degrees on this data.
  constant = metrics.angular_error(
      np.tile(source.labels().mean(0), (len(source), 1)), source.labels())
  assert 20 < constant.mean() < 26
  hp = _hparams(max_steps=30, eval_every=10, patience=10)
  stats = train_lib.train(hp, source, str(tmp_path))
  log = helpers.train_log(tmp_path)
  assert [int(row["step"]) for row in log] == [10, 20, 30]
  assert stats["steps"] == 30 and not stats["stopped_early"]
  assert stats["best_val_error_deg"] < 0.5 * constant.mean()
  assert float(log[-1]["val_error_deg"]) < float(log[0]["val_error_deg"])
  assert stats["best_val_error_deg"] == pytest.approx(
      min(float(row["val_error_deg"]) for row in log), rel=1e-4)
  assert (stats["n_train"], stats["n_validation"]) == (128, 32)
  done = json.loads((tmp_path / train_lib.DONE).read_text())
  assert done["steps"] == 30
  assert done["hparams"]["schedule"]["batch_size"] == 16
  # The saved model is the best one: evaluating it on the validation split
  # reproduces the best validation error.
  _, val = source_lib.split_train_validation(source, hp.schedule)
  result = train_lib.evaluate(str(tmp_path / train_lib.ESTIMATOR), val,
                              str(tmp_path / "eval"))
  assert result["mean_deg"] == pytest.approx(stats["best_val_error_deg"],
                                             rel=1e-4)
  # A finished run is not repeated.
  with mock.patch.object(train_lib.pipeline, "stream") as stream:
    assert train_lib.train(hp, source, str(tmp_path)) == done
    stream.assert_not_called()


@pytest.mark.slow
def test_resume_after_interruption(tmp_path):
  source = _easy_source(n=64)
  hp = _hparams(augment=True, max_steps=12, eval_every=4, patience=10)
  # Killed at the log write of the evaluation at step 8.
  uninterrupted, resumed, workdir = helpers.killed_and_resumed(
      train_lib, lambda workdir: train_lib.train(hp, source, workdir),
      tmp_path, logged=[4, 8, 12])
  # Same batches, augmentation and optimizer state: the same result.
  assert resumed["best_val_error_deg"] == pytest.approx(
      uninterrupted["best_val_error_deg"], abs=1e-3)
  a = keras.models.load_model(str(tmp_path / "a" / train_lib.ESTIMATOR))
  b = keras.models.load_model(os.path.join(workdir, train_lib.ESTIMATOR))
  for wa, wb in zip(a.get_weights(), b.get_weights()):
    np.testing.assert_allclose(wa, wb, atol=1e-5)


def _constant_model(direction):
  """A model that predicts `direction` for every image."""
  inputs = keras.Input((35, 55, 1))
  x = keras.layers.GlobalAveragePooling2D()(inputs)
  outputs = keras.layers.Dense(
      3, kernel_initializer="zeros",
      bias_initializer=keras.initializers.Constant(direction))(x)
  return keras.Model(inputs, outputs)


def test_evaluate_writes_exact_metrics(tmp_path):
  # Labels at 0, 4, 11 and 30 degrees of yaw from the constant prediction.
  angles = np.radians([0.0, 4.0, 11.0, 30.0])
  labels = np.stack([-np.sin(angles), np.zeros(4), -np.cos(angles)], 1)
  source = source_lib.ArraySource(
      "test", np.zeros((4, 35, 55, 1), np.float32),
      source_lib.frame_for(["a.png", "b.png", "c.png", "d.png"], labels))
  model_path = str(tmp_path / "constant.keras")
  _constant_model([0.0, 0.0, -2.0]).save(model_path)
  result = train_lib.evaluate(model_path, source, str(tmp_path / "out"),
                              batch_size=3)
  assert result["n"] == 4
  assert result["mean_deg"] == pytest.approx(11.25, abs=1e-5)
  assert result["median_deg"] == pytest.approx(7.5, abs=1e-5)
  assert result["pct_within"] == {"5": 50.0, "7": 50.0, "10": 50.0,
                                  "13": 75.0, "15": 75.0, "20": 75.0}
  assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == result
  with open(tmp_path / "out" / "errors.csv") as f:
    rows = list(csv.DictReader(f))
  assert [row["filename"] for row in rows] == ["a.png", "b.png", "c.png",
                                               "d.png"]
  np.testing.assert_allclose([float(r["error_deg"]) for r in rows],
                             [0, 4, 11, 30], atol=1e-5)
  assert float(rows[2]["pred_z"]) == -2.0
  assert float(rows[3]["gaze_x"]) == pytest.approx(-0.5, abs=1e-6)
  with open(tmp_path / "out" / "curve.csv") as f:
    curve = {row["distance_deg"]: float(row["pct_within"])
             for row in csv.DictReader(f)}
  assert (curve["0"], curve["4"], curve["10.9"], curve["25"]) == (
      25.0, 50.0, 50.0, 75.0)
  assert not [p for p in os.listdir(tmp_path / "out") if ".tmp" in p]


def test_metrics_json_is_the_last_file_of_an_evaluation(tmp_path):
  # An evaluation folder with metrics.json is skipped by the benchmarks: a
  # kill at any write must leave none, new or old.
  labels = np.tile([0.0, 0.0, -1.0], (2, 1))
  predicted = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, -1.0]])

  def evaluate(out, pred=predicted):
    return train_lib.write_evaluation(pred, labels, ["a.png", "b.png"],
                                      str(out))

  order = ["errors.csv", "curve.csv", "metrics.json"]
  for number, name in enumerate(order, 1):
    out = tmp_path / f"killed_at_{number}"
    assert helpers.killed_at_write(number, lambda: evaluate(out)) == str(
        out / name)
    assert sorted(os.listdir(out)) == sorted(order[:number - 1])
  out = tmp_path / "again"
  assert evaluate(out)["mean_deg"] == pytest.approx(22.5, abs=1e-5)
  assert sorted(os.listdir(out)) == sorted(order)
  # Re-evaluated into the same folder and killed before its metrics.json:
  # the old metrics.json is gone with the old curve.
  helpers.killed_at_write(3, lambda: evaluate(out, labels))
  assert sorted(os.listdir(out)) == ["curve.csv", "errors.csv"]
  assert evaluate(out, labels)["mean_deg"] == 0.0
  assert json.loads((out / "metrics.json").read_text())["mean_deg"] == 0.0


def test_evaluate_rejects_a_size_mismatch(tmp_path):
  source = source_lib.ArraySource(
      "wrong", np.zeros((2, 36, 60, 1), np.float32),
      source_lib.frame_for(["a", "b"], np.tile([0, 0, -1.0], (2, 1))))
  with pytest.raises(source_lib.DataError, match="wrong: images are"):
    train_lib.evaluate(_constant_model([0, 0, -1.0]), source, str(tmp_path))
