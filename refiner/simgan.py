"""SimGAN training steps: Algorithm 1 of the paper with the history buffer.

``SimGAN`` owns R, D, their optimizers, the history buffer, an optional
running average of R's weights, and three training steps written with
explicit ``tf.GradientTape`` and explicit variable lists:

* ``refiner_step(synthetic, adversarial)``: one SGD step on L_R(θ) (eq. 4)
  with φ fixed. With ``adversarial=False`` only the self-regularisation term
  is used: the paper's refiner pretraining (§3.1, "with just
  self-regularization loss").
* ``discriminator_step(synthetic, real)``: one SGD step on L_D(φ) (eq. 2) with
  θ fixed, on b real images and b refined ones, half of them from the history.

No ``trainable=False`` anywhere: each step differentiates with respect to,
and updates, exactly one network's variables, so neither network can be
frozen for good (the Keras-2 idiom of a combined model with a frozen D
freezes D forever under Keras 3).

Distribution. Steps take *global* batches. The data-dependent bookkeeping
(refining the D batch, the history, the weight average) runs once, in
cross-replica context; the gradient computation runs per replica under
``strategy.run`` on slices of the batch, with losses averaged over the global
batch so that summed replica gradients equal the single-device gradient.
"""

import dataclasses
from typing import Optional

import keras
import tensorflow as tf

from refiner import history as history_lib
from refiner import losses
from refiner import networks


@dataclasses.dataclass(frozen=True)
class HParams:
  """Everything that defines a SimGAN run (the binary's flags map onto it)."""
  arch: str = "gaze"
  image_shape: tuple = (35, 55)
  batch_size: int = 32
  # Algorithm 1.
  refiner_pretrain_steps: int = 1000
  discriminator_pretrain_steps: int = 200
  steps: int = 1000                    # T, adversarial iterations
  k_g: int = 2
  k_d: int = 1
  # Losses.
  lam: float = 1.0
  reduction: str = "mean"
  psi: str = "identity"
  adversarial_loss: str = "local"      # 'local' (paper) or 'global' (§3.3)
  # History buffer (§2.3); B = history_batches * batch_size.
  history_buffer: bool = True
  history_batches: int = 100
  # Optimisation.
  optimizer: str = "adam"
  refiner_learning_rate: float = 2e-4
  discriminator_learning_rate: float = 2e-4
  momentum: float = 0.0
  refiner_ema: float = 0.99            # 0 disables the running average
  # Networks.
  padding_mode: str = "reflect"
  # R's output layer: 'tanh' or 'clipped_tanh', which reaches ±1 exactly
  # (networks.REFINER_OUTPUTS; issue 13).
  refiner_output: str = "tanh"
  d_padding: str = "same"
  precision: str = "float32"
  jit_compile: bool = False            # XLA; slower on CPUs (README)
  seed: int = 0

  def __post_init__(self):
    if self.refiner_output not in networks.REFINER_OUTPUTS:
      raise ValueError(
          f"refiner_output must be one of {networks.REFINER_OUTPUTS}, got "
          f"{self.refiner_output!r}")

  @property
  def history_size(self) -> int:
    return self.history_batches * self.batch_size

  @property
  def total_units(self) -> int:
    """Work units of the schedule: pretrain R, pretrain D, T iterations."""
    return (self.refiner_pretrain_steps + self.discriminator_pretrain_steps +
            self.steps)


def make_optimizer(name: str, learning_rate: float, momentum: float,
                   precision: str):
  if name == "sgd":
    opt = keras.optimizers.SGD(learning_rate, momentum=momentum)
  elif name == "adam":
    opt = keras.optimizers.Adam(learning_rate)
  else:
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {name!r}")
  if precision == "mixed_float16":
    opt = keras.optimizers.LossScaleOptimizer(opt)
  return opt


def set_precision(precision: str) -> None:
  """Sets Keras' global dtype policy (before any network is built)."""
  if precision not in ("float32", "mixed_bfloat16", "mixed_float16"):
    raise ValueError(f"unknown precision {precision!r}")
  keras.mixed_precision.set_global_policy(precision)


