"""Training and evaluation of the hand-pose estimator (paper section 4.3).

The paper: a stacked hourglass network with 2 hourglass blocks and 64 x 64
output heatmaps, trained on real, synthetic or refined synthetic NYU depth
crops "with random [−20, 20] degree rotations and crops" and "until the
validation error converges", then evaluated on all real test images. It names
no validation set, loss, optimizer or batch size. Here:

* **Loss**: Newell et al.'s, the mean squared error between each stack's
  heatmaps and Gaussian targets (sigma 1 heatmap pixel, peak 1), summed over
  the stacks (intermediate supervision). Channels of joints that left the
  image through augmentation are masked out. Optionally
  (HParams.foreground_weight > 0) pixels weigh 1 + w * target, so the few
  pixels near a joint are not drowned by the background: a small hourglass
  trained with plain MSE on a CPU budget stays on the plateau of predicting
  zeros everywhere (README, Table 4 notes).
* **Optimizer**: Adam at 1e-3 by default, RMSprop at 2.5e-4 (Newell's) as an
  option (see OPTIMIZERS).
* **Validation**: a fixed fraction of the *training* source (the same domain
  as the training images, never the test set) is held out. Its mean joint
  error in heatmap pixels is measured every `eval_every` steps, the best
  weights are kept. The first `patience` evaluations without improvement
  drop the learning rate 10x (`lr_drops`=1, as the hourglass paper [22]
  drops its rate once the validation error plateaus): at a constant rate the
  hourglass's validation error jumps by ±20 % between evaluations, so the
  plateau that stops a run was noise, at a step that differed by thousands
  between two runs of one seed (README, Table 4 notes). Training stops at
  the next plateau or at `max_steps`.

The schedule and the resumable early-stopping loop are the gaze estimator's
(core/estimator.py), and a run leaves the same files:

    estimator.keras   the best model so far (by validation error)
    train_log.csv     step, train loss, validation error and % within 5 px
    ckpt/             the latest model + optimizer + counters, to resume
    DONE              JSON of the final statistics; a finished run is skipped

A killed run started again with the same arguments resumes from `ckpt/`:
batches are drawn by stream position (data.pipeline.stream) and augmented
with seed (seed, step), so it continues with the batches it would have seen.

Training and evaluation live together here, as in gaze/train_lib.py, since
both decode heatmaps the same way; that takes the module a little past 400
lines.
"""

import dataclasses
import os
from typing import Callable, Dict, Sequence, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from core import estimator
from core import files
from core import inference
from core import runtime
from data import nyu_hand
from data import pipeline
from data import source as source_lib
from handpose import augment as augment_lib
from handpose import heatmaps as heatmaps_lib
from handpose import metrics
from handpose import networks

ESTIMATOR = estimator.ESTIMATOR
TRAIN_LOG = estimator.TRAIN_LOG
DONE = estimator.DONE
LOG_COLUMNS = ("step", "train_loss", "val_error_px", "val_pct_within_5",
               "seconds")
# Labels: the 14 joints as (u, v) image pixel columns j00_u, j00_v, ...
JOINT_COLUMNS = nyu_hand.JOINT_UV_COLUMNS
NUM_JOINTS = len(JOINT_COLUMNS) // 2
# Newell et al. trained with RMSprop at 2.5e-4. Adam at 1e-3 is the default:
# a CPU budget needs the fastest start (as for the gaze estimator), and Adam
# is invariant to the scale of the very small, mean-reduced heatmap loss.
OPTIMIZERS = ("adam", "rmsprop")
# The paper states no batch size or step budget: batch 16 (Newell et al.:
# 6); at most 1000 validation images, as they are held in memory (1000 crops
# of 224 x 224 take 200 MB).
SCHEDULE = estimator.Schedule(
    batch_size=16, learning_rate=1e-3, optimizer="adam", max_steps=20000,
    eval_every=500, patience=10, lr_drops=1, lr_drop_factor=0.1,
    validation_fraction=0.1, max_validation=1000)

# Bound here so tests can patch this module's file writer alone (train
# passes it on to the shared loop).
_write_atomic = files.write_atomic


