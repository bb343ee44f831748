"""SimGAN's losses as pure functions (paper §2, eqs. 1-4).

Every function returns a *per-example* loss vector of shape (batch,); the
trainer averages it over the global batch (``tf.nn.compute_average_loss``), so
learning rates do not depend on the batch size or the number of replicas.

Reduction inside an image. The paper sums: "we sum the cross-entropy loss
values over w x h local patches" (§2.2) and ‖.‖₁ is a sum over pixels. With
``reduction='sum'`` we do the same; with ``reduction='mean'`` both terms are
averaged over patches and pixels instead. The two settings are the same
objective up to scale when

    λ_sum = λ_mean · P / (H · W · C),

with P the number of patches (gaze, 35x55, D padding 'same': P = 9·14 = 126,
H·W·C = 1925, so λ_sum = 0.065·λ_mean) — and the adversarial term is P times
larger under 'sum', which also changes the effective learning rate of R.

Discriminator classes: index 1 = "refined" (synthetic), index 0 = "real".
The paper's D(.) is the softmax probability of class 1.
"""

import tensorflow as tf

REFINED = 1
REAL = 0
REDUCTIONS = ("mean", "sum")
FEATURE_TRANSFORMS = ("identity", "mean_channels", "gradients")


def _reduce_per_example(values, reduction):
  """Reduces all but the batch axis by mean or sum."""
  if reduction not in REDUCTIONS:
    raise ValueError(f"reduction must be one of {REDUCTIONS}")
  axes = list(range(1, len(values.shape)))
  if not axes:
    return values
  if reduction == "sum":
    return tf.reduce_sum(values, axis=axes)
  return tf.reduce_mean(values, axis=axes)


def summed_lambda(lam_mean: float, patches: int, values: int) -> float:
  """λ for reduction='sum' that weighs the two terms as λ_mean does under
  'mean' (module doc): λ_sum = λ_mean · P / (H · W · C).

  Args:
    lam_mean: λ tuned with mean reductions.
    patches: P, the number of D's local patches per image.
    values: H · W · C, the values per image that ‖ψ(x̃) − ψ(x)‖₁ sums.
  """
  if patches <= 0 or values <= 0:
    raise ValueError("patches and values must be positive")
  return lam_mean * patches / values


def patch_cross_entropy(logits, label: int, reduction: str = "mean"):
  """Per-patch 2-way softmax cross-entropy against a constant class label.

  Args:
    logits: (batch, h, w, 2) raw discriminator logits (one pair per patch).
    label: REFINED (1) or REAL (0), the target class of every patch.
    reduction: 'sum' (paper) or 'mean' over the h x w patches.

  Returns:
    (batch,) cross-entropy of each image, reduced over its patches.
  """
  logits = tf.cast(logits, tf.float32)
  labels = tf.fill(tf.shape(logits)[:-1], label)
  per_patch = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
  return _reduce_per_example(per_patch, reduction)


def discriminator_loss(real_logits, refined_logits, reduction: str = "mean"):
  """Eq. (2): L_D(φ) = −Σ_i log D_φ(x̃_i) − Σ_j log(1 − D_φ(y_j)).

  "The target labels for the cross-entropy loss layer are 0 for every y_j,
  and 1 for every x̃_i" (§2.1), applied per patch for the local adversarial
  loss (§2.2).

  Args:
    real_logits: (b, h, w, 2) D's logits on real images y_j.
    refined_logits: (b, h, w, 2) D's logits on refined images x̃_i (the
      history-buffer mix of §2.3 happens before this function).
    reduction: 'sum' (paper) or 'mean' over patches.

  Returns:
    (b,) per-pair loss: the real image's term plus the refined image's term.
  """
  return (patch_cross_entropy(real_logits, REAL, reduction) +
          patch_cross_entropy(refined_logits, REFINED, reduction))


def refiner_adversarial_loss(refined_logits, reduction: str = "mean"):
  """Eq. (3): ℓ_real(θ) = −Σ_i log(1 − D_φ(R_θ(x_i))), summed over patches.

  The refiner wants every patch of its output classified as real.

  Returns:
    (b,) adversarial loss of each refined image.
  """
  return patch_cross_entropy(refined_logits, REAL, reduction)


def feature_transform(images, psi: str = "identity"):
  """ψ, the map into the feature space of the self-regularisation term.

  The later version of the paper: "The feature transform can be an identity
  map, image derivatives, mean of color channels, or a learned
  transformation". For grayscale gaze and depth images it is the identity.

  Args:
    images: (b, H, W, C).
    psi: 'identity', 'mean_channels' (mean over C) or 'gradients'
      (horizontal and vertical forward differences, concatenated).
  """
  if psi == "identity":
    return images
  if psi == "mean_channels":
    return tf.reduce_mean(images, axis=-1, keepdims=True)
  if psi == "gradients":
    dy = images[:, 1:, :, :] - images[:, :-1, :, :]
    dx = images[:, :, 1:, :] - images[:, :, :-1, :]
    # Flattened and concatenated so both directions count pixel for pixel.
    b = tf.shape(images)[0]
    return tf.concat([tf.reshape(dy, [b, -1]), tf.reshape(dx, [b, -1])],
                     axis=1)
  raise ValueError(f"psi must be one of {FEATURE_TRANSFORMS}, got {psi!r}")


def self_regularization_loss(refined, synthetic, psi: str = "identity",
                             reduction: str = "mean"):
  """ℓ_reg = ‖ψ(R_θ(x)) − ψ(x)‖₁ (eq. 4 with the later version's ψ).

  Keeps the refined image close to its synthetic input so that the input's
  labels (gaze direction, joint positions) still hold for it.

  Returns:
    (b,) L1 distance of each image, summed or averaged over features.
  """
  diff = tf.abs(feature_transform(tf.cast(refined, tf.float32), psi) -
                feature_transform(tf.cast(synthetic, tf.float32), psi))
  return _reduce_per_example(diff, reduction)


def refiner_loss(refined_logits, refined, synthetic, lam: float,
                 psi: str = "identity", reduction: str = "mean"):
  """Eq. (4): L_R(θ) = −Σ log(1 − D_φ(R_θ(x_i))) + λ‖ψ(R_θ(x_i)) − ψ(x_i)‖₁.

  Args:
    refined_logits: D's (b, h, w, 2) logits of the refined images, or None
      while R is pretrained on the self-regularisation term alone (§3.1:
      "we first train the Rθ network with just self-regularization loss").
    refined: R_θ(x), (b, H, W, C).
    synthetic: x, (b, H, W, C).
    lam: λ.
    psi: ψ (see feature_transform).
    reduction: 'sum' (paper) or 'mean' over patches and pixels.

  Returns:
    A tuple (total, adversarial, regularisation) of (b,) vectors, with
    total = adversarial + lam * regularisation.
  """
  regularization = self_regularization_loss(refined, synthetic, psi,
                                            reduction)
  if refined_logits is None:
    adversarial = tf.zeros_like(regularization)
  else:
    adversarial = refiner_adversarial_loss(refined_logits, reduction)
  return adversarial + lam * regularization, adversarial, regularization


def patch_accuracy(logits, label: int):
  """(b,) fraction of each image's patches that D assigns to `label`."""
  predicted = tf.argmax(tf.cast(logits, tf.float32), axis=-1,
                        output_type=tf.int32)
  return _reduce_per_example(
      tf.cast(tf.equal(predicted, label), tf.float32), "mean")
