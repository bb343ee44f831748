"""Tests of the geometric augmentation of depth crops (handpose/augment.py)."""

import numpy as np
import tensorflow as tf

from handpose import augment


def _blob_batch(n=8, height=40, width=48, seed=0):
  """Background images with a 3x3 hand-depth blob centred on one joint."""
  rng = np.random.default_rng(seed)
  uv = np.stack([rng.integers(10, width - 10, n),
                 rng.integers(10, height - 10, n)], -1).astype(np.float32)
  images = np.ones((n, height, width, 1), np.float32)
  for i, (u, v) in enumerate(uv.astype(int)):
    images[i, v - 1:v + 2, u - 1:u + 2] = -0.5
  return images, uv[:, None, :]


def test_augmentation_moves_joints_with_the_image():
  images, uv = _blob_batch()
  out, moved = augment.augment(images, uv, tf.constant([3, 4]))
  out, moved = out.numpy(), moved.numpy()
  assert not np.allclose(moved, uv, atol=0.5)  # something happened
  for i in range(len(images)):
    rows, cols = np.nonzero(out[i, ..., 0] < 0)
    assert len(rows) >= 5  # the blob survives nearest resampling
    np.testing.assert_allclose([cols.mean(), rows.mean()], moved[i, 0],
                               atol=1.0)
  # Nearest resampling creates no new depth values; the fill is +1.
  assert set(np.unique(out)) <= {-0.5, 1.0}


def test_augmentation_is_deterministic_and_graph_safe():
  images, uv = _blob_batch()
  seed = tf.constant([7, 8], tf.int64)
  eager = augment.augment(images, uv, seed)
  ds = tf.data.Dataset.from_tensors((images, uv)).map(
      lambda x, j: augment.augment(x, j, seed))
  mapped = next(iter(ds))
  for a, b in zip(eager, mapped):
    np.testing.assert_array_equal(a, b)
  other = augment.augment(images, uv, tf.constant([7, 9], tf.int64))
  assert not np.array_equal(eager[1], other[1])


def test_identity_transform_and_known_motions():
  images, uv = _blob_batch(n=2)
  zero, one = tf.zeros(2), tf.ones(2)
  no_shift = tf.zeros((2, 2))
  np.testing.assert_array_equal(
      augment.transform_images(images, zero, one, no_shift), images)
  np.testing.assert_allclose(
      augment.transform_points(uv, zero, one, no_shift, (40, 48)), uv)
  # A shift moves the content by whole pixels; the vacated side is +1.
  shifted = augment.transform_images(images, zero, one,
                                     tf.constant([[3.0, -2.0]] * 2)).numpy()
  np.testing.assert_array_equal(shifted[:, :-2, 3:], images[:, 2:, :-3])
  assert np.all(shifted[:, :, :3] == 1.0) and np.all(shifted[:, -2:] == 1.0)
  # A 90-degree turn about the centre (23.5, 19.5) of a 48 x 40 image, with
  # the y axis pointing down: (u, v) -> (23.5 - (v - 19.5), 19.5 + (u - 23.5)).
  turned = augment.transform_points(np.array([[[30.0, 19.5]]] * 2),
                                    tf.constant([np.pi / 2] * 2), one,
                                    no_shift, (40, 48))
  np.testing.assert_allclose(turned[0, 0], [23.5, 26.0], atol=1e-5)
  # Scale 2 doubles distances from the centre.
  zoomed = augment.transform_points(np.array([[[25.5, 19.5]]] * 2), zero,
                                    2 * one, no_shift, (40, 48))
  np.testing.assert_allclose(zoomed[0, 0], [27.5, 19.5], atol=1e-5)
