"""The embedded hand world: generated depth hands that stand in for NYU.

Two sources stand in for the NYU hand pose data set (Tompson et al.) when it
is not on disk, so the hand benchmark runs end to end:

    embedded-hands-sim?split=train|test&n=20000&seed=0&views=1
    embedded-hands-real?split=train|test|labelled&n=20000&seed=0&views=all

``n`` counts *frames*; every frame is seen by up to three cameras, so a
source holds ``n * len(views)`` images.

**The hand (shared by both domains).** A parametric right hand in
millimetres, drawn as a union of capsules (a segment swept by a sphere):
a forearm, a palm of five parallel capsules (30 mm thick, nearly
flat), a thenar pad, four fingers of three phalanges each (flexion at MCP,
PIP and DIP, abduction at MCP) and a thumb chain (two CMC angles, MCP and
IP flexion) whose flexion plane is twisted across the palm. A frame draws a
pose from a mixture of open, fist, pointing, pinch, V and random poses,
with per-joint noise, a global rotation (any yaw: palm or back toward the
front camera; tilt and roll of the fingers from upright), a size and a
position whose distance from the front camera is about 550-850 mm.

**Views.** Three cameras with the NYU intrinsics (fx 588.03) stand on a
fixed rig around the hand, 700 mm from its centre, like NYU's three Kinects:
view 1 in front, view 2 to one side and above (60 deg yaw, 25 deg down),
view 3 to the other side (60 deg yaw the other way, a little below). Images
are frame-major: image ``k`` is frame ``k // V`` seen by ``views[k % V]``,
so ``views=1`` (the paper's "1x") is exactly the view-1 images of the same
frames as ``views=all`` ("3x").

**Rendering and preprocessing, as :mod:`data.nyu_hand` does.** The crop is
the square :func:`data.nyu_hand.crop_box` around the frame's skeleton
points (joint centres, 30 mm margin) in the 640x480 frame; output pixel
(r, c) shows the frame pixel that the crop's nearest-neighbour resampling
picks (:func:`data.nyu_hand.crop_image`), so only the output's pixels are
rendered, at any ``image_size`` (default 224x224), and a small image is
exactly a subsampling of a large one. Each pixel's ray finds the nearest
capsule surface (a perspective camera; per capsule the closest point of its
projected axis is used, which is exact for spheres and close for the short
capsules of a hand). Depth is stored in whole millimetres, as NYU's PNGs;
the background is 0 and the hand ``depth - 2000``, and the network sees
:func:`data.nyu_hand.to_unit` of it (background +1, a hand at 500-900 mm
about -0.5 to -0.1).

**Labels** (same columns and conventions as :mod:`data.nyu_hand`): the 14
evaluation joints of Tompson et al. in NYU order (pinky, ring, middle, index
tip and PIP joint; thumb tip, IP and MCP joint; two wrist points and the
palm centre) in crop pixel coordinates ``j00_u, j00_v, ... j13_v`` (pixel
centres at integers), their depth ``j00_d ... j13_d`` (mm - 2000), the crop
box ``crop_x0, crop_y0, crop_side``, ``kinect`` (the view) and
``frame_number`` (0-based frame index).

**The simulator** (``embedded-hands-sim``) is that clean render.
``split=train`` (default) and ``split=test``, always labelled.

**The real stand-in** (``embedded-hands-real``) renders the same kind of
frames (from other seed streams) and adds what a Kinect adds. The paper:
"the main source of noise in real depth images is from depth discontinuity
at the edges", so the gap is mostly local and bound to structure:

* jagged silhouettes: the edge moves in or out by a smooth random field of
  Kinect-pixel scale (per-view erosion or dilation plus 1-2 px jags);
* missing depth along edges and where the surface turns away from the
  camera (grazing angles), in clumps;
* flying pixels: edge pixels (inside and just outside the silhouette) whose
  depth lies between the hand and what is behind it;
* the projector's shadow: beside a finger in front of the palm (on the side
  away from the projector, 75 mm to the left) the palm has no depth;
* a few small holes;
and, kept moderate on purpose (a gap that global augmentation closes would
not test a refiner): axial noise growing with depth (Nguyen et al. 2012),
a smooth low-frequency ripple of a few millimetres and disparity
quantisation (1/8 pixel, so steps grow as depth squared). Missing depth
reads 0 and, as in NYU's preprocessing, becomes background. Splits:

* ``train`` (default): unlabelled (the frame holds only ``filename``), the
  refiner's real data;
* ``test``: labelled, disjoint from train, the evaluation set;
* ``labelled``: a labelled training set disjoint from test, for the
  "trained on real" upper bound.

Every image is a pure function of ``(seed, domain, split, frame, view)``:
frame parameters come from a counter-based hash of the frame index, the
Kinect's noise from fixed noise tiles indexed by frame pixel at offsets
hashed from (frame, view), so any subset reads identically in any batch,
the noise belongs to the sensor's pixels at any ``image_size``, and the
labels of all frames exist without rendering anything.
"""