@dataclasses.dataclass(frozen=True)
class HParams:
  """Hyper-parameters of one hand-pose estimator training run.

  Attributes:
    schedule: how it is trained (core.estimator.Schedule); the optimizer is
      one of OPTIMIZERS.
    augment: random rotation / scale / shift (handpose/augment.py), the
      paper's "random [−20, 20] degree rotations and crops".
    max_rotation_deg: rotation range of the augmentation (paper: 20).
    sigma: standard deviation of the target Gaussians, heatmap pixels.
    heatmap_size: side of the output heatmaps (paper: 64).
    filters: hourglass width (Newell: 256).
    num_stacks: hourglass blocks (paper: 2).
    depth: pooling levels per hourglass (Newell: 4).
    foreground_weight: heatmap pixels weigh 1 + foreground_weight * target
      in the loss (0: Newell's plain MSE). A small hourglass on a CPU budget
      needs it to leave the all-zeros plateau (README, Table 4 notes).
  """
  schedule: estimator.Schedule = SCHEDULE
  augment: bool = True
  max_rotation_deg: float = 20.0
  sigma: float = heatmaps_lib.DEFAULT_SIGMA
  heatmap_size: int = networks.PAPER_HEATMAP_SIZE
  filters: int = 256
  num_stacks: int = 2
  depth: int = 4
  foreground_weight: float = 0.0

  def __post_init__(self):
    if self.schedule.optimizer not in OPTIMIZERS:
      raise ValueError(f"the hand-pose estimator's optimizer must be one of "
                       f"{list(OPTIMIZERS)}, got {self.schedule.optimizer!r}")
    for name in ("heatmap_size", "filters", "num_stacks", "depth"):
      if getattr(self, name) <= 0:
        raise ValueError(f"{name} must be positive")
    if self.foreground_weight < 0:
      raise ValueError("foreground_weight must be >= 0")
    if self.sigma <= 0:
      raise ValueError("sigma must be positive")


def build_estimator(hparams: HParams,
                    image_shape: Tuple[int, int]) -> keras.Model:
  """The hourglass network an HParams describes, for (H, W) images."""
  return networks.hourglass_estimator(
      image_shape, num_joints=NUM_JOINTS, num_stacks=hparams.num_stacks,
      heatmap_size=hparams.heatmap_size, filters=hparams.filters,
      depth=hparams.depth, dtype=hparams.schedule.precision)


def joints_of(labels) -> np.ndarray:
  """(n, 2J) label rows (j00_u, j00_v, ...) -> (n, J, 2) joints."""
  labels = np.asarray(labels, np.float32)
  return labels.reshape(labels.shape[0], -1, 2)


def heatmap_loss(outputs: Sequence, targets, mask,
                 foreground_weight: float = 0.0):
  """Newell's intermediate supervision: per-stack heatmap MSE, summed.

  Each stack's term is the mean squared error over the pixels of the
  visible joints' heatmaps; masked channels (joints outside the image)
  contribute nothing and do not dilute the mean.

  Args:
    outputs: a list of (B, S, S, J) heatmaps, one per stack.
    targets: (B, S, S, J) Gaussian targets.
    mask: (B, J), 1 for visible joints.
    foreground_weight: each pixel weighs 1 + foreground_weight * target,
      so the peaks are not drowned by the background (0: Newell's MSE).

  Returns:
    A float32 scalar.
  """
  targets = tf.cast(targets, tf.float32)
  weights = (tf.cast(mask, tf.float32)[:, None, None, :] *
             (1.0 + foreground_weight * targets))
  count = tf.maximum(tf.reduce_sum(weights), 1.0)
  return tf.add_n([
      tf.reduce_sum(weights * tf.square(tf.cast(o, tf.float32) - targets)) /
      count for o in outputs])


def make_train_step(model: keras.Model,
                    optimizer: keras.optimizers.Optimizer,
                    loss_mean: keras.metrics.Mean,
                    foreground_weight: float = 0.0):
  """One optimizer step on `heatmap_loss`, as a tf.function."""

  @tf.function
  def train_step(images, targets, mask):
    outputs = model(images, training=True)
    if not isinstance(outputs, (list, tuple)):
      outputs = [outputs]
    loss = heatmap_loss(outputs, targets, mask, foreground_weight)
    grads = runtime.gradients(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)
    loss_mean.update_state(loss)
    return loss

  return train_step


def training_batches(train_src: source_lib.ImageSource, hparams: HParams,
                     start: int) -> tf.data.Dataset:
  """(images, targets, mask) batches `start` .. max_steps - 1.

  Batch t is augmented with seed (seed, t), so a resumed run sees exactly
  the batches an uninterrupted one would have.
  """
  schedule = hparams.schedule
  image_shape = tuple(train_src.image_shape)
  size, sigma = hparams.heatmap_size, hparams.sigma
  config = augment_lib.AugmentConfig(
      max_rotation_deg=hparams.max_rotation_deg)
  dataset = pipeline.stream(train_src, schedule.batch_size,
                            seed=schedule.seed, start_batch=start,
                            num_batches=max(schedule.max_steps - start, 0),
                            label_columns=JOINT_COLUMNS)
  positions = tf.data.Dataset.range(start, schedule.max_steps)

  def prepare(t, batch):
    images, labels = batch
    joints = tf.reshape(labels, [-1, NUM_JOINTS, 2])
    if hparams.augment:
      images, joints = augment_lib.augment(
          images, joints, tf.stack([tf.cast(schedule.seed, tf.int64), t]),
          config)
    targets, mask = heatmaps_lib.gaussian_targets(
        heatmaps_lib.image_to_heatmap(joints, image_shape, size), size, sigma)
    return images, targets, mask

  return tf.data.Dataset.zip(positions, dataset).map(
      prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
  ).prefetch(tf.data.AUTOTUNE)


