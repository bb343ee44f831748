"""Tests of hand-pose training and evaluation (handpose/train_lib.py).

The early-stopping loop and its resume logic are core/estimator.py's
(tests/core/test_estimator.py); these tests cover what the hand task plugs
into it: Newell's heatmap loss, the step, resumable augmented batches, a
tiny hourglass trained, resumed and evaluated, and the evaluation files.
"""

import csv
import json
import os
from unittest import mock

import keras
import numpy as np
import pandas as pd
import pytest

from core import estimator
from data import source as source_lib
from handpose import heatmaps
from handpose import networks
from handpose import train_lib
from tests import helpers


def _tiny(max_steps, eval_every=250, patience=10):
  """HParams of an hourglass small enough to train in seconds on 2 cores.

  16 x 16 heatmaps, one pooling level, width 8 and one stack: tracing the
  step dominates these tests; test_networks covers two stacks.
  """
  return train_lib.HParams(
      schedule=estimator.Schedule(batch_size=8, validation_fraction=0.25,
                                  seed=0, max_steps=max_steps,
                                  eval_every=eval_every, patience=patience),
      filters=8, heatmap_size=16, depth=1, num_stacks=1)


def _toy_hands(n=32, size=32, seed=0):
  """A labelled toy depth world: 14 discs of distinct depth around a palm.

  Background +1 (data/nyu_hand.py's depth background), a palm disc at 0.2
  and joint j a disc of depth -0.9 + 0.08 j, so each joint can be told
  apart. The hand is randomly rotated and shifted.
  """
  rng = np.random.default_rng(seed)
  k = np.arange(14)
  template = (np.stack([np.cos(2 * np.pi * k / 14),
                        np.sin(2 * np.pi * k / 14)], 1) *
              np.where(k % 2, 0.36, 0.2)[:, None])
  yy, xx = np.mgrid[0:size, 0:size]
  images = np.ones((n, size, size), np.float32)
  joints = np.zeros((n, 14, 2), np.float32)
  radius = max(1.0, size / 24)
  for i in range(n):
    a = rng.uniform(-np.pi, np.pi)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = (size - 1) / 2 + rng.uniform(-0.08, 0.08, 2) * size
    joints[i] = centre + size * template @ rotation.T
    palm = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= (0.15 * size) ** 2
    images[i][palm] = 0.2
    for j, (u, v) in enumerate(joints[i]):
      images[i][(xx - u) ** 2 + (yy - v) ** 2 <= radius ** 2] = -0.9 + 0.08 * j
  return source_lib.ArraySource("toy", images, source_lib.frame_for(
      [f"{i:04d}.png" for i in range(n)], joints.reshape(n, -1),
      train_lib.JOINT_COLUMNS))


def test_defaults_follow_the_paper():
  hp = train_lib.HParams()
  # Section 4.3: 2 hourglass blocks, 64 x 64 heatmaps, random [-20, 20]
  # degree rotations.
  assert (hp.num_stacks, hp.heatmap_size) == (2, 64)
  assert (hp.augment, hp.max_rotation_deg) == (True, 20.0)


@pytest.mark.parametrize("change,message", [
    (dict(schedule=estimator.Schedule(optimizer="sgd")),
     "the hand-pose estimator's optimizer must be one of ['adam', "
     "'rmsprop'], got 'sgd'"),
    (dict(filters=0), "filters must be positive"),
    (dict(depth=0), "depth must be positive"),
    (dict(foreground_weight=-1.0), "foreground_weight must be >= 0"),
    (dict(sigma=0.0), "sigma must be positive"),
])
def test_hparams_reject_bad_values_in_one_line(change, message):
  with helpers.raises_exactly(ValueError, message):
    train_lib.HParams(**change)


def test_heatmap_forward_returns_the_last_stacks_heatmaps():
  inputs = keras.Input((8, 8, 1))
  model = keras.Model(inputs, [inputs * 2.0, inputs * 3.0])
  images = np.arange(64, dtype=np.float32).reshape(1, 8, 8, 1)
  np.testing.assert_array_equal(train_lib.heatmap_forward(model)(images),
                                images * 3.0)


def test_heatmap_loss_sums_stacks_and_masks_joints():
  targets = np.zeros((1, 4, 4, 2), np.float32)
  targets[0, 1, 1] = 1.0
  first = np.zeros_like(targets)
  second = np.full_like(targets, 0.5)
  second[..., 1] = 9.0  # masked out
  loss = train_lib.heatmap_loss([first, second], targets,
                                np.array([[1.0, 0.0]]))
  # Stack 1: one error of 1 over 16 pixels; stack 2: 15 * 0.25 + 0.25.
  assert float(loss) == pytest.approx(1 / 16 + 4 / 16)


