"""Tests of the hand-pose estimator package (handpose/)."""

import csv
import json
import os
import subprocess
import sys
from unittest import mock

import cv2
import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from data import source as source_lib
from handpose import augment
from handpose import heatmaps
from handpose import metrics
from handpose import networks
from handpose import train_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Small enough to trace and train in seconds on two busy cores: 32 x 32
# inputs, 16 x 16 heatmaps, one pooling level, width 8.
# One stack: tracing the training step dominates these tests' time, and the
# two-stack wiring is covered by the shape and loss tests.
TINY = dict(batch_size=8, filters=8, heatmap_size=16, depth=1, num_stacks=1,
            validation_fraction=0.25, seed=0)


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


# --- networks ---------------------------------------------------------------


@pytest.mark.parametrize("size,stride", [(64, 1), (128, 2), (224, 4),
                                         (256, 4), (32, 1)])
def test_stem_stride(size, stride):
  assert networks.stem_stride((size, size), 64) == stride


@pytest.mark.parametrize("size", [64, 224])
def test_estimator_outputs_two_stacks_of_64x64_heatmaps(size):
  model = networks.hourglass_estimator((size, size, 1), filters=8)
  outputs = model(np.zeros((2, size, size, 1), np.float32))
  assert [tuple(o.shape) for o in outputs] == [(2, 64, 64, 14)] * 2
  # A 224 input is resized to 256 for Newell's stride-4 stem; 64 is not.
  names = {layer.name for layer in model.layers}
  assert ("resize" in names) == (size == 224)
  assert ("stem_pool" in names) == (size == 224)


@pytest.mark.parametrize("channels,filters", [(8, 16), (16, 16)])
def test_residual_parameter_count(channels, filters):
  inputs = keras.Input((8, 8, channels))
  block = keras.Model(inputs, networks.residual(inputs, filters, "r"))
  h = filters // 2
  expected = (4 * channels + (channels * h + h) + 4 * h + (9 * h * h + h) +
              4 * h + (h * filters + filters))
  if channels != filters:
    expected += channels * filters + filters
  assert block.count_params() == expected


def test_estimator_keras_round_trip(tmp_path):
  model = networks.hourglass_estimator((32, 32), filters=8, heatmap_size=16,
                                       depth=2)
  images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(
      np.float32)
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = keras.models.load_model(path)
  for a, b in zip(model(images), loaded(images)):
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_heatmap_size_must_allow_the_pooling():
  with pytest.raises(ValueError, match="not divisible"):
    networks.hourglass_estimator((64, 64), heatmap_size=24, depth=4)


# --- heatmaps ---------------------------------------------------------------


def test_coordinate_conversion_keeps_pixel_edges_and_centres():
  uv = np.array([[-0.5, -0.5], [223.5, 223.5], [1.5, 5.5]])
  xy = heatmaps.image_to_heatmap(uv, (224, 224), 64)
  # Image edges map to heatmap edges, and 3.5 image px make 1 heatmap px.
  np.testing.assert_allclose(xy, [[-0.5, -0.5], [63.5, 63.5],
                                  [2 * 64 / 224 - 0.5, 6 * 64 / 224 - 0.5]],
                             atol=1e-5)
  np.testing.assert_allclose(heatmaps.heatmap_to_image(xy, (224, 224), 64),
                             uv, atol=1e-4)
  # Non-square images scale each axis by its own side.
  np.testing.assert_allclose(heatmaps.image_to_heatmap(
      np.array([[7.5, 3.5]]), (32, 64), 16), [[1.5, 1.5]])


def test_gaussian_target_peak_mask_and_values():
  xy = np.array([[10.0, 20.0], [70.0, 3.0], [np.nan, 5.0], [63.4, -0.4]])
  targets, mask = heatmaps.gaussian_targets(xy, 64, sigma=1.0)
  targets = targets.numpy()
  assert targets.shape == (64, 64, 4)
  np.testing.assert_array_equal(mask, [1, 0, 0, 1])
  assert targets[20, 10, 0] == pytest.approx(1.0)
  assert np.unravel_index(np.argmax(targets[..., 0]), (64, 64)) == (20, 10)
  # One pixel right and one down: exp(-(1 + 1) / 2).
  assert targets[21, 11, 0] == pytest.approx(np.exp(-1.0), rel=1e-6)
  assert not targets[..., 1].any() and not targets[..., 2].any()
  assert np.unravel_index(np.argmax(targets[..., 3]), (64, 64)) == (0, 63)


