"""The machine observer of the visual Turing test (paper §3.1, Table 1).

The paper shows human subjects a mix of real and refined eye images and asks
them to label each "real" or "synthetic": they get 517 of 1000 right for real
vs refined (chance level), and 162 of 200 for real vs unrefined synthetic.
`observe` fills the same table without people: a fresh classifier learns to
tell real images from the other class (refined, or as the control unrefined
synthetic), and k-fold cross-validation makes every image a trial, judged
once by a model that never saw it.

The observer is meant to be strong: a refiner passes only if nothing
systematic is left to learn, so the CNN keeps pixel-level detail (the first
convolution sees every pixel), absolute intensity (no input normalisation,
since brightness is itself a cue), coarse position (a flattened grid of at
most 4x4 cells, for cues tied to a place such as a border line) and the
strongest local response anywhere (global max pooling, for artefacts that
move).

Protocol (our choices; the paper's test has no classifier):

* n = min(len(real), len(other)) images of each class, the first n: the
  caller draws them at random, and equal classes make 0.5 chance level.
* Stratified folds: each class is permuted (by `seed`) and dealt round-robin
  into the folds, so every fold holds as many real as other images.
* Per fold, ~10 % of each class's training part is an inner validation set;
  training (Adam 1e-3, binary cross-entropy, one epoch at a time over a
  numpy-shuffled order) stops when its loss has not improved for `patience`
  epochs, capped at `max_epochs`, and the best weights are restored.
* A held-out image counts as selected real when the model gives it a
  probability of "real" of at least 0.5.
"""

import math
from typing import Dict, List, Tuple

import keras
from keras import layers
import numpy as np

LEARNING_RATE = 1e-3
VALIDATION_FRACTION = 0.1
MAX_SIDE = 64      # larger images are average-pooled below this first
GRID = 4           # the flattened feature grid has at most GRID x GRID cells
CONVS = ((32, 1), (32, 2), (64, 2), (64, 2), (64, 1))   # (filters, stride)
HIDDEN = 64


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


def build_classifier(shape: Tuple[int, int, int]) -> keras.Model:
  """The observer CNN for (H, W, C) images (already pooled to <= MAX_SIDE).

  Conv3x3@32, Conv3x3/2@32, Conv3x3/2@64, Conv3x3/2@64, Conv3x3@64 (ReLU,
  'same' padding), then two heads concatenated: the features average-pooled
  to a grid of at most GRID x GRID cells and flattened (where a cue is), and
  their global maximum (that a cue is somewhere); then FC@64 (ReLU) and one
  logit of "real".
  """
  inputs = keras.Input(shape)
  x = inputs
  for i, (filters, stride) in enumerate(CONVS):
    x = layers.Conv2D(filters, 3, strides=stride, padding="same",
                      activation="relu", name=f"conv{i + 1}")(x)
  fh, fw = x.shape[1], x.shape[2]
  pool = (math.ceil(fh / GRID), math.ceil(fw / GRID))
  grid = layers.AveragePooling2D(pool, strides=pool, padding="same",
                                 name="grid")(x)
  grid = layers.Flatten(name="flatten")(grid)
  peak = layers.GlobalMaxPooling2D(name="peak")(x)
  x = layers.Concatenate(name="heads")([grid, peak])
  x = layers.Dense(HIDDEN, activation="relu", name="fc")(x)
  logit = layers.Dense(1, name="logit")(x)
  return keras.Model(inputs, logit, name="turing_observer")


def _describe(factor: int, folds: int, max_epochs: int, patience: int,
              batch_size: int) -> str:
  pooled = f"avg-pool /{factor}, " if factor > 1 else ""
  convs = ", ".join(f"conv3x3{'/' + str(s) if s > 1 else ''}@{f}"
                    for f, s in CONVS)
  return (f"CNN from scratch: {pooled}{convs} (ReLU), [avg-pool to "
          f"<={GRID}x{GRID} grid, flatten] + global max, FC@{HIDDEN}, logit; "
          f"Adam {LEARNING_RATE:g}, binary cross-entropy, batch {batch_size}; "
          f"{folds}-fold stratified CV, {VALIDATION_FRACTION:.0%} inner "
          f"validation, early stopping (patience {patience}, <= {max_epochs} "
          f"epochs, best weights)")


