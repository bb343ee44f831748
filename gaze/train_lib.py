"""Training and evaluation of the paper's gaze estimator.

The paper (section 3.1): the CNN regresses the 3-D gaze vector "with l2 loss",
"trained with a constant 0.001 learning rate and 512 batch size, until the
validation error converges". It names no validation set; here a fixed
fraction of the *training* domain (synthetic, refined or real-stand-in
training images, never the test set) is held out, its mean angular error is
measured every `eval_every` steps, the best weights are kept, and training
stops after `patience` evaluations without improvement or at `max_steps`.

The schedule and the resumable early-stopping loop are the ones the hand
estimator uses too (core/estimator.py), and a run leaves the same files:

    estimator.keras   the best model so far (by validation error)
    train_log.csv     step, train loss, train and validation error, time
    ckpt/             the latest model + optimizer + counters, to resume
    DONE              JSON of the final statistics; a finished run is skipped

A killed run started again with the same arguments resumes from `ckpt/`:
batches are drawn by stream position (data.pipeline.stream) and augmented
with seed (seed, step), so it continues with the batches it would have seen.
"""

import dataclasses
import os
from typing import Dict, Union

import keras
import numpy as np
import tensorflow as tf

from core import estimator
from core import files
from core import inference
from core import runtime
from data import augment as augment_lib
from data import pipeline
from data import source as source_lib
from gaze import metrics
from gaze import networks

ESTIMATOR = estimator.ESTIMATOR
TRAIN_LOG = estimator.TRAIN_LOG
DONE = estimator.DONE
LOG_COLUMNS = ("step", "train_loss", "train_error_deg", "val_error_deg",
               "seconds")
# Adam: the paper's SGD at 0.001 barely moves this CNN in a CPU budget
# (README, choices the paper leaves open); SGD stays available.
OPTIMIZERS = ("adam", "sgd")
# The paper's batch size and learning rate (section 3.1); the rest of the
# schedule is ours (the paper trains "until the validation error converges").
SCHEDULE = estimator.Schedule(
    batch_size=512, learning_rate=1e-3, optimizer="adam", max_steps=10000,
    eval_every=250, patience=10, validation_fraction=0.1,
    max_validation=5000)


@dataclasses.dataclass(frozen=True)
class HParams:
  """Hyper-parameters of one gaze estimator training run.

  Attributes:
    schedule: how it is trained (core.estimator.Schedule); the optimizer is
      one of OPTIMIZERS. `max_validation` keeps each evaluation short on a
      1.2 M-image source; `subset_fraction` is Table 2's "1x" (0.25) or
      "4x" (1.0).
    augment: data.augment's photometric augmentation of training batches
      (Table 2's "+ augmentation" rows; the paper uses none for gaze).
  """
  schedule: estimator.Schedule = SCHEDULE
  augment: bool = False

  def __post_init__(self):
    if self.schedule.optimizer not in OPTIMIZERS:
      raise ValueError(f"the gaze estimator's optimizer must be one of "
                       f"{list(OPTIMIZERS)}, got {self.schedule.optimizer!r}")


def l2_loss(predicted, true):
  """The paper's "Euclidean loss" on the 3-D gaze vector.

  Caffe's EuclideanLoss, 1/(2n) * sum_i |p_i - t_i|^2, on the raw prediction
  (not normalised) against the unit label.
  """
  predicted = tf.cast(predicted, tf.float32)
  return 0.5 * tf.reduce_mean(
      tf.reduce_sum(tf.square(predicted - true), axis=-1))


def make_train_step(model: keras.Model,
                    optimizer: keras.optimizers.Optimizer,
                    loss_mean: keras.metrics.Mean,
                    error_mean: metrics.MeanAngularError):
  """One SGD/Adam step on the L2 loss, as a tf.function (images, labels)."""

  @tf.function
  def train_step(images, labels):
    predicted = model(images, training=True)
    loss = l2_loss(predicted, labels)
    grads = runtime.gradients(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)
    loss_mean.update_state(loss)
    error_mean.update_state(labels, predicted)
    return loss

  return train_step


def training_batches(train_src: source_lib.ImageSource, hparams: HParams,
                     start: int) -> tf.data.Dataset:
  """(images, labels) batches `start` .. max_steps - 1.

  Batch t is drawn by stream position and augmented with seed (seed, t), so
  a resumed run sees exactly the batches an uninterrupted one would have.
  """
  schedule = hparams.schedule
  dataset = pipeline.stream(train_src, schedule.batch_size,
                            seed=schedule.seed, start_batch=start,
                            num_batches=max(schedule.max_steps - start, 0),
                            label_columns=source_lib.GAZE_COLUMNS)
  if not hparams.augment:
    return dataset
  positions = tf.data.Dataset.range(start, schedule.max_steps)
  return tf.data.Dataset.zip(positions, dataset).map(
      lambda t, batch: (augment_lib.augment(
          batch[0], tf.stack([tf.cast(schedule.seed, tf.int64), t])),
                        batch[1]),
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
  ).prefetch(tf.data.AUTOTUNE)


# Bound here so tests can patch this module's file writer alone (train
# passes it on to the shared loop).
_write_atomic = files.write_atomic


