"""The machine observer of the visual Turing test (paper §3.1, Table 1).

The paper shows human subjects a mix of real and refined eye images and asks
them to label each "real" or "synthetic": they get 517 of 1000 right for real
vs refined (chance level), and 162 of 200 for real vs unrefined synthetic.
`observe` fills the same table without people: a fresh classifier learns to
tell real images from the other class (refined, or as the control unrefined
synthetic), and k-fold cross-validation makes every image a trial, judged
once by a model that never saw it.

The observer is meant to be strong: a refiner passes only if nothing
systematic is left to learn. Its CNN (build_classifier) sees each image with
its high-pass residual (fine texture: noise, blur, ringing), and scores it
linearly from standardised per-image statistics of every depth: the global
mean of each layer's features (texture, intensity; absolute, as brightness
is a cue, and the zero padding makes the borders distinguishable) and their
global maximum (a local artefact anywhere). Given 1000 images per class
(35x55, white noise blurred by a 1.5 px Gaussian to a std of 0.4), it
tells real ones from others of the same kind (5 folds) that are +0.3
brighter, have a saturated border column, white noise of std 0.03 added,
a 0.7 px Gaussian blur, or one +0.5 3x3 spot each, all at >= 99 %;
+0.03 brighter at 57 % (the best threshold on the image mean: 62 %); and
no change at all at 50 %.

Protocol (our choices; the paper's test has no classifier):

* n = min(len(real), len(other)) images of each class, the first n: the
  caller draws them at random, and equal classes make 0.5 chance level.
* Stratified folds: each class is permuted (by `seed`) and dealt round-robin
  into the folds, so every fold holds as many real as other images.
* Images larger than MAX_SIDE (64) on a side are average-pooled by an
  integer factor first (224x224 depth hands: /4 to 56x56), to keep it cheap.
* Per fold, ~10 % of each class's training part is an inner validation set;
  training (Adam, binary cross-entropy, one epoch at a time over a
  numpy-shuffled order) stops when its loss has not improved by MIN_DELTA
  for `patience` epochs, capped at `max_epochs`, and the best weights are
  restored. The learning rate is 3e-3, not Keras' 1e-3: an epoch of ~1000
  images is only ~20 steps. Input channels are standardised by the
  statistics of the fold's training images.
* A held-out image counts as selected real when the model gives it a
  probability of "real" of at least 0.5.
"""

import math
from typing import Callable, Dict, List, Tuple

import keras
from keras import layers
import numpy as np
import tensorflow as tf

from core import runtime

LEARNING_RATE = 3e-3
VALIDATION_FRACTION = 0.1
# A lower inner validation loss must beat the best by this much (nats) to
# count, as Keras' EarlyStopping min_delta: when a cue is learned the loss
# creeps towards 0 for many epochs without changing a single decision.
MIN_DELTA = 1e-3
# Keras' default of 0.99 would keep the initial statistics for hundreds of
# steps, where an epoch is ~20 steps (3 for 100 images a class): at 0.5 an
# evaluation normalises by the statistics of the last few batches.
BN_MOMENTUM = 0.5
MAX_SIDE = 64      # larger images are average-pooled below this first
CONVS = ((16, 2), (32, 2), (64, 2), (64, 2))   # (filters, stride), 3x3


def _pool_factor(height: int, width: int) -> int:
  """The smallest integer factor that brings both sides to <= MAX_SIDE."""
  return max(1, math.ceil(max(height, width) / MAX_SIDE))


def _average_pool(images: np.ndarray, factor: int) -> np.ndarray:
  """Means over factor x factor blocks; edges are padded by replication."""
  if factor == 1:
    return images
  n, h, w, c = images.shape
  hp, wp = -h % factor, -w % factor
  padded = np.pad(images, ((0, 0), (0, hp), (0, wp), (0, 0)), mode="edge")
  blocks = padded.reshape(n, (h + hp) // factor, factor, (w + wp) // factor,
                          factor, c)
  return blocks.mean(axis=(2, 4), dtype=np.float32)


def _high_pass(images: np.ndarray) -> np.ndarray:
  """Each pixel minus the mean of its 3x3 neighbourhood (edges replicated)."""
  h, w = images.shape[1:3]
  padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
  total = sum(padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3))
  return (images - total / 9.0).astype(np.float32)


def prepare(images: np.ndarray) -> np.ndarray:
  """The classifier's input: (N, H, W, C) images -> (N, H', W', 2C).

  Images larger than MAX_SIDE on a side are average-pooled by an integer
  factor (_pool_factor) first. Each channel is followed by its high-pass
  residual, as in image-forensics detectors: a refiner's cue is often in
  the fine texture (noise, blur, ringing), orders of magnitude below the
  image content, and a CNN learns to isolate it from scratch only slowly.
  """
  images = _average_pool(np.asarray(images, np.float32),
                         _pool_factor(images.shape[1], images.shape[2]))
  return np.concatenate([images, _high_pass(images)], axis=-1)


