"""Tests of heatmap targets, coordinates and decoding (handpose/heatmaps.py)."""

import numpy as np
import pytest

from handpose import heatmaps


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
