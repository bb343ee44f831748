"""The throughput benchmark's plain-Keras baseline (benchmarks/throughput.py).

R and D of the paper (§3.2, §3.3) as a user writes them with keras.layers
and nothing of the project: 'same' (zero) padding, float32, bare
``tf.GradientTape`` steps, no history buffer, no weight average. The
benchmark times them beside the project's SimGAN, so the ratio of the two
says what the project's machinery costs or gains.
"""

# The plain baseline's networks written out as a user would write them from
# the paper (§3.2, §3.3); tests check they match refiner/networks.py.
# R: (kernel, ResNet blocks, features).
PLAIN_REFINER = {"gaze": (3, 4, 64), "hand": (7, 10, 64)}
# D: (filters, kernel, stride) convolutions, then (pool size, stride), then
# more convolutions, then 1x1 conv to 2 logits.
PLAIN_DISCRIMINATOR = {
    "gaze": (((96, 3, 2), (64, 3, 2)), (3, 1), ((32, 3, 1), (32, 1, 1))),
    "hand": (((96, 7, 4), (64, 5, 2)), (3, 2), ((32, 3, 2), (32, 1, 1))),
}


def build_plain_refiner(arch: str, channels: int = 1):
  """R as a plain Keras user writes it: 'same' padding, float32."""
  import keras  # pylint: disable=g-import-not-at-top
  from keras import layers  # pylint: disable=g-import-not-at-top
  kernel, blocks, features = PLAIN_REFINER[arch]
  conv = lambda filters, size, activation=None: layers.Conv2D(
      filters, size, padding="same", activation=activation, dtype="float32")
  inputs = keras.Input((None, None, channels))
  x = conv(features, kernel, "relu")(inputs)
  for _ in range(blocks):
    y = conv(features, kernel, "relu")(x)
    y = conv(features, kernel)(y)
    x = layers.ReLU(dtype="float32")(layers.Add(dtype="float32")([x, y]))
  outputs = conv(channels, 1, "tanh")(x)
  return keras.Model(inputs, outputs, name="plain_refiner")


def build_plain_discriminator(arch: str, channels: int = 1):
  """D (per-patch 2-way logits) as a plain Keras user writes it."""
  import keras  # pylint: disable=g-import-not-at-top
  from keras import layers  # pylint: disable=g-import-not-at-top
  before, (pool, pool_stride), after = PLAIN_DISCRIMINATOR[arch]
  conv = lambda filters, kernel, stride, activation="relu": layers.Conv2D(
      filters, kernel, strides=stride, padding="same", activation=activation,
      dtype="float32")
  inputs = keras.Input((None, None, channels))
  x = inputs
  for spec in before:
    x = conv(*spec)(x)
  x = layers.MaxPooling2D(pool, strides=pool_stride, padding="same",
                          dtype="float32")(x)
  for spec in after:
    x = conv(*spec)(x)
  logits = conv(2, 1, 1, activation=None)(x)
  return keras.Model(inputs, logits, name="plain_discriminator")


def plain_keras_steps(refiner, discriminator, synthetic, real,
                      lam: float = 1.0, learning_rate: float = 2e-4) -> dict:
  """The plain baseline's R step, D step and refine on fixed batches.

  Losses as the project's defaults compute them (refiner/losses.py,
  reduction 'mean'): R minimises the patches' softmax cross-entropy against
  'real' (class 0) plus lam * the mean L1 distance to its input; D the
  cross-entropy of real images against 'real' and of refined ones against
  'refined' (class 1). The D step refines its synthetic batch with R first
  (outside the tape), as the project's does, but uses no history buffer.

  Args:
    refiner: R (build_plain_refiner).
    discriminator: D (build_plain_discriminator).
    synthetic: the batch of synthetic images every step uses.
    real: the batch of real images of the D step.
    lam: weight of the self-regularisation term (the project's default).
    learning_rate: of both Adam optimizers (the project's default).

  Returns:
    measurement name -> a callable running one step; the steps return
    their loss (before the update).
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  r_optimizer = keras.optimizers.Adam(learning_rate)
  d_optimizer = keras.optimizers.Adam(learning_rate)

  def cross_entropy(logits, label):
    labels = tf.fill(tf.shape(logits)[:-1], label)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))

  @tf.function
  def refiner_step(x):
    with tf.GradientTape() as tape:
      refined = refiner(x, training=True)
      logits = discriminator(refined, training=False)
      loss = (cross_entropy(logits, 0) +
              lam * tf.reduce_mean(tf.abs(refined - x)))
    grads = tape.gradient(loss, refiner.trainable_variables)
    r_optimizer.apply_gradients(zip(grads, refiner.trainable_variables))
    return loss

  @tf.function
  def discriminator_step(x, y):
    refined = refiner(x, training=False)
    with tf.GradientTape() as tape:
      loss = (cross_entropy(discriminator(y, training=True), 0) +
              cross_entropy(discriminator(refined, training=True), 1))
    grads = tape.gradient(loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(grads,
                                    discriminator.trainable_variables))
    return loss

  refine = tf.function(lambda x: refiner(x, training=False))
  return {"refiner_step": lambda: refiner_step(synthetic),
          "discriminator_step": lambda: discriminator_step(synthetic, real),
          "refine": lambda: refine(synthetic)}
