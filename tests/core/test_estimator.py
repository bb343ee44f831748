"""Tests of the estimator schedule and its loop (core/estimator.py).

The loop is driven by a linear model learning y = 2 x0 - x1 + 0.5, so each
run takes a fraction of a second; the gaze and hand trainers plug their
networks into the same loop (tests/gaze, tests/handpose).
"""

import dataclasses
import glob
import io
import json
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from core import estimator
from core import files
from core import finite
from tests import helpers

_X = np.random.default_rng(0).normal(size=(80, 2)).astype(np.float32)
_Y = _X @ np.array([[2.0], [-1.0]], np.float32) + 0.5
X_TRAIN, Y_TRAIN, X_VAL, Y_VAL = _X[:64], _Y[:64], _X[64:], _Y[64:]
LOG_COLUMNS = ("step", "train_loss", "val_mse", "seconds")
SCHEDULE = estimator.Schedule(batch_size=8, learning_rate=0.05,
                              optimizer="sgd", max_steps=10, eval_every=4,
                              patience=10)


@dataclasses.dataclass(frozen=True)
class _HParams:
  """A task's hyper-parameters: a schedule and a task field."""
  schedule: estimator.Schedule
  width: int = 1


def _run(workdir, schedule=SCHEDULE, learn=True,
         write=files.write_atomic, diverge_at=None, silent=False,
         progress=None):
  """Trains the linear model in `workdir`; returns (stats, model, steps run).

  With learn=False the training step changes nothing (and reports no loss),
  so the validation error never improves after the first evaluation. From
  step `diverge_at` on the weights are NaN and the step reports a NaN loss
  (or, with silent=True, no loss: only the validation error can tell). The
  progress line goes to `progress`.
  """
  os.makedirs(workdir, exist_ok=True)
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
  optimizer = estimator.make_optimizer(schedule)
  optimizer.build(model.trainable_variables)
  loss_mean = keras.metrics.Mean()
  steps_run = []

  @tf.function
  def learn_step(x, y):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    optimizer.apply(tape.gradient(loss, model.trainable_variables),
                    model.trainable_variables)
    loss_mean.update_state(loss)
    return loss

  def train_step(x, y):
    steps_run.append(1)
    if diverge_at is not None and len(steps_run) >= diverge_at:
      model.set_weights([np.full_like(w, np.nan)
                         for w in model.get_weights()])
      return None if silent else float("nan")
    return learn_step(x, y) if learn else None

  def make_batches(start):
    b = schedule.batch_size

    def batch(t):  # Batch t depends on t only: resumable.
      rows = (t * b + tf.range(b, dtype=tf.int64)) % len(X_TRAIN)
      return tf.gather(X_TRAIN, rows), tf.gather(Y_TRAIN, rows)

    return tf.data.Dataset.range(start, schedule.max_steps).map(batch)

  def validate():
    error = float(np.mean((model(X_VAL).numpy() - Y_VAL) ** 2))
    columns = [f"{float(loss_mean.result()):.6g}", f"{error:.6g}"]
    loss_mean.reset_state()
    return error, columns

  stats = estimator.train_with_early_stopping(
      workdir, _HParams(schedule), model, optimizer, train_step,
      make_batches, validate, LOG_COLUMNS, "best_val_mse",
      (len(X_TRAIN), len(X_VAL)), write=write, progress=progress)
  return stats, model, len(steps_run)


def _scalars(workdir):
  """{tag: [(step, value)]} of the TensorBoard events under workdir/tb, in
  the order written (events files by name: their names start with the
  time of their writer)."""
  out = {}
  paths = sorted(glob.glob(os.path.join(workdir, estimator.TENSORBOARD_DIR,
                                        "events.out.tfevents.*")))
  for path in paths:
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        number = float(tf.make_ndarray(value.tensor))
        out.setdefault(value.tag, []).append((event.step, number))
  return out


