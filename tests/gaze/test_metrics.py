"""Tests of the angular gaze error and its summaries (gaze/metrics.py)."""

import json

import numpy as np
import pytest

from gaze import metrics


def _rotated(vector, axis, degrees):
  """`vector` rotated about `axis` by `degrees` (Rodrigues' formula)."""
  v, k = np.asarray(vector, float), np.asarray(axis, float)
  k = k / np.linalg.norm(k)
  t = np.radians(degrees)
  return (v * np.cos(t) + np.cross(k, v) * np.sin(t) +
          k * np.dot(k, v) * (1 - np.cos(t)))


def test_identical_vectors_give_exactly_zero():
  rng = np.random.default_rng(0)
  vectors = rng.normal(size=(1000, 3))
  errors = metrics.angular_error(vectors, vectors)
  assert not np.any(np.isnan(errors))
  assert np.all(errors == 0.0)
  # Length does not matter, only direction.
  assert np.all(metrics.angular_error(3.5 * vectors, vectors) < 1e-6)


def test_known_angles():
  assert metrics.angular_error([[1, 0, 0]], [[0, 1, 0]])[0] == 90.0
  assert metrics.angular_error([[0, 0, -1]], [[0, 0, 1]])[0] == 180.0
  gaze = np.array([0.3404, -0.3879, -0.8566])
  # About an axis perpendicular to the vector, the angle is the rotation.
  ten = _rotated(gaze, np.cross(gaze, [0.2, 1.0, 0.1]), 10.0)
  np.testing.assert_allclose(metrics.angular_error([ten], [gaze]), [10.0],
                             atol=1e-9)
  np.testing.assert_allclose(
      metrics.angular_error([_rotated(gaze, np.cross(gaze, [1, 0, 0]),
                                      0.001)], [gaze]),
      [0.001], rtol=1e-6)


def test_matches_clipped_arccos_formula():
  rng = np.random.default_rng(1)
  a, b = rng.normal(size=(2, 500, 3))
  cosine = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(
      b, axis=1)
  expected = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
  np.testing.assert_allclose(metrics.angular_error(a, b), expected,
                             atol=1e-6)


def test_zero_prediction_is_90_degrees_and_shapes_must_match():
  assert metrics.angular_error([[0, 0, 0]], [[0, 0, -1]])[0] == 90.0
  with pytest.raises(ValueError):
    metrics.angular_error(np.ones((2, 3)), np.ones((3, 3)))


def test_pct_within_known_list():
  errors = [1.0, 2.0, 5.0, 6.9, 7.0, 12.0, 30.0, 0.0]
  np.testing.assert_allclose(metrics.pct_within(errors, [0, 5, 7, 10, 50]),
                             [12.5, 50.0, 75.0, 75.0, 100.0])


def test_cumulative_curve_and_summary():
  errors = [1.0, 2.0, 5.0, 6.9, 7.0, 12.0, 30.0, 0.0]
  grid, curve = metrics.cumulative_curve(errors)
  assert grid[0] == 0.0 and grid[-1] == 25.0 and len(grid) == 251
  assert curve[0] == 12.5
  assert curve[list(grid).index(6.9)] == 62.5
  assert curve[-1] == 87.5
  assert np.all(np.diff(curve) >= 0)
  result = metrics.summary(errors)
  assert result["n"] == 8
  assert result["mean_deg"] == pytest.approx(63.9 / 8)
  assert result["median_deg"] == pytest.approx(5.95)
  assert result["pct_within"] == {"5": 50.0, "7": 75.0, "10": 75.0,
                                  "13": 87.5, "15": 87.5, "20": 87.5}
  json.dumps(result)  # plain JSON values


def test_tensorflow_version_and_keras_metric():
  rng = np.random.default_rng(2)
  a, b = rng.normal(size=(2, 100, 3)).astype(np.float32)
  np.testing.assert_allclose(metrics.angular_error_tf(a, b).numpy(),
                             metrics.angular_error(a, b), atol=1e-3)
  assert np.all(metrics.angular_error_tf(a, a).numpy() == 0.0)
  metric = metrics.MeanAngularError()
  metric.update_state([[1, 0, 0], [0, 0, -1]], [[0, 1, 0], [0, 0, -1]])
  assert float(metric.result()) == pytest.approx(45.0)
  metric.update_state([[1, 0, 0]], [[-1, 0, 0]])
  assert float(metric.result()) == pytest.approx(90.0)
