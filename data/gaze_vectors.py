"""Gaze and head-pose conventions of UnityEyes and MPIIGaze, in one place.

Every gaze label in the project is a unit 3-vector in the *MPIIGaze
normalised camera frame* (OpenCV axes: x right, y down, z forward), pointing
from the eye to the target, so a gaze toward the camera has z < 0. Angles
follow hysts/pytorch_mpiigaze (tools/preprocess_mpiigaze.py):

    pitch = arcsin(-y)          > 0 when looking up
    yaw   = arctan2(-x, -z)     > 0 when looking toward image-left

UnityEyes' ``look_vec`` lives in Unity camera space (x right, y *up*, z away
from the camera); flipping y maps it to the MPIIGaze frame. GazeML's own
UnityEyes conversion (negate x, arcsin / arctan2, fold the yaw) gives the same
angles, which the tests check on the numbers of a real UnityEyes sample
(look_vec (0.3404, 0.3879, -0.8566) -> pitch 22.824 deg, yaw -21.672 deg).

Right eyes are mirrored into the left-eye convention (hysts does the same):
the image is flipped horizontally and the x component of the gaze negated,
which negates the yaw and keeps the pitch.

All functions are pure NumPy and broadcast over leading axes.
"""

import ast
from typing import Sequence, Union

import numpy as np


def _unit(vectors: np.ndarray) -> np.ndarray:
  vectors = np.asarray(vectors, np.float64)
  norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
  if np.any(norm == 0):
    raise ValueError("cannot normalise a zero gaze vector")
  return vectors / norm


def vector_to_pitch_yaw(vectors: np.ndarray) -> np.ndarray:
  """MPIIGaze-frame gaze vectors (..., 3) -> (pitch, yaw) radians (..., 2).

  Exactly hysts' formula: the vectors are expected to be unit length and are
  not renormalised (the real UnityEyes anchor (0.3404, -0.3879, -0.8566), of
  norm 1.00005 after rounding in the JSON, gives pitch 22.824 deg as GazeML
  reports; its normalised form gives 22.823 deg).
  """
  v = np.asarray(vectors, np.float64)
  pitch = np.arcsin(np.clip(-v[..., 1], -1.0, 1.0))
  yaw = np.arctan2(-v[..., 0], -v[..., 2])
  return np.stack([pitch, yaw], axis=-1)


def pitch_yaw_to_vector(angles: np.ndarray) -> np.ndarray:
  """(pitch, yaw) radians (..., 2) -> unit MPIIGaze-frame vectors (..., 3).

  The inverse of :func:`vector_to_pitch_yaw`:
  ``v = (-cos(pitch) sin(yaw), -sin(pitch), -cos(pitch) cos(yaw))``.
  """
  angles = np.asarray(angles, np.float64)
  pitch, yaw = angles[..., 0], angles[..., 1]
  return np.stack([-np.cos(pitch) * np.sin(yaw),
                   -np.sin(pitch),
                   -np.cos(pitch) * np.cos(yaw)], axis=-1)


def unityeyes_look_vec_to_vector(look_vec: np.ndarray) -> np.ndarray:
  """UnityEyes ``look_vec`` (..., 3 or 4) -> unit MPIIGaze-frame vector.

  The fourth (homogeneous, 0) component of the JSON value is dropped and y is
  negated: Unity's camera has y up, OpenCV's y down.
  """
  look_vec = np.asarray(look_vec, np.float64)[..., :3]
  return _unit(look_vec * np.array([1.0, -1.0, 1.0]))


def unityeyes_head_pose(head_pose: Union[str, Sequence[float], np.ndarray]
                       ) -> np.ndarray:
  """UnityEyes ``head_pose`` -> (pitch, yaw) in degrees, frontal = (0, 0).

  The JSON holds ``"(pitch, yaw, roll)"`` in degrees in [0, 360) with a
  frontal head at yaw 180. As in GazeML (src/datasources/unityeyes.py),
  pitches above 180 are wrapped to negative values and yaw is shifted by 180,
  so "(355.0770, 203.8451, 0.0000)" becomes (-4.923, 23.845).

  Args:
    head_pose: the JSON string, or numbers (..., 2 or 3).

  Returns:
    float64 (..., 2): head pitch and yaw in degrees.
  """
  if isinstance(head_pose, str):
    head_pose = ast.literal_eval(head_pose)
  pose = np.asarray(head_pose, np.float64)
  pitch = pose[..., 0]
  pitch = np.where(pitch > 180.0, pitch - 360.0, pitch)
  yaw = pose[..., 1] - 180.0
  return np.stack([pitch, yaw], axis=-1)


def rodrigues_to_head_pitch_yaw(pose: np.ndarray) -> np.ndarray:
  """MPIIGaze ``pose`` Rodrigues vectors (..., 3) -> (pitch, yaw) radians.

  As hysts/pytorch_mpiigaze: ``R = Rodrigues(pose)``, ``v = R[:, 2]``,
  ``pitch = arcsin(v_y)``, ``yaw = arctan2(v_x, v_z)``. R's third column is
  computed in closed form (Rodrigues' formula applied to e_z), so this needs
  no per-row cv2 call.
  """
  pose = np.asarray(pose, np.float64)
  theta = np.linalg.norm(pose, axis=-1, keepdims=True)
  safe = np.where(theta > 0, theta, 1.0)
  k = np.where(theta > 0, pose / safe, np.array([0.0, 0.0, 1.0]))
  kx, ky, kz = k[..., 0:1], k[..., 1:2], k[..., 2:3]
  cos, sin = np.cos(theta), np.sin(theta)
  # R e_z = cos(t) e_z + (1 - cos(t)) (k . e_z) k + sin(t) (k x e_z).
  v = ((1.0 - cos) * kz * k +
       sin * np.concatenate([ky, -kx, np.zeros_like(kx)], axis=-1))
  v[..., 2:3] += cos
  pitch = np.arcsin(np.clip(v[..., 1], -1.0, 1.0))
  yaw = np.arctan2(v[..., 0], v[..., 2])
  return np.stack([pitch, yaw], axis=-1)


def mirror_vector(vectors: np.ndarray) -> np.ndarray:
  """Gaze vectors of a horizontally flipped eye image: x negated.

  Used to bring right eyes into the left-eye convention; the yaw changes sign
  and the pitch is unchanged.
  """
  return np.asarray(vectors, np.float64) * np.array([-1.0, 1.0, 1.0])