def test_decode_round_trip_at_sub_pixel_positions():
  rng = np.random.default_rng(1)
  xy = rng.uniform(2, 61, (3, 14, 2)).astype(np.float32)
  targets, _ = heatmaps.gaussian_targets(xy, 64, sigma=1.0)
  decoded = heatmaps.decode(targets.numpy())
  assert decoded.shape == (3, 14, 2)
  # The quarter-pixel step leaves at most 0.25 per axis ...
  assert np.abs(decoded - xy).max() <= 0.25 + 1e-5
  # ... and beats the plain argmax on average (0.19 vs 0.38 px expected).
  refined = np.linalg.norm(decoded - xy, axis=-1).mean()
  plain = np.linalg.norm(heatmaps.decode(targets.numpy(), refine=False) - xy,
                         axis=-1).mean()
  assert refined < 0.3 and refined < plain
  # To image pixels: the same point in a 224 x 224 image.
  uv = heatmaps.heatmap_to_image(xy, (224, 224), 64)
  to_image = heatmaps.decode_to_image(targets.numpy(), (224, 224))
  assert np.abs(to_image - uv).max() <= 0.25 * 224 / 64 + 1e-4


def test_decode_quarter_pixel_direction_and_border():
  heat = np.zeros((8, 8, 2), np.float32)
  heat[3, 4, 0], heat[3, 5, 0], heat[2, 4, 0] = 1.0, 0.5, 0.2  # right, up
  heat[0, 7, 1] = 1.0  # a corner: no neighbour on one side
  np.testing.assert_allclose(heatmaps.decode(heat), [[4.25, 2.75], [7, 0]])
  np.testing.assert_allclose(heatmaps.decode(heat, refine=False),
                             [[4, 3], [7, 0]])


# --- augmentation -----------------------------------------------------------


def _blob_batch(n=8, height=40, width=48, seed=0):
  """Background images with a 3x3 hand-depth blob centred on one joint."""
  rng = np.random.default_rng(seed)
  uv = np.stack([rng.integers(10, width - 10, n),
                 rng.integers(10, height - 10, n)], -1).astype(np.float32)
  images = np.ones((n, height, width, 1), np.float32)
  for i, (u, v) in enumerate(uv.astype(int)):
    images[i, v - 1:v + 2, u - 1:u + 2] = -0.5
  return images, uv[:, None, :]


def test_augmentation_moves_joints_with_the_image():
  images, uv = _blob_batch()
  out, moved = augment.augment(images, uv, tf.constant([3, 4]))
  out, moved = out.numpy(), moved.numpy()
  assert not np.allclose(moved, uv, atol=0.5)  # something happened
  for i in range(len(images)):
    rows, cols = np.nonzero(out[i, ..., 0] < 0)
    assert len(rows) >= 5  # the blob survives nearest resampling
    np.testing.assert_allclose([cols.mean(), rows.mean()], moved[i, 0],
                               atol=1.0)
  # Nearest resampling creates no new depth values; the fill is +1.
  assert set(np.unique(out)) <= {-0.5, 1.0}


def test_augmentation_is_deterministic_and_graph_safe():
  images, uv = _blob_batch()
  seed = tf.constant([7, 8], tf.int64)
  eager = augment.augment(images, uv, seed)
  ds = tf.data.Dataset.from_tensors((images, uv)).map(
      lambda x, j: augment.augment(x, j, seed))
  mapped = next(iter(ds))
  for a, b in zip(eager, mapped):
    np.testing.assert_array_equal(a, b)
  other = augment.augment(images, uv, tf.constant([7, 9], tf.int64))
  assert not np.array_equal(eager[1], other[1])