import concurrent.futures
import functools
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from data import nyu_hand
from data import source as source_lib
from data import specs

SIM = "embedded-hands-sim"
REAL = "embedded-hands-real"
SPLITS = {SIM: ("train", "test"), REAL: ("train", "test", "labelled")}
# Frames (not images) per split by default.
DEFAULT_N = {
    (SIM, "train"): 20000,
    (SIM, "test"): 2000,
    (REAL, "train"): 20000,
    (REAL, "test"): 2000,
    (REAL, "labelled"): 20000,
}
DEFAULT_IMAGE_SIZE = nyu_hand.DEFAULT_IMAGE_SIZE
VIEWS = (1, 2, 3)
EVAL_JOINTS = nyu_hand.EVAL_JOINTS
JOINT_UV_COLUMNS = nyu_hand.JOINT_UV_COLUMNS
JOINT_D_COLUMNS = nyu_hand.JOINT_D_COLUMNS
LABEL_COLUMNS = (JOINT_UV_COLUMNS + JOINT_D_COLUMNS +
                 ("crop_x0", "crop_y0", "crop_side", "kinect", "frame_number"))
# NYU Kinect intrinsics (deep-prior-pp NYUImporter); u = CX + FX * x / z with
# pixel centres at integers, as NYU's joint_uvd.
FX, FY, CX, CY = nyu_hand.FX, 587.07, 320.0, 240.0
FRAME_HEIGHT, FRAME_WIDTH = nyu_hand.FRAME_HEIGHT, nyu_hand.FRAME_WIDTH
BACKGROUND_MM = nyu_hand.BACKGROUND_MM
# The rig: every camera looks at a point 700 mm in front of camera 1 from
# 700 mm away; (yaw, pitch) in degrees of each camera's orbit around it
# (negative pitch: the camera looks down from above).
RIG_DISTANCE_MM = 700.0
VIEW_ORBITS_DEG = {1: (0.0, 0.0), 2: (60.0, -25.0), 3: (-60.0, 10.0)}

# Each (domain, split) draws from its own hash stream, so splits and domains
# never share a frame even with the same seed.
_STREAM_IDS = {
    (SIM, "train"): 11,
    (SIM, "test"): 12,
    (REAL, "train"): 13,
    (REAL, "test"): 14,
    (REAL, "labelled"): 15,
}
_DIRECTORIES = {
    (SIM, "train"): "hands-sim/train",
    (SIM, "test"): "hands-sim/test",
    (REAL, "train"): "hands-real/train",
    (REAL, "test"): "hands-real/test",
    (REAL, "labelled"): "hands-real/labelled",
}
_OPTIONS = ("n", "seed", "split", "views")
# Pixels rendered per NumPy pass (images of a chunk x H x W): keeps the
# temporaries in cache; chunks are spread over a small thread pool (NumPy
# releases the GIL on these array sizes).
_CHUNK_PIXELS = 1 << 17
_THREADS = 2

# Per-frame parameters: (name, low, high), each uniform from its own hash
# column. Append only: the column of a name is its position here.
_FRAME_PARAMETERS = (
    ("pose", 0.0, 1.0),  # picks the pose class (see _POSE_CLASSES)
    ("yaw", -180.0, 180.0),  # degrees; 0 = palm toward camera 1
    ("pitch", -35.0, 35.0),
    ("roll", -60.0, 60.0),
    ("scale", 0.9, 1.1),
    ("offset_x", -80.0, 80.0),  # mm from the rig centre
    ("offset_y", -60.0, 60.0),
    ("offset_z", -150.0, 150.0),
    ("spread", -1.0, 1.0),  # fingers together (-1) to spread (+1)
) + tuple(
    # Curl of each chain for the random pose class, its noise for the others.
    (f"{kind}_{chain}", -1.0, 1.0) if kind == "curl_noise" else
    (f"{kind}_{chain}", 0.0, 1.0)
    for kind in ("curl", "curl_noise")
    for chain in ("pinky", "ring", "middle", "index", "thumb")
) + tuple(
    # Independent noise of each joint angle, in [-1, 1].
    (f"noise_{chain}_{joint}", -1.0, 1.0)
    for chain in ("pinky", "ring", "middle", "index", "thumb")
    for joint in range(4)
)
# Per-(frame, view) parameters of the real Kinect.
_VIEW_PARAMETERS = (
    ("erosion", -0.5, 1.0),  # frame px the edge moves in (< 0: out)
    ("jag", 0.5, 1.1),  # std (frame px) of the edge's jags
    ("drop_rate", 0.2, 0.5),  # dropout at the edge
    ("fly_rate", 0.2, 0.5),  # flying pixels at the edge
    ("gap", 150.0, 900.0),  # mm from the hand to what is behind it
    ("ripple", 1.0, 3.5),  # mm, low-frequency ripple amplitude
    ("ripple_angle", 0.0, 2.0 * np.pi),
    ("ripple_wavelength", 40.0, 120.0),  # frame px
    ("ripple_phase", 0.0, 2.0 * np.pi),
    ("holes", 0.0, 2.99),  # floor: number of holes
    ("hole_radius", 1.0, 3.5),  # frame px
    ("hole_joint_0", 0.0, 1.0),
    ("hole_joint_1", 0.0, 1.0),
    ("hole_dx", -6.0, 6.0),  # frame px from the joint
    ("hole_dy", -6.0, 6.0),
)