class SimGAN(tf.Module):
  """R, D, optimizers, history and Algorithm-1 steps (see module docstring).

  Build it inside ``strategy.scope()`` when training distributed.
  """

  def __init__(self, hparams: HParams,
               strategy: Optional[tf.distribute.Strategy] = None):
    super().__init__(name="simgan")
    self.hparams = h = hparams
    self.strategy = strategy or tf.distribute.get_strategy()
    set_precision(h.precision)
    with self.strategy.scope():
      self.refiner = networks.build_refiner(h.arch, h.padding_mode,
                                            output=h.refiner_output)
      self.discriminator = networks.build_discriminator(
          h.arch, head=h.adversarial_loss, padding=h.d_padding,
          image_shape=h.image_shape)
      self.refiner_optimizer = make_optimizer(
          h.optimizer, h.refiner_learning_rate, h.momentum, h.precision)
      self.discriminator_optimizer = make_optimizer(
          h.optimizer, h.discriminator_learning_rate, h.momentum, h.precision)
      # Optimizer slots exist before any restore, so checkpoints restore
      # them instead of silently skipping them.
      self.refiner_optimizer.build(self.refiner.trainable_variables)
      self.discriminator_optimizer.build(
          self.discriminator.trainable_variables)
      self.refiner_ema = None
      if h.refiner_ema > 0:
        self.refiner_ema = networks.build_refiner(h.arch, h.padding_mode,
                                                  name="refiner_ema",
                                                  output=h.refiner_output)
        self.refiner_ema.set_weights(self.refiner.get_weights())
      # Counters. Together with the seed they are the whole random state:
      # data order and history sampling are stateless functions of them.
      self.refiner_updates = tf.Variable(0, dtype=tf.int64, trainable=False)
      self.discriminator_updates = tf.Variable(0, dtype=tf.int64,
                                               trainable=False)
      self.units_done = tf.Variable(0, dtype=tf.int64, trainable=False)
    # The history lives outside the strategy scope: it is read and written
    # only in cross-replica context, and mirrored variables do not support
    # the scattered writes it needs.
    self.history = (history_lib.HistoryBuffer(h.history_size,
                                              (*h.image_shape, 1))
                    if h.history_buffer else None)
    # Optional XLA compilation of each whole step (benchmarks/throughput.py
    # measures whether it pays on a device).
    jit = h.jit_compile or None
    self._refiner_step = {
        adv: tf.function(lambda s, adv=adv: self._refiner_step_impl(s, adv),
                         jit_compile=jit)
        for adv in (False, True)}
    self._discriminator_step = tf.function(self._discriminator_step_impl,
                                           jit_compile=jit)

  # -- checkpointing --------------------------------------------------------

  def checkpoint_items(self):
    """Objects a training checkpoint must hold to resume exactly."""
    items = dict(refiner=self.refiner, discriminator=self.discriminator,
                 refiner_optimizer=self.refiner_optimizer,
                 discriminator_optimizer=self.discriminator_optimizer,
                 refiner_updates=self.refiner_updates,
                 discriminator_updates=self.discriminator_updates,
                 units_done=self.units_done)
    if self.refiner_ema is not None:
      items["refiner_ema"] = self.refiner_ema
    if self.history is not None:
      items["history"] = self.history
    return items

  @property
  def export_refiner(self) -> keras.Model:
    """The refiner to use after training: the running average if enabled."""
    return self.refiner_ema if self.refiner_ema is not None else self.refiner

  # -- helpers --------------------------------------------------------------

  def _seed(self, stream: int, counter):
    """A stateless seed for (run seed, stream id, counter)."""
    return tf.stack([tf.cast(self.hparams.seed * 1000 + stream, tf.int64),
                     tf.cast(counter, tf.int64)])

  def _split(self, *tensors):
    """Slices global-batch tensors into per-replica values."""
    n = self.strategy.num_replicas_in_sync
    if n == 1:
      return tensors

    def slice_for(ctx):
      i = ctx.replica_id_in_sync_group
      out = []
      for t in tensors:
        per = t.shape[0] // n
        out.append(t[i * per:(i + 1) * per])
      return tuple(out)
    return self.strategy.experimental_distribute_values_from_function(
        slice_for)

  def _run(self, fn, tensors):
    """Runs fn per replica on slices of `tensors`; means its outputs."""
    args = self._split(*tensors)
    out = self.strategy.run(fn, args=tuple(args))
    return {k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
            for k, v in out.items()}

  @staticmethod
  def _scaled(optimizer, loss):
    """The loss to differentiate: loss-scaled under mixed_float16.

    Must be computed inside the tape, so the scaling is recorded."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
      return optimizer.scale_loss(loss)
    return loss

  @staticmethod
  def _apply(optimizer, tape, loss, variables):
    # A LossScaleOptimizer unscales the gradients in apply_gradients.
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))

  def _update_ema(self):
    if self.refiner_ema is None:
      return
    decay = self.hparams.refiner_ema
    for avg, w in zip(self.refiner_ema.weights, self.refiner.weights):
      avg.assign(decay * avg + (1.0 - decay) * w)

  # -- steps ----------------------------------------------------------------

  def _refiner_step_impl(self, synthetic, adversarial: bool):
    h = self.hparams
    global_batch = synthetic.shape[0]

    def replica_fn(x):
      with tf.GradientTape() as tape:
        refined = self.refiner(x, training=True)
        logits = (self.discriminator(refined, training=False)
                  if adversarial else None)
        per_example, adv, reg = losses.refiner_loss(
            logits, refined, x, h.lam, h.psi, h.reduction)
        loss = self._scaled(self.refiner_optimizer, tf.nn.compute_average_loss(
            per_example, global_batch_size=global_batch))
      self._apply(self.refiner_optimizer, tape, loss,
                  self.refiner.trainable_variables)
      return {"refiner/adversarial": tf.reduce_mean(adv),
              "refiner/self_regularization": tf.reduce_mean(reg),
              "refiner/loss": tf.reduce_mean(per_example)}
    logs = self._run(replica_fn, (synthetic,))
    self._update_ema()
    self.refiner_updates.assign_add(1)
    return logs

  def _discriminator_step_impl(self, synthetic, real):
    h = self.hparams
    global_batch = synthetic.shape[0]
    # θ fixed: the refined half of the batch is computed outside the tape.
    refined_now = self.refiner(synthetic, training=False)
    refined = refined_now
    if self.history is not None:
      seed = self._seed(1, self.discriminator_updates)
      refined = self.history.mix(refined_now, seed)
      self.history.update(refined_now, self._seed(2,
                                                  self.discriminator_updates))

    def replica_fn(y, x_tilde):
      with tf.GradientTape() as tape:
        real_logits = self.discriminator(y, training=True)
        refined_logits = self.discriminator(x_tilde, training=True)
        per_example = losses.discriminator_loss(real_logits, refined_logits,
                                                h.reduction)
        loss = self._scaled(
            self.discriminator_optimizer, tf.nn.compute_average_loss(
                per_example, global_batch_size=global_batch))
      self._apply(self.discriminator_optimizer, tape, loss,
                  self.discriminator.trainable_variables)
      return {"discriminator/loss": tf.reduce_mean(per_example),
              "discriminator/accuracy_real": tf.reduce_mean(
                  losses.patch_accuracy(real_logits, losses.REAL)),
              "discriminator/accuracy_refined": tf.reduce_mean(
                  losses.patch_accuracy(refined_logits, losses.REFINED))}
    logs = self._run(replica_fn, (real, refined))
    self.discriminator_updates.assign_add(1)
    return logs

  def refiner_step(self, synthetic, adversarial: bool = True):
    """One R update on a global batch of synthetic images (eq. 4)."""
    return self._refiner_step[bool(adversarial)](synthetic)

  def discriminator_step(self, synthetic, real):
    """One D update on global batches of synthetic and real images (eq. 2)."""
    return self._discriminator_step(synthetic, real)
