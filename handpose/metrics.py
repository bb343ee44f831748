"""Hand-pose error and the statistics the paper reports from it.

The paper reports "% of images within d [pixels]" for d = 1..10 (Fig. 12) and
at d = 5 px (Table 4). Two things are not stated:

* **The pixel unit.** Fig. 12's curves step up exactly at distances
  sqrt(i^2 + j^2) (1, 1.41, 2, 2.24, ...), so predictions and truth lay on an
  integer grid: most plausibly the 64 x 64 heatmap's. Errors here are
  therefore Euclidean distances in *heatmap pixels*: image-pixel offsets are
  scaled by ``heatmap_size / W`` (and ``/ H`` vertically).
* **What is counted.** The primary statistic counts *joints*: the share of
  all (image, joint) pairs of the test set whose error is at most d, the PCK
  of the stacked hourglass paper the estimator comes from. Counting images
  instead ("all 14 joints within d") cannot produce Fig. 12's curves: they
  start at 22-30 % at d = 1 heatmap pixel, and 14 joints all within one
  heatmap pixel (3.5 image pixels at 224) in a quarter of the test images is
  implausible for a single network. The per-image variant is reported too.

``on_grid=True`` reproduces the staircase: both positions are rounded to
heatmap pixel centres first (the integer argmax against the rounded truth).

Joints whose true position is not finite have a NaN error and are left out
of every statistic (the per-image variant then needs only the finite joints
within d).
"""

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from handpose import heatmaps as heatmaps_lib

# The grid whose pixels are the error unit: the paper's 64 x 64 heatmaps.
PAPER_GRID = 64
# Table 4 is at 5 px; Fig. 12 spans 1..10 px.
REPORT_THRESHOLDS = tuple(range(1, 11))
TABLE4_THRESHOLD = 5
# Fig. 12 is sampled every 0.1 px; 0.01 px resolves its steps at sqrt(i^2 +
# j^2) without ambiguity.
CURVE_GRID = np.round(np.arange(0.0, 10.0 + 1e-9, 0.01), 2)


def joint_errors(pred_uv, true_uv, image_shape: Tuple[int, int],
                 heatmap_size: int = PAPER_GRID,
                 on_grid: bool = False) -> np.ndarray:
  """Euclidean error of each joint in heatmap pixels, shape (n, J).

  Args:
    pred_uv: (n, J, 2) predicted joints in image pixel coordinates (u, v).
    true_uv: (n, J, 2) true joints in image pixel coordinates.
    image_shape: (H, W) of the images.
    heatmap_size: side of the heatmap grid that defines the unit.
    on_grid: round both positions to heatmap pixel centres first.

  Returns:
    float64 (n, J) errors; NaN where the truth is not finite.
  """
  pred = np.asarray(pred_uv, np.float64)
  true = np.asarray(true_uv, np.float64)
  if pred.shape != true.shape or pred.ndim != 3 or pred.shape[-1] != 2:
    raise ValueError(f"predictions {pred.shape} and labels {true.shape} must "
                     "both be (n, joints, 2)")
  pred = heatmaps_lib.image_to_heatmap(pred, image_shape, heatmap_size)
  true = heatmaps_lib.image_to_heatmap(true, image_shape, heatmap_size)
  if on_grid:
    pred, true = np.round(pred), np.round(true)
  return np.linalg.norm(pred - true, axis=-1)


def _finite(errors) -> np.ndarray:
  errors = np.asarray(errors, np.float64).ravel()
  errors = errors[np.isfinite(errors)]
  if errors.size == 0:
    raise ValueError("no errors to summarise")
  return errors


def percent_within(errors, thresholds) -> np.ndarray:
  """Percentage of finite joint errors at or below each threshold."""
  errors = np.sort(_finite(errors))
  counts = np.searchsorted(errors, np.asarray(thresholds, np.float64),
                           side="right")
  return 100.0 * counts / errors.size


def image_errors(errors) -> np.ndarray:
  """Each image's worst finite joint error, (n,) (NaN if it has none)."""
  errors = np.asarray(errors, np.float64)
  worst = np.where(np.isfinite(errors), errors, -np.inf).max(axis=-1)
  return np.where(np.isfinite(worst), worst, np.nan)


def percent_images_within(errors, thresholds) -> np.ndarray:
  """Percentage of images with all their (finite) joints within each d."""
  return percent_within(image_errors(errors), thresholds)


def cumulative_curve(errors, grid: Optional[Sequence[float]] = None,
                     per_image: bool = False
                    ) -> Tuple[np.ndarray, np.ndarray]:
  """The Fig. 12 curve: (distances, % within each distance).

  Args:
    errors: (n, J) joint errors.
    grid: distances; default 0..10 heatmap px in steps of 0.01.
    per_image: count images with all joints within d instead of joints.
  """
  grid = CURVE_GRID if grid is None else np.asarray(grid, np.float64)
  count = percent_images_within if per_image else percent_within
  return grid, count(errors, grid)


def summary(errors, thresholds: Sequence[float] = REPORT_THRESHOLDS
           ) -> Dict[str, object]:
  """Counts, mean / median error and % within d, as JSON-able values.

  Keys: n_images, n_joints (finite ones), mean_error_px, median_error_px,
  pct_within {d: %} (per joint, the primary statistic) and
  pct_images_within {d: %} (all joints of an image within d).
  """
  errors = np.asarray(errors, np.float64)
  finite = _finite(errors)
  key = lambda d: f"{d:g}"
  return {
      "n_images": int(errors.shape[0]),
      "n_joints": int(finite.size),
      "mean_error_px": float(np.mean(finite)),
      "median_error_px": float(np.median(finite)),
      "pct_within": {key(d): float(p) for d, p in
                     zip(thresholds, percent_within(errors, thresholds))},
      "pct_images_within": {
          key(d): float(p) for d, p in
          zip(thresholds, percent_images_within(errors, thresholds))},
  }