# Pose classes: (probability, mean curl of pinky, ring, middle, index,
# thumb); None = each curl uniform in [0, 1].
_POSE_CLASSES = (
    (0.20, (0.05, 0.05, 0.05, 0.05, 0.1)),  # open
    (0.15, (0.95, 0.95, 0.95, 0.95, 0.8)),  # fist
    (0.15, (0.9, 0.9, 0.9, 0.05, 0.7)),  # pointing
    (0.15, (0.3, 0.3, 0.35, 0.55, 0.6)),  # pinch
    (0.10, (0.9, 0.9, 0.05, 0.05, 0.75)),  # V
    (0.25, None),  # random
)
_CURL_NOISE = 0.12

# The hand at scale 1, in mm. Hand frame: origin at the wrist centre, +y
# along the palm to the fingers, +z out of the palm, +x toward the thumb
# (a right hand). Fingers in NYU order: pinky, ring, middle, index.
_FINGER_BASES = ((-33.0, 68.0), (-12.0, 78.0), (9.0, 82.0), (30.0, 77.0))
_FINGER_LENGTHS = ((32.0, 20.0, 18.0), (40.0, 26.0, 21.0), (44.0, 28.0, 22.0),
                   (40.0, 24.0, 20.0))
_FINGER_RADII = ((7.5, 6.8, 6.2), (8.3, 7.5, 6.8), (8.6, 7.8, 7.0),
                 (8.4, 7.6, 6.9))
_FINGER_SPLAY_DEG = (-12.0, -4.0, 1.0, 6.0)  # resting direction (+: to +x)
_FINGER_SPREAD_DEG = (-10.0, -4.0, 1.0, 8.0)  # extra splay at spread = 1
# Flexion (deg) of MCP, PIP, DIP at curl 1, and of the thumb's CMC
# abduction offset, CMC flexion, MCP, IP.
_FINGER_FLEX_DEG = (80.0, 100.0, 65.0)
_THUMB_CMC = (20.0, 8.0, 6.0)
_THUMB_LENGTHS = (42.0, 32.0, 26.0)
_THUMB_RADII = (11.0, 9.0, 8.0)
# Few, fat palm capsules: each capsule costs a pass over its window.
_PALM_CAPSULES = 5
_PALM_RADIUS = 15.0
_FOREARM_RADIUS = 20.0
_PALM_CENTRE = (0.0, 40.0, 0.0)
# Rotations of the thumb's base frame: toward +x, out of the palm plane,
# and a twist that turns its flexion toward the palm and the pinky.
_THUMB_SPLAY_DEG = -45.0
_THUMB_ABDUCTION_DEG = (45.0, -20.0)  # at curl 0, change at curl 1
_THUMB_FLEX_DEG = (35.0, 45.0, 60.0)  # CMC, MCP, IP at curl 1
_THUMB_TWIST_DEG = -70.0
# Noise (deg) added to each joint angle at noise = +-1.
_ANGLE_NOISE_DEG = 8.0

# Skeleton point indices (see `_skeleton`).
_WRIST, _PALM_1, _PALM_2, _PALM_3 = 0, 1, 2, 3
_FINGER_POINTS = tuple(tuple(4 + 4 * f + j for j in range(4))
                       for f in range(4))  # MCP, PIP, DIP, TIP