def test_heatmap_loss_foreground_weight():
  targets = np.zeros((1, 4, 4, 1), np.float32)
  targets[0, 1, 1] = 1.0
  first = np.zeros_like(targets)
  second = np.full_like(targets, 0.5)
  loss = train_lib.heatmap_loss([first, second], targets, np.ones((1, 1)),
                                foreground_weight=10.0)
  # Weights: 11 at the peak, 1 on 15 pixels (26 in all). Stack 1: 11 * 1;
  # stack 2: 11 * 0.25 + 15 * 0.25.
  assert float(loss) == pytest.approx(11 / 26 + 6.5 / 26)


def test_train_step_changes_weights_and_reports_loss():
  # A two-output stand-in for the hourglass (one head per "stack") keeps
  # the trace short; the real network is trained in test_train_resume_....
  inputs = keras.Input((32, 32, 1))
  x = keras.layers.AveragePooling2D(2)(inputs)
  model = keras.Model(inputs, [keras.layers.Conv2D(14, 3, padding="same")(x),
                               keras.layers.Conv2D(14, 1)(x)])
  before = [w.copy() for w in model.get_weights()]
  source = _toy_hands(n=8)
  images = source.read_all()
  joints = train_lib.joints_of(source.labels(train_lib.JOINT_COLUMNS))
  targets, mask = heatmaps.gaussian_targets(
      heatmaps.image_to_heatmap(joints, (32, 32), 16), 16)
  expected = float(train_lib.heatmap_loss(model(images), targets, mask))
  loss_mean = keras.metrics.Mean()
  step = train_lib.make_train_step(model, keras.optimizers.SGD(0.1),
                                   loss_mean)
  loss = float(step(images, targets, mask))
  assert loss == pytest.approx(expected, rel=1e-5)
  assert float(loss_mean.result()) == pytest.approx(loss)
  assert all(np.any(a != b) for a, b in zip(before, model.get_weights()))
  assert float(train_lib.heatmap_loss(model(images), targets, mask)) < loss


def test_training_batches_carry_transformed_targets():
  source = _toy_hands(n=16)
  hp = _tiny(max_steps=3)
  batches = list(train_lib.training_batches(source, hp, start=1))
  assert len(batches) == 2
  images, targets, mask = batches[0]
  assert images.shape == (8, 32, 32, 1) and targets.shape == (8, 16, 16, 14)
  assert mask.shape == (8, 14)
  # Each target's peak lies on its joint's disc in the augmented image.
  joints = heatmaps.decode_to_image(targets.numpy(), (32, 32))
  cols, rows = np.clip(np.round(joints), 0, 31).astype(int).transpose(2, 0, 1)
  depth = images.numpy()[np.arange(8)[:, None], rows, cols, 0]
  on_disc = np.isclose(depth, -0.9 + 0.08 * np.arange(14), atol=1e-4)
  assert on_disc[mask.numpy() > 0].mean() > 0.95
  # Restarting at batch 2 gives batch 2 again (resumable).
  again = list(train_lib.training_batches(source, hp, start=2))[0]
  for a, b in zip(batches[1], again):
    np.testing.assert_array_equal(a, b)


def test_train_then_evaluate_the_best_model(tmp_path):
  source = _toy_hands(n=32)
  hp = _tiny(max_steps=6, eval_every=3, patience=5)
  workdir = str(tmp_path / "run")
  stats = train_lib.train(hp, source, workdir)
  assert (stats["steps"], stats["n_train"], stats["n_validation"]) == (6, 24,
                                                                       8)
  log = helpers.train_log(workdir)
  assert [int(row["step"]) for row in log] == [3, 6]
  assert stats["best_val_error_px"] == pytest.approx(
      min(float(row["val_error_px"]) for row in log), rel=1e-4)
  done = json.loads((tmp_path / "run" / train_lib.DONE).read_text())
  assert done["steps"] == 6 and done["hparams"]["filters"] == 8
  # A finished run is not repeated.
  with mock.patch.object(train_lib.pipeline, "stream") as stream:
    assert train_lib.train(hp, source, workdir) == done
    stream.assert_not_called()

  # The exported model is the best one: on the validation split it scores
  # the best validation error.
  _, val = source_lib.split_train_validation(source, hp.schedule)
  out = tmp_path / "eval"
  result = train_lib.evaluate(os.path.join(workdir, train_lib.ESTIMATOR),
                              val, str(out), batch_size=3)
  assert result["mean_error_px"] == pytest.approx(stats["best_val_error_px"],
                                                  rel=1e-4)
  assert result["n_images"] == 8 and result["n_joints"] == 112
  assert set(result["pct_within"]) == {str(d) for d in range(1, 11)}
  assert set(result["pct_images_within"]) == set(result["pct_within"])
  assert len(result["curve"]["distance_px"]) == 101
  assert json.loads((out / "metrics.json").read_text()) == result
  with open(out / "errors.csv") as f:
    rows = list(csv.DictReader(f))
  assert [r["filename"] for r in rows] == val.filenames
  assert "j13_error" in rows[0] and "pred_j13_v" in rows[0]
  assert not [p for p in os.listdir(out) if ".tmp" in p]