def train(hparams: HParams, train_source: source_lib.ImageSource,
          workdir: str, overwrite: bool = False) -> Dict[str, object]:
  """Trains the gaze CNN on a labelled source; returns the final statistics.

  Args:
    hparams: the run's hyper-parameters.
    train_source: images of the training domain with GAZE_COLUMNS labels;
      `schedule.validation_fraction` of it is held out for validation.
    workdir: where the model, log and checkpoints go (created if missing).
    overwrite: start afresh in a workdir this project made (it is emptied
      first); without it, a workdir of another training is refused.

  Returns:
    The statistics also written to `workdir/DONE` (JSON): steps, best_step,
    best_val_error_deg, stopped_early, n_train, n_validation,
    train_seconds, images_per_second, resumed_from_step, hparams.

  Raises:
    DataError: the source has no gaze labels or is too small to split.
    ProvenanceError: the workdir holds another training or is in use.
  """
  return estimator.train_in_workdir(_train, hparams, train_source, workdir,
                                    overwrite)


def _train(hparams: HParams, train_source: source_lib.ImageSource,
           workdir: str) -> Dict[str, object]:
  """`train` in a workdir this run holds, not yet DONE."""
  schedule = hparams.schedule
  train_source.labels(source_lib.GAZE_COLUMNS)  # Fail now if unlabelled.
  train_src, val_src = source_lib.split_train_validation(train_source,
                                                         schedule)
  val_images = val_src.read_all()
  val_labels = val_src.labels(source_lib.GAZE_COLUMNS)

  keras.utils.set_random_seed(schedule.seed)  # The initial weights.
  model = networks.gaze_estimator((*train_src.image_shape, 1),
                                  dtype=schedule.precision)
  optimizer = estimator.make_optimizer(schedule)
  optimizer.build(model.trainable_variables)  # So a restore fills its slots.
  forward = inference.forward(model)
  loss_mean = keras.metrics.Mean()
  error_mean = metrics.MeanAngularError()
  train_step = make_train_step(model, optimizer, loss_mean, error_mean)

  def validate():
    """Mean angular error on the validation split, and the log columns."""
    error = float(np.mean(metrics.angular_error(
        inference.predict(forward, val_images, schedule.batch_size, (3,)),
        val_labels)))
    columns = [f"{float(loss_mean.result()):.6g}",
               f"{float(error_mean.result()):.6g}", f"{error:.6g}"]
    loss_mean.reset_state()
    error_mean.reset_state()
    return error, columns

  return estimator.train_with_early_stopping(
      workdir, hparams, model, optimizer, train_step,
      lambda start: training_batches(train_src, hparams, start), validate,
      LOG_COLUMNS, "best_val_error_deg", (len(train_src), len(val_src)),
      write=_write_atomic)


def evaluate(model_or_path: Union[keras.Model, str],
             test_source: source_lib.ImageSource,
             output_dir: str,
             batch_size: int = 512,
             thresholds=metrics.REPORT_THRESHOLDS) -> Dict[str, object]:
  """Angular error of a gaze model on a labelled test source.

  Writes to `output_dir` (metrics.json last, see `write_evaluation`):
    metrics.json  n, mean_deg, median_deg, pct_within {d: %} (d in degrees)
    errors.csv    filename, error_deg, pred_x/y/z, gaze_x/y/z per image
    curve.csv     distance_deg, pct_within: the cumulative curve (Fig. 7)

  Args:
    model_or_path: a Keras model or the path of a saved `.keras` model.
    test_source: a source with GAZE_COLUMNS labels, of the model's size.
    output_dir: created if missing.
    batch_size: images per forward pass.
    thresholds: distances (degrees) at which to report % within.

  Returns:
    The contents of metrics.json.
  """
  model = (keras.models.load_model(model_or_path)
           if isinstance(model_or_path, str) else model_or_path)
  expected = tuple(model.input_shape[1:3])
  if tuple(test_source.image_shape) != expected:
    raise source_lib.DataError(
        test_source.description, f"images are {test_source.image_shape}, "
        f"the model expects {expected}")
  labels = test_source.labels(source_lib.GAZE_COLUMNS)
  forward = inference.forward(model)
  predicted = np.concatenate([
      forward(images).numpy()
      for images in pipeline.ordered(test_source, batch_size)])
  return write_evaluation(predicted, labels, test_source.filenames,
                          output_dir, thresholds)


def write_evaluation(predicted: np.ndarray, labels: np.ndarray, filenames,
                     output_dir: str,
                     thresholds=metrics.REPORT_THRESHOLDS) -> Dict[str, object]:
  """Writes errors.csv, curve.csv and metrics.json of predictions (any
  gaze predictor: the CNN here, the k-NN baseline); returns the metrics.

  metrics.json is written last (and an old one removed first): a folder
  with it holds a whole evaluation, which the benchmarks skip.
  """
  errors = metrics.angular_error(predicted, labels)
  result = metrics.summary(errors, thresholds)
  os.makedirs(output_dir, exist_ok=True)
  metrics_path = os.path.join(output_dir, "metrics.json")
  files.remove(metrics_path)
  rows = [[name, f"{e:.6f}", *(f"{v:.6f}" for v in p),
           *(f"{v:.6f}" for v in t)]
          for name, e, p, t in zip(filenames, errors, predicted, labels)]
  files.write_atomic(os.path.join(output_dir, "errors.csv"), files.csv_text(
      ("filename", "error_deg", "pred_x", "pred_y", "pred_z",
       *source_lib.GAZE_COLUMNS), rows))
  grid, curve = metrics.cumulative_curve(errors)
  files.write_atomic(os.path.join(output_dir, "curve.csv"), files.csv_text(
      ("distance_deg", "pct_within"),
      [[f"{d:g}", f"{p:.4f}"] for d, p in zip(grid, curve)]))
  files.write_json(metrics_path, result)
  return result
