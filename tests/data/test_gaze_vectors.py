"""Tests of the gaze / head-pose conventions against real-sample anchors."""

import cv2
import numpy as np
import pytest

from data import gaze_vectors

# The real UnityEyes sample (david-wb/gaze-estimation test/data/imgs/1.json).
LOOK_VEC = "(0.3404, 0.3879, -0.8566, 0.0000)"
HEAD_POSE = "(355.0770, 203.8451, 0.0000)"


def _gazeml_unityeyes_angles(look_vec):
  """GazeML's own conversion (src/datasources/unityeyes.py), for comparison."""
  v = np.array(look_vec[:3], np.float64)
  v[0] = -v[0]
  pitch = np.arcsin(v[1])
  yaw = np.arctan2(v[0], v[2])
  yaw = np.pi - yaw if yaw > 0 else -(np.pi + yaw)
  return np.degrees([pitch, yaw])


def test_look_vec_anchor():
  look_vec = np.array([0.3404, 0.3879, -0.8566, 0.0])
  # The anchor angles are those of the rounded JSON vector as it stands.
  raw = look_vec[:3] * [1, -1, 1]
  degrees = np.degrees(gaze_vectors.vector_to_pitch_yaw(raw))
  np.testing.assert_allclose(degrees, [22.824, -21.672], atol=1e-3)
  np.testing.assert_allclose(degrees, _gazeml_unityeyes_angles(look_vec),
                             atol=1e-9)
  # The label is the unit vector: y flipped to OpenCV's y-down, normalised.
  vector = gaze_vectors.unityeyes_look_vec_to_vector(look_vec)
  np.testing.assert_allclose(vector, raw / np.linalg.norm(raw), atol=1e-12)
  np.testing.assert_allclose(np.linalg.norm(vector), 1.0, atol=1e-12)
  np.testing.assert_allclose(
      np.degrees(gaze_vectors.vector_to_pitch_yaw(vector)),
      [22.8227, -21.6721], atol=1e-4)


def test_head_pose_anchor_from_string_and_numbers():
  np.testing.assert_allclose(gaze_vectors.unityeyes_head_pose(HEAD_POSE),
                             [-4.923, 23.8451], atol=1e-3)
  np.testing.assert_allclose(
      gaze_vectors.unityeyes_head_pose([[10.0, 180.0, 0.0],
                                        [181.0, 170.0, 0.0]]),
      [[10.0, 0.0], [-179.0, -10.0]])


def test_round_trips():
  rng = np.random.default_rng(0)
  angles = np.stack([rng.uniform(-1.2, 1.2, 50), rng.uniform(-2.5, 2.5, 50)],
                    axis=-1)
  vectors = gaze_vectors.pitch_yaw_to_vector(angles)
  np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0,
                             atol=1e-12)
  np.testing.assert_allclose(gaze_vectors.vector_to_pitch_yaw(vectors),
                             angles, atol=1e-12)
  raw = rng.normal(size=(20, 3))
  unit = raw / np.linalg.norm(raw, axis=-1, keepdims=True)
  np.testing.assert_allclose(
      gaze_vectors.pitch_yaw_to_vector(gaze_vectors.vector_to_pitch_yaw(unit)),
      unit, atol=1e-12)


def test_straight_at_camera_is_zero():
  np.testing.assert_allclose(
      gaze_vectors.vector_to_pitch_yaw([0.0, 0.0, -1.0]), [0.0, 0.0])
  np.testing.assert_allclose(gaze_vectors.pitch_yaw_to_vector([0.0, 0.0]),
                             [0.0, 0.0, -1.0], atol=1e-15)
  # Looking up (negative y in OpenCV) is a positive pitch.
  assert gaze_vectors.vector_to_pitch_yaw([0.0, -0.5, -0.8])[0] > 0


def test_mirror_negates_x_and_yaw():
  vector = np.array([0.3404, -0.3879, -0.8566])
  mirrored = gaze_vectors.mirror_vector(vector)
  np.testing.assert_allclose(mirrored, [-0.3404, -0.3879, -0.8566])
  np.testing.assert_allclose(
      gaze_vectors.vector_to_pitch_yaw(mirrored),
      gaze_vectors.vector_to_pitch_yaw(vector) * [1, -1], atol=1e-12)


def test_rodrigues_matches_cv2():
  poses = np.array([[0.0, 0.0, 0.0], [0.1, -0.2, 0.05], [-0.3, 0.4, -0.1],
                    [1e-9, 0.0, 0.0]])
  got = gaze_vectors.rodrigues_to_head_pitch_yaw(poses)
  for pose, angles in zip(poses, got):
    v = cv2.Rodrigues(pose)[0][:, 2]
    np.testing.assert_allclose(
        angles, [np.arcsin(v[1]), np.arctan2(v[0], v[2])], atol=1e-12)
  np.testing.assert_allclose(got[0], [0.0, 0.0])


def test_zero_look_vec_is_rejected():
  with pytest.raises(ValueError, match="zero gaze vector"):
    gaze_vectors.unityeyes_look_vec_to_vector([0.0, 0.0, 0.0, 0.0])