def test_run_logs_every_evaluation_keeps_the_best_model_and_writes_done(
    tmp_path):
  workdir = str(tmp_path)
  stats, model, steps_run = _run(workdir)
  log = helpers.train_log(workdir)
  # Every 4 steps, and once more for the 2 steps after the last evaluation.
  assert [int(row["step"]) for row in log] == [4, 8, 10]
  assert list(log[0]) == list(LOG_COLUMNS)
  errors = [float(row["val_mse"]) for row in log]
  assert errors[0] > errors[1] > errors[2]
  assert steps_run == 10
  done = json.loads((tmp_path / estimator.DONE).read_text())
  assert done == stats == estimator.read_done(workdir)
  assert {k: v for k, v in done.items()
          if k not in ("best_val_mse", "train_seconds", "images_per_second")
         } == {"steps": 10, "best_step": 10, "stopped_early": False,
               "hit_cap": True,  # max_steps=10 ended a still improving run.
               "lr_drop_steps": [], "n_train": 64, "n_validation": 16,
               "resumed_from_step": 0,
               "hparams": {"schedule": dataclasses.asdict(SCHEDULE),
                           "width": 1}}
  assert done["best_val_mse"] == pytest.approx(errors[2], rel=1e-5)
  assert done["images_per_second"] == pytest.approx(
      10 * 8 / done["train_seconds"])
  best = keras.models.load_model(str(tmp_path / estimator.ESTIMATOR))
  for a, b in zip(best.get_weights(), model.get_weights()):
    np.testing.assert_array_equal(a, b)


def test_tensorboard_has_the_logged_losses_and_errors_once(tmp_path):
  workdir = str(tmp_path)
  # Killed at the log write of the step-8 evaluation, then resumed: the
  # resumed run adds an events file, and step 8 is written once.
  with pytest.raises(helpers.Killed):
    _run(workdir, write=helpers.fails_at_call(files.write_atomic, 2))
  _run(workdir)
  assert len(glob.glob(os.path.join(workdir, "tb", "events.out.*"))) == 2
  log = helpers.train_log(workdir)
  scalars = _scalars(workdir)
  assert sorted(scalars) == ["train/loss", "validation/error"]
  # The training loss is the mean over the steps since the last evaluation,
  # as the log's column (the same losses, a keras Mean there).
  for tag, column in (("validation/error", "val_mse"),
                      ("train/loss", "train_loss")):
    assert [step for step, _ in scalars[tag]] == [4, 8, 10]
    np.testing.assert_allclose([value for _, value in scalars[tag]],
                               [float(row[column]) for row in log],
                               rtol=1e-5)


def test_a_run_with_nothing_left_to_train_adds_no_events(tmp_path):
  schedule = dataclasses.replace(SCHEDULE, max_steps=100, eval_every=2,
                                 patience=2)
  workdir = str(tmp_path)
  with pytest.raises(helpers.Killed):  # At DONE: stopped early, unwritten.
    _run(workdir, schedule, learn=False,
         write=helpers.fails_at_call(files.write_atomic, 4))
  events = glob.glob(os.path.join(workdir, "tb", "events.out.*"))
  _run(workdir, schedule, learn=False)  # Nothing left to train.
  assert glob.glob(os.path.join(workdir, "tb", "events.out.*")) == events
  # No training loss was reported: the validation error only.
  assert list(_scalars(workdir)) == ["validation/error"]


