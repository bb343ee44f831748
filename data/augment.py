"""Photometric augmentation of [-1, 1] grayscale image batches, in TF graph.

Used by the "synthetic + augmentation" and "refined + augmentation" rows of
our Table 2: a gaze estimator trained on clean simulator images with random
gain, gamma, blur and noise is a cheap baseline a refiner must beat. The
paper itself uses no augmentation for gaze.

Every op works on a batch ``(b, H, W, 1)`` and draws one parameter per image
with stateless random ops from a ``seed`` tensor of shape [2]: the same seed
gives the same output, eagerly, in ``tf.function`` and in
``tf.data.Dataset.map``. The trainer seeds each batch with ``(seed, step)``,
so a resumed run augments exactly as an uninterrupted one would.

The ops act on intensity ``u = (x + 1) / 2`` in [0, 1] where that is the
natural scale (gain, gamma) and clip the result back to [-1, 1].
"""

import dataclasses
from typing import Tuple

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
  """Ranges of the photometric augmentation; each includes the identity.

  Attributes:
    gain: (min, max) of a multiplicative gain on intensity, uniform. Models
      exposure and illumination strength (MPIIGaze spans very dark to
      overexposed eyes).
    log2_gamma: (min, max) of log2(gamma), uniform; ``u ** gamma`` models the
      camera response curve. (-1, 1) is gamma in [0.5, 2].
    blur_sigma: (min, max) of the Gaussian blur standard deviation in pixels,
      uniform; 0 is no blur. Models defocus and webcam optics.
    noise_std: (min, max) of the standard deviation of additive Gaussian
      pixel noise in [-1, 1] units, uniform (0.1 = 6.4 gray levels). Models
      sensor noise.
  """
  gain: Tuple[float, float] = (0.5, 1.5)
  log2_gamma: Tuple[float, float] = (-1.0, 1.0)
  blur_sigma: Tuple[float, float] = (0.0, 1.5)
  noise_std: Tuple[float, float] = (0.0, 0.1)


def _per_image_uniform(images, seed, bounds):
  """One uniform draw per image in [bounds[0], bounds[1]], as (b, 1, 1, 1)."""
  batch = tf.shape(images)[0]
  values = tf.random.stateless_uniform(
      [batch], seed, minval=bounds[0], maxval=bounds[1], dtype=tf.float32)
  return tf.reshape(values, [-1, 1, 1, 1])


def _to_intensity(images):
  return (tf.cast(images, tf.float32) + 1.0) * 0.5


def _from_intensity(intensity):
  return tf.clip_by_value(intensity, 0.0, 1.0) * 2.0 - 1.0


def random_gain(images, seed, bounds=AugmentConfig.gain):
  """Multiplies each image's intensity by a random gain, then clips."""
  gain = _per_image_uniform(images, seed, bounds)
  return _from_intensity(_to_intensity(images) * gain)


def random_gamma(images, seed, log2_bounds=AugmentConfig.log2_gamma):
  """Raises each image's intensity to a random power 2**U(log2_bounds)."""
  gamma = tf.pow(2.0, _per_image_uniform(images, seed, log2_bounds))
  return _from_intensity(tf.pow(_to_intensity(images), gamma))


def gaussian_blur(images, sigma, radius: int = 4):
  """Blurs image i of a batch with a Gaussian of std ``sigma[i]`` pixels.

  Separable, with reflected borders (zero padding would draw dark frames).
  A sigma of 0 leaves the image unchanged. `radius` (taps each side) covers
  2.7 sigma at the default maximum of 1.5 px.

  Args:
    images: (b, H, W, 1) float images, H and W larger than `radius`.
    sigma: (b,) blur standard deviations in pixels.
    radius: half-width of the kernel.

  Returns:
    (b, H, W, 1) float32 blurred images.
  """
  images = tf.cast(images, tf.float32)
  sigma = tf.maximum(tf.reshape(tf.cast(sigma, tf.float32), [-1, 1]), 1e-3)
  taps = tf.range(-radius, radius + 1, dtype=tf.float32)[None, :]
  kernel = tf.exp(-0.5 * tf.square(taps / sigma))  # (b, 2r+1)
  kernel /= tf.reduce_sum(kernel, axis=1, keepdims=True)
  # Put the batch into channels so one depthwise conv applies a different
  # kernel to every image: (1, H, W, b) with filters (k, 1, b, 1).
  x = tf.transpose(images, [3, 1, 2, 0])
  x = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]],
             mode="REFLECT")
  kernel = tf.transpose(kernel)  # (2r+1, b)
  x = tf.nn.depthwise_conv2d(x, kernel[:, None, :, None], [1, 1, 1, 1],
                             "VALID")
  x = tf.nn.depthwise_conv2d(x, kernel[None, :, :, None], [1, 1, 1, 1],
                             "VALID")
  return tf.transpose(x, [3, 1, 2, 0])


def random_blur(images, seed, sigma_bounds=AugmentConfig.blur_sigma):
  """Blurs each image with a Gaussian of random std (pixels)."""
  sigma = tf.reshape(_per_image_uniform(images, seed, sigma_bounds), [-1])
  return tf.clip_by_value(gaussian_blur(images, sigma), -1.0, 1.0)


def random_noise(images, seed, std_bounds=AugmentConfig.noise_std):
  """Adds Gaussian noise of a random per-image std, then clips to [-1, 1]."""
  images = tf.cast(images, tf.float32)
  std_seed, noise_seed = tf.unstack(
      tf.random.experimental.stateless_split(seed, 2))
  std = _per_image_uniform(images, std_seed, std_bounds)
  noise = tf.random.stateless_normal(tf.shape(images), noise_seed)
  return tf.clip_by_value(images + std * noise, -1.0, 1.0)


def augment(images, seed, config: AugmentConfig = AugmentConfig()):
  """Gain, gamma, blur then noise, each with its own per-image parameters.

  The order follows an image's path through a camera: scene brightness
  (gain), response curve (gamma), optics (blur), sensor (noise).

  Args:
    images: (b, H, W, 1) float images in [-1, 1].
    seed: int32/int64 tensor of shape [2] (a stateless random seed).
    config: the parameter ranges.

  Returns:
    (b, H, W, 1) float32 images in [-1, 1].
  """
  seeds = tf.random.experimental.stateless_split(
      tf.cast(seed, tf.int64), 4)
  images = random_gain(images, seeds[0], config.gain)
  images = random_gamma(images, seeds[1], config.log2_gamma)
  images = random_blur(images, seeds[2], config.blur_sigma)
  return random_noise(images, seeds[3], config.noise_std)
