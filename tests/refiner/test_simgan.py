"""Algorithm-1 steps: which weights each step changes, EMA, distribution."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from refiner import simgan

B = 4


def _hparams(**kw):
  base = dict(batch_size=B, history_batches=2, refiner_ema=0.0, seed=3)
  base.update(kw)
  return simgan.HParams(**base)


def _images(seed, b=B):
  return tf.random.stateless_uniform((b, 35, 55, 1), [seed, 0], -1.0, 1.0)


def _snapshot(model):
  return [v.numpy().copy() for v in model.trainable_variables]


def _changed(before, model):
  return [not np.array_equal(a, v.numpy())
          for a, v in zip(before, model.trainable_variables)]


def test_discriminator_step_updates_d_only():
  gan = simgan.SimGAN(_hparams())
  r0, d0 = _snapshot(gan.refiner), _snapshot(gan.discriminator)
  logs = gan.discriminator_step(_images(1), _images(2))
  assert all(_changed(d0, gan.discriminator))
  assert not any(_changed(r0, gan.refiner))
  assert set(logs) == {"discriminator/loss", "discriminator/accuracy_real",
                       "discriminator/accuracy_refined"}
  assert int(gan.discriminator_updates) == 1


@pytest.mark.parametrize("adversarial", [False, True])
def test_refiner_step_updates_r_only(adversarial):
  gan = simgan.SimGAN(_hparams())
  r0, d0 = _snapshot(gan.refiner), _snapshot(gan.discriminator)
  logs = gan.refiner_step(_images(1), adversarial=adversarial)
  assert all(_changed(r0, gan.refiner))
  assert not any(_changed(d0, gan.discriminator))
  if not adversarial:
    # Pretraining uses the self-regularisation loss only (§3.1).
    assert float(logs["refiner/adversarial"]) == 0.0
    assert float(logs["refiner/loss"]) == pytest.approx(
        float(logs["refiner/self_regularization"]))
  else:
    assert float(logs["refiner/adversarial"]) > 0.0


def test_d_trains_after_r_steps_and_r_after_d_steps():
  # The Keras-2 idiom froze D forever; here both keep training in turns.
  gan = simgan.SimGAN(_hparams())
  for _ in range(2):
    d0 = _snapshot(gan.discriminator)
    gan.refiner_step(_images(1))
    gan.discriminator_step(_images(2), _images(3))
    assert all(_changed(d0, gan.discriminator))


def test_discriminator_learns_to_separate_domains():
  # Real images bright, synthetic dark: a few D steps raise its accuracy.
  # Seeded: from some random initialisations 30 steps were not enough.
  keras.utils.set_random_seed(0)
  gan = simgan.SimGAN(_hparams(discriminator_learning_rate=1e-3))
  real = tf.fill((B, 35, 55, 1), 0.8)
  synthetic = tf.fill((B, 35, 55, 1), -0.8)
  for _ in range(60):
    logs = gan.discriminator_step(synthetic, real)
  assert float(logs["discriminator/accuracy_real"]) == 1.0
  assert float(logs["discriminator/accuracy_refined"]) == 1.0


def test_history_fills_during_discriminator_steps():
  gan = simgan.SimGAN(_hparams())
  for _ in range(3):
    gan.discriminator_step(_images(1), _images(2))
  assert int(gan.history.count) == 3 * (B // 2)
  assert gan.history.images.numpy()[:3 * (B // 2)].std() > 0


def test_no_history_ablation_has_no_buffer():
  gan = simgan.SimGAN(_hparams(history_buffer=False))
  gan.discriminator_step(_images(1), _images(2))
  assert gan.history is None
  assert "history" not in gan.checkpoint_items()


def test_running_average_of_refiner_weights():
  gan = simgan.SimGAN(_hparams(refiner_ema=0.5))
  w0 = [w.numpy().copy() for w in gan.refiner.weights]
  gan.refiner_step(_images(1), adversarial=False)
  for avg, before, now in zip(gan.refiner_ema.weights, w0,
                              gan.refiner.weights):
    np.testing.assert_allclose(avg.numpy(), 0.5 * before + 0.5 * now.numpy(),
                               rtol=1e-5, atol=1e-7)
  assert gan.export_refiner is gan.refiner_ema


def test_refiner_output_reaches_both_refiners():
  gan = simgan.SimGAN(_hparams(refiner_output="clipped_tanh",
                               refiner_ema=0.5))
  for model in (gan.refiner, gan.refiner_ema, gan.export_refiner):
    assert model.layers[-1].name == "clipped_tanh"
  r0 = _snapshot(gan.refiner)
  logs = gan.refiner_step(_images(1))
  assert np.isfinite(float(logs["refiner/loss"]))
  assert all(_changed(r0, gan.refiner))
  assert simgan.SimGAN(_hparams()).refiner.layers[-1].name == "tanh"


def test_hparams_reject_an_unknown_refiner_output():
  assert simgan.HParams().refiner_output == "tanh"
  with pytest.raises(ValueError, match="refiner_output must be one of "
                     r"\('tanh', 'clipped_tanh'\), got 'relu'"):
    simgan.HParams(refiner_output="relu")


def test_global_adversarial_loss_ablation_steps():
  gan = simgan.SimGAN(_hparams(adversarial_loss="global"))
  gan.refiner_step(_images(1))
  logs = gan.discriminator_step(_images(2), _images(3))
  assert np.isfinite(float(logs["discriminator/loss"]))


@pytest.mark.parametrize("precision,dtype", [("mixed_bfloat16", "bfloat16"),
                                             ("mixed_float16", "float16")])
def test_mixed_precision_steps_train(precision, dtype):
  gan = simgan.SimGAN(_hparams(precision=precision))
  r0, d0 = _snapshot(gan.refiner), _snapshot(gan.discriminator)
  logs = gan.refiner_step(_images(1))
  gan.discriminator_step(_images(2), _images(3))
  assert gan.refiner.get_layer("conv_in").compute_dtype == dtype
  assert np.isfinite(float(logs["refiner/loss"]))
  assert any(_changed(r0, gan.refiner))
  assert any(_changed(d0, gan.discriminator))


def test_xla_steps_match_graph_steps():
  def run(jit):
    tf.keras.utils.set_random_seed(9)
    gan = simgan.SimGAN(_hparams(jit_compile=jit))
    gan.refiner_step(_images(1))
    for _ in range(2):
      gan.discriminator_step(_images(2), _images(3))
    return [v.numpy() for v in gan.discriminator.trainable_variables]
  for a, b in zip(run(False), run(True)):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_mirrored_step_equals_single_device_step():
  devices = tf.config.list_logical_devices("CPU")
  assert len(devices) >= 2, "conftest should configure two logical CPUs"
  hp = _hparams(seed=7)
  synthetic, real = _images(11), _images(12)

  def run(strategy):
    tf.keras.utils.set_random_seed(5)
    gan = simgan.SimGAN(hp, strategy)
    gan.refiner_step(synthetic, adversarial=True)
    gan.discriminator_step(synthetic, real)
    return ([v.numpy() for v in gan.refiner.trainable_variables],
            [v.numpy() for v in gan.discriminator.trainable_variables])

  single = run(None)
  mirrored = run(tf.distribute.MirroredStrategy(
      [d.name for d in devices[:2]]))
  for a, b in zip(single[0] + single[1], mirrored[0] + mirrored[1]):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