def test_progress_lines_show_steps_losses_and_convergence(tmp_path):
  stream = io.StringIO()  # No terminal: whole lines.
  workdir = str(tmp_path / "synthetic_1x")
  _run(workdir, progress=stream)
  lines = stream.getvalue().splitlines()
  log = helpers.train_log(workdir)
  # Each of the 10 steps is a tenth of max_steps, then the closing line.
  assert [line.split()[4] for line in lines] == [
      f"{step}/10" for step in range(1, 11)] + ["10/10"]
  number = r"-?[\d.e+-]+"
  head = (r"estimator synthetic_1x \(max steps\): (\d+)/10 +\( *[\d.]+%\) "
          rf"[\d,.]+ steps/s ETA (\d+m\d\ds|\?) loss={number}")
  assert re.fullmatch(head, lines[2])  # Step 3: no evaluation yet.
  val = lambda row: float(log[row]["val_mse"])
  assert re.fullmatch(
      rf"{head} val={val(0):.4g} best={val(0):.4g}@4 evals since best 0/10",
      lines[4]), lines[4]
  assert re.fullmatch(
      rf"{head} val={val(2):.4g} best={val(2):.4g}@10 evals since best 0/10",
      lines[-1]), lines[-1]


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
  straight, straight_model, _ = _run(str(tmp_path / "a"))
  workdir = str(tmp_path / "b")
  # Killed at the log write of the step-8 evaluation.
  with pytest.raises(helpers.Killed):
    _run(workdir, write=helpers.fails_at_call(files.write_atomic, 2))
  assert helpers.logged_steps(workdir) == [4]
  assert estimator.read_done(workdir) is None

  resumed, resumed_model, steps_run = _run(workdir)
  assert steps_run == 6  # Steps 5..10, from the step-4 checkpoint.
  assert resumed["resumed_from_step"] == 4 and resumed["steps"] == 10
  assert resumed["best_val_mse"] == straight["best_val_mse"]
  strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"}
                        for r in rows]
  assert strip(helpers.train_log(workdir)) == strip(
      helpers.train_log(str(tmp_path / "a")))
  for a, b in zip(straight_model.get_weights(),
                  resumed_model.get_weights()):
    np.testing.assert_array_equal(a, b)


def test_stops_after_patience_evaluations_without_a_new_best(tmp_path):
  schedule = dataclasses.replace(SCHEDULE, max_steps=100, eval_every=2,
                                 patience=2)
  stats, _, steps_run = _run(str(tmp_path), schedule, learn=False)
  # The first evaluation is the best; two more without improvement stop.
  assert helpers.logged_steps(str(tmp_path)) == [2, 4, 6]
  assert (stats["steps"], stats["best_step"], stats["stopped_early"],
          stats["hit_cap"], steps_run) == (6, 2, True, False, 6)


def test_each_plateau_before_the_last_drops_the_learning_rate(tmp_path):
  # learn=False: the first evaluation stays the best, so every `patience`
  # evaluations make a plateau: two drops (steps 6 and 10), then the stop.
  schedule = dataclasses.replace(SCHEDULE, max_steps=100, eval_every=2,
                                 patience=2, lr_drops=2, lr_drop_factor=0.5)
  stats, _, steps_run = _run(str(tmp_path), schedule, learn=False)
  assert helpers.logged_steps(str(tmp_path)) == [2, 4, 6, 8, 10, 12, 14]
  assert (stats["steps"], stats["best_step"], stats["stopped_early"],
          stats["lr_drop_steps"], steps_run) == (14, 2, True, [6, 10], 14)


