"""The hand's kinematics and the camera rig: skeleton, joints, labels.

A parametric right hand in millimetres: a forearm, a palm of parallel
capsules, a thenar pad, four fingers of three phalanges (flexion at MCP,
PIP and DIP, abduction at MCP) and a thumb chain; a frame's parameters pick
a pose class and its curls, rotate, scale and place the hand. Three cameras
with NYU's intrinsics stand on a fixed rig around it, and the labels are
the 14 evaluation joints in each view's crop (the crop of
:func:`data.nyu_hand.crop_box`), all without rendering a pixel. Float64,
with elementwise 3x3 products so a frame's numbers do not depend on the
batch.
"""

from typing import Dict, Tuple

import numpy as np

from data import nyu_hand

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
# The 14 evaluation joints in NYU order (see data.nyu_hand.EVAL_JOINTS).
EVAL_POINTS = (
    _FINGER_POINTS[0][3], _FINGER_POINTS[0][1],
    _FINGER_POINTS[1][3], _FINGER_POINTS[1][1],
    _FINGER_POINTS[2][3], _FINGER_POINTS[2][1],
    _FINGER_POINTS[3][3], _FINGER_POINTS[3][1],
    _THUMB_POINTS[3], _THUMB_POINTS[2], _THUMB_POINTS[1],
    _PALM_1, _PALM_2, _PALM_3)


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


def project(points: np.ndarray) -> np.ndarray:
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
  uvd = project(camera)
  skeleton = uvd[:, :_NUM_SKELETON]
  box = np.stack(nyu_hand.crop_box(skeleton), axis=-1)
  joints = skeleton[:, EVAL_POINTS]
  uv = nyu_hand.joints_to_crop(joints[..., :2],
                               tuple(box[:, None, i] for i in range(3)),
                               image_shape)
  return {"box": box, "uv": uv, "d": joints[..., 2] - BACKGROUND_MM,
          "camera": camera, "capsules": capsules}
