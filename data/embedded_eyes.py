"""The embedded eye world: a generated simulator and a generated "real" domain.

Two sources stand in for UnityEyes (the simulator) and MPIIGaze (the real
eyes) when those data sets are not on disk, so that every command of the
project runs and every table can be reproduced end to end:

    embedded-eyes-sim?split=train|test&n=20000&seed=0
    embedded-eyes-real?split=train|test|labelled&n=20000&seed=0

**Geometry (shared by both domains).** A parametric 3-D eyeball (sclera,
iris as a spherical cap with radial texture, pupil, cornea glint) is rotated
by the gaze and projected orthographically, so the iris ellipse moves and
foreshortens exactly as the gaze label says. Upper and lower eyelids, fixed
to the head, cut out the visible opening; the upper lid drops when the eye
looks down, the lower lid slightly less. The head has a mild pose (pitch,
yaw, roll), translation and scale jitter: the head's yaw and pitch move the
lids against the eyeball (the lid plane sits in front of the eyeball centre),
its roll rotates lids and skin, and none of it touches the gaze label, which
is the eyeball's direction in the camera frame.

**Labels.** ``gaze_x, gaze_y, gaze_z``: a unit vector in the MPIIGaze
normalised camera frame (x right, y down, z forward), from the eye to the
target, so ``z < 0``; ``pitch = arcsin(-y)``, ``yaw = arctan2(-x, -z)``.
Pitch is uniform in ``PITCH_RANGE_DEG`` and yaw in ``YAW_RANGE_DEG``, about
the range of MPIIGaze (people look down at a screen below the camera).

**The simulator** (``embedded-eyes-sim``) renders the way a renderer does:
smooth shading under one fixed neutral light, anti-aliased edges, a small
round glint, no noise. Always labelled; ``split=train`` (default) and
``split=test``.

**The real stand-in** (``embedded-eyes-real``) draws the same geometry from
other seed streams and adds what a renderer misses and a webcam has. The gap
is mostly *local and bound to structure*: eyelashes along the upper lid,
darker and thicker lid margins and crease, skin and pore texture, sclera
veins and darker sclera corners, iris crypts, a rectangular screen
reflection on the cornea; then the camera: a per-image tone curve (gamma),
blur, sensor noise (read and shot) and JPEG compression. Per-image exposure
and directional light are kept moderate on purpose: a gap that photometric
augmentation alone closes would not test a refiner (a prototype of this
world found exactly that). Splits:

* ``train`` (default): unlabelled (the frame holds only ``filename``), the
  refiner's real data, as MPIIGaze is used in the paper;
* ``test``: labelled, disjoint from train, the evaluation set;
* ``labelled``: a labelled training set disjoint from test, for the
  "trained on real" upper bound that a real data set cannot give without
  spending its labels.

Every image is a pure function of ``(seed, domain, split, index)``:
parameters come from a counter-based hash and textures from fixed banks,
so any subset reads identically, nothing large is held in memory and the
labels of all N images exist without rendering anything. Images are
quantised to 8 bits (as PNG or JPEG files would be) and returned in
``[-1, 1]``. The geometry is defined on a canonical 35x55 canvas and drawn
at any ``image_size``.
"""

import concurrent.futures
import functools
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from data import source as source_lib
from data import specs

CANONICAL_SHAPE = (35, 55)
PITCH_RANGE_DEG = (-25.0, 10.0)
YAW_RANGE_DEG = (-30.0, 30.0)
SIM = "embedded-eyes-sim"
REAL = "embedded-eyes-real"
SPLITS = {SIM: ("train", "test"), REAL: ("train", "test", "labelled")}
DEFAULT_N = {
    (SIM, "train"): 20000,
    (SIM, "test"): 5000,
    (REAL, "train"): 20000,
    (REAL, "test"): 5000,
    (REAL, "labelled"): 20000,
}
# Each (domain, split) draws from its own hash stream, so splits and domains
# never share an image even with the same seed.
_STREAM_IDS = {
    (SIM, "train"): 1,
    (SIM, "test"): 2,
    (REAL, "train"): 3,
    (REAL, "test"): 4,
    (REAL, "labelled"): 5,
}
_DIRECTORIES = {
    (SIM, "train"): "sim_train",
    (SIM, "test"): "sim_test",
    (REAL, "train"): "real_train",
    (REAL, "test"): "real_test",
    (REAL, "labelled"): "real_labelled",
}
_OPTIONS = ("n", "seed", "split")
# Images rendered per NumPy pass; chunks are spread over a small thread pool
# (NumPy and OpenCV release the GIL on these array sizes). Measured on the
# 2-core AVX2 VM (real stand-in, best of 3 reads of 16,000 images): chunks of
# 64 -> 4,660 img/s, 128 -> 6,000, 256 -> 6,670, 512 -> 5,890; smaller chunks
# pay Python overhead per NumPy call, larger ones fall out of cache.
_CHUNK = 256
_THREADS = 2