def _bce(logits: np.ndarray, labels: np.ndarray) -> float:
  """Mean binary cross-entropy of logits, computed stably."""
  return float(np.mean(np.logaddexp(0.0, logits) - labels * logits))


def _logits(model: keras.Model, images: np.ndarray,
            batch_size: int) -> np.ndarray:
  out = [np.asarray(model(images[i:i + 4 * batch_size], training=False))
         for i in range(0, len(images), 4 * batch_size)]
  return np.concatenate(out)[:, 0].astype(np.float64)


def _train_fold(images: np.ndarray, labels: np.ndarray, train: np.ndarray,
                rng: np.random.Generator, model_seed: int, max_epochs: int,
                patience: int, batch_size: int) -> Tuple[keras.Model, int]:
  """Trains a fresh classifier on `train` (indices into images).

  Returns the model with its best weights (by inner validation loss) and the
  number of epochs run.
  """
  # The inner validation set is stratified too, at least one of each class.
  val_parts, fit_parts = [], []
  for value in (1.0, 0.0):
    part = rng.permutation(train[labels[train] == value])
    n_val = max(1, int(round(VALIDATION_FRACTION * len(part))))
    val_parts.append(part[:n_val])
    fit_parts.append(part[n_val:])
  val, fit = np.concatenate(val_parts), np.concatenate(fit_parts)
  x_val, y_val = images[val], labels[val]

  keras.utils.set_random_seed(model_seed)   # The initial weights.
  model = build_classifier(images.shape[1:])
  model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                loss=keras.losses.BinaryCrossentropy(from_logits=True))
  best_loss, best_weights, since_best, epochs = math.inf, None, 0, 0
  while epochs < max_epochs and since_best < patience:
    order = rng.permutation(fit)
    model.fit(images[order], labels[order], batch_size=batch_size, epochs=1,
              shuffle=False, verbose=0)
    epochs += 1
    loss = _bce(_logits(model, x_val, batch_size), y_val)
    if loss < best_loss:
      best_loss, best_weights, since_best = loss, model.get_weights(), 0
    else:
      since_best += 1
  model.set_weights(best_weights)
  return model, epochs


def observe(real: np.ndarray, other: np.ndarray, seed: int, folds: int = 5,
            max_epochs: int = 30, patience: int = 3,
            batch_size: int = 64) -> Dict:
  """Real vs other, judged by a cross-validated CNN: one row of Table 1.

  Args:
    real: real images, float32 in [-1, 1], (N, H, W, C).
    other: the images to tell apart from them (refined, or unrefined
      synthetic for the control row), same H, W, C.
    seed: fixes the folds, the inner validation sets, the batch order and
      the initial weights (keras.utils.set_random_seed, per fold).
    folds: k of the k-fold cross-validation, >= 2.
    max_epochs: most epochs per fold.
    patience: epochs without a lower inner validation loss before stopping.
    batch_size: images per training step.

  Returns:
    A JSON-serialisable dict: 'classifier' (the CNN and protocol in one
    line), 'n_per_class', 'folds', 'confusion' (real_as_real,
    real_as_synthetic, synthetic_as_real, synthetic_as_synthetic, where
    "synthetic" is the other class), 'correct' of 'trials' (= 2n),
    'accuracy', and per fold 'fold_accuracies' and 'epochs' run.

  Raises:
    ValueError: the images are not (N, H, W, C) of one shape, fewer than
      `folds` of a class, or a setting is out of range.
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
  if n < folds:
    raise ValueError(f"need at least folds={folds} images of each class, got "
                     f"{len(real)} real and {len(other)} other")

  factor = _pool_factor(real.shape[1], real.shape[2])
  images = _average_pool(
      np.concatenate([real[:n], other[:n]]).astype(np.float32), factor)
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
    model, ran = _train_fold(images, labels, np.flatnonzero(fold_of != k),
                             rng, model_seed, max_epochs, patience,
                             batch_size)
    # p(real) >= 0.5 exactly when the logit is >= 0.
    selected_real[test] = _logits(model, images[test], batch_size) >= 0.0
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
