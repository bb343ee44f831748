"""Losses on fixed logits with hand-computed values (eqs. 2-4)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from refiner import losses


def _logits(b, h, w, refined_logit):
  """Patch logits whose softmax gives p(refined) = sigmoid(refined_logit)."""
  out = np.zeros((b, h, w, 2), "f4")
  out[..., 1] = refined_logit
  return tf.constant(out)


def test_uniform_logits_give_log2_per_patch():
  logits = _logits(2, 3, 4, 0.0)
  np.testing.assert_allclose(
      losses.patch_cross_entropy(logits, losses.REAL, "mean"),
      [math.log(2)] * 2, rtol=1e-6)
  # The paper sums over the w x h patches: 12 patches.
  np.testing.assert_allclose(
      losses.patch_cross_entropy(logits, losses.REAL, "sum"),
      [12 * math.log(2)] * 2, rtol=1e-6)


def test_discriminator_loss_eq2():
  # p(refined) = 0.75 on refined images and 0.25 on real ones:
  # L_D = -log 0.75 - log(1 - 0.25) per patch pair.
  refined_logits = _logits(1, 2, 2, math.log(3))
  real_logits = _logits(1, 2, 2, -math.log(3))
  expected = -2 * math.log(0.75)
  np.testing.assert_allclose(
      losses.discriminator_loss(real_logits, refined_logits, "mean"),
      [expected], rtol=1e-6)
  np.testing.assert_allclose(
      losses.discriminator_loss(real_logits, refined_logits, "sum"),
      [4 * expected], rtol=1e-6)


def test_refiner_adversarial_loss_eq3():
  # -log(1 - D(R(x))) with D = 0.75 -> -log 0.25.
  logits = _logits(3, 2, 5, math.log(3))
  np.testing.assert_allclose(
      losses.refiner_adversarial_loss(logits, "mean"),
      [-math.log(0.25)] * 3, rtol=1e-6)


def test_self_regularization_identity_and_sum():
  synthetic = tf.zeros((2, 4, 5, 1))
  refined = tf.concat([tf.fill((1, 4, 5, 1), 0.5),
                       tf.fill((1, 4, 5, 1), -0.25)], axis=0)
  np.testing.assert_allclose(
      losses.self_regularization_loss(refined, synthetic, "identity", "mean"),
      [0.5, 0.25])
  np.testing.assert_allclose(
      losses.self_regularization_loss(refined, synthetic, "identity", "sum"),
      [10.0, 5.0])


def test_gradient_feature_ignores_a_constant_shift():
  # ψ = image derivatives: a brightness offset costs nothing, an edge does.
  synthetic = tf.constant(np.tile(np.arange(6, dtype="f4"), (1, 4, 1))[
      ..., None])
  shifted = synthetic + 0.3
  assert float(losses.self_regularization_loss(
      shifted, synthetic, "gradients", "sum")[0]) == pytest.approx(
      0.0, abs=1e-5)
  edged = synthetic.numpy().copy()
  edged[0, :, 3:, 0] += 1.0
  # The step adds +1 to the 4 horizontal differences across column 2|3.
  assert float(losses.self_regularization_loss(
      tf.constant(edged), synthetic, "gradients", "sum")[0]) == \
      pytest.approx(4.0)


def test_mean_channels_feature():
  rgb = tf.constant([[[[0.0, 0.3, 0.6]]]])
  np.testing.assert_allclose(losses.feature_transform(rgb, "mean_channels"),
                             [[[[0.3]]]], rtol=1e-6)


def test_refiner_loss_eq4_combines_terms():
  logits = _logits(1, 2, 2, 0.0)
  refined = tf.fill((1, 3, 3, 1), 0.2)
  synthetic = tf.zeros((1, 3, 3, 1))
  total, adv, reg = losses.refiner_loss(logits, refined, synthetic, lam=0.5)
  np.testing.assert_allclose(adv, [math.log(2)], rtol=1e-6)
  np.testing.assert_allclose(reg, [0.2], rtol=1e-6)
  np.testing.assert_allclose(total, [math.log(2) + 0.1], rtol=1e-6)


def test_patch_accuracy():
  logits = np.zeros((1, 1, 4, 2), "f4")
  logits[0, 0, :3, 1] = 1.0   # 3 of 4 patches say 'refined'
  np.testing.assert_allclose(losses.patch_accuracy(logits, losses.REFINED),
                             [0.75])
  np.testing.assert_allclose(losses.patch_accuracy(logits, losses.REAL),
                             [0.25])


def test_summed_lambda_matches_the_mean_objective():
  # Gaze at 35x55 with 'same' D padding: P = 9·14 = 126 patches over
  # 1925 pixels, so λ_sum = 126/1925 ≈ 0.065 for λ_mean = 1.
  assert losses.summed_lambda(1.0, 126, 1925) == pytest.approx(0.0654545, 1e-5)
  assert losses.summed_lambda(2.0, 49, 50176) == pytest.approx(2 * 49 / 50176)
  with pytest.raises(ValueError):
    losses.summed_lambda(1.0, 0, 10)
  # Under 'sum' the same images give P times the mean adversarial term and
  # H·W·C times the mean L1 term: λ_sum reproduces the mean objective's
  # ratio of the two terms.
  rng = np.random.default_rng(0)
  logits = tf.constant(rng.normal(size=(2, 9, 14, 2)), tf.float32)
  refined = tf.constant(rng.uniform(-1, 1, (2, 35, 55, 1)), tf.float32)
  synthetic = tf.constant(rng.uniform(-1, 1, (2, 35, 55, 1)), tf.float32)
  total_mean, adv_mean, reg_mean = losses.refiner_loss(
      logits, refined, synthetic, 1.0, reduction="mean")
  lam = losses.summed_lambda(1.0, 126, 1925)
  total_sum, adv_sum, reg_sum = losses.refiner_loss(
      logits, refined, synthetic, lam, reduction="sum")
  np.testing.assert_allclose(total_sum.numpy(), 126 * total_mean.numpy(),
                             rtol=1e-5)