def build_classifier(shape: Tuple[int, int, int]) -> keras.Model:
  """The observer CNN for (H, W, 2C) inputs: `prepare`d, standardised.

  Conv3x3/2@16, Conv3x3/2@32, Conv3x3/2@64, Conv3x3/2@64 (CONVS; ReLU, 'same'
  padding; the first one sees every pixel, its kernel being wider than its
  stride). The logit of "real" is linear in per-image statistics of every
  depth: the global average of each conv's features (texture, intensity,
  and through the zero padding the borders) and their global maximum (a
  local artefact anywhere), batch-normalised so that a cue that
  moves a statistic by a small fraction of its scale still gets a weight
  within a few hundred steps. Neither a hidden layer nor a flattened
  spatial grid: on ~1000 images per class both let the classifier memorise
  the training images within 2-3 epochs, before a subtle cue is learned.
  Striding from the first layer on keeps it cheap on a CPU: about 1.8 M
  multiply-adds per 35x55 image.
  """
  inputs = keras.Input(shape)
  x = inputs
  heads = []
  for i, (filters, stride) in enumerate(CONVS):
    x = layers.Conv2D(filters, 3, strides=stride, padding="same",
                      activation="relu", name=f"conv{i + 1}")(x)
    heads.append(layers.GlobalAveragePooling2D(name=f"mean{i + 1}")(x))
    heads.append(layers.GlobalMaxPooling2D(name=f"max{i + 1}")(x))
  x = layers.Concatenate(name="statistics")(heads)
  x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="standardise")(x)
  logit = layers.Dense(1, name="logit")(x)
  return keras.Model(inputs, logit, name="turing_observer")


def _describe(factor: int, folds: int, max_epochs: int, patience: int,
              batch_size: int) -> str:
  pooled = f"avg-pool /{factor}, " if factor > 1 else ""
  convs = ", ".join(f"conv3x3/{s}@{f}" for f, s in CONVS)
  return (f"CNN from scratch: {pooled}image + 3x3 high-pass residual "
          f"(standardised), "
          f"{convs} (ReLU), global mean and max of each, "
          f"batch norm, linear logit; Adam {LEARNING_RATE:g}, binary "
          f"cross-entropy, batch {batch_size}; {folds}-fold stratified CV, "
          f"{VALIDATION_FRACTION:.0%} inner validation, early stopping "
          f"(patience {patience}, min delta {MIN_DELTA:g}, <= {max_epochs} "
          f"epochs, best weights)")


def _bce(logits: np.ndarray, labels: np.ndarray) -> float:
  """Mean binary cross-entropy of logits, computed stably."""
  return float(np.mean(np.logaddexp(0.0, logits) - labels * logits))


def _train_fold(images: np.ndarray, labels: np.ndarray, train: np.ndarray,
                rng: np.random.Generator, model_seed: int, max_epochs: int,
                patience: int, batch_size: int
                ) -> Tuple[Callable[[np.ndarray], np.ndarray], int]:
  """Trains a fresh classifier on `train` (indices into images).

  Returns a function prepared images -> logits of the model with its best
  weights (by inner validation loss), and the number of epochs run.
  """
  # The inner validation set is stratified too, at least one of each class.
  val_parts, fit_parts = [], []
  for value in (1.0, 0.0):
    part = rng.permutation(train[labels[train] == value])
    n_val = max(1, int(round(VALIDATION_FRACTION * len(part))))
    val_parts.append(part[:n_val])
    fit_parts.append(part[n_val:])
  val, fit = np.concatenate(val_parts), np.concatenate(fit_parts)
  # Each input channel is standardised by the training images' statistics:
  # the high-pass residual is several times smaller than the image, and
  # the first layer would otherwise see little but the image content.
  mean = images[fit].mean(axis=(0, 1, 2), dtype=np.float64)
  std = images[fit].std(axis=(0, 1, 2), dtype=np.float64)
  std[std == 0] = 1.0
  standardise = lambda x: ((x - mean) / std).astype(np.float32)

  keras.utils.set_random_seed(model_seed)   # The initial weights.
  model = build_classifier(images.shape[1:])
  optimizer = keras.optimizers.Adam(LEARNING_RATE)
  # Its slots made now, train_step is traced once rather than twice.
  optimizer.build(model.trainable_variables)
  bce = keras.losses.BinaryCrossentropy(from_logits=True)
  spec = (tf.TensorSpec((None,) + images.shape[1:], tf.float32),
          tf.TensorSpec((None,), tf.float32))

  # One traced step and a traced forward pass: model.fit per epoch would
  # set up its data pipeline each time, seconds per call on a small CPU.
  # No Python control flow inside: autograph off (it also could not parse
  # these closures and warned at every fold).
  @tf.function(input_signature=spec, autograph=False)
  def train_step(x, y):
    loss = bce(y[:, None], model(x, training=True))
    grads = runtime.gradients(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)

  forward = tf.function(lambda x: model(x, training=False)[:, 0],
                        input_signature=spec[:1], autograph=False)

  def logits(x: np.ndarray) -> np.ndarray:
    out = [forward(standardise(x[i:i + 4 * batch_size])).numpy()
           for i in range(0, len(x), 4 * batch_size)]
    return np.concatenate(out).astype(np.float64)

  best_loss, best_weights, since_best, epochs = math.inf, None, 0, 0
  while epochs < max_epochs and since_best < patience:
    order = rng.permutation(fit)
    # Batches of near-equal size: no tiny last batch skews batch norm.
    for batch in np.array_split(order, math.ceil(len(order) / batch_size)):
      train_step(standardise(images[batch]), labels[batch])
    epochs += 1
    loss = _bce(logits(images[val]), labels[val])
    if loss < best_loss - MIN_DELTA:
      best_loss, best_weights, since_best = loss, model.get_weights(), 0
    else:
      since_best += 1
  model.set_weights(best_weights)
  return logits, epochs