@pytest.mark.slow
def test_resume_after_interruption(tmp_path):
  source = _toy_hands(n=32)
  hp = _tiny(max_steps=6, eval_every=3, patience=5)
  # Killed at the log write of the evaluation at step 6.
  uninterrupted, resumed, _ = helpers.killed_and_resumed(
      train_lib, lambda workdir: train_lib.train(hp, source, workdir),
      tmp_path, logged=[3, 6])
  # Same batches, augmentation and optimizer state: the same result.
  assert resumed["best_val_error_px"] == pytest.approx(
      uninterrupted["best_val_error_px"], abs=1e-3)


def test_write_evaluation_exact_values(tmp_path):
  # A 128 x 128 image: 2 image px = 1 grid px, exactly in binary.
  true = np.zeros((2, 14, 2))
  true[..., 0] = np.arange(14) * 2.0
  pred = true.copy()
  pred[0, :, 0] += 4.0  # image 0: every joint 2 grid px off
  pred[1, 0, 1] += 12.0  # image 1: joint 0 is 6 px off
  result = train_lib.write_evaluation(pred, true, ["a.png", "b.png"],
                                      str(tmp_path), (128, 128))
  assert result["mean_error_px"] == pytest.approx((14 * 2 + 6) / 28)
  assert result["pct_within"]["1"] == pytest.approx(100 * 13 / 28)
  assert result["pct_within"]["5"] == pytest.approx(100 * 27 / 28)
  assert result["pct_within"]["6"] == 100.0
  assert result["pct_images_within"]["2"] == 50.0
  assert result["pct_images_within"]["6"] == 100.0
  assert result["on_grid"]["pct_within"] == result["pct_within"]
  assert result["grid_size"] == 64
  with open(tmp_path / "errors.csv") as f:
    rows = list(csv.DictReader(f))
  assert float(rows[0]["mean_error_px"]) == pytest.approx(2.0)
  assert float(rows[1]["max_error_px"]) == pytest.approx(6.0)
  assert float(rows[1]["j00_error"]) == pytest.approx(6.0)
  assert float(rows[0]["pred_j01_u"]) == pytest.approx(6.0)
  curve = pd.read_csv(tmp_path / "curve.csv")
  at = lambda d: curve[np.isclose(curve["distance_px"], d)].iloc[0]
  assert at(1.99)["pct_images_within"] == 0.0
  assert at(2.0)["pct_within"] == pytest.approx(100 * 27 / 28)


def test_metrics_json_is_the_last_file_of_an_evaluation(tmp_path):
  # An evaluation folder with metrics.json is skipped by the benchmarks: a
  # kill at any write must leave none, new or old.
  true = np.zeros((1, 14, 2))
  pred = true + [4.0, 0.0]  # Every joint 2 grid px off (128 x 128 image).

  def evaluate(out, guess=pred):
    return train_lib.write_evaluation(guess, true, ["a.png"], str(out),
                                      (128, 128))

  order = ["errors.csv", "curve.csv", "metrics.json"]
  for number, name in enumerate(order, 1):
    out = tmp_path / f"killed_at_{number}"
    assert helpers.killed_at_write(number, lambda: evaluate(out)) == str(
        out / name)
    assert sorted(os.listdir(out)) == sorted(order[:number - 1])
  out = tmp_path / "again"
  assert evaluate(out)["mean_error_px"] == pytest.approx(2.0)
  assert sorted(os.listdir(out)) == sorted(order)
  # Re-evaluated into the same folder and killed before its metrics.json:
  # the old metrics.json is gone with the old curve.
  helpers.killed_at_write(3, lambda: evaluate(out, true))
  assert sorted(os.listdir(out)) == ["curve.csv", "errors.csv"]
  assert evaluate(out, true)["mean_error_px"] == 0.0
  assert json.loads((out / "metrics.json").read_text())[
      "mean_error_px"] == 0.0


def test_evaluate_rejects_a_size_mismatch(tmp_path):
  model = networks.hourglass_estimator((32, 32), filters=4, heatmap_size=16,
                                       depth=1, num_stacks=1)
  with pytest.raises(source_lib.DataError, match="toy: images are"):
    train_lib.evaluate(model, _toy_hands(n=2, size=24), str(tmp_path))
