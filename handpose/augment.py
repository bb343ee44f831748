"""Geometric augmentation of depth crops and their joints, in TF graph.

The paper trains the hand-pose estimator with "random [−20, 20] degree
rotations and crops". Each image of a batch gets its own similarity
transform about the image centre ``c``:

    q = c + s * R(theta) (p - c) + t

mapping an input pixel position ``p`` to the output position ``q`` (pixel
centres at integers, data/nyu_hand.py's convention): a rotation ``theta`` in
[-20, 20] degrees, a scale ``s`` (> 1 zooms in: a smaller crop resampled back
to the input size; < 1 zooms out) and a translation ``t`` (a shifted crop).
The joints move by the same map, so labels stay on the hand. Pixels that come
from outside the input are filled with the depth background (+1).

Nearest-neighbour resampling is the default: bilinear interpolation would
blend hand and background depths at the silhouette into depths that exist in
neither, the very boundary SimGAN's refiner learns to model.

Parameters are drawn with stateless random ops from a ``seed`` of shape [2]:
the same seed gives the same output eagerly, in tf.function and in
tf.data.Dataset.map, so a resumed training run sees the batches an
uninterrupted one would have.
"""

import dataclasses
import math
from typing import Tuple

import tensorflow as tf

BACKGROUND = 1.0  # data/nyu_hand.py: the background depth maps to +1.


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
  """Ranges of the geometric augmentation; each includes the identity.

  Attributes:
    max_rotation_deg: rotations are uniform in [-max, max] (paper: 20).
    scale: (min, max) of the uniform zoom factor ("crops"; not stated in the
      paper).
    max_shift: translations are uniform in [-max, max] times the image side,
      per axis (not stated). Small, because the NYU crops are centred on the
      joints with only a 30 mm margin: larger shifts push fingertips out.
    interpolation: 'NEAREST' or 'BILINEAR'.
  """
  max_rotation_deg: float = 20.0
  scale: Tuple[float, float] = (0.9, 1.1)
  max_shift: float = 0.05
  interpolation: str = "NEAREST"


def sample_parameters(batch_size, image_shape: Tuple[int, int], seed,
                      config: AugmentConfig = AugmentConfig()):
  """Random (angle_rad (b,), scale (b,), shift_px (b, 2)) for a batch."""
  seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
  limit = math.radians(config.max_rotation_deg)
  angle = tf.random.stateless_uniform([batch_size], seeds[0], -limit, limit)
  scale = tf.random.stateless_uniform([batch_size], seeds[1], config.scale[0],
                                      config.scale[1])
  side = tf.constant([image_shape[1], image_shape[0]], tf.float32)
  shift = tf.random.stateless_uniform(
      [batch_size, 2], seeds[2], -config.max_shift, config.max_shift) * side
  return angle, scale, shift


def _centre(image_shape):
  return tf.constant([(image_shape[1] - 1) / 2.0, (image_shape[0] - 1) / 2.0],
                     tf.float32)


def transform_points(uv, angle, scale, shift, image_shape: Tuple[int, int]):
  """Applies q = c + s R(angle) (p - c) + t to points (b, J, 2) (u, v)."""
  uv = tf.convert_to_tensor(uv, tf.float32)
  c = _centre(image_shape)
  cos, sin = tf.cos(angle)[:, None], tf.sin(angle)[:, None]
  s = tf.cast(scale, tf.float32)[:, None]
  d = uv - c
  u = s * (cos * d[..., 0] - sin * d[..., 1])
  v = s * (sin * d[..., 0] + cos * d[..., 1])
  return tf.stack([u, v], axis=-1) + c + shift[:, None, :]


def inverse_matrices(angle, scale, shift, image_shape: Tuple[int, int]):
  """The (b, 8) output -> input maps of ImageProjectiveTransformV3.

  The op samples output pixel q at input position A q + o with
  A = R(-angle) / s and o = c - A (c + t), the inverse of
  :func:`transform_points`.
  """
  c = _centre(image_shape)
  cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
  ct = c + shift  # (b, 2)
  off_x = c[0] - (cos * ct[:, 0] + sin * ct[:, 1])
  off_y = c[1] - (-sin * ct[:, 0] + cos * ct[:, 1])
  zeros = tf.zeros_like(cos)
  return tf.stack([cos, sin, off_x, -sin, cos, off_y, zeros, zeros], axis=1)


def transform_images(images, angle, scale, shift,
                     interpolation: str = "NEAREST",
                     fill_value: float = BACKGROUND):
  """Warps each image of a (b, H, W, C) batch by its similarity transform."""
  images = tf.convert_to_tensor(images, tf.float32)
  shape = tf.shape(images)
  image_shape = tuple(images.shape[1:3])
  return tf.raw_ops.ImageProjectiveTransformV3(
      images=images,
      transforms=inverse_matrices(angle, scale, shift, image_shape),
      output_shape=shape[1:3], fill_value=fill_value,
      interpolation=interpolation, fill_mode="CONSTANT")


def augment(images, joints_uv, seed, config: AugmentConfig = AugmentConfig()):
  """Random rotation, scale and shift of a batch and its joints.

  Args:
    images: (b, H, W, 1) float images in [-1, 1] (H and W static).
    joints_uv: (b, J, 2) joints in image pixel coordinates (u, v); NaN stays
      NaN. Joints may leave the image; the heatmap targets mask them.
    seed: int32/int64 tensor of shape [2] (a stateless random seed).
    config: the parameter ranges.

  Returns:
    (images, joints_uv) transformed, float32.
  """
  images = tf.convert_to_tensor(images, tf.float32)
  image_shape = tuple(images.shape[1:3])
  angle, scale, shift = sample_parameters(tf.shape(images)[0], image_shape,
                                          seed, config)
  return (transform_images(images, angle, scale, shift, config.interpolation),
          transform_points(joints_uv, angle, scale, shift, image_shape))