def heatmap_forward(model: keras.Model) -> Callable:
  """Images -> the last stack's heatmaps, as a traced function.

  Trace once, call many times; `predict_joints` decodes the heatmaps.
  """
  return inference.forward(model, networks.final_heatmaps)


def predict_joints(forward, batches, image_shape: Tuple[int, int]
                  ) -> np.ndarray:
  """Joints (n, J, 2) in image pixels, decoded batch by batch.

  Args:
    forward: images -> heatmaps (see `heatmap_forward`).
    batches: an iterable of (b, H, W, 1) image batches.
    image_shape: (H, W) of the images.
  """
  joints = [heatmaps_lib.decode_to_image(forward(tf.constant(images)).numpy(),
                                         image_shape)
            for images in batches]
  return (np.concatenate(joints) if joints
          else np.zeros((0, NUM_JOINTS, 2), np.float32))


def _in_batches(images: np.ndarray, batch_size: int):
  for i in range(0, len(images), batch_size):
    yield images[i:i + batch_size]


def train(hparams: HParams, train_source: source_lib.ImageSource,
          workdir: str, overwrite: bool = False) -> Dict[str, object]:
  """Trains the hourglass estimator on a labelled source.

  Args:
    hparams: the run's hyper-parameters.
    train_source: depth crops of the training domain with JOINT_COLUMNS
      labels; `schedule.validation_fraction` of it is held out.
    workdir: where the model, log and checkpoints go (created if missing).
    overwrite: start afresh in a workdir this project made (it is emptied
      first); without it, a workdir of another training is refused.

  Returns:
    The statistics also written to `workdir/DONE` (JSON): steps, best_step,
    best_val_error_px, stopped_early, n_train, n_validation, train_seconds,
    images_per_second, resumed_from_step, hparams.

  Raises:
    DataError: the source has no joint labels or is too small to split.
    ProvenanceError: the workdir holds another training or is in use.
  """
  return estimator.train_in_workdir(_train, hparams, train_source, workdir,
                                    overwrite)


def _train(hparams: HParams, train_source: source_lib.ImageSource,
           workdir: str) -> Dict[str, object]:
  """`train` in a workdir this run holds, not yet DONE."""
  train_source.labels(JOINT_COLUMNS)  # Fail now if unlabelled.
  schedule = hparams.schedule
  train_src, val_src = source_lib.split_train_validation(train_source,
                                                         schedule)
  image_shape = tuple(train_src.image_shape)
  val_images = val_src.read_all()
  val_joints = joints_of(val_src.labels(JOINT_COLUMNS))

  keras.utils.set_random_seed(schedule.seed)  # The initial weights.
  model = build_estimator(hparams, image_shape)
  optimizer = estimator.make_optimizer(schedule)
  optimizer.build(model.trainable_variables)  # So a restore fills its slots.
  forward = heatmap_forward(model)
  loss_mean = keras.metrics.Mean()
  train_step = make_train_step(model, optimizer, loss_mean,
                               hparams.foreground_weight)

  def validate():
    """Mean joint error on the validation split, and the log columns."""
    predicted = predict_joints(
        forward, _in_batches(val_images, schedule.batch_size), image_shape)
    errors = metrics.joint_errors(predicted, val_joints, image_shape)
    error = float(np.nanmean(errors))
    within = float(metrics.percent_within(errors,
                                          [metrics.TABLE4_THRESHOLD])[0])
    columns = [f"{float(loss_mean.result()):.6g}", f"{error:.6g}",
               f"{within:.4g}"]
    loss_mean.reset_state()
    return error, columns

  return estimator.train_with_early_stopping(
      workdir, hparams, model, optimizer, train_step,
      lambda start: training_batches(train_src, hparams, start), validate,
      LOG_COLUMNS, "best_val_error_px", (len(train_src), len(val_src)),
      write=_write_atomic)