_THUMB_POINTS = (20, 21, 22, 23)  # CMC, MCP, IP, TIP
_NUM_SKELETON = 24
# The 14 evaluation joints in NYU order (see data/nyu_hand.EVAL_JOINTS).
_EVAL_POINTS = (
    _FINGER_POINTS[0][3], _FINGER_POINTS[0][1],
    _FINGER_POINTS[1][3], _FINGER_POINTS[1][1],
    _FINGER_POINTS[2][3], _FINGER_POINTS[2][1],
    _FINGER_POINTS[3][3], _FINGER_POINTS[3][1],
    _THUMB_POINTS[3], _THUMB_POINTS[2], _THUMB_POINTS[1],
    _PALM_1, _PALM_2, _PALM_3)

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
_BAND = 4.0
_GRAZING_COS = 0.25
_GRAZING_DROP = 0.4  # drop-out probability where the depth jumps
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_F32 = np.float32


def _splitmix64(x: np.ndarray) -> np.ndarray:
  """SplitMix64 finaliser on uint64 arrays (wraps modulo 2**64)."""
  x = x + np.uint64(_GOLDEN)
  x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
  x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
  return x ^ (x >> np.uint64(31))


def _unit_uniform(bits: np.ndarray) -> np.ndarray:
  """uint64 hashes -> float64 uniforms in [0, 1)."""
  return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def stream_key(seed: int, domain: str, split: str) -> int:
  """The 64-bit key of one (seed, domain, split) stream."""
  seed_hash = _splitmix64(np.array([int(seed) & _MASK64], np.uint64))
  mixed = _splitmix64(seed_hash ^ np.uint64(_STREAM_IDS[domain, split]))
  return int(mixed[0])


def _draw(key: int, counters: np.ndarray, table) -> Dict[str, np.ndarray]:
  """Uniform parameters of `table` for each counter (float64, (n,)).

  Counter i of a stream gets the i-th output of a SplitMix64 sequence
  started at the key, and parameter j a hash of that and j, so a value does
  not depend on which other counters are drawn with it.
  """
  counters = np.asarray(counters, np.int64).reshape(-1).astype(np.uint64)
  base = _splitmix64(np.uint64(key) + counters * np.uint64(_GOLDEN))
  out = {}
  for j, (name, low, high) in enumerate(table):
    bits = _splitmix64(base + np.uint64(((j + 1) * _GOLDEN) & _MASK64))
    out[name] = low + (high - low) * _unit_uniform(bits)
  return out


def sample_parameters(key: int, frames: np.ndarray) -> Dict[str, np.ndarray]:
  """Per-frame parameters of frames `frames` of stream `key` ((n,) each)."""
  return _draw(key, frames, _FRAME_PARAMETERS)


def sample_view_parameters(key: int, frames: np.ndarray,
                           views: np.ndarray) -> Dict[str, np.ndarray]:
  """Per-(frame, view) parameters of the real Kinect, and its noise key."""
  counters = (np.asarray(frames, np.int64).reshape(-1) * 4 +
              np.asarray(views, np.int64).reshape(-1))
  view_key = int(_splitmix64(np.array([key ^ 0x5EED], np.uint64))[0])
  out = _draw(view_key, counters, _VIEW_PARAMETERS)
  out["noise_key"] = _splitmix64(
      np.uint64(view_key ^ 0xA11CE) + counters.astype(np.uint64) *
      np.uint64(_GOLDEN))
  return out


# -- Kinematics (float64, per image) ----------------------------------------


