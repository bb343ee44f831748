"""An estimator's schedule, run directory and resumable early-stopping loop.

The paper trains each estimator (gaze CNN §3.1, hand hourglass §4.3) "until
the validation error converges". Both estimators of this project do it the
same way, with the same `Schedule` of hyper-parameters, and leave the same
files behind:

    estimator.keras   the best model so far (by validation error)
    train_log.csv     one row per evaluation: step, task columns, seconds
    ckpt/             the latest model + optimizer + counters, to resume
    tb/               TensorBoard scalars at each evaluation: the training
                      loss over the steps since the last one, the
                      validation error
    DONE              JSON of the final statistics; a finished run is skipped

`train_with_early_stopping` fills that layout. What differs between the
tasks (the network, its training step and batches, the validation metric and
the log columns) is passed in. The loop lives with the files because its
resume logic is defined by them: the checkpoint, the log rows kept and the
DONE marker must agree with each other.
"""

import contextlib
import csv
import dataclasses
import json
import os
import sys
import time
from typing import (Callable, Dict, Iterator, List, Optional, Sequence,
                    TextIO, Tuple)

import keras
import numpy as np
import tensorflow as tf

from core import files
from core import finite
from core import progress as progress_lib
from core import provenance

ESTIMATOR = "estimator.keras"
TRAIN_LOG = "train_log.csv"
TENSORBOARD_DIR = "tb"
DONE = "DONE"

OPTIMIZERS = ("adam", "sgd", "rmsprop")
PRECISIONS = ("float32", "mixed_bfloat16")


@dataclasses.dataclass(frozen=True)
class Schedule:
  """How an estimator is trained, whatever its network and task.

  Attributes:
    batch_size: images per step.
    learning_rate: the starting learning rate (the paper's gaze CNN: 0.001,
      constant).
    optimizer: 'adam', 'sgd' or 'rmsprop'.
    momentum: SGD momentum (the paper states none); ignored otherwise.
    max_steps: hard limit on training steps.
    eval_every: steps between validation measurements (and checkpoints).
    patience: evaluations without a new best validation error before
      stopping ("until the validation error converges"), or before the
      next learning-rate drop.
    lr_drops: times the learning rate is multiplied by `lr_drop_factor`
      when the validation error plateaus (patience reached), before the
      plateau that stops the run: the Stacked Hourglass recipe [22], which
      §4.3's hand estimator follows, drops it after validation plateaus.
      0: constant (§4.2's gaze CNN).
    lr_drop_factor: the factor of each drop, in (0, 1).
    min_improvement: the relative margin by which an error must beat the
      best so far to count as a new best (0: any decrease), as Keras'
      EarlyStopping min_delta: gains smaller than the validation set can
      resolve do not keep a converged run going.
    validation_fraction: share of the training source held out for
      validation (the same domain as the training images, never the test
      set: the paper names no validation set).
    max_validation: cap on the number of validation images (they are held
      in memory and measured at every evaluation).
    subset_fraction: share of the remaining training images used for
      training (Table 2's 1x = 0.25, 4x = 1.0). Subsets are nested (a
      smaller fraction's images are part of a larger's) and the validation
      set is the same for all.
    seed: seeds the split, the batch order, augmentation and initial weights.
    precision: 'float32' or 'mixed_bfloat16' (bf16 compute, float32
      weights).
  """
  batch_size: int = 64
  learning_rate: float = 1e-3
  optimizer: str = "adam"
  momentum: float = 0.0
  max_steps: int = 10000
  eval_every: int = 250
  patience: int = 10
  lr_drops: int = 0
  lr_drop_factor: float = 0.1
  min_improvement: float = 0.0
  validation_fraction: float = 0.1
  max_validation: int = 5000
  subset_fraction: float = 1.0
  seed: int = 0
  precision: str = "float32"

  def __post_init__(self):
    if self.optimizer not in OPTIMIZERS:
      raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got "
                       f"{self.optimizer!r}")
    if self.precision not in PRECISIONS:
      raise ValueError(f"precision must be one of {list(PRECISIONS)}, got "
                       f"{self.precision!r}")
    if not 0.0 < self.validation_fraction < 1.0:
      raise ValueError("validation_fraction must be in (0, 1)")
    if not 0.0 < self.subset_fraction <= 1.0:
      raise ValueError("subset_fraction must be in (0, 1]")
    if self.learning_rate <= 0:
      raise ValueError("learning_rate must be positive")
    if self.momentum < 0:
      raise ValueError("momentum must be >= 0")
    if not 0.0 <= self.min_improvement < 1.0:
      raise ValueError("min_improvement must be in [0, 1)")
    if self.lr_drops < 0:
      raise ValueError("lr_drops must be >= 0")
    if not 0.0 < self.lr_drop_factor < 1.0:
      raise ValueError("lr_drop_factor must be in (0, 1)")
    for name in ("batch_size", "max_steps", "eval_every", "patience",
                 "max_validation"):
      if getattr(self, name) <= 0:
        raise ValueError(f"{name} must be positive")


