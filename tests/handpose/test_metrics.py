"""Tests of the hand-pose error and its statistics (handpose/metrics.py)."""

import numpy as np
import pytest

from handpose import heatmaps
from handpose import metrics


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
