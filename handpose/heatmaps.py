"""Joint heatmaps: Gaussian targets, coordinate conversion and decoding.

Coordinates follow the project's pixel-centre convention (data/nyu_hand.py):
``(u, v)`` are the column and row of an image, pixel ``p`` is centred at the
integer ``p`` and spans ``[p - 0.5, p + 0.5]``. The heatmap grid is the same
picture sampled at ``heatmap_size`` pixels per side, so image coordinate
``u`` of a ``W``-wide image is heatmap coordinate
``(u + 0.5) * heatmap_size / W - 0.5`` (per axis, any image size): the left
edge -0.5 of both grids coincides, as do the right edges.

Targets are Newell et al.'s: an unnormalised 2-D Gaussian of standard
deviation ``sigma`` heatmap pixels (peak 1) centred on the joint. A joint
outside the heatmap (or with non-finite coordinates) gets an all-zero target
and a zero mask, so the loss ignores that channel instead of teaching the
network to predict "nothing" where the joint was merely cropped away.

Decoding takes the argmax of each heatmap and moves it a quarter pixel
towards the higher of its two neighbours along each axis, the usual
sub-pixel refinement of hourglass decoders (it halves the mean quantisation
error of the plain argmax on smooth peaks).
"""

from typing import Tuple

import numpy as np
import tensorflow as tf

DEFAULT_SIGMA = 1.0


def image_to_heatmap(uv, image_shape: Tuple[int, int], heatmap_size: int):
  """Image pixel coordinates (..., 2) -> heatmap pixel coordinates.

  Works on numpy arrays and tensors alike.

  Args:
    uv: (..., 2) coordinates (u = column, v = row) in image pixels.
    image_shape: (H, W) of the image.
    heatmap_size: side of the square heatmap.
  """
  height, width = image_shape[:2]
  scale = np.array([heatmap_size / width, heatmap_size / height], np.float32)
  return (uv + 0.5) * scale - 0.5


def heatmap_to_image(xy, image_shape: Tuple[int, int], heatmap_size: int):
  """Heatmap pixel coordinates (..., 2) -> image pixel coordinates."""
  height, width = image_shape[:2]
  scale = np.array([width / heatmap_size, height / heatmap_size], np.float32)
  return (xy + 0.5) * scale - 0.5


def visible(xy, heatmap_size: int):
  """Whether each joint (..., 2) lies on the heatmap (tensor, (...) bool).

  "On the heatmap" means inside its area, [-0.5, heatmap_size - 0.5] on both
  axes; NaN coordinates are not visible.
  """
  xy = tf.convert_to_tensor(xy, tf.float32)
  inside = tf.logical_and(xy >= -0.5, xy <= heatmap_size - 0.5)
  return tf.reduce_all(inside, axis=-1)  # NaN compares False.


def gaussian_targets(xy, heatmap_size: int, sigma: float = DEFAULT_SIGMA):
  """Target heatmaps and visibility mask for joints in heatmap coordinates.

  Runs eagerly, in tf.function and in tf.data.Dataset.map.

  Args:
    xy: (..., J, 2) joint coordinates in heatmap pixels.
    heatmap_size: side of the square heatmaps.
    sigma: standard deviation of the Gaussian in heatmap pixels.

  Returns:
    targets: float32 (..., heatmap_size, heatmap_size, J), peak 1 at the
      joint (exactly 1 where the joint sits on a pixel centre), all zero for
      invisible joints.
    mask: float32 (..., J), 1 for visible joints and 0 otherwise.
  """
  xy = tf.convert_to_tensor(xy, tf.float32)
  mask = visible(xy, heatmap_size)
  # Zero the coordinates of invisible joints so NaNs never reach the exp.
  safe = tf.where(mask[..., None], xy, tf.zeros_like(xy))
  grid = tf.range(heatmap_size, dtype=tf.float32)
  # (..., 1, S, J) over columns and (..., S, 1, J) over rows.
  x = safe[..., None, :, 0]  # (..., 1, J)
  y = safe[..., None, :, 1]
  dx2 = tf.square(grid[:, None] - x)[..., None, :, :]
  dy2 = tf.square(grid[:, None] - y)[..., :, None, :]
  targets = tf.exp(-(dx2 + dy2) / (2.0 * sigma * sigma))
  mask = tf.cast(mask, tf.float32)
  return targets * mask[..., None, None, :], mask


def decode(heatmaps: np.ndarray, refine: bool = True) -> np.ndarray:
  """Joint positions of heatmaps, in heatmap pixel coordinates.

  Args:
    heatmaps: (..., S, S, J) predicted heatmaps.
    refine: move each argmax a quarter pixel towards the higher neighbour
      along each axis (no move at a tie or at the border); False returns the
      integer argmax.

  Returns:
    float32 (..., J, 2) coordinates (x = column, y = row).
  """
  heatmaps = np.asarray(heatmaps, np.float32)
  *lead, rows, cols, joints = heatmaps.shape
  # Put joints before the pixels: (N, J, S*S).
  flat = np.moveaxis(heatmaps.reshape(-1, rows, cols, joints), -1, 1)
  n = flat.shape[0]
  best = np.argmax(flat.reshape(n, joints, rows * cols), axis=-1)
  y, x = np.divmod(best, cols)
  xy = np.stack([x, y], axis=-1).astype(np.float32)
  if refine:
    ni, ji = np.meshgrid(np.arange(n), np.arange(joints), indexing="ij")

    def value(yy, xx):
      return flat[ni, ji, np.clip(yy, 0, rows - 1), np.clip(xx, 0, cols - 1)]

    interior_x = (x > 0) & (x < cols - 1)
    interior_y = (y > 0) & (y < rows - 1)
    dx = np.sign(value(y, x + 1) - value(y, x - 1)) * interior_x
    dy = np.sign(value(y + 1, x) - value(y - 1, x)) * interior_y
    xy += 0.25 * np.stack([dx, dy], axis=-1).astype(np.float32)
  return xy.reshape(*lead, joints, 2)


def decode_to_image(heatmaps: np.ndarray, image_shape: Tuple[int, int],
                    refine: bool = True) -> np.ndarray:
  """`decode` converted to image pixel coordinates (..., J, 2)."""
  size = np.asarray(heatmaps).shape[-2]
  return heatmap_to_image(decode(heatmaps, refine), image_shape, size)