# Per-image parameters: (name, low, high), each drawn uniformly from its own
# hash column. Append only: the column of a name is its position here.
_PARAMETERS = (
    # Gaze and head (degrees), placement (canonical pixels), scale.
    ("pitch", PITCH_RANGE_DEG[0], PITCH_RANGE_DEG[1]),
    ("yaw", YAW_RANGE_DEG[0], YAW_RANGE_DEG[1]),
    ("head_pitch", -8.0, 8.0),
    ("head_yaw", -12.0, 12.0),
    ("head_roll", -7.0, 7.0),
    ("scale", 0.9, 1.1),
    ("shift_x", -2.0, 2.0),
    ("shift_y", -1.5, 1.5),
    ("openness", -0.8, 0.8),
    # Anatomy and albedo (gray levels in [0, 1]).
    ("iris_angle", 27.0, 32.0),
    ("pupil_fraction", 0.3, 0.45),
    ("skin_tone", 0.5, 0.72),
    ("iris_tone", 0.17, 0.42),
    ("sclera_tone", 0.78, 0.9),
    ("iris_phase", 0.0, 1.0),
    ("texture", 0.0, 1.0),
    ("texture_x", 0.0, 1.0),
    ("texture_y", 0.0, 1.0),
    # The real camera and the things a renderer misses.
    ("lash_phase", 0.0, 1.0),
    ("lash_strength", 0.55, 0.85),
    ("reflection_x", -2.0, 2.0),
    ("reflection_y", -2.5, 0.5),
    ("reflection_width", 1.8, 3.5),
    ("reflection_height", 1.0, 2.2),
    ("reflection_gain", 0.2, 0.45),
    ("exposure", 0.92, 1.1),
    ("light_angle", 0.0, 2.0 * np.pi),
    ("light_gradient", 0.0, 0.1),
    ("gamma", 0.85, 1.2),
    ("blur", 0.35, 0.85),
    ("read_noise", 0.008, 0.022),
    ("shot_noise", 0.01, 0.03),
    ("jpeg_quality", 40.0, 85.0),
    ("noise_offset", 0.0, 1.0),
)
_PARAMETER_NAMES = tuple(name for name, _, _ in _PARAMETERS)

# Fixed light of the scene, a unit vector from the surface to the light: a
# little right of and above the camera. Python floats, so that NumPy keeps
# the float32 arrays float32.
_LIGHT = tuple(
    float(c) for c in np.array([0.15, -0.35, -0.92]) / np.linalg.norm(
        [0.15, -0.35, -0.92]))
# Halfway between the light and the view (toward the camera, -z): the
# normal of the cornea where the light's glint appears.
_HALF = tuple(
    float(c) for c in (np.array(_LIGHT) + [0.0, 0.0, -1.0]) / np.linalg.norm(
        np.array(_LIGHT) + [0.0, 0.0, -1.0]))
# Eyeball radius, eye half-width (corner to centre) and lid-plane depth in
# front of the eyeball centre, in canonical pixels (at scale 1): a 55-pixel
# wide crop spans 1.7 eye widths, as GazeML-style crops do.
_EYEBALL_RADIUS = 13.0
_EYE_HALF_WIDTH = 16.0
_LID_DEPTH = 0.85 * _EYEBALL_RADIUS
# Texture banks: few, small, periodic tiles (they must stay in cache).
_BANK_TILES = 2
_TILE = 128
_IRIS_TEXELS = 56.0  # iris rim radius in the iris tile, in texels
_PUPIL = 0.05  # radiance of the pupil
_NOISE_BANK = 1 << 20
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def _splitmix64(x: np.ndarray) -> np.ndarray:
  """SplitMix64 finaliser on uint64 arrays (wraps modulo 2**64)."""
  x = x + np.uint64(_GOLDEN)
  x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
  x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
  return x ^ (x >> np.uint64(31))


def stream_key(seed: int, domain: str, split: str) -> int:
  """The 64-bit key of one (seed, domain, split) stream."""
  seed_hash = _splitmix64(np.array([int(seed) & _MASK64], np.uint64))
  mixed = _splitmix64(seed_hash ^ np.uint64(_STREAM_IDS[domain, split]))
  return int(mixed[0])


def sample_parameters(key: int, indices: np.ndarray,
                      names: Sequence[str] = _PARAMETER_NAMES
                     ) -> Dict[str, np.ndarray]:
  """Per-image parameters of images `indices` of stream `key` (float64, (n,)).

  Counter-based: image i of a stream gets the i-th output of a SplitMix64
  sequence started at the stream's key, and its parameter j a hash of that
  and j. So a parameter does not depend on which other images are drawn
  with it, nor on which other parameters are asked for (`names`, default
  all); two streams (random 64-bit keys) would have to start within a
  stream's length of each other to share an image.
  """
  indices = np.asarray(indices, np.int64).reshape(-1).astype(np.uint64)
  base = _splitmix64(np.uint64(key) + indices * np.uint64(_GOLDEN))
  out = {}
  for name in names:
    j = _PARAMETER_NAMES.index(name)
    _, low, high = _PARAMETERS[j]
    bits = _splitmix64(base + np.uint64((j * _GOLDEN) & _MASK64))
    uniform = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    out[name] = low + (high - low) * uniform
  return out