def make_optimizer(schedule: Schedule) -> keras.optimizers.Optimizer:
  """The schedule's optimizer at its starting learning rate."""
  if schedule.optimizer == "sgd":
    return keras.optimizers.SGD(schedule.learning_rate,
                                momentum=schedule.momentum)
  if schedule.optimizer == "rmsprop":
    return keras.optimizers.RMSprop(schedule.learning_rate)
  return keras.optimizers.Adam(schedule.learning_rate)


def split_indices(n: int, schedule: Schedule) -> Tuple[np.ndarray, np.ndarray]:
  """(train, validation) indices of n items, sorted, fixed by the seed.

  Raises:
    ValueError: no item is left for training.
  """
  order = np.random.default_rng(schedule.seed).permutation(n)
  n_val = min(max(1, int(round(schedule.validation_fraction * n))),
              schedule.max_validation)
  rest = order[n_val:]
  n_train = int(round(schedule.subset_fraction * len(rest)))
  if n_train < 1:
    raise ValueError(
        f"{n} images leave none for training after a "
        f"{schedule.validation_fraction} validation split and a "
        f"{schedule.subset_fraction} subset")
  return np.sort(rest[:n_train]), np.sort(order[:n_val])


def read_log(path: str, up_to_step: int) -> List[List[str]]:
  """Rows of an existing train log up to a step (later rows were lost)."""
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    rows = list(csv.reader(f))[1:]
  return [row for row in rows if int(row[0]) <= up_to_step]


def read_done(workdir: str) -> Optional[Dict[str, object]]:
  """The final statistics of a finished run in `workdir`, else None."""
  path = os.path.join(workdir, DONE)
  return files.read_json(path) if os.path.exists(path) else None


@contextlib.contextmanager
def open_workdir(workdir: str, hparams, train_source, overwrite: bool = False
                ) -> Iterator[Optional[Dict[str, object]]]:
  """Holds an estimator's workdir for this run; yields its DONE (or None).

  The workdir's provenance (core/provenance.py) is the hyper-parameters and
  what the training images are (SPEC, and what made them: a refined set
  names its refiner's weights), so a finished or half-done run is reused
  only by the same training, never under other settings or data.

  Raises:
    ProvenanceError: the workdir holds another training or is in use.
  """
  fields = {"hparams": dataclasses.asdict(hparams),
            "train": train_source.identity}
  with provenance.claim(workdir, fields, overwrite):
    yield read_done(workdir)


def train_in_workdir(train: Callable, hparams, train_source, workdir: str,
                     overwrite: bool = False) -> Dict[str, object]:
  """A task's `train(hparams, source, workdir)` in a workdir this run holds
  (`open_workdir`); a finished run's DONE is returned without training."""
  with open_workdir(workdir, hparams, train_source, overwrite) as done:
    return done if done is not None else train(hparams, train_source,
                                               workdir)