def _rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
  """Rotations by `degrees` about coordinate axis 0, 1 or 2: (n, 3, 3)."""
  angle = np.radians(np.asarray(degrees, np.float64))
  c, s = np.cos(angle), np.sin(angle)
  i, j = [(1, 2), (2, 0), (0, 1)][axis]
  r = np.zeros(angle.shape + (3, 3))
  r[..., axis, axis] = 1.0
  r[..., i, i], r[..., i, j] = c, -s
  r[..., j, i], r[..., j, j] = s, c
  return r


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Batched 3x3 products, elementwise (no BLAS: batch-independent bits)."""
  return np.einsum("...ij,...jk->...ik", a, b)


def _mv(a: np.ndarray, v: np.ndarray) -> np.ndarray:
  return np.einsum("...ij,...j->...i", a, v)


def _curls(p: Dict[str, np.ndarray]) -> np.ndarray:
  """(n, 5) curls of pinky, ring, middle, index, thumb from the pose mix."""
  chains = ("pinky", "ring", "middle", "index", "thumb")
  uniform = np.stack([p[f"curl_{c}"] for c in chains], axis=1)
  noise = np.stack([p[f"curl_noise_{c}"] for c in chains], axis=1)
  curls = uniform.copy()
  edges = np.cumsum([prob for prob, _ in _POSE_CLASSES])
  pose = np.minimum(np.searchsorted(edges, p["pose"], side="right"),
                    len(_POSE_CLASSES) - 1)
  for k, (_, means) in enumerate(_POSE_CLASSES):
    if means is not None:
      chosen = pose == k
      curls[chosen] = np.asarray(means) + _CURL_NOISE * noise[chosen]
  return np.clip(curls, -0.1, 1.05)


def _skeleton(p: Dict[str, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
  """Skeleton points and capsules of each frame in the hand frame (mm).

  Returns:
    points: (n, 24 + extra, 3): wrist, PALM_1..3, 4 fingers x (MCP, PIP,
      DIP, TIP), thumb (CMC, MCP, IP, TIP), then the capsule-only points
      (forearm, palm, thenar).
    capsules: (K, 3) rows (point index a, point index b, radius mm) at
      scale 1.
  """
  n = len(p["pose"])
  curls = _curls(p)
  points = np.zeros((n, _NUM_SKELETON, 3))
  points[:, _PALM_1] = (-22.0, 8.0, 0.0)
  points[:, _PALM_2] = (20.0, 8.0, 0.0)
  points[:, _PALM_3] = _PALM_CENTRE
  capsules = []
  y_axis = np.array([0.0, 1.0, 0.0])
  chains = ("pinky", "ring", "middle", "index")
  for f, chain in enumerate(chains):
    noise = [p[f"noise_{chain}_{j}"] * _ANGLE_NOISE_DEG for j in range(4)]
    splay = (_FINGER_SPLAY_DEG[f] + _FINGER_SPREAD_DEG[f] * p["spread"] +
             0.5 * noise[3])
    # Abduction turns the finger in the palm plane (about +z; a negative
    # angle turns +y toward +x), flexion about the bone's own x axis.
    frame = _rotation(2, -splay)
    position = np.zeros((n, 3))
    position[:, 0], position[:, 1] = _FINGER_BASES[f]
    points[:, _FINGER_POINTS[f][0]] = position
    for j in range(3):
      flex = _FINGER_FLEX_DEG[j] * curls[:, f] + noise[j]
      # Fingers barely bend backwards; the DIP follows the PIP.
      flex = np.maximum(flex, -10.0 if j == 0 else -3.0)
      frame = _mm(frame, _rotation(0, flex))
      position = position + _FINGER_LENGTHS[f][j] * _mv(frame, y_axis)
      points[:, _FINGER_POINTS[f][j + 1]] = position
      capsules.append((_FINGER_POINTS[f][j], _FINGER_POINTS[f][j + 1],
                       _FINGER_RADII[f][j]))
  # Thumb: splayed toward +x, lifted out of the palm plane (abduction about
  # y), twisted so that its flexion (about the bone's x) curls it across
  # the palm.
  noise = [p[f"noise_thumb_{j}"] * _ANGLE_NOISE_DEG for j in range(4)]
  t = curls[:, 4]
  frame = _mm(
      _mm(_rotation(2, _THUMB_SPLAY_DEG + _THUMB_FLEX_DEG[0] * t + noise[0]),
          _rotation(0, _THUMB_ABDUCTION_DEG[0] + _THUMB_ABDUCTION_DEG[1] * t +
                    noise[1])), _rotation(1, _THUMB_TWIST_DEG))
  position = np.tile(np.asarray(_THUMB_CMC), (n, 1))
  points[:, _THUMB_POINTS[0]] = position
  for j in range(3):
    if j:
      flex = np.maximum(_THUMB_FLEX_DEG[j] * t + noise[j + 1], -5.0)
      frame = _mm(frame, _rotation(0, flex))
    position = position + _THUMB_LENGTHS[j] * _mv(frame, y_axis)
    points[:, _THUMB_POINTS[j + 1]] = position
    capsules.append((_THUMB_POINTS[j], _THUMB_POINTS[j + 1],
                     _THUMB_RADII[j]))
  # Fixed parts: forearm and wrist, the palm (parallel capsules between
  # the wrist and the knuckles, grooves about 2 mm deep between them) and
  # the thenar pad.
  extra = [(0.0, -100.0, 0.0), (0.0, 2.0, 0.0)]
  capsules.append((_NUM_SKELETON, _NUM_SKELETON + 1, _FOREARM_RADIUS))
  knuckle_x = np.linspace(_FINGER_BASES[0][0], _FINGER_BASES[3][0],
                          _PALM_CAPSULES)
  knuckle_y = np.interp(knuckle_x, [b[0] for b in _FINGER_BASES],
                        [b[1] for b in _FINGER_BASES])
  for x, y in zip(knuckle_x, knuckle_y):
    index = _NUM_SKELETON + len(extra)
    extra += [(0.55 * x, 14.0, 0.0), (x, y - 4.0, 0.0)]
    capsules.append((index, index + 1, _PALM_RADIUS))
  index = _NUM_SKELETON + len(extra)
  extra += [(14.0, 14.0, 4.0), (24.0, 36.0, 6.0)]
  capsules.append((index, index + 1, 13.0))
  points = np.concatenate(
      [points, np.broadcast_to(np.asarray(extra), (n, len(extra), 3))], axis=1)
  return points, np.asarray(capsules)


def _view_rotation(views: np.ndarray) -> np.ndarray:
  """Camera-to-world rotation of each view's camera (n, 3, 3)."""
  yaw = np.array([VIEW_ORBITS_DEG[v][0] for v in views], np.float64)
  pitch = np.array([VIEW_ORBITS_DEG[v][1] for v in views], np.float64)
  return _mm(_rotation(1, yaw), _rotation(0, pitch))


