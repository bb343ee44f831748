"""What a Kinect makes of the rendered hand: the real stand-in's depth.

The paper (§3.3): "the main source of noise in real depth images is from
depth discontinuity at the edges", so the effects act mostly at the
silhouette: a jagged, moved edge, drop-outs and flying pixels there and at
grazing angles, the projector's shadow and a few holes; then, kept
moderate, axial noise growing with depth, a low-frequency ripple and
disparity quantisation. The sensor's noise comes from fixed tiles indexed
by frame pixel at offsets hashed from (frame, view), so it belongs to the
sensor's pixels at any output size.
"""

import functools
from typing import Dict

import numpy as np

from data.embedded import streams
from data.embedded.hands import kinematics

# The real Kinect: projector baseline (mm, the projector to the left of the
# camera), disparity resolution (px), jag lattice sizes (frame px), the band
# (frame px) around the silhouette where edge effects act and the surface
# slope (cosine to the view) below which depth starts to drop out.
_BASELINE_MM = 75.0
_DISPARITY_STEP = 1.0 / 8.0
# The jag field: two smooth noises (Gaussian sigma in frame px) mixed.
_JAG_SIGMAS = (1.0, 3.0)
_JAG_WEIGHTS = (0.65, 0.35)
_TILE = 256  # noise tiles: 256 x 256 frame pixels, wrapping (a crop is ~200)
BAND = 4.0
_GRAZING_COS = 0.25
_GRAZING_DROP = 0.4  # drop-out probability where the depth jumps
_F32 = np.float32


@functools.lru_cache(maxsize=1)
def _banks() -> Dict[str, np.ndarray]:
  """Fixed noise tiles of the Kinect (part of the world, not of the seed).

  Indexed by frame pixel (wrapping), with per-image offsets, so the noise
  belongs to the sensor's pixels whatever the crop's resolution, and a
  lookup is one gather instead of a hash per pixel. ``jag``: smooth noise
  (features of about 2 and 6 frame px, std 1) that moves the silhouette;
  ``uniform``: iid [0, 1); ``normal``: iid standard normal.
  """
  rng = np.random.default_rng(20170102)
  freq_y = np.fft.fftfreq(_TILE)[:, None]
  freq_x = np.fft.fftfreq(_TILE)[None, :]

  def smooth(sigma):
    white = rng.standard_normal((_TILE, _TILE))
    response = np.exp(-2.0 * np.pi**2 * sigma**2 * (freq_y**2 + freq_x**2))
    field = np.real(np.fft.ifft2(np.fft.fft2(white) * response))
    return field / field.std()

  jag = _JAG_WEIGHTS[0] * smooth(_JAG_SIGMAS[0]) + _JAG_WEIGHTS[1] * smooth(
      _JAG_SIGMAS[1])
  return {
      "jag": (jag / jag.std()).astype(_F32),
      "uniform": rng.random((_TILE, _TILE), np.float32),
      "normal": rng.standard_normal((_TILE, _TILE), np.float32),
  }


def _tile_offsets(noise_key: np.ndarray, count: int) -> np.ndarray:
  """`count` (row, col) offsets into the tiles per image: (count, 2, n)."""
  offsets = np.empty((count, 2, len(noise_key)), np.int64)
  bits = np.asarray(noise_key, np.uint64)
  for i in range(count):
    bits = streams.splitmix64(bits)
    offsets[i, 0] = (bits & np.uint64(_TILE - 1)).astype(np.int64)
    offsets[i, 1] = ((bits >> np.uint64(20)) &
                     np.uint64(_TILE - 1)).astype(np.int64)
  return offsets


def _min_filter(depth: np.ndarray, radius: int) -> np.ndarray:
  """Min over a (2 radius + 1)^2 window of each image (inf outside)."""
  out = depth.copy()
  for axis in (1, 2):
    source = out.copy()
    for shift in range(1, radius + 1):
      lead = [slice(None)] * 3
      lag = [slice(None)] * 3
      lead[axis], lag[axis] = slice(shift, None), slice(None, -shift)
      np.minimum(out[tuple(lead)], source[tuple(lag)], out=out[tuple(lead)])
      np.minimum(out[tuple(lag)], source[tuple(lead)], out=out[tuple(lag)])
  return out


