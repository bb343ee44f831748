"""Tests of the photometric augmentation (data/augment.py): eager, tf.data."""

import numpy as np
import tensorflow as tf

from data import augment

SEED = tf.constant([7, 11], tf.int64)


def _images(n=6, seed=0):
  """Smooth eye-like images in [-1, 1] with some high-frequency texture."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:35, 0:55]
  base = np.tanh((xx - 27.0) / 8.0)[None] * rng.uniform(0.3, 0.9, (n, 1, 1))
  texture = 0.1 * rng.standard_normal((n, 35, 55))
  return np.clip(base + texture, -1, 1)[..., None].astype(np.float32)


def test_eager_equals_dataset_map_and_tf_function():
  images = _images()
  eager = augment.augment(images, SEED).numpy()
  ds = tf.data.Dataset.from_tensors(images).map(
      lambda x: augment.augment(x, SEED))
  in_dataset = next(iter(ds)).numpy()
  in_function = tf.function(augment.augment)(images, SEED).numpy()
  # Same random draws; graph rewrites may change the last float bit.
  np.testing.assert_allclose(eager, in_dataset, atol=1e-6)
  np.testing.assert_allclose(eager, in_function, atol=1e-6)
  np.testing.assert_array_equal(in_dataset, next(iter(ds)).numpy())
  assert eager.shape == images.shape and eager.dtype == np.float32


def test_range_seed_and_per_image_draws():
  images = _images(n=32)
  out = augment.augment(images, SEED).numpy()
  assert out.min() >= -1.0 and out.max() <= 1.0
  np.testing.assert_array_equal(out, augment.augment(images, SEED).numpy())
  other = augment.augment(images, tf.constant([7, 12], tf.int64)).numpy()
  assert np.abs(other - out).mean() > 0.01
  # Identical input images receive different parameters within a batch.
  same = np.repeat(images[:1], 4, axis=0)
  out = augment.augment(same, SEED).numpy()
  assert np.abs(out[0] - out[1]).mean() > 0.01


def test_gain_scales_intensity_and_clips():
  images = np.array([-1.0, -0.5, 0.0, 0.5], np.float32).reshape(1, 1, 4, 1)
  out = augment.random_gain(images, SEED, (1.5, 1.5)).numpy().ravel()
  # Intensities 0, 0.25, 0.5, 0.75 times 1.5 = 0, 0.375, 0.75, 1.0 (clipped).
  np.testing.assert_allclose(out, [-1.0, -0.25, 0.5, 1.0], atol=1e-6)


def test_gamma_is_a_power_of_intensity():
  images = np.array([-1.0, 0.0, 0.5, 1.0], np.float32).reshape(1, 1, 4, 1)
  out = augment.random_gamma(images, SEED, (1.0, 1.0)).numpy().ravel()
  # gamma = 2: intensities 0, 0.5, 0.75, 1 -> 0, 0.25, 0.5625, 1.
  np.testing.assert_allclose(out, [-1.0, -0.5, 0.125, 1.0], atol=1e-6)


def test_blur_lowers_high_frequency_energy_and_keeps_flat_images():
  checker = (np.indices((35, 55)).sum(0) % 2 * 1.6 - 0.8).astype(np.float32)
  images = np.stack([checker, np.full((35, 55), 0.3, np.float32)])[..., None]
  unchanged = augment.gaussian_blur(images, [0.0, 0.0]).numpy()
  np.testing.assert_allclose(unchanged, images, atol=1e-6)
  blurred = augment.random_blur(images, SEED, (1.0, 1.0)).numpy()
  # Neighbour differences (high frequencies) of the checkerboard shrink by
  # the Gaussian's response at the Nyquist frequency (~0.014 for sigma 1).
  energy = lambda x: np.mean(np.diff(x[..., 0], axis=-1) ** 2)
  assert energy(blurred[0]) < 0.01 * energy(images[0])
  # A flat image stays flat, borders included (reflected, not zero padded).
  np.testing.assert_allclose(blurred[1], images[1], atol=1e-6)
  # Blur preserves the mean of a checkerboard (0) away from the border.
  assert abs(blurred[0, 5:-5, 5:-5].mean()) < 0.05


def test_noise_has_the_requested_std():
  images = np.zeros((4, 35, 55, 1), np.float32)
  out = augment.random_noise(images, SEED, (0.1, 0.1)).numpy()
  np.testing.assert_allclose(out.std(axis=(1, 2, 3)), [0.1] * 4, rtol=0.08)
  assert abs(out.mean()) < 0.01
  clean = augment.random_noise(images, SEED, (0.0, 0.0)).numpy()
  np.testing.assert_array_equal(clean, images)


def test_identity_config_changes_nothing():
  images = _images()
  config = augment.AugmentConfig(gain=(1.0, 1.0), log2_gamma=(0.0, 0.0),
                                 blur_sigma=(0.0, 0.0), noise_std=(0.0, 0.0))
  np.testing.assert_allclose(augment.augment(images, SEED, config).numpy(),
                             images, atol=1e-5)
