"""The hand's depth, capsule by capsule, on the pixels a crop samples.

Only the output's pixels are rendered: output pixel (r, c) shows the frame
pixel that :func:`data.nyu_hand.crop_image`'s nearest-neighbour resampling
picks, so a small image is exactly a subsampling of a large one.
"""

from typing import Dict, Tuple

import numpy as np

from data.embedded.hands import kinect
from data.embedded.hands import kinematics

_F32 = np.float32


def sampled_pixels(box: np.ndarray, image_shape: Tuple[int, int]):
  """Frame pixel rows (n, H) and columns (n, W) that the crop samples."""
  height, width = image_shape
  x0, y0, side = (box[:, i:i + 1] for i in range(3))
  rows = np.floor(y0 + (np.arange(height) + 0.5) * side / height)
  cols = np.floor(x0 + (np.arange(width) + 0.5) * side / width)
  return rows.astype(np.int64), cols.astype(np.int64)


def render_capsules(camera: np.ndarray, capsules: np.ndarray,
                    box: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                    image_shape: Tuple[int, int], real: bool
                   ) -> Dict[str, np.ndarray]:
  """Per-pixel nearest capsule surface.

  For a pixel's ray q (normalised image plane) and a capsule with axis AB
  and radius r, the axis point P nearest to q in the image plane is taken
  (exact for a sphere, close for a hand's short capsules); with d the
  distance of q to the projected axis and z the depth of P, the ray meets
  the capsule at ``z - sqrt(r^2 - (d z)^2)``. Along- and across-axis
  coordinates are sums of a row term and a column term, so most of the
  work is on (n, W) and (n, H) arrays.

  Each capsule is evaluated only in a window around its projection (the
  same window size for the batch, placed per image), so the work follows
  the hand's area rather than the image's; a pixel's value is computed the
  same way whatever window covers it, so it does not depend on the batch.

  Returns:
    ``depth`` (n, H, W) float32 mm (inf off the hand); for `real` also
    ``inside``: the max over capsules of the signed distance (frame px) to
    the capsule's outline, > 0 on the hand; near the silhouette it is the
    distance to it.
  """
  n = len(camera)
  height, width = image_shape
  out = {"depth": np.full((n, height, width), np.inf, _F32)}
  if real:
    out["inside"] = np.full((n, height, width), -np.inf, _F32)
  ray_x = ((cols - kinematics.CX) / kinematics.FX).astype(_F32)
  ray_y = ((rows - kinematics.CY) / kinematics.FY).astype(_F32)
  # Output pixels per frame pixel, and the window margin: the radius, the
  # real edge band, nearest-neighbour sampling (< 1 frame px) and rounding.
  zoom_u, zoom_v = width / box[:, 2], height / box[:, 2]
  x0, y0 = box[:, 0], box[:, 1]
  band = (kinect.BAND if real else 0.0) + 1.0
  images = np.arange(n)
  ends_all = kinematics.project(camera)
  for k in range(capsules.shape[1]):
    ia, ib = int(capsules[0, k, 0]), int(capsules[0, k, 1])
    ends = ends_all[:, [ia, ib]]  # (n, 2, 3) u, v, d
    radius = capsules[:, k, 2]
    out_u = (ends[..., 0] + 0.5 - x0[:, None]) * zoom_u[:, None] - 0.5
    out_v = (ends[..., 1] + 0.5 - y0[:, None]) * zoom_v[:, None] - 0.5
    # In frame px.
    reach = radius * kinematics.FX / ends[..., 2].min(axis=1) + band
    lo_u = np.floor(out_u.min(axis=1) - reach * zoom_u - 1).astype(np.int64)
    hi_u = np.ceil(out_u.max(axis=1) + reach * zoom_u + 1).astype(np.int64)
    lo_v = np.floor(out_v.min(axis=1) - reach * zoom_v - 1).astype(np.int64)
    hi_v = np.ceil(out_v.max(axis=1) + reach * zoom_v + 1).astype(np.int64)
    w = int(min(width, max(1, (hi_u - lo_u).max() + 1)))
    h = int(min(height, max(1, (hi_v - lo_v).max() + 1)))
    off_u = np.clip(lo_u, 0, width - w)
    off_v = np.clip(lo_v, 0, height - h)
    win_u = off_u[:, None] + np.arange(w)
    win_v = off_v[:, None] + np.arange(h)
    # Per-image constants of the projected axis (normalised image plane):
    # start a, unit direction, length.
    a = camera[images, ia].astype(_F32)
    b = camera[images, ib].astype(_F32)
    ax, ay = a[:, 0] / a[:, 2], a[:, 1] / a[:, 2]
    ex, ey = b[:, 0] / b[:, 2] - ax, b[:, 1] / b[:, 2] - ay
    length = np.sqrt(ex * ex + ey * ey)
    # An axis seen end-on has no direction: any unit vector will do.
    safe = np.maximum(length, _F32(1e-7))
    dir_x = np.where(length > 1e-7, ex / safe, _F32(1.0))
    dir_y = np.where(length > 1e-7, ey / safe, _F32(0.0))
    qx = np.take_along_axis(ray_x, win_u, axis=1) - ax[:, None]  # (n, w)
    qy = np.take_along_axis(ray_y, win_v, axis=1) - ay[:, None]  # (n, h)
    along = ((qx * dir_x[:, None])[:, None, :] +
             (qy * dir_y[:, None])[:, :, None])
    across = ((qx * -dir_y[:, None])[:, None, :] +
              (qy * dir_x[:, None])[:, :, None])
    t = along * (1.0 / safe)[:, None, None]
    np.clip(t, 0.0, 1.0, out=t)
    along -= t * length[:, None, None]  # beyond the ends
    along *= along
    across *= across
    across += along  # squared image-plane distance to the axis segment
    z_axis = t * (b[:, 2] - a[:, 2])[:, None, None]
    z_axis += a[:, 2][:, None, None]
    r = radius.astype(_F32)[:, None, None]
    height2 = z_axis * z_axis
    height2 *= across
    np.subtract(r * r, height2, out=height2)
    with np.errstate(invalid="ignore"):
      surface = np.sqrt(height2)  # NaN off the capsule
    depth = z_axis - surface
    # Read-modify-write of each image's window through a view of all
    # (h, w) windows of the buffers: a gather of whole rows, several times
    # faster than flat fancy indices.
    window = (images, off_v, off_u)
    if real:
      inside = r / z_axis
      inside -= np.sqrt(across)
      inside *= _F32(kinematics.FX)
      windows = _windows(out["inside"], h, w)
      windows[window] = np.maximum(windows[window], inside, out=inside)
    windows = _windows(out["depth"], h, w)
    # fmin ignores the NaN off the capsule.
    windows[window] = np.fmin(windows[window], depth, out=depth)
  return out


def _windows(buffer: np.ndarray, h: int, w: int) -> np.ndarray:
  """Writable view (n, H - h + 1, W - w + 1, h, w) of all windows of a
  (n, H, W) buffer; index it with one window per image only."""
  n, height, width = buffer.shape
  s0, s1, s2 = buffer.strides
  return np.lib.stride_tricks.as_strided(
      buffer, (n, height - h + 1, width - w + 1, h, w),
      (s0, s1, s2, s1, s2), writeable=True)