def kinect_depth(buffers: Dict[str, np.ndarray], rows: np.ndarray,
            cols: np.ndarray, box: np.ndarray, joints_uv: np.ndarray,
            kp: Dict[str, np.ndarray]) -> np.ndarray:
  """What a Kinect makes of the rendered hand: depth in mm (inf = none).

  Args:
    buffers: :func:`data.embedded.hands.capsules.render_capsules`'s
      output with the real channels.
    rows, cols: frame pixels sampled by the crop, (n, H) and (n, W).
    box: (n, 3) crop boxes.
    joints_uv: (n, 14, 2) evaluation joints in frame pixels (hole sites).
    kp: per-image Kinect parameters
      (:func:`data.embedded.hands.parameters.sample_view_parameters`).
  """
  depth = buffers["depth"]
  n, height, width = depth.shape
  on_hand = np.isfinite(depth)
  banks = _banks()
  mask = _TILE - 1
  offsets = _tile_offsets(kp["noise_key"], 5)
  p = {k: np.asarray(v).reshape(n, 1, 1) for k, v in kp.items()
       if k != "noise_key"}

  # Projector shadow: the projector sits to the left, so a surface point
  # right of a nearer one lies in its shadow when the disparity jump (frame
  # px) reaches it. The occluding edge lies somewhere between the nearer
  # pixel and the next sampled one (uniformly, from the sensor's noise), so
  # a downsampled crop shows as much shadow, on average, as the frame.
  shadow = np.zeros(depth.shape, bool)
  zoom = width / box[:, 2]
  reach = int(np.ceil(min(width - 1, np.max(zoom) * 8.0)))
  inverse = np.where(on_hand, 1.0 / depth, 0.0).astype(_F32)
  tile_r = (rows + offsets[0, 0][:, None]) & mask
  tile_c = (cols + offsets[0, 1][:, None]) & mask
  edge = banks["uniform"][tile_r[:, :, None], tile_c[:, None, :]]
  for k in range(1, reach + 1):
    jump = inverse[:, :, :-k] - inverse[:, :, k:]  # left minus this pixel
    jump *= _F32(kinematics.FX * _BASELINE_MM)
    spacing = (cols[:, 1:width - k + 1] - cols[:, :width - k]).astype(_F32)
    distance = edge[:, :, k:] * -spacing[:, None, :]
    distance += (cols[:, k:] - cols[:, :-k]).astype(_F32)[:, None, :]
    shadow[:, :, k:] |= jump > distance
  shadow &= on_hand

  # Surface slope: tan of the angle between the normal and the view, from
  # depth differences over the sampled frame pixels (inf/NaN at jumps).
  with np.errstate(invalid="ignore"):
    padded = np.pad(depth, ((0, 0), (1, 1), (1, 1)), mode="edge")
    step_c = np.maximum(np.diff(np.pad(cols, ((0, 0), (1, 1)), mode="edge"),
                                n=1, axis=1), 1)
    step_c = (step_c[:, 1:] + step_c[:, :-1]).astype(_F32)
    step_r = np.maximum(np.diff(np.pad(rows, ((0, 0), (1, 1)), mode="edge"),
                                n=1, axis=1), 1)
    step_r = (step_r[:, 1:] + step_r[:, :-1]).astype(_F32)
    slope_c = (padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]) / step_c[:, None, :]
    slope_r = (padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]) / step_r[:, :, None]
    tan2 = slope_c * slope_c
    tan2 += slope_r * slope_r
    tan2 *= np.square(_F32(kinematics.FX) / depth)
    steep = ~(tan2 < _F32(1.0 / _GRAZING_COS**2 - 1.0))  # NaN is steep

  # Axial noise growing with depth (Nguyen et al.) and a smooth ripple, on
  # every hand pixel.
  normal = banks["normal"][tile_r[:, :, None], tile_c[:, None, :]]
  metres = np.where(on_hand, depth, _F32(0.0)) * _F32(1e-3)
  metres -= _F32(0.4)
  np.square(metres, out=metres)
  metres *= _F32(1.9)
  metres += _F32(1.2)  # sigma, mm
  normal *= metres
  # ripple * sin(a c + b r + phase), separated into column and row terms.
  angle = kp["ripple_angle"][:, None]
  wave = 2.0 * np.pi / kp["ripple_wavelength"][:, None]
  col_phase = np.cos(angle) * wave * cols + kp["ripple_phase"][:, None]
  row_phase = np.sin(angle) * wave * rows
  amplitude = kp["ripple"][:, None]
  noisy = ((amplitude * np.sin(col_phase)).astype(_F32)[:, None, :] *
           np.cos(row_phase).astype(_F32)[:, :, None])
  noisy += ((amplitude * np.cos(col_phase)).astype(_F32)[:, None, :] *
            np.sin(row_phase).astype(_F32)[:, :, None])
  noisy += normal
  noisy += depth

  # The edge band: around the silhouette and where the surface is steep or
  # the depth jumps.
  inside = buffers["inside"]
  band = (inside < BAND) & (inside > -BAND)
  band |= on_hand & steep
  where = np.flatnonzero(band)
  image = where // (height * width)
  r = rows[image, where // width % height]
  c = cols[image, where % width]

  def lookup(bank, k):
    return banks[bank][(r + offsets[k, 0][image]) & mask,
                       (c + offsets[k, 1][image]) & mask]

  threshold = kp["erosion"][image] + kp["jag"][image] * lookup("jag", 1)
  s = inside.reshape(-1)[where]
  u_drop = lookup("uniform", 2)
  u_fly = lookup("uniform", 3)
  mix = 0.15 + 0.85 * lookup("uniform", 4)
  gap = kp["gap"][image]
  z_band = noisy.reshape(-1)[where]
  kept = s > threshold
  # Inside the moved edge: drop-outs and flying pixels fading inward;
  # steep surfaces and depth jumps drop out too.
  depth_in = s - threshold
  cos = 1.0 / np.sqrt(1.0 + tan2.reshape(-1)[where])  # NaN -> 0 below
  p_drop = kp["drop_rate"][image] * np.exp(-np.maximum(depth_in, 0.0) / 1.2)
  # A Kinect loses about a frame pixel at a jump or a grazing strip; an
  # output pixel of a downsampled crop samples one frame pixel of every
  # 1 / zoom, so it lands on such a pixel that much less often.
  steep_drop = _GRAZING_DROP * np.minimum(zoom[image], 1.0)
  p_drop += np.clip(np.nan_to_num((_GRAZING_COS - cos) / _GRAZING_COS,
                                  nan=1.0), 0.0, 1.0) * steep_drop
  fly_in = u_fly < kp["fly_rate"][image] * 0.6 * np.exp(
      -np.maximum(depth_in, 0.0) / 0.8)
  z_in = np.where(fly_in, z_band + mix * 0.5 * gap, z_band)
  z_in = np.where(u_drop < p_drop, np.inf, z_in)
  # Beyond it, up to 1.5 px: flying pixels between the nearest hand pixel
  # (within 2 output px) and what is behind the hand; farther out nothing.
  near = _min_filter(depth, 2).reshape(-1)[where]
  fly_out = ((s > threshold - 1.5) &
             (u_fly < 0.5 * kp["fly_rate"][image]) &
             np.isfinite(near))
  z_out = np.where(fly_out, near + mix * gap, np.inf)
  result = noisy.reshape(-1)
  result[where] = np.where(kept, z_in, z_out)
  result = result.reshape(depth.shape)
  result[shadow] = np.inf

  # A few small holes near random joints.
  count = np.floor(p["holes"])
  for h in range(2):
    joint = np.minimum((kp[f"hole_joint_{h}"] * 14).astype(int), 13)
    centre = joints_uv[np.arange(n), joint]
    sign = 1 - 2 * h
    dc = cols - (centre[:, 0] + sign * kp["hole_dx"])[:, None]
    dr = rows - (centre[:, 1] + sign * kp["hole_dy"])[:, None]
    distance2 = (dc * dc)[:, None, :] + (dr * dr)[:, :, None]
    hole = (distance2 < np.square(p["hole_radius"])) & (count > h)
    result[hole] = np.inf

  # Disparity quantisation (steps grow as depth squared), whole mm.
  quantum = _F32(kinematics.FX * _BASELINE_MM / _DISPARITY_STEP)
  with np.errstate(divide="ignore"):
    levels = np.rint(quantum / result)  # 0 where there is no depth
    result = np.rint(quantum / levels)  # inf where there is no depth
  return result