def test_the_optimizer_steps_at_the_dropped_rate_also_after_a_resume(
    tmp_path):
  # SGD on the linear model. It learns, but by less than 99 % per
  # evaluation, so with patience 1 and min_improvement 0.99 every
  # evaluation after the first is a plateau: drops at 4, 6, 8, stop at 10.
  schedule = dataclasses.replace(SCHEDULE, max_steps=12, eval_every=2,
                                 patience=1, min_improvement=0.99,
                                 lr_drops=3, lr_drop_factor=0.5)
  straight, straight_model, _ = _run(str(tmp_path / "a"), schedule)
  assert straight["lr_drop_steps"] == [4, 6, 8]
  assert straight["stopped_early"] and straight["steps"] == 10
  # Killed at the log write of step 8 (writes: steps 2, 4, 6, 8): resumed
  # from the step-6 checkpoint, which holds the drops at 4 and 6.
  workdir = str(tmp_path / "b")
  with pytest.raises(helpers.Killed):
    _run(workdir, schedule, write=helpers.fails_at_call(files.write_atomic,
                                                        4))
  resumed, resumed_model, steps_run = _run(workdir, schedule)
  assert steps_run == 4 and resumed["lr_drop_steps"] == [4, 6, 8]
  for a, b in zip(straight_model.get_weights(),
                  resumed_model.get_weights()):
    np.testing.assert_array_equal(a, b)
  # The same 10 steps at the constant rate (same batches, same start) end
  # elsewhere: the drops took effect.
  constant, constant_model, _ = _run(
      str(tmp_path / "c"), dataclasses.replace(schedule, lr_drops=0,
                                               patience=100, max_steps=10))
  assert constant["steps"] == 10
  assert not np.allclose(constant_model.get_weights()[0],
                         straight_model.get_weights()[0])


def test_a_run_killed_after_stopping_early_does_not_train_again(tmp_path):
  schedule = dataclasses.replace(SCHEDULE, max_steps=100, eval_every=2,
                                 patience=2)
  workdir = str(tmp_path)
  # Writes: the logs at steps 2, 4 and 6, then DONE.
  with pytest.raises(helpers.Killed):
    _run(workdir, schedule, learn=False,
         write=helpers.fails_at_call(files.write_atomic, 4))
  assert estimator.read_done(workdir) is None
  stats, _, steps_run = _run(workdir, schedule, learn=False)
  assert (stats["steps"], stats["best_step"], stats["stopped_early"],
          stats["resumed_from_step"], steps_run) == (6, 2, True, 6, 0)
  assert helpers.logged_steps(workdir) == [2, 4, 6]


@pytest.mark.parametrize("change,message", [
    (dict(optimizer="adagrad"),
     "optimizer must be one of ['adam', 'sgd', 'rmsprop'], got 'adagrad'"),
    (dict(precision="float16"),
     "precision must be one of ['float32', 'mixed_bfloat16'], got "
     "'float16'"),
    (dict(validation_fraction=1.0), "validation_fraction must be in (0, 1)"),
    (dict(validation_fraction=0.0), "validation_fraction must be in (0, 1)"),
    (dict(subset_fraction=0.0), "subset_fraction must be in (0, 1]"),
    (dict(subset_fraction=1.5), "subset_fraction must be in (0, 1]"),
    (dict(learning_rate=0.0), "learning_rate must be positive"),
    (dict(momentum=-0.1), "momentum must be >= 0"),
    (dict(batch_size=0), "batch_size must be positive"),
    (dict(max_steps=0), "max_steps must be positive"),
    (dict(eval_every=-1), "eval_every must be positive"),
    (dict(patience=0), "patience must be positive"),
    (dict(max_validation=0), "max_validation must be positive"),
    (dict(lr_drops=-1), "lr_drops must be >= 0"),
    (dict(lr_drop_factor=1.0), "lr_drop_factor must be in (0, 1)"),
    (dict(lr_drop_factor=0.0), "lr_drop_factor must be in (0, 1)"),
])
def test_schedule_rejects_bad_values_in_one_line(change, message):
  with helpers.raises_exactly(ValueError, message):
    estimator.Schedule(**change)