def test_identity_transform_and_known_motions():
  images, uv = _blob_batch(n=2)
  zero, one = tf.zeros(2), tf.ones(2)
  no_shift = tf.zeros((2, 2))
  np.testing.assert_array_equal(
      augment.transform_images(images, zero, one, no_shift), images)
  np.testing.assert_allclose(
      augment.transform_points(uv, zero, one, no_shift, (40, 48)), uv)
  # A shift moves the content by whole pixels; the vacated side is +1.
  shifted = augment.transform_images(images, zero, one,
                                     tf.constant([[3.0, -2.0]] * 2)).numpy()
  np.testing.assert_array_equal(shifted[:, :-2, 3:], images[:, 2:, :-3])
  assert np.all(shifted[:, :, :3] == 1.0) and np.all(shifted[:, -2:] == 1.0)
  # A 90-degree turn about the centre (23.5, 19.5) of a 48 x 40 image, with
  # the y axis pointing down: (u, v) -> (23.5 - (v - 19.5), 19.5 + (u - 23.5)).
  turned = augment.transform_points(np.array([[[30.0, 19.5]]] * 2),
                                    tf.constant([np.pi / 2] * 2), one,
                                    no_shift, (40, 48))
  np.testing.assert_allclose(turned[0, 0], [23.5, 26.0], atol=1e-5)
  # Scale 2 doubles distances from the centre.
  zoomed = augment.transform_points(np.array([[[25.5, 19.5]]] * 2), zero,
                                    2 * one, no_shift, (40, 48))
  np.testing.assert_allclose(zoomed[0, 0], [27.5, 19.5], atol=1e-5)


# --- metrics ----------------------------------------------------------------


def test_joint_errors_are_in_64_grid_pixels():
  true = np.zeros((2, 2, 2))
  pred = np.array([[[7.0, 0.0], [0.0, 3.5]], [[10.5, 14.0], [0, 0]]])
  # A 224-wide image: 3.5 image px = 1 grid px.
  errors = metrics.joint_errors(pred, true, (224, 224))
  np.testing.assert_allclose(errors, [[2.0, 1.0], [5.0, 0.0]])
  # Non-square: each axis scales by its own side.
  errors = metrics.joint_errors(np.array([[[2.0, 1.0]]]), np.zeros((1, 1, 2)),
                                (64, 128))
  np.testing.assert_allclose(errors, [[np.sqrt(2.0)]])
  with pytest.raises(ValueError, match="must"):
    metrics.joint_errors(np.zeros((1, 3, 2)), np.zeros((1, 2, 2)), (8, 8))


def test_on_grid_errors_fall_on_lattice_distances():
  to_image = lambda xy: heatmaps.heatmap_to_image(np.array(xy), (224, 224),
                                                   64)
  true = to_image([[[0.3, 0.2], [5.1, 5.0]]])
  pred = to_image([[[1.2, 0.9], [6.4, 6.2]]])
  on_grid = metrics.joint_errors(pred, true, (224, 224), on_grid=True)
  # Grid pixel centres: (0, 0) vs (1, 1) and (5, 5) vs (6, 6).
  np.testing.assert_allclose(on_grid, [[np.sqrt(2), np.sqrt(2)]], atol=1e-6)


def test_percent_within_per_joint_and_per_image():
  errors = np.array([[0.5, 1.0, 6.0], [2.0, 2.0, 2.0], [4.0, np.nan, 4.0],
                     [11.0, 0.0, 0.0]])
  np.testing.assert_allclose(metrics.percent_within(errors, [1, 2, 5, 10]),
                             [100 * 4 / 11, 100 * 7 / 11, 100 * 9 / 11,
                              100 * 10 / 11])
  np.testing.assert_allclose(metrics.image_errors(errors), [6, 2, 4, 11])
  np.testing.assert_allclose(
      metrics.percent_images_within(errors, [1, 2, 5, 10]), [0, 25, 50, 75])
  grid, curve = metrics.cumulative_curve(errors)
  assert grid[0] == 0.0 and grid[-1] == 10.0 and len(grid) == 1001
  assert curve[0] == pytest.approx(100 * 2 / 11)
  _, per_image = metrics.cumulative_curve(errors, [1.99, 2.0],
                                          per_image=True)
  np.testing.assert_allclose(per_image, [0, 25])
  result = metrics.summary(errors, thresholds=[5])
  assert result == {"n_images": 4, "n_joints": 11,
                    "mean_error_px": pytest.approx(32.5 / 11),
                    "median_error_px": 2.0,
                    "pct_within": {"5": pytest.approx(900 / 11)},
                    "pct_images_within": {"5": 50.0}}