def hand_in_cameras(params: Dict[str, np.ndarray], views: np.ndarray
                   ) -> Tuple[np.ndarray, np.ndarray]:
  """Points of each image's hand in its camera's frame (x right, y down, z
  forward, mm) and the capsules (see `_skeleton`).

  World coordinates are camera 1's. The hand's frame is turned so that at
  zero angles the fingers point up and the palm faces camera 1, then
  yawed, pitched and rolled, scaled about the palm centre and placed at the
  rig centre plus the frame's offset.
  """
  points, capsules = _skeleton(params)
  flip = np.diag([1.0, -1.0, -1.0])
  hand = _mm(_mm(_mm(_rotation(2, params["roll"]),
                     _rotation(0, params["pitch"])),
                 _rotation(1, params["yaw"])), flip)
  centre = np.stack([params["offset_x"], params["offset_y"],
                     RIG_DISTANCE_MM + params["offset_z"]], axis=1)
  local = (points - np.asarray(_PALM_CENTRE)) * params["scale"][:, None, None]
  world = np.einsum("nij,npj->npi", hand, local) + centre[:, None, :]
  # Camera v orbits the rig centre: at rig + R_v (0, 0, -D), axes R_v.
  rotation = _view_rotation(views)
  rig = np.array([0.0, 0.0, RIG_DISTANCE_MM])
  position = rig - _mv(rotation, np.array([0.0, 0.0, RIG_DISTANCE_MM]))
  camera = np.einsum("nji,npj->npi", rotation, world - position[:, None, :])
  capsules = np.broadcast_to(capsules, (len(views),) + capsules.shape).copy()
  capsules[..., 2] *= params["scale"][:, None]
  return camera, capsules


def _project(points: np.ndarray) -> np.ndarray:
  """Camera points (..., 3) -> (u px, v px, d mm) in the 640x480 frame."""
  z = points[..., 2]
  return np.stack([CX + FX * points[..., 0] / z, CY + FY * points[..., 1] / z,
                   z], axis=-1)