def evaluate(model_or_path: Union[keras.Model, str],
             test_source: source_lib.ImageSource,
             output_dir: str,
             batch_size: int = 32,
             thresholds=metrics.REPORT_THRESHOLDS) -> Dict[str, object]:
  """Joint error of a hand-pose model on a labelled test source.

  Predictions are the last stack's heatmaps, decoded with the quarter-pixel
  refinement (handpose/heatmaps.py). See `write_evaluation` for the files.

  Args:
    model_or_path: a Keras model or the path of a saved `.keras` model.
    test_source: a source with JOINT_COLUMNS labels, of the model's size.
    output_dir: created if missing.
    batch_size: images per forward pass.
    thresholds: distances (heatmap pixels) at which to report % within.

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
  true_uv = joints_of(test_source.labels(JOINT_COLUMNS))
  predicted = predict_joints(heatmap_forward(model),
                             pipeline.ordered(test_source, batch_size),
                             expected)
  return write_evaluation(predicted, true_uv, test_source.filenames,
                          output_dir, expected, thresholds=thresholds)


def write_evaluation(pred_uv: np.ndarray, true_uv: np.ndarray, filenames,
                     output_dir: str, image_shape: Tuple[int, int],
                     grid_size: int = metrics.PAPER_GRID,
                     thresholds=metrics.REPORT_THRESHOLDS
                    ) -> Dict[str, object]:
  """Writes errors.csv, curve.csv and metrics.json of joint predictions.

  Files in `output_dir` (each written atomically; metrics.json last, an
  old one removed first, so a folder with it holds a whole evaluation,
  which the benchmarks skip):
    metrics.json  metrics.summary of the joint errors (per joint and per
                  image), grid_size, "on_grid" (the same statistics with
                  both positions rounded to grid pixel centres: Fig. 12's
                  staircase) and "curve" (d = 0..10 in 0.1 px steps, Fig.
                  12's sampling, both countings).
    errors.csv    filename, mean_error_px, max_error_px, jNN_error per
                  joint, then the predicted pred_jNN_u, pred_jNN_v.
    curve.csv     distance_px (0..10 in 0.01 steps), pct_within,
                  pct_images_within, pct_within_on_grid.

  Args:
    pred_uv: (n, J, 2) predicted joints in image pixel coordinates.
    true_uv: (n, J, 2) true joints in image pixel coordinates.
    filenames: n image names.
    output_dir: created if missing.
    image_shape: (H, W) of the images (defines the pixel scale).
    grid_size: side of the grid that defines the error unit (paper: 64).
    thresholds: distances at which to report % within.

  Returns:
    The contents of metrics.json.
  """
  pred_uv = np.asarray(pred_uv, np.float64)
  true_uv = np.asarray(true_uv, np.float64)
  errors = metrics.joint_errors(pred_uv, true_uv, image_shape, grid_size)
  grid_errors = metrics.joint_errors(pred_uv, true_uv, image_shape,
                                     grid_size, on_grid=True)
  result = metrics.summary(errors, thresholds)
  result["grid_size"] = grid_size
  on_grid = metrics.summary(grid_errors, thresholds)
  result["on_grid"] = {k: on_grid[k] for k in (
      "mean_error_px", "median_error_px", "pct_within", "pct_images_within")}
  coarse = np.round(np.arange(0.0, 10.0 + 1e-9, 0.1), 1)
  result["curve"] = {
      "distance_px": [float(d) for d in coarse],
      "pct_within": [round(float(p), 4) for p in
                     metrics.cumulative_curve(errors, coarse)[1]],
      "pct_images_within": [round(float(p), 4) for p in
                            metrics.cumulative_curve(errors, coarse,
                                                     per_image=True)[1]],
  }
  os.makedirs(output_dir, exist_ok=True)
  metrics_path = os.path.join(output_dir, "metrics.json")
  files.remove(metrics_path)

  joints = errors.shape[1]
  header = ("filename", "mean_error_px", "max_error_px",
            *(f"j{j:02d}_error" for j in range(joints)),
            *(f"pred_j{j:02d}_{axis}" for j in range(joints) for axis in "uv"))
  with np.errstate(all="ignore"):  # All-NaN rows stay NaN.
    mean = np.nanmean(errors, axis=1)
  worst = metrics.image_errors(errors)
  rows = [[name, f"{m:.6f}", f"{w:.6f}", *(f"{e:.6f}" for e in err),
           *(f"{v:.4f}" for v in pred.ravel())]
          for name, m, w, err, pred in zip(filenames, mean, worst, errors,
                                           pred_uv)]
  files.write_atomic(os.path.join(output_dir, "errors.csv"),
                     files.csv_text(header, rows))
  grid, per_joint = metrics.cumulative_curve(errors)
  _, per_image = metrics.cumulative_curve(errors, per_image=True)
  _, snapped = metrics.cumulative_curve(grid_errors)
  files.write_atomic(os.path.join(output_dir, "curve.csv"), files.csv_text(
      ("distance_px", "pct_within", "pct_images_within",
       "pct_within_on_grid"),
      [[f"{d:g}", f"{a:.4f}", f"{b:.4f}", f"{c:.4f}"]
       for d, a, b, c in zip(grid, per_joint, per_image, snapped)]))
  files.write_json(metrics_path, result)
  return result