def gaze_vectors(pitch_deg: np.ndarray, yaw_deg: np.ndarray) -> np.ndarray:
  """(pitch, yaw) in degrees -> unit gaze vectors (n, 3), MPIIGaze frame.

  The inverse of ``pitch = arcsin(-y)``, ``yaw = arctan2(-x, -z)``:
  ``v = (-cos(pitch) sin(yaw), -sin(pitch), -cos(pitch) cos(yaw))``.
  """
  pitch = np.radians(np.asarray(pitch_deg, np.float64))
  yaw = np.radians(np.asarray(yaw_deg, np.float64))
  return np.stack([
      -np.cos(pitch) * np.sin(yaw), -np.sin(pitch), -np.cos(pitch) * np.cos(yaw)
  ], axis=-1)


def pitch_yaw_degrees(vectors: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Unit gaze vectors (n, 3) -> (pitch, yaw) in degrees (MPIIGaze)."""
  vectors = np.asarray(vectors, np.float64)
  pitch = np.degrees(np.arcsin(np.clip(-vectors[:, 1], -1.0, 1.0)))
  yaw = np.degrees(np.arctan2(-vectors[:, 0], -vectors[:, 2]))
  return pitch, yaw


@functools.lru_cache(maxsize=1)
def _banks() -> Dict[str, np.ndarray]:
  """Fixed texture banks (part of the world, not of the seed).

  Tiles are periodic (filtered in the Fourier domain) so lookups wrap
  without seams, and few and small so that lookups stay in cache. Skin:
  mottling plus sparse pores; veins: thin random walks; iris: streaks along
  the radius around the tile centre (radius `_IRIS_TEXELS` = the iris rim);
  crypts: fine blotches; noise: standard normal samples for the sensor.
  """
  rng = np.random.default_rng(20170101)
  freq_y = np.fft.fftfreq(_TILE)[:, None]
  freq_x = np.fft.fftfreq(_TILE)[None, :]

  def periodic_noise(sigma_y, sigma_x):
    white = rng.standard_normal((_BANK_TILES, _TILE, _TILE))
    response = np.exp(-2.0 * np.pi**2 *
                      (sigma_y**2 * freq_y**2 + sigma_x**2 * freq_x**2))
    smooth = np.real(np.fft.ifft2(np.fft.fft2(white) * response))
    return smooth / smooth.std(axis=(1, 2), keepdims=True)

  skin = 0.7 * periodic_noise(1.2, 1.2) + 0.5 * periodic_noise(4.0, 4.0)
  pores = (rng.random((_BANK_TILES, _TILE, _TILE)) < 0.03).astype(np.float64)
  pores = np.real(
      np.fft.ifft2(
          np.fft.fft2(pores) * np.exp(-2.0 * np.pi**2 * 0.8**2 *
                                      (freq_y**2 + freq_x**2))))
  skin -= 4.0 * pores
  skin = (skin - skin.mean()) / skin.std()

  veins = np.zeros((_BANK_TILES, _TILE, _TILE), np.float32)
  for tile in veins:
    for _ in range(10):
      point = rng.uniform(0, _TILE, 2)
      heading = rng.uniform(0, 2 * np.pi)
      path = []
      for _ in range(40):
        heading += rng.normal(0.0, 0.35)
        point = point + 1.5 * np.array([np.cos(heading), np.sin(heading)])
        path.append(point.copy())
      path = np.round(np.array(path) * 16).astype(np.int32)
      cv2.polylines(tile, [path], False, float(rng.uniform(0.5, 1.0)), 1,
                    cv2.LINE_AA, shift=4)
  veins = np.clip(cv2.GaussianBlur(veins.transpose(1, 2, 0), (0, 0), 0.6),
                  0, 1).transpose(2, 0, 1)

  # Iris streaks: noise long along the radius (rows) and short along the
  # angle (columns, periodic), warped from polar to Cartesian texels.
  polar = periodic_noise(8.0, 2.5)
  offsets = np.arange(_TILE) - _TILE / 2 + 0.5
  texel_radius = np.hypot(offsets[:, None], offsets[None, :])
  texel_angle = np.arctan2(offsets[:, None], offsets[None, :])
  rows = np.minimum(texel_radius * (_TILE / 2 / _IRIS_TEXELS),
                    _TILE - 1).astype(np.int64)
  cols = np.floor(texel_angle / (2 * np.pi) * _TILE).astype(np.int64) % _TILE
  iris = polar[:, rows, cols]
  crypts = periodic_noise(3.0, 3.0)
  return {
      "skin": skin.astype(np.float32).reshape(-1),
      "veins": veins.astype(np.float32).reshape(-1),
      "iris": iris.astype(np.float32).reshape(-1),
      "crypts": crypts.astype(np.float32).reshape(-1),
      "noise": rng.standard_normal(_NOISE_BANK).astype(np.float32),
  }


def _texel_index(tile: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray) -> np.ndarray:
  """Flat index of the nearest texel of a bank tile, wrapping around."""
  rows = np.floor(rows).astype(np.int32)
  rows &= _TILE - 1
  rows *= _TILE
  cols = np.floor(cols).astype(np.int32)
  cols &= _TILE - 1
  rows += cols
  rows += tile * (_TILE * _TILE)
  return rows


# In-place profiles on float32 arrays. NumPy's clip is vectorised where
# maximum/minimum against a scalar are not, hence clip with finite bounds.
_BIG = 3e38


def _coverage(distance: np.ndarray) -> np.ndarray:
  """Coverage of a pixel by the inside of an edge `distance` pixels away."""
  distance += 0.5
  return np.clip(distance, 0.0, 1.0, out=distance)


def _bump(z: np.ndarray) -> np.ndarray:
  """(1 - z^2)^2 for |z| < 1, else 0: a cheap, smooth, Gaussian-like bump."""
  np.square(z, out=z)
  np.subtract(1.0, z, out=z)
  np.clip(z, 0.0, 1.0, out=z)
  return np.square(z, out=z)


def _decay(distance: np.ndarray) -> np.ndarray:
  """1 / (1 + |d|)^2: a cheap falloff with distance, 1 at d = 0."""
  np.abs(distance, out=distance)
  distance += 1.0
  np.reciprocal(distance, out=distance)
  return np.square(distance, out=distance)


def _lids(p, x, y, pixel):
  """Head-fixed lid geometry, in head coordinates rotated by the roll.

  Returns a dict with u (along the eye), v (down), t = u / half width,
  t2 = t^2, q = max(1 - t^2, 0), the corner line, the upper lid height,
  above_upper / below_lower (signed distances in output pixels, > 0 outside
  the opening) and opening (the pixel's coverage by the opening).
  """
  scale = p["scale"]
  head_pitch, head_yaw = np.radians(p["head_pitch"]), np.radians(p["head_yaw"])
  # The lid plane sits in front of the eyeball centre, so head pitch and yaw
  # move the lids against the eyeball along the head's facing direction.
  lid_x = p["shift_x"] - (_LID_DEPTH * np.cos(head_pitch) *
                          np.sin(head_yaw)) * scale
  lid_y = p["shift_y"] - (_LID_DEPTH * np.sin(head_pitch)) * scale
  roll = np.radians(p["head_roll"])
  cos_roll, sin_roll = np.cos(roll), np.sin(roll)
  dx, dy = x - lid_x, y - lid_y
  u = cos_roll * dx + sin_roll * dy
  v = cos_roll * dy - sin_roll * dx
  half_width = _EYE_HALF_WIDTH * scale * np.cos(head_yaw)
  t = u * (1.0 / half_width)
  t2 = t * t
  q = np.subtract(1.0, t2)
  np.clip(q, 0.0, 1.0, out=q)
  # The lids follow the eye's pitch relative to the head: the upper lid
  # drops a lot when looking down, the lower one a little.
  relative_pitch = p["pitch"] - p["head_pitch"]
  upper_height = np.clip(
      scale * (5.8 + 0.13 * relative_pitch + p["openness"]), 1.2, _BIG)
  lower_height = np.clip(
      scale * (5.0 - 0.05 * relative_pitch + 0.5 * p["openness"]), 1.0, _BIG)
  corner_line = t * (-1.0 * scale)  # the outer corner (image right) is higher
  upper = t * (0.18 * upper_height)
  upper -= upper_height
  upper *= q
  upper += corner_line
  above_upper = upper - v
  above_upper *= 1.0 / pixel
  lower = t * (0.12 * lower_height)
  lower += lower_height
  lower *= q
  lower += corner_line
  below_lower = v - lower
  below_lower *= 1.0 / pixel
  # Exact coverage of the pixel's vertical extent by the band between the
  # lids: zero where they meet, so no seam runs on past the corners.
  opening = np.clip(above_upper, -0.5, _BIG)
  np.negative(opening, out=opening)
  opening -= np.clip(below_lower, -0.5, _BIG)
  np.clip(opening, 0.0, 1.0, out=opening)
  return dict(u=u, v=v, t=t, t2=t2, q=q, corner_line=corner_line,
              upper_height=upper_height, above_upper=above_upper,
              below_lower=below_lower, opening=opening)


# Lid quantities and parameters that the eyeball's shading reads.
_EYE_LID_KEYS = ("t", "t2", "above_upper", "below_lower", "skin_texel")
_EYE_PARAMETERS = ("pitch", "yaw", "scale", "shift_x", "shift_y",
                   "iris_angle", "pupil_fraction", "iris_phase", "texture",
                   "iris_tone", "sclera_tone", "skin_tone", "reflection_x",
                   "reflection_y", "reflection_width", "reflection_height",
                   "reflection_gain")


def _eyeball(p, x, y, pixel, lids, real, banks):
  """Radiance of the eyeball (sclera, iris, pupil, glint), lid shadows included.

  The eyeball is a unit sphere of radius R seen orthographically; the iris
  and pupil are caps around the gaze direction, so their ellipses move and
  foreshorten exactly as the gaze label says. Elementwise on arrays of any
  (broadcastable) shape: parameters, coordinates and `lids` entries per
  pixel or per image.
  """
  f32 = np.float32
  scale = p["scale"]
  pitch, yaw = np.radians(p["pitch"]), np.radians(p["yaw"])
  gx = -np.cos(pitch) * np.sin(yaw)
  gy = -np.sin(pitch)
  gz = -np.cos(pitch) * np.cos(yaw)
  radius = _EYEBALL_RADIUS * scale
  centre_x, centre_y = p["shift_x"], p["shift_y"]
  sx = (x - centre_x) / radius
  sy = (y - centre_y) / radius
  r2 = sx * sx + sy * sy
  # Beyond the silhouette (the opening reaches past it at the corners) the
  # surface is seen edge-on: unit normal in the image plane.
  sz = np.clip(r2, 0.0, 1.0)
  np.subtract(1.0, sz, out=sz)
  np.sqrt(sz, out=sz)
  np.negative(sz, out=sz)
  np.clip(r2, 1.0, _BIG, out=r2)
  inverse = np.sqrt(r2, out=r2)
  np.divide(1.0, inverse, out=inverse)
  sx = sx * inverse
  sy = sy * inverse
  cos_angle = sx * gx
  cos_angle += sy * gy
  cos_angle += sz * gz
  iris_angle = np.radians(p["iris_angle"])
  pupil_angle = iris_angle * p["pupil_fraction"]
  cos_iris, cos_pupil = np.cos(iris_angle), np.cos(pupil_angle)
  # Edges one output pixel wide: d(cos angle)/d(pixel) at each rim.
  iris_gain = radius / (pixel * np.tan(iris_angle))
  iris_alpha = _coverage(cos_angle * iris_gain - cos_iris * iris_gain)
  pupil_gain = radius / (pixel * np.tan(pupil_angle))
  pupil_alpha = _coverage(cos_angle * pupil_gain - cos_pupil * pupil_gain)
  # Radial position in the iris, 0 at the centre and 1 at the rim.
  radial = (1.0 - cos_angle) * (1.0 / (1.0 - cos_iris))
  np.clip(radial, 0.0, 1.0, out=radial)
  np.sqrt(radial, out=radial)
  # Iris texture in the iris plane: axes e1, e2 perpendicular to g, turned
  # by the iris phase and scaled so that the rim is _IRIS_TEXELS out.
  norm = np.sqrt(gx * gx + gz * gz)
  e1x, e1z = -gz / norm, gx / norm
  e2x, e2y, e2z = gy * e1z, gz * e1x - gx * e1z, -gy * e1x  # g x e1
  phase = p["iris_phase"] * f32(2 * np.pi)
  gain = _IRIS_TEXELS / np.sin(iris_angle)
  cos_phase, sin_phase = np.cos(phase) * gain, np.sin(phase) * gain
  iris_u = sx * (cos_phase * e1x - sin_phase * e2x)
  iris_u += sy * (-sin_phase * e2y)
  iris_u += sz * (cos_phase * e1z - sin_phase * e2z)
  iris_u += _TILE / 2
  iris_v = sx * (sin_phase * e1x + cos_phase * e2x)
  iris_v += sy * (cos_phase * e2y)
  iris_v += sz * (sin_phase * e1z + cos_phase * e2z)
  iris_v += _TILE / 2
  tile = (np.floor(p["texture"] * _BANK_TILES).astype(np.int32) %
          _BANK_TILES)
  iris_texel = _texel_index(tile, iris_v, iris_u)
  iris = np.take(banks["iris"], iris_texel)
  iris *= 0.16
  iris += 1.0
  iris *= p["iris_tone"]
  collarette = _bump((radial - 0.55) * 5.5)
  collarette *= 0.25
  collarette += 1.0
  iris *= collarette
  limbus_dark = 0.6 if real else 0.35
  limbus = radial - 0.78
  limbus *= -limbus_dark * 4.5
  limbus += 1.0
  np.clip(limbus, 1.0 - limbus_dark, 1.0, out=limbus)
  iris *= limbus
  if real:
    crypts = np.take(banks["crypts"], iris_texel)
    crypts *= 0.22
    crypts += 1.0
    iris *= crypts
  # Lambert shading under the fixed light.
  lambert = sx * _LIGHT[0]
  lambert += sy * _LIGHT[1]
  lambert += sz * _LIGHT[2]
  np.clip(lambert, 0.0, 1.0, out=lambert)
  eye = lambert * 0.45
  eye += 0.55
  eye *= p["sclera_tone"]
  lambert *= 0.2
  lambert += 0.8
  iris *= lambert
  iris -= eye
  iris *= iris_alpha
  eye += iris
  eye -= _PUPIL
  eye *= 1.0 - pupil_alpha
  eye += _PUPIL

  # Shadow of the upper lid on the eyeball, a lighter one of the lower lid,
  # darker corners (the sclera turns away from the light there).
  t, t2 = lids["t"], lids["t2"]
  shadow = _decay(np.clip(lids["above_upper"], -_BIG, 0.0) *
                  (pixel / (1.3 * scale)))
  shadow *= -(0.45 if real else 0.3)
  shadow += 1.0
  eye *= shadow
  shadow = _decay(np.clip(lids["below_lower"], -_BIG, 0.0) * (pixel / scale))
  shadow *= -0.12
  shadow += 1.0
  eye *= shadow
  corner = np.abs(t)
  corner *= t2
  corner *= -(0.45 if real else 0.2)
  corner += 1.0
  eye *= corner
  if real:
    veins = np.take(banks["veins"], lids["skin_texel"])
    veins *= 1.0 - iris_alpha
    veins *= 0.3 + np.abs(t)
    veins *= -0.35
    veins += 1.0
    eye *= veins
  caruncle = t * (-1.0 / 0.15)
  caruncle -= 0.72 / 0.15
  np.clip(caruncle, 0.0, 1.0, out=caruncle)
  eye += caruncle * (0.8 * p["skin_tone"] - eye)

  # Glint: the fixed light's reflection on the cornea (a sphere in front of
  # the eyeball centre) where the cornea's normal halves light and view.
  cornea = cos_angle - cos_iris
  cornea *= 20.0
  cornea += 1.0
  np.clip(cornea, 0.0, 1.0, out=cornea)
  glint_x = centre_x + radius * (0.5 * gx + 0.45 * _HALF[0])
  glint_y = centre_y + radius * (0.5 * gy + 0.45 * _HALF[1])
  glint_size = 1.0 / np.clip(1.1 * scale, pixel, _BIG)
  glint = _bump((x - glint_x) * glint_size)
  glint = glint * _bump((y - glint_y) * glint_size)
  glint *= cornea
  eye += glint * (0.7 if real else 0.9)
  if real:
    # A screen reflected on the cornea: a soft bright rectangle.
    reflect_x = centre_x + radius * 0.5 * gx + p["reflection_x"] * scale
    reflect_y = centre_y + radius * 0.5 * gy + p["reflection_y"] * scale
    box_x = _coverage((p["reflection_width"] * scale / 2 -
                       np.abs(x - reflect_x)) * (1.0 / pixel))
    box_y = _coverage((p["reflection_height"] * scale / 2 -
                       np.abs(y - reflect_y)) * (1.0 / pixel))
    cornea *= box_x
    cornea *= box_y
    cornea *= p["reflection_gain"]
    eye += cornea
  return eye


def _skin(p, pixel, lids, real, banks):
  """Radiance of the skin: socket, crease, lid bulge, lid margins, texture."""
  scale = p["scale"]
  u, v, t2 = lids["u"], lids["v"], lids["t2"]
  skin = v * (0.005 / scale)
  skin += 1.0
  skin *= p["skin_tone"]
  # Eye socket: a little darker around the eye.
  socket = _bump(v * (1.0 / (16.0 * scale)))
  socket *= _bump(u * (1.0 / (30.0 * scale)))
  socket *= -0.1
  socket += 1.0
  skin *= socket
  # Lid fold: a crease above the upper lid and a lit lid bulge below it.
  crease_extent = t2 * (-1.0 / 1.25**2)
  crease_extent += 1.0
  np.clip(crease_extent, 0.0, 1.0, out=crease_extent)
  crease = crease_extent * (lids["upper_height"] + 3.2 * scale)
  crease += v
  crease -= lids["corner_line"]  # v minus the height of the crease
  crease = _bump(crease * (1.0 / ((2.2 if real else 1.6) * scale)))
  crease *= np.sqrt(crease_extent)
  crease *= -(0.28 if real else 0.12)
  crease += 1.0
  skin *= crease
  # Lid features fade out just beyond the corners.
  extent = t2 * (-1.0 / 1.1**2)
  extent += 1.0
  np.clip(extent, 0.0, 1.0, out=extent)
  np.sqrt(extent, out=extent)
  bulge = lids["above_upper"] * (pixel / (2.8 * scale))
  bulge -= 1.6 / 2.8
  bulge = _bump(bulge)
  bulge *= extent
  bulge *= 0.06
  bulge += 1.0
  skin *= bulge
  # Lid margins: the lids' thickness seen from the front.
  margin = pixel / ((1.1 if real else 0.5) * scale)
  margins = _decay(lids["above_upper"] * margin)
  margins += 0.6 * _decay(lids["below_lower"] * margin)
  margins *= extent
  margins *= -(0.45 if real else 0.18)
  margins += 1.0
  skin *= margins
  if real:
    texture = np.take(banks["skin"], lids["skin_texel"])
    texture *= 0.07
    texture += 1.0
    skin *= texture
  return skin


def _lashes(p, pixel, lids):
  """Transmission (1 = none) of the eyelashes: dark strands rooted along
  the upper margin, fanning outward and hanging a little over the opening;
  shorter, fainter lower lashes."""
  scale = p["scale"]
  u, t, q = lids["u"], lids["t"], lids["q"]
  height = lids["above_upper"] * pixel  # canonical pixels above the margin
  rooted = np.clip(height, 0.0, _BIG)
  # Strands: a triangle wave across u, sheared outward with the height.
  strand = rooted * 0.7
  strand *= t
  strand += u
  strand *= 1.0 / (1.2 * scale)
  strand += p["lash_phase"]
  strand -= np.floor(strand)
  strand -= 0.5
  np.abs(strand, out=strand)
  np.square(strand, out=strand)
  strand *= 4.0  # 1 on a strand, 0 between strands
  length = np.sqrt(q)
  length *= 3.5 * scale
  upper = _decay(rooted * (1.0 / (1.5 * scale)))
  upper *= (height > -1.0 * scale) & (height < length)
  upper *= 0.35 + 0.65 * strand
  lower = lids["below_lower"] * pixel - 0.6 * scale
  lower = _decay(lower * (1.0 / (0.8 * scale)))
  lower *= np.sqrt(q)
  lower *= 0.35 * strand
  upper += lower
  upper *= p["lash_strength"]
  upper *= q > 0.02
  np.clip(upper, 0.0, 0.95, out=upper)
  np.subtract(1.0, upper, out=upper)
  return upper


def render_eyes(params: Dict[str, np.ndarray], image_shape: Tuple[int, int],
                real: bool) -> np.ndarray:
  """Renders eyes from per-image parameters as uint8 (n, H, W).

  Every pixel of every image of the batch is computed at once (arrays of
  shape (n, H, W)); per-image quantities broadcast as (n, 1, 1).

  Args:
    params: per-image parameters as returned by `sample_parameters` (any
      entry may be overridden, e.g. to render a chosen gaze).
    image_shape: (height, width) of the output; the scene is defined on the
      canonical 35x55 canvas and drawn at this resolution.
    real: False renders the clean simulator, True the webcam-like stand-in.

  Returns:
    uint8 gray images.
  """
  n = len(params["pitch"])
  height, width = image_shape
  if n == 0:
    return np.zeros((0, height, width), np.uint8)
  banks = _banks()
  f32 = np.float32
  p = {k: np.asarray(v, f32).reshape(-1, 1, 1) for k, v in params.items()}
  # Canonical coordinates of pixel centres, origin at the canvas centre.
  step_x = CANONICAL_SHAPE[1] / width
  step_y = CANONICAL_SHAPE[0] / height
  pixel = max(step_x, step_y)  # canonical size of one output pixel
  x = ((np.arange(width, dtype=f32) + 0.5) * f32(step_x) -
       f32(CANONICAL_SHAPE[1] / 2)).reshape(1, 1, -1)
  y = ((np.arange(height, dtype=f32) + 0.5) * f32(step_y) -
       f32(CANONICAL_SHAPE[0] / 2)).reshape(1, -1, 1)

  lids = _lids(p, x, y, pixel)
  if real:
    # Skin texture and sclera veins are fixed to the head: one lookup.
    tile = (np.floor(p["texture"] * _BANK_TILES).astype(np.int32) %
            _BANK_TILES)
    lids["skin_texel"] = _texel_index(
        tile, lids["v"] * 2.0 + p["texture_y"] * _TILE,
        lids["u"] * 2.0 + p["texture_x"] * _TILE)
  else:
    lids["skin_texel"] = np.zeros(lids["t"].shape, np.int32)
  skin = _skin(p, pixel, lids, real, banks)
  # The eyeball shows only through the opening (about an eighth of the
  # canvas): shade it on those pixels alone, as flat arrays. Every step is
  # elementwise, so a pixel's value does not depend on the batch.
  opening = lids["opening"].reshape(-1)
  visible = np.flatnonzero(opening > 0.0)
  image_of = visible // (height * width)
  row = visible // width % height
  col = visible % width
  eye = _eyeball({k: p[k].reshape(-1)[image_of] for k in _EYE_PARAMETERS},
                 x.reshape(-1)[col], y.reshape(-1)[row], pixel,
                 {k: lids[k].reshape(-1)[visible] for k in _EYE_LID_KEYS},
                 real, banks)
  image = skin
  flat = image.reshape(-1)
  eye -= flat[visible]
  eye *= opening[visible]
  flat[visible] += eye
  if not real:
    image *= 255.0
    np.rint(image, out=image)
    return np.clip(image, 0.0, 255.0, out=image).astype(np.uint8)

  image *= _lashes(p, pixel, lids)
  # Moderate per-image exposure and directional light.
  direction_x = np.cos(p["light_angle"]) / (CANONICAL_SHAPE[1] / 2)
  direction_y = np.sin(p["light_angle"]) / (CANONICAL_SHAPE[0] / 2)
  light = direction_x * x + direction_y * y
  light *= p["light_gradient"]
  light += 1.0
  light *= p["exposure"]
  image *= light
  return _camera(image, p, step_x)


def _camera(image: np.ndarray, p: Dict[str, np.ndarray],
            step_x: float) -> np.ndarray:
  """What the webcam does to the light: blur, noise, tone curve, 8 bits, JPEG.

  Args:
    image: float32 (n, H, W) scene radiance in about [0, 1].
    p: per-image parameters, float32 (n, 1, 1).
    step_x: canonical pixels per output pixel (blur is set in canonical
      pixels: the same optics at every resolution).

  Returns:
    uint8 (n, H, W).
  """
  n, height, width = image.shape
  # Defocus and the lens: OpenCV's Gaussian (its kernel size follows sigma,
  # so each image blurs the same in any batch).
  sigmas = p["blur"].reshape(-1) / step_x
  for i in range(n):
    cv2.GaussianBlur(image[i], (0, 0), float(sigmas[i]), dst=image[i])
  np.clip(image, 0.0, _BIG, out=image)
  # Read noise and shot noise (std grows with the square root of the
  # signal), windows of the fixed bank at per-image offsets.
  size = height * width
  start = (p["noise_offset"].reshape(-1).astype(np.float64) *
           (_NOISE_BANK - 2 * size)).astype(np.int64)
  bank = _banks()["noise"]
  windows = np.lib.stride_tricks.as_strided(
      bank, (len(bank) - 2 * size + 1, 2 * size), bank.strides * 2,
      writeable=False)
  noise = windows[start]
  read = noise[:, :size].reshape(n, height, width)
  shot = noise[:, size:].reshape(n, height, width)
  shot *= np.sqrt(image)
  shot *= p["shot_noise"]
  read *= p["read_noise"]
  image += read
  image += shot
  # The camera's tone curve: a per-image gamma.
  np.clip(image, 1e-4, 1.0, out=image)
  np.log(image, out=image)
  image *= p["gamma"]
  np.exp(image, out=image)
  image *= 255.0
  np.rint(image, out=image)
  image = image.astype(np.uint8)
  # JPEG compression (libjpeg through OpenCV): block and ringing artefacts.
  quality = np.rint(p["jpeg_quality"].reshape(-1)).astype(int)
  for i in range(n):
    ok, encoded = cv2.imencode(".jpg", image[i],
                               [cv2.IMWRITE_JPEG_QUALITY, int(quality[i])])
    if not ok:
      raise RuntimeError("OpenCV could not encode a JPEG image")
    image[i] = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
  return image


class EmbeddedEyeSource(source_lib.ImageSource):
  """One split of one domain of the embedded eye world (rendered on read)."""

  def __init__(self, domain: str, split: str, n: int, seed: int,
               image_shape: Tuple[int, int] = CANONICAL_SHAPE):
    key = stream_key(seed, domain, split)
    directory = _DIRECTORIES[domain, split]
    digits = max(6, len(str(max(n - 1, 0))))
    filenames = [f"{directory}/{i:0{digits}d}.png" for i in range(n)]
    labelled = not (domain == REAL and split == "train")
    labels = None
    if labelled:
      params = sample_parameters(key, np.arange(n), ("pitch", "yaw"))
      labels = gaze_vectors(params["pitch"], params["yaw"]).astype(np.float32)
    frame = source_lib.frame_for(filenames, labels)
    super().__init__(f"{domain}?split={split}&n={n}&seed={seed}", frame,
                     image_shape)
    self.domain = domain
    self.split = split
    self.seed = seed
    self.key = key

  def read(self, indices: np.ndarray) -> np.ndarray:
    """Renders images `indices` (in chunks, on a small thread pool)."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    if len(indices) and (indices.min() < 0 or indices.max() >= len(self)):
      raise IndexError(f"{self.description}: index out of range "
                       f"[0, {len(self)})")
    chunks = [indices[i:i + _CHUNK] for i in range(0, len(indices), _CHUNK)]
    real = self.domain == REAL

    def render(chunk):
      return render_eyes(sample_parameters(self.key, chunk), self.image_shape,
                         real)

    if len(chunks) > 1:
      with concurrent.futures.ThreadPoolExecutor(_THREADS) as pool:
        rendered = list(pool.map(render, chunks))
    else:
      rendered = [render(chunk) for chunk in chunks]
    height, width = self.image_shape
    images = (np.concatenate(rendered) if rendered else np.zeros(
        (0, height, width), np.uint8))
    return source_lib.uint8_to_unit(images)[..., None]


def from_spec(kind: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> EmbeddedEyeSource:
  """Opens `embedded-eyes-sim` or `embedded-eyes-real` with SPEC options.

  Options: ``split`` (sim: train|test; real: train|test|labelled; default
  train), ``n`` (number of images; defaults in `DEFAULT_N`), ``seed``
  (default 0). `image_size` (H, W) renders at that size (default 35x55).
  """
  if kind not in SPLITS:
    raise source_lib.DataError(kind, f"not an embedded eye domain "
                               f"(expected {SIM} or {REAL})")
  split, n, seed = specs.embedded_options(kind, options, _OPTIONS,
                                           SPLITS[kind], DEFAULT_N)
  image_shape = specs.embedded_image_shape(kind, image_size, CANONICAL_SHAPE)
  return EmbeddedEyeSource(kind, split, n, seed, image_shape)