def labels_of(params: Dict[str, np.ndarray], views: np.ndarray,
              image_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
  """Crop boxes and the 14 evaluation joints of each image (no rendering).

  Returns:
    Dict of ``box`` (n, 3): x0, y0, side of the crop in the frame;
    ``uv`` (n, 14, 2) crop pixel coordinates; ``d`` (n, 14) joint depth -
    2000 mm; ``camera`` (n, P, 3) and ``capsules`` (n, K, 3) for rendering.
  """
  camera, capsules = hand_in_cameras(params, views)
  uvd = _project(camera)
  skeleton = uvd[:, :_NUM_SKELETON]
  box = np.stack(nyu_hand.crop_box(skeleton), axis=-1)
  joints = skeleton[:, _EVAL_POINTS]
  uv = nyu_hand.joints_to_crop(joints[..., :2],
                               tuple(box[:, None, i] for i in range(3)),
                               image_shape)
  return {"box": box, "uv": uv, "d": joints[..., 2] - BACKGROUND_MM,
          "camera": camera, "capsules": capsules}


# -- Rendering (float32, per pixel) -----------------------------------------


def _sampled_pixels(box: np.ndarray, image_shape: Tuple[int, int]):
  """Frame pixel rows (n, H) and columns (n, W) that the crop samples."""
  height, width = image_shape
  x0, y0, side = (box[:, i:i + 1] for i in range(3))
  rows = np.floor(y0 + (np.arange(height) + 0.5) * side / height)
  cols = np.floor(x0 + (np.arange(width) + 0.5) * side / width)
  return rows.astype(np.int64), cols.astype(np.int64)


def _render_capsules(camera: np.ndarray, capsules: np.ndarray,
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
  ray_x = ((cols - CX) / FX).astype(_F32)
  ray_y = ((rows - CY) / FY).astype(_F32)
  # Output pixels per frame pixel, and the window margin: the radius, the
  # real edge band, nearest-neighbour sampling (< 1 frame px) and rounding.
  zoom_u, zoom_v = width / box[:, 2], height / box[:, 2]
  x0, y0 = box[:, 0], box[:, 1]
  band = (_BAND if real else 0.0) + 1.0
  images = np.arange(n)
  ends_all = _project(camera)
  for k in range(capsules.shape[1]):
    ia, ib = int(capsules[0, k, 0]), int(capsules[0, k, 1])
    ends = ends_all[:, [ia, ib]]  # (n, 2, 3) u, v, d
    radius = capsules[:, k, 2]
    out_u = (ends[..., 0] + 0.5 - x0[:, None]) * zoom_u[:, None] - 0.5
    out_v = (ends[..., 1] + 0.5 - y0[:, None]) * zoom_v[:, None] - 0.5
    reach = radius * FX / ends[..., 2].min(axis=1) + band  # frame px
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
      inside *= _F32(FX)
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
    bits = _splitmix64(bits)
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


def _kinect(buffers: Dict[str, np.ndarray], rows: np.ndarray,
            cols: np.ndarray, box: np.ndarray, joints_uv: np.ndarray,
            kp: Dict[str, np.ndarray]) -> np.ndarray:
  """What a Kinect makes of the rendered hand: depth in mm (inf = none).

  Args:
    buffers: `_render_capsules` output with the real channels.
    rows, cols: frame pixels sampled by the crop, (n, H) and (n, W).
    box: (n, 3) crop boxes.
    joints_uv: (n, 14, 2) evaluation joints in frame pixels (hole sites).
    kp: per-image Kinect parameters (`sample_view_parameters`).
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
    jump *= _F32(FX * _BASELINE_MM)
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
    tan2 *= np.square(_F32(FX) / depth)
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
  band = (inside < _BAND) & (inside > -_BAND)
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
  quantum = _F32(FX * _BASELINE_MM / _DISPARITY_STEP)
  with np.errstate(divide="ignore"):
    levels = np.rint(quantum / result)  # 0 where there is no depth
    result = np.rint(quantum / levels)  # inf where there is no depth
  return result


def render_hands(params: Dict[str, np.ndarray], views: np.ndarray,
                 image_shape: Tuple[int, int], real: bool,
                 view_params: Optional[Dict[str, np.ndarray]] = None
                ) -> np.ndarray:
  """Renders preprocessed depth crops, float32 (n, H, W) in [-1, 1].

  Args:
    params: per-image frame parameters (`sample_parameters` of each image's
      frame; any entry may be overridden).
    views: (n,) camera of each image, from 1, 2, 3.
    image_shape: (height, width) of the output.
    real: False renders the clean simulator, True the Kinect stand-in.
    view_params: per-image Kinect parameters (`sample_view_parameters`),
      required when `real`.

  Returns:
    ``to_unit`` of the paper's preprocessed value: background +1, hand
    ``1 + (depth - 2000) / 1000``.
  """
  views = np.asarray(views, np.int64).reshape(-1)
  height, width = image_shape
  if len(views) == 0:
    return np.zeros((0, height, width), _F32)
  geometry = labels_of(params, views, image_shape)
  box = geometry["box"]
  rows, cols = _sampled_pixels(box, image_shape)
  buffers = _render_capsules(geometry["camera"], geometry["capsules"], box,
                             rows, cols, image_shape, real)
  if real:
    joints_uv = _project(geometry["camera"][:, list(_EVAL_POINTS)])[..., :2]
    depth = _kinect(buffers, rows, cols, box, joints_uv, view_params)
  else:
    depth = np.rint(buffers["depth"])
  # As crop_image: frame pixels outside the 640x480 frame are background.
  in_frame = (((rows >= 0) & (rows < FRAME_HEIGHT))[:, :, None] &
              ((cols >= 0) & (cols < FRAME_WIDTH))[:, None, :])
  foreground = in_frame & (depth > 0.0) & (depth < BACKGROUND_MM)
  value = np.where(foreground, depth - _F32(BACKGROUND_MM), _F32(0.0))
  return nyu_hand.to_unit(value)


def parse_views(kind: str, text: Optional[str]) -> Tuple[int, ...]:
  """``1`` / ``1,2,3`` / ``all`` -> distinct views (default (1,))."""
  if text is None or text == "":
    return (1,)
  if text.strip().lower() == "all":
    return VIEWS
  try:
    views = tuple(int(v) for v in text.split(","))
  except ValueError:
    views = ()
  if not views or any(v not in VIEWS for v in views) or len(
      set(views)) != len(views):
    raise source_lib.DataError(
        kind, f"option views={text!r} must be distinct cameras from 1,2,3 "
        "(e.g. views=1, views=1,2,3 or views=all)")
  return views


class EmbeddedHandSource(source_lib.ImageSource):
  """One split of one domain of the embedded hand world (rendered on read).

  Image ``k`` is frame ``k // len(views)`` seen by camera
  ``views[k % len(views)]``.
  """

  def __init__(self, domain: str, split: str, n: int, seed: int,
               views: Sequence[int] = (1,),
               image_shape: Tuple[int, int] = DEFAULT_IMAGE_SIZE):
    key = stream_key(seed, domain, split)
    views = tuple(int(v) for v in views)
    frames = np.repeat(np.arange(n), len(views))
    image_views = np.tile(np.asarray(views, np.int64), n)
    directory = _DIRECTORIES[domain, split]
    digits = max(7, len(str(max(n - 1, 0))))
    filenames = [f"{directory}/{f:0{digits}d}_v{v}.png"
                 for f, v in zip(frames, image_views)]
    frame = source_lib.frame_for(filenames)
    if not (domain == REAL and split == "train"):
      labels = labels_of(sample_parameters(key, frames), image_views,
                         image_shape)
      uv = labels["uv"].reshape(len(frames), -1)
      columns = {c: uv[:, i] for i, c in enumerate(JOINT_UV_COLUMNS)}
      columns.update({c: labels["d"][:, i]
                      for i, c in enumerate(JOINT_D_COLUMNS)})
      columns.update({"crop_x0": labels["box"][:, 0],
                      "crop_y0": labels["box"][:, 1],
                      "crop_side": labels["box"][:, 2],
                      "kinect": image_views, "frame_number": frames})
      for column in LABEL_COLUMNS:
        frame[column] = columns[column]
    view_text = ",".join(map(str, views))
    super().__init__(f"{domain}?split={split}&n={n}&seed={seed}&views="
                     f"{view_text}", frame, image_shape)
    self.domain = domain
    self.split = split
    self.seed = seed
    self.views = views
    self.key = key
    self._frames = frames
    self._image_views = image_views

  def read(self, indices: np.ndarray) -> np.ndarray:
    """Renders images `indices` (in chunks, on a small thread pool)."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    if len(indices) and (indices.min() < 0 or indices.max() >= len(self)):
      raise IndexError(f"{self.description}: index out of range "
                       f"[0, {len(self)})")
    height, width = self.image_shape
    chunk = max(1, _CHUNK_PIXELS // (height * width))
    chunks = [indices[i:i + chunk] for i in range(0, len(indices), chunk)]
    real = self.domain == REAL

    def render(part):
      frames, views = self._frames[part], self._image_views[part]
      view_params = (sample_view_parameters(self.key, frames, views)
                     if real else None)
      return render_hands(sample_parameters(self.key, frames), views,
                          self.image_shape, real, view_params)

    if len(chunks) > 1:
      with concurrent.futures.ThreadPoolExecutor(_THREADS) as pool:
        rendered = list(pool.map(render, chunks))
    else:
      rendered = [render(part) for part in chunks]
    images = (np.concatenate(rendered) if rendered else np.zeros(
        (0, height, width), _F32))
    return images[..., None]


def from_spec(kind: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> EmbeddedHandSource:
  """Opens `embedded-hands-sim` or `embedded-hands-real` with SPEC options.

  Options: ``split`` (sim: train|test; real: train|test|labelled; default
  train), ``n`` (number of frames; defaults in `DEFAULT_N`), ``seed``
  (default 0), ``views`` (1 | 1,2,3 | all ...; default 1). `image_size`
  (H, W) renders at that size (default 224x224).
  """
  if kind not in SPLITS:
    raise source_lib.DataError(kind, f"not an embedded hand domain "
                               f"(expected {SIM} or {REAL})")
  split, n, seed = specs.embedded_options(kind, options, _OPTIONS,
                                           SPLITS[kind], DEFAULT_N)
  views = parse_views(kind, options.get("views"))
  image_shape = specs.embedded_image_shape(kind, image_size, DEFAULT_IMAGE_SIZE)
  return EmbeddedHandSource(kind, split, n, seed, views, image_shape)
