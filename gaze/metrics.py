"""Angular gaze error and the statistics the paper reports from it.

The paper reports the angle between the predicted and the true 3-D gaze
vectors in degrees, as a mean (Table 3) and as the cumulative "% of images
within d degrees" (Table 2, Fig. 7).

The angle is computed as ``atan2(|a x b|, a . b)``. This is the same angle as
``arccos`` of the normalised, clipped cosine, but it is exact near 0 and
180 degrees (arccos of a float cosine cannot resolve angles below ~1e-6 rad in
float64 and ~3e-4 rad in float32) and it never produces NaN: identical
vectors give exactly 0. A prediction of length zero has no direction; it is
given 90 degrees, the value a cosine of 0 would give.
"""

from typing import Dict, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

# The thresholds every evaluation reports: Fig. 7's x-axis ticks plus 7 (the
# Table 2 caption) and 13 (where Fig. 7 actually matches Table 2).
REPORT_THRESHOLDS = (5, 7, 10, 13, 15, 20)
# Fig. 7 spans 0..25 degrees; 0.1 degree resolves its 0.4-degree samples.
CURVE_GRID = np.round(np.arange(0.0, 25.0 + 1e-9, 0.1), 1)


def angular_error(predicted, true) -> np.ndarray:
  """Angle in degrees between rows of `predicted` and `true`, shape (n,).

  Args:
    predicted: (n, 3) array of predicted gaze vectors (any length).
    true: (n, 3) array of true gaze vectors (any non-zero length).

  Returns:
    float64 (n,) angles in [0, 180].
  """
  predicted = np.asarray(predicted, np.float64).reshape(-1, 3)
  true = np.asarray(true, np.float64).reshape(-1, 3)
  if predicted.shape != true.shape:
    raise ValueError(f"{predicted.shape[0]} predictions for "
                     f"{true.shape[0]} labels")
  cross = np.linalg.norm(np.cross(predicted, true), axis=-1)
  dot = np.sum(predicted * true, axis=-1)
  angle = np.degrees(np.arctan2(cross, dot))
  degenerate = (np.linalg.norm(predicted, axis=-1) *
                np.linalg.norm(true, axis=-1)) == 0
  return np.where(degenerate, 90.0, angle)


def pct_within(errors, thresholds: Sequence[float]) -> np.ndarray:
  """Percentage of `errors` at or below each threshold (degrees)."""
  errors = np.sort(np.asarray(errors, np.float64).ravel())
  if errors.size == 0:
    raise ValueError("no errors to summarise")
  counts = np.searchsorted(errors, np.asarray(thresholds, np.float64),
                           side="right")
  return 100.0 * counts / errors.size


def cumulative_curve(errors, grid: Optional[Sequence[float]] = None
                    ) -> Tuple[np.ndarray, np.ndarray]:
  """The Fig. 7 curve: (distances, % of images within each distance)."""
  grid = CURVE_GRID if grid is None else np.asarray(grid, np.float64)
  return grid, pct_within(errors, grid)


def summary(errors, thresholds: Sequence[float] = REPORT_THRESHOLDS
           ) -> Dict[str, object]:
  """Mean, median and % within each threshold, as plain JSON-able values."""
  errors = np.asarray(errors, np.float64).ravel()
  within = pct_within(errors, thresholds)
  return {
      "n": int(errors.size),
      "mean_deg": float(np.mean(errors)),
      "median_deg": float(np.median(errors)),
      "pct_within": {f"{d:g}": float(p) for d, p in zip(thresholds, within)},
  }


def angular_error_tf(predicted, true) -> tf.Tensor:
  """`angular_error` in TensorFlow (float32), for use inside a graph."""
  predicted = tf.cast(predicted, tf.float32)
  true = tf.cast(true, tf.float32)
  cross = tf.norm(tf.linalg.cross(predicted, true), axis=-1)
  dot = tf.reduce_sum(predicted * true, axis=-1)
  angle = tf.atan2(cross, dot) * (180.0 / np.pi)
  degenerate = tf.equal(
      tf.norm(predicted, axis=-1) * tf.norm(true, axis=-1), 0.0)
  return tf.where(degenerate, tf.constant(90.0), angle)


class MeanAngularError(keras.metrics.Mean):
  """Running mean angular error in degrees (for training logs)."""

  def __init__(self, name="mean_angular_error", **kwargs):
    super().__init__(name=name, **kwargs)

  def update_state(self, y_true, y_pred, sample_weight=None):
    return super().update_state(angular_error_tf(y_pred, y_true),
                                sample_weight=sample_weight)