def _min_per_class(folds: int) -> int:
  """The fewest images per class for `folds` folds.

  Each image is held out once (n >= folds), and every fold trains on at
  least one image of each class and validates on another.
  """
  n = folds
  while n - math.ceil(n / folds) < 2:
    n += 1
  return n


def observe(real: np.ndarray, other: np.ndarray, seed: int, folds: int = 5,
            max_epochs: int = 30, patience: int = 3,
            batch_size: int = 64) -> Dict:
  """Real vs other, judged by a cross-validated CNN: one row of Table 1.

  Args:
    real: real images, float32 in [-1, 1], (N, H, W, C).
    other: the images to tell apart from them (refined, or unrefined
      synthetic for the control row), same H, W, C.
    seed: fixes the folds, the inner validation sets, the batch order and
      the initial weights (keras.utils.set_random_seed per fold, which
      also reseeds Python's, numpy's and TensorFlow's global generators).
    folds: k of the k-fold cross-validation, >= 2.
    max_epochs: most epochs per fold.
    patience: epochs without a lower inner validation loss (by MIN_DELTA)
      before stopping.
    batch_size: images per training step.

  Returns:
    A JSON-serialisable dict: 'classifier' (the CNN and protocol in one
    line), 'n_per_class', 'folds', 'confusion' (real_as_real,
    real_as_synthetic, synthetic_as_real, synthetic_as_synthetic, where
    "synthetic" is the other class), 'correct' of 'trials' (= 2n),
    'accuracy', and per fold 'fold_accuracies' and 'epochs' run.

  Raises:
    ValueError: the images are not (N, H, W, C) of one shape, there are
      fewer than `folds` of a class (4 for 2 folds), or a setting is out of
      range.
  """
  real, other = np.asarray(real), np.asarray(other)
  if real.ndim != 4 or real.shape[1:] != other.shape[1:]:
    raise ValueError(f"real and other must be (N, H, W, C) images of the "
                     f"same shape, got {real.shape} and {other.shape}")
  if folds < 2:
    raise ValueError(f"folds must be >= 2, got {folds}")
  if min(max_epochs, patience, batch_size) < 1:
    raise ValueError(f"max_epochs, patience and batch_size must be >= 1, got "
                     f"{max_epochs}, {patience}, {batch_size}")
  n = min(len(real), len(other))
  if n < _min_per_class(folds):
    raise ValueError(
        f"need at least {_min_per_class(folds)} images of each class for "
        f"{folds} folds, got {len(real)} real and {len(other)} other")

  factor = _pool_factor(real.shape[1], real.shape[2])
  images = np.concatenate([prepare(real[:n]), prepare(other[:n])])
  labels = np.concatenate([np.ones(n), np.zeros(n)]).astype(np.float32)

  rng = np.random.default_rng(seed)
  # Both classes are dealt round-robin into the folds: equal shares per fold.
  fold_of = np.empty(2 * n, dtype=np.int64)
  fold_of[rng.permutation(n)] = np.arange(n) % folds
  fold_of[n + rng.permutation(n)] = np.arange(n) % folds

  selected_real = np.zeros(2 * n, dtype=bool)
  fold_accuracies: List[float] = []
  epochs: List[int] = []
  for k in range(folds):
    test = np.flatnonzero(fold_of == k)
    model_seed = int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
    logits, ran = _train_fold(images, labels, np.flatnonzero(fold_of != k),
                             rng, model_seed, max_epochs, patience,
                             batch_size)
    # p(real) >= 0.5 exactly when the logit is >= 0.
    selected_real[test] = logits(images[test]) >= 0.0
    fold_accuracies.append(float(np.mean(selected_real[test] ==
                                         (labels[test] == 1.0))))
    epochs.append(ran)

  is_real = labels == 1.0
  confusion = {
      "real_as_real": int(np.sum(is_real & selected_real)),
      "real_as_synthetic": int(np.sum(is_real & ~selected_real)),
      "synthetic_as_real": int(np.sum(~is_real & selected_real)),
      "synthetic_as_synthetic": int(np.sum(~is_real & ~selected_real)),
  }
  correct = confusion["real_as_real"] + confusion["synthetic_as_synthetic"]
  return {
      "classifier": _describe(factor, folds, max_epochs, patience,
                              batch_size),
      "n_per_class": int(n),
      "folds": int(folds),
      "confusion": confusion,
      "correct": int(correct),
      "trials": int(2 * n),
      "accuracy": correct / (2 * n),
      "fold_accuracies": fold_accuracies,
      "epochs": epochs,
  }