# --- training ---------------------------------------------------------------


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
  hp = train_lib.HParams(**TINY, max_steps=3)
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


def _log(workdir):
  with open(os.path.join(workdir, train_lib.TRAIN_LOG)) as f:
    return list(csv.DictReader(f))


def test_train_resume_evaluate(tmp_path):
  source = _toy_hands(n=32)
  hp = train_lib.HParams(**TINY, max_steps=6, eval_every=3, patience=5)
  workdir = str(tmp_path / "run")

  class Killed(Exception):
    pass

  real_write = train_lib._write_atomic
  calls = []

  def write_then_die(path, data):
    calls.append(path)
    if len(calls) == 2:  # the log write of the evaluation at step 6
      raise Killed()
    real_write(path, data)

  with mock.patch.object(train_lib, "_write_atomic", write_then_die):
    with pytest.raises(Killed):
      train_lib.train(hp, source, workdir)
  assert not os.path.exists(os.path.join(workdir, train_lib.DONE))
  assert [int(row["step"]) for row in _log(workdir)] == [3]

  stats = train_lib.train(hp, source, workdir)
  assert stats["resumed_from_step"] == 3 and stats["steps"] == 6
  assert (stats["n_train"], stats["n_validation"]) == (24, 8)
  log = _log(workdir)
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
  _, val = train_lib.split_source(source, hp)
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


def test_evaluate_rejects_a_size_mismatch(tmp_path):
  model = networks.hourglass_estimator((32, 32), filters=4, heatmap_size=16,
                                       depth=1, num_stacks=1)
  with pytest.raises(source_lib.DataError, match="toy: images are"):
    train_lib.evaluate(model, _toy_hands(n=2, size=24), str(tmp_path))


# --- binaries ---------------------------------------------------------------


def _run(*args):
  # A subprocess per binary: handpose.train and handpose.evaluate both
  # define --workdir, as does gaze.train, so they cannot share a process.
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc


def test_binaries_train_and_evaluate_a_png_folder(tmp_path):
  source = _toy_hands(n=16)
  folder = tmp_path / "hands"
  folder.mkdir()
  images = source_lib.unit_to_uint8(source.read_all()[..., 0])
  for name, image in zip(source.filenames, images):
    cv2.imwrite(str(folder / name), image)
  source.frame.to_csv(folder / "labels.csv", index=False)
  workdir = tmp_path / "run"
  out = _run("handpose.train", f"--train=folder:{folder}",
             f"--workdir={workdir}", "--image_size=32x32", "--batch_size=4",
             "--filters=8", "--heatmap_size=16", "--depth=1",
             "--num_stacks=1", "--max_steps=2", "--foreground_weight=10",
             "--eval_every=2", "--validation_fraction=0.25", "--threads=1,1")
  stats = json.loads(out.stdout.strip().splitlines()[-1])
  assert stats["steps"] == 2 and stats["n_validation"] == 4
  done = json.loads((workdir / "DONE").read_text())
  assert done["hparams"]["foreground_weight"] == 10.0
  assert "--filters=8" in (workdir / "flags.txt").read_text()
  out = _run("handpose.evaluate", f"--workdir={workdir}",
             f"--test=folder:{folder}", f"--output={tmp_path / 'eval'}",
             "--threads=1,1")
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["n_images"] == 16 and result["n_joints"] == 16 * 14
  for name in ("metrics.json", "errors.csv", "curve.csv"):
    assert (tmp_path / "eval" / name).exists(), name