def test_split_indices_are_fixed_by_the_seed_nested_and_capped():
  schedule = estimator.Schedule(validation_fraction=0.2, seed=0)
  # default_rng(0).permutation(10) = [4 6 2 7 3 5 9 0 8 1]: the first two
  # are held out, the rest train.
  train, validation = estimator.split_indices(10, schedule)
  assert train.tolist() == [0, 1, 2, 3, 5, 7, 8, 9]
  assert validation.tolist() == [4, 6]
  quarter = dataclasses.replace(schedule, subset_fraction=0.25)
  train, validation = estimator.split_indices(10, quarter)
  assert (train.tolist(), validation.tolist()) == ([2, 7], [4, 6])
  # default_rng(1).permutation(10) = [8 4 7 0 1 2 5 9 6 3].
  seed1 = dataclasses.replace(quarter, seed=1)
  train, validation = estimator.split_indices(10, seed1)
  assert (train.tolist(), validation.tolist()) == ([0, 7], [4, 8])
  capped = dataclasses.replace(schedule, validation_fraction=0.5,
                               max_validation=3)
  train, validation = estimator.split_indices(10, capped)
  assert (train.tolist(), validation.tolist()) == ([0, 1, 3, 5, 7, 8, 9],
                                                   [2, 4, 6])


def test_split_indices_needs_a_training_image():
  with helpers.raises_exactly(
      ValueError, "1 images leave none for training after a 0.1 "
      "validation split and a 1.0 subset"):
    estimator.split_indices(1, estimator.Schedule())


def test_make_optimizer_builds_the_named_optimizer_at_the_rate():
  adam = estimator.make_optimizer(estimator.Schedule(learning_rate=0.002))
  sgd = estimator.make_optimizer(estimator.Schedule(
      optimizer="sgd", learning_rate=0.01, momentum=0.9))
  rmsprop = estimator.make_optimizer(estimator.Schedule(
      optimizer="rmsprop", learning_rate=2.5e-4))
  assert type(adam) is keras.optimizers.Adam
  assert type(sgd) is keras.optimizers.SGD and sgd.momentum == 0.9
  assert type(rmsprop) is keras.optimizers.RMSprop
  np.testing.assert_allclose(
      [float(o.learning_rate) for o in (adam, sgd, rmsprop)],
      [0.002, 0.01, 2.5e-4], rtol=1e-6)


def test_small_gains_do_not_count_as_a_new_best(tmp_path):
  # The error falls at every evaluation (the learning run above), but by
  # less than 99 %: with min_improvement 0.99 the first evaluation stays
  # the best and patience 1 stops at the second.
  schedule = dataclasses.replace(SCHEDULE, max_steps=100, eval_every=4,
                                 patience=1, min_improvement=0.99)
  stats, _, steps_run = _run(str(tmp_path), schedule)
  log = helpers.train_log(str(tmp_path))
  assert [int(row["step"]) for row in log] == [4, 8]
  assert float(log[1]["val_mse"]) < float(log[0]["val_mse"])
  assert (stats["steps"], stats["best_step"], stats["stopped_early"],
          stats["hit_cap"], steps_run) == (8, 4, True, False, 8)
  assert stats["best_val_mse"] == pytest.approx(float(log[0]["val_mse"]),
                                                rel=1e-5)
  with pytest.raises(ValueError, match="min_improvement"):
    dataclasses.replace(SCHEDULE, min_improvement=1.0)


@pytest.mark.parametrize("silent, where, what", [
    (False, "step 6", "training loss is nan"),
    (True, "step 8", "validation error is nan"),
])
def test_a_diverged_run_stops_before_writing_anything_of_it(
    tmp_path, silent, where, what):
  workdir = str(tmp_path)
  with pytest.raises(finite.NonFiniteError,
                     match=f"{workdir}: {what} at {where}: training diverged"):
    _run(workdir, diverge_at=6, silent=silent)
  # The step-4 evaluation stays the last thing written: log, best model and
  # checkpoint; no DONE, so nothing downstream takes this run as finished.
  assert helpers.logged_steps(workdir) == [4]
  assert estimator.read_done(workdir) is None
  assert tf.train.latest_checkpoint(os.path.join(workdir, "ckpt")).endswith(
      "ckpt-4")
  best = keras.models.load_model(os.path.join(workdir, estimator.ESTIMATOR))
  assert all(np.isfinite(w).all() for w in best.get_weights())
