"""An estimator's run directory and the resumable early-stopping loop.

Both estimator trainers (gaze/train_lib.py, handpose/train_lib.py) follow
the paper's "until the validation error converges" the same way, and leave
the same files behind:

    estimator.keras   the best model so far (by validation error)
    train_log.csv     one row per evaluation: step, task columns, seconds
    ckpt/             the latest model + optimizer + counters, to resume
    DONE              JSON of the final statistics; a finished run is skipped

This module owns that layout: the atomic writers, the log and DONE files,
the validation split held out of the training source (`split_source`) and
`train_with_early_stopping`, the loop that fills them. What differs between
the tasks (the network, its training step and batches, the validation metric
and the log columns) is passed in. The loop lives with the files because
its resume logic is defined by them: the checkpoint, the log rows kept and
the DONE marker must agree with each other.
"""

import csv
import dataclasses
import io
import json
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from data import source as source_lib

ESTIMATOR = "estimator.keras"
TRAIN_LOG = "train_log.csv"
DONE = "DONE"

Writer = Callable[[str, Union[str, bytes]], None]


def write_atomic(path: str, data: Union[str, bytes]):
  """Writes a file via a temporary sibling and os.replace."""
  tmp = f"{path}.tmp{os.getpid()}"
  with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
    f.write(data)
  os.replace(tmp, path)


def save_model_atomic(model: keras.Model, path: str):
  tmp = f"{path}.tmp{os.getpid()}.keras"  # Keras insists on the suffix.
  model.save(tmp)
  os.replace(tmp, path)


def csv_text(header, rows) -> str:
  out = io.StringIO()
  writer = csv.writer(out, lineterminator="\n")
  writer.writerow(header)
  writer.writerows(rows)
  return out.getvalue()


def read_log(path: str, up_to_step: int):
  """Rows of an existing train log up to a step (later rows were lost)."""
  if not os.path.exists(path):
    return []
  with open(path) as f:
    rows = list(csv.reader(f))[1:]
  return [row for row in rows if int(row[0]) <= up_to_step]


def read_done(workdir: str) -> Optional[Dict[str, object]]:
  """The final statistics of a finished run in `workdir`, else None."""
  done_path = os.path.join(workdir, DONE)
  if not os.path.exists(done_path):
    return None
  with open(done_path) as f:
    return json.load(f)


def split_source(source: source_lib.ImageSource, hparams
                ) -> Tuple[source_lib.ImageSource, source_lib.ImageSource]:
  """(train, validation) subsets of one labelled source, fixed by the seed.

  `hparams` needs seed, validation_fraction, max_validation (the cap on
  held-out images) and subset_fraction (the share of the rest used for
  training; nested: a smaller fraction's images are part of a larger's).
  """
  n = len(source)
  order = np.random.default_rng(hparams.seed).permutation(n)
  n_val = min(max(1, int(round(hparams.validation_fraction * n))),
              hparams.max_validation)
  rest = order[n_val:]
  n_train = int(round(hparams.subset_fraction * len(rest)))
  if n_train < 1:
    raise source_lib.DataError(
        source.description, f"{n} images leave none for training after a "
        f"{hparams.validation_fraction} validation split and a "
        f"{hparams.subset_fraction} subset")
  return (source.subset(np.sort(rest[:n_train]),
                        f"{source.description}[train]"),
          source.subset(np.sort(order[:n_val]),
                        f"{source.description}[validation]"))


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
    write: Writer = write_atomic) -> Dict[str, object]:
  """Trains until the validation error stops improving; resumes from ckpt/.

  Every `hparams.eval_every` steps (and once after the last step) the
  validation error is measured; a new best saves `estimator.keras`, a log
  row is appended and a checkpoint written. Training stops after
  `hparams.patience` evaluations without a new best, or when the batches run
  out. A run killed at any point resumes from its last checkpoint.

  Args:
    workdir: the run directory (must exist).
    hparams: a dataclass with batch_size, eval_every and patience; written
      to DONE whole.
    model: the network; its weights are checkpointed and the best saved.
    optimizer: built on the model's variables, so a restore fills its slots.
    train_step: called with the elements of each batch.
    make_batches: start step -> the batches from that step to the end
      (resumable: batch t must not depend on where the stream started).
    validate: () -> (validation error, the log's task columns as text);
      also resets the training metrics it reports.
    log_columns: the log header: step, the task columns, seconds.
    error_key: DONE's name for the best validation error.
    sizes: (training images, validation images), for DONE.
    write: the file writer of the log and DONE (a parameter so a test can
      interrupt a run between two writes).

  Returns:
    The statistics also written to `workdir/DONE` (JSON): steps, best_step,
    `error_key`, stopped_early, n_train, n_validation, train_seconds,
    images_per_second, resumed_from_step, hparams.
  """
  step = tf.Variable(0, dtype=tf.int64, trainable=False)
  best_error = tf.Variable(np.inf, dtype=tf.float64, trainable=False)
  best_step = tf.Variable(0, dtype=tf.int64, trainable=False)
  evals_since_best = tf.Variable(0, dtype=tf.int64, trainable=False)
  train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
  checkpoint = tf.train.Checkpoint(
      model=model, optimizer=optimizer, step=step, best_error=best_error,
      best_step=best_step, evals_since_best=evals_since_best,
      train_seconds=train_seconds)
  manager = tf.train.CheckpointManager(
      checkpoint, os.path.join(workdir, "ckpt"), max_to_keep=1)
  if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint).assert_consumed()
  log_path = os.path.join(workdir, TRAIN_LOG)
  log_rows: List[List[str]] = read_log(log_path, int(step.numpy()))
  start = int(step.numpy())
  dataset = make_batches(start)

  def evaluate_and_save():
    """Validation error, best-model bookkeeping, log row and checkpoint."""
    error, columns = validate()
    if error < best_error.numpy():
      best_error.assign(error)
      best_step.assign(step)
      evals_since_best.assign(0)
      save_model_atomic(model, os.path.join(workdir, ESTIMATOR))
    else:
      evals_since_best.assign_add(1)
    log_rows.append([int(step.numpy()), *columns,
                     f"{train_seconds.numpy():.1f}"])
    write(log_path, csv_text(log_columns, log_rows))
    manager.save(checkpoint_number=int(step.numpy()))

  stopped_early = evals_since_best.numpy() >= hparams.patience
  tic = time.perf_counter()
  if not stopped_early:
    for batch in dataset:
      train_step(*batch)
      step.assign_add(1)
      if int(step.numpy()) % hparams.eval_every == 0:
        train_seconds.assign_add(time.perf_counter() - tic)
        evaluate_and_save()
        tic = time.perf_counter()
        if evals_since_best.numpy() >= hparams.patience:
          stopped_early = True
          break
  if not log_rows or int(log_rows[-1][0]) != int(step.numpy()):
    train_seconds.assign_add(time.perf_counter() - tic)
    evaluate_and_save()  # The steps since the last evaluation count too.

  steps = int(step.numpy())
  seconds = float(train_seconds.numpy())
  n_train, n_validation = sizes
  stats = {
      "steps": steps,
      "best_step": int(best_step.numpy()),
      error_key: float(best_error.numpy()),
      "stopped_early": bool(stopped_early),
      "n_train": n_train,
      "n_validation": n_validation,
      "train_seconds": seconds,
      "images_per_second": (steps * hparams.batch_size / seconds
                            if seconds > 0 else None),
      "resumed_from_step": start,
      "hparams": dataclasses.asdict(hparams),
  }
  write(os.path.join(workdir, DONE), json.dumps(stats, indent=2) + "\n")
  return stats