def train_with_early_stopping(
    workdir: str,
    hparams,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    train_step: Callable,
    make_batches: Callable[[int], tf.data.Dataset],
    validate: Callable[[], Tuple[float, Sequence[str]]],
    log_columns: Sequence[str],
    error_key: str,
    sizes: Tuple[int, int],
    write: Callable[[str, str], None] = files.write_atomic,
    progress: Optional[TextIO] = sys.stderr
) -> Dict[str, object]:
  """Trains until the validation error stops improving; resumes from ckpt/.

  Every `schedule.eval_every` steps (and once after the last step) the
  validation error is measured; a new best saves `estimator.keras`, a log
  row is appended, a checkpoint written and the TensorBoard scalars of
  `tb/` added (a resumed run adds an events file). Training stops after
  `schedule.patience` evaluations without a new best (one that beats the
  best by `schedule.min_improvement`, relative) once the learning rate has
  been dropped `schedule.lr_drops` times (each earlier plateau drops it), or
  when the batches run out. A run killed at any point resumes from its last
  checkpoint. A NaN or infinite training loss or validation error raises
  core.finite.NonFiniteError before anything of that step is written.

  Args:
    workdir: the run directory (must exist).
    hparams: the task's hyper-parameters, a dataclass with a `schedule`
      (Schedule) field; written to DONE whole.
    model: the network; its weights are checkpointed and the best saved.
    optimizer: built on the model's variables, so a restore fills its slots.
    train_step: called with the elements of each batch; returns the loss
      (or None), which must stay finite (core/finite.py).
    make_batches: start step -> the batches from that step to the end
      (resumable: batch t must not depend on where the stream started).
    validate: () -> (validation error, the log's task columns as text);
      also resets the training metrics it reports.
    log_columns: the log header: step, the task columns, seconds.
    error_key: DONE's name for the best validation error.
    sizes: (training images, validation images), for DONE.
    write: the file writer of the log and DONE (a parameter so a test can
      interrupt a run between two writes).
    progress: where the progress line goes (core/progress.py), or None.
      Its total is `schedule.max_steps`, a cap: the line also shows the
      validation errors and the evaluations since the best, which stop the
      run at `schedule.patience`.

  Returns:
    The statistics also written to `workdir/DONE` (JSON): steps, best_step,
    `error_key`, stopped_early, hit_cap, lr_drop_steps, n_train,
    n_validation, train_seconds, images_per_second, resumed_from_step,
    hparams.
  """
  schedule = hparams.schedule
  step = tf.Variable(0, dtype=tf.int64, trainable=False)
  best_error = tf.Variable(np.inf, dtype=tf.float64, trainable=False)
  best_step = tf.Variable(0, dtype=tf.int64, trainable=False)
  evals_since_best = tf.Variable(0, dtype=tf.int64, trainable=False)
  train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
  # The steps of the learning-rate drops so far (0: not yet).
  drop_steps = tf.Variable(np.zeros(schedule.lr_drops, np.int64),
                           trainable=False)
  checkpoint = tf.train.Checkpoint(
      model=model, optimizer=optimizer, step=step, best_error=best_error,
      best_step=best_step, evals_since_best=evals_since_best,
      train_seconds=train_seconds, drop_steps=drop_steps)
  manager = tf.train.CheckpointManager(
      checkpoint, os.path.join(workdir, "ckpt"), max_to_keep=1)
  if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint).assert_consumed()

  def drops_done() -> int:
    return int(np.count_nonzero(drop_steps.numpy()))

  def set_learning_rate():
    optimizer.learning_rate = (schedule.learning_rate *
                               schedule.lr_drop_factor ** drops_done())

  set_learning_rate()
  log_path = os.path.join(workdir, TRAIN_LOG)
  log_rows: List[List[str]] = read_log(log_path, int(step.numpy()))
  start = int(step.numpy())
  dataset = make_batches(start)
  name = os.path.basename(os.path.normpath(workdir))
  bar = progress_lib.Progress(schedule.max_steps,
                              f"estimator {name} (max steps)", "steps",
                              progress, start=start)
  shown = {"loss": "", "validation": ""}  # The line's latest values.
  # Training losses since the last evaluation, for TensorBoard; the writer
  # is made at the first evaluation (a run with nothing left to train
  # writes none).
  losses: List[float] = []
  writer = None

  def status() -> str:
    return " ".join(text for text in shown.values() if text)

  def evaluate_and_save():
    """Validation error, best-model bookkeeping, log row, checkpoint and
    TensorBoard scalars."""
    nonlocal writer
    error, columns = validate()
    at = int(step.numpy())
    finite.check_finite({"validation error": error}, workdir, f"step {at}")
    if error < best_error.numpy() * (1.0 - schedule.min_improvement):
      best_error.assign(error)
      best_step.assign(step)
      evals_since_best.assign(0)
      files.save_model(model, os.path.join(workdir, ESTIMATOR))
    else:
      evals_since_best.assign_add(1)
      if (evals_since_best.numpy() >= schedule.patience and
          drops_done() < schedule.lr_drops):
        # A plateau before the last: drop the rate and wait a patience
        # again. Decided before the checkpoint, so a resumed run has it.
        drop_steps[drops_done()].assign(at)
        evals_since_best.assign(0)
        set_learning_rate()
    log_rows.append([at, *columns, f"{train_seconds.numpy():.1f}"])
    write(log_path, files.csv_text(log_columns, log_rows))
    manager.save(checkpoint_number=at)
    # After the checkpoint: a run killed before it redoes these steps, and
    # must not find their scalars written already.
    if writer is None:
      writer = tf.summary.create_file_writer(
          os.path.join(workdir, TENSORBOARD_DIR))
    with writer.as_default(step=at):
      tf.summary.scalar("validation/error", error)
      if losses:
        tf.summary.scalar("train/loss", float(np.mean(losses)))
    writer.flush()
    losses.clear()
    shown["validation"] = (
        f"val={error:.4g} best={float(best_error.numpy()):.4g}"
        f"@{int(best_step.numpy())} evals since best "
        f"{int(evals_since_best.numpy())}/{schedule.patience}" +
        (f" lr drops {drops_done()}/{schedule.lr_drops}"
         if schedule.lr_drops else ""))

  stopped_early = evals_since_best.numpy() >= schedule.patience
  tic = time.perf_counter()
  try:
    if not stopped_early:
      for batch in dataset:
        loss = train_step(*batch)
        step.assign_add(1)
        if loss is not None:
          loss = float(loss)
          finite.check_finite({"training loss": loss}, workdir,
                              f"step {int(step.numpy())}")
          losses.append(loss)
          shown["loss"] = f"loss={loss:.4g}"
        if int(step.numpy()) % schedule.eval_every == 0:
          train_seconds.assign_add(time.perf_counter() - tic)
          evaluate_and_save()
          tic = time.perf_counter()
          if evals_since_best.numpy() >= schedule.patience:
            stopped_early = True
            break
        bar.set(int(step.numpy()), status())
    if not log_rows or int(log_rows[-1][0]) != int(step.numpy()):
      train_seconds.assign_add(time.perf_counter() - tic)
      evaluate_and_save()  # The steps since the last evaluation count too.
  finally:
    if writer is not None:
      writer.close()

  steps = int(step.numpy())
  # Stopped early, at the cap or out of batches: the line ends here.
  bar.finish(status())
  seconds = float(train_seconds.numpy())
  n_train, n_validation = sizes
  stats = {
      "steps": steps,
      "best_step": int(best_step.numpy()),
      error_key: float(best_error.numpy()),
      "stopped_early": bool(stopped_early),
      # Stopped by max_steps while the validation error still improved: not
      # converged, and a report must say so.
      "hit_cap": bool(not stopped_early and steps >= schedule.max_steps),
      "lr_drop_steps": [int(s) for s in drop_steps.numpy() if s],
      "n_train": n_train,
      "n_validation": n_validation,
      "train_seconds": seconds,
      "images_per_second": (steps * schedule.batch_size / seconds
                            if seconds > 0 else None),
      "resumed_from_step": start,
      "hparams": dataclasses.asdict(hparams),
  }
  write(os.path.join(workdir, DONE), json.dumps(stats, indent=2) + "\n")
  return stats
