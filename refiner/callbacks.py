"""Side effects of SimGAN training: summaries, image grids, snapshots, a
progress line.

The training loop calls ``on_train_begin(trainer)``, ``on_unit_end(trainer,
unit, logs)`` after each unit of Algorithm 1 (a pretraining step or one
Kg/Kd iteration) and ``on_train_end(trainer)``. ``trainer`` is the
``train_lib.Trainer`` (it holds ``gan``, ``hparams``, ``workdir``,
``preview`` — a fixed batch of synthetic images — and ``phase(unit)``).
"""

import os
import sys
from typing import Any, Callable, Dict, List

import numpy as np
import tensorflow as tf

from core import files
from core import progress as progress_lib
from refiner import workdir as workdir_lib


class Callback:
  def on_train_begin(self, trainer):
    pass

  def on_unit_end(self, trainer, unit, logs):
    pass

  def on_train_end(self, trainer):
    pass


def image_grid(synthetic: np.ndarray, refined: np.ndarray) -> np.ndarray:
  """Rows of [synthetic | refined | difference] as one (H', W', 1) image.

  Images are in [-1, 1]; the difference (refined − synthetic) is shown with
  mid-gray at zero and doubled so that small changes are visible.
  """
  diff = np.clip((refined - synthetic) * 2.0, -1.0, 1.0)
  rows = [np.concatenate([s, r, d], axis=1)
          for s, r, d in zip(synthetic, refined, diff)]
  grid = np.concatenate(rows, axis=0)
  return (grid + 1.0) / 2.0


class TensorBoard(Callback):
  """Scalars every `log_every` units and an image grid every `image_every`.

  Scalars: refiner adversarial and self-regularisation losses, D loss and D
  accuracy on real and on refined patches (whatever the step returned).
  """

  def __init__(self, logdir: str, log_every: int = 10,
               image_every: int = 100):
    self.logdir = logdir
    self.log_every = max(1, log_every)
    self.image_every = max(1, image_every)
    self.writer = None
    self.latest = {}

  def on_train_begin(self, trainer):
    self.writer = tf.summary.create_file_writer(self.logdir)

  def on_unit_end(self, trainer, unit, logs):
    self.latest.update(logs)
    if unit % self.log_every == 0 or unit == trainer.hparams.total_units:
      with self.writer.as_default(step=unit):
        for name, value in self.latest.items():
          tf.summary.scalar(name, float(value))
    if unit % self.image_every == 0 or unit == trainer.hparams.total_units:
      refined = trainer.gan.export_refiner(trainer.preview,
                                           training=False).numpy()
      grid = image_grid(trainer.preview.numpy(), refined)
      with self.writer.as_default(step=unit):
        tf.summary.image("synthetic|refined|difference", grid[None],
                         step=unit)
      self.writer.flush()

  def on_train_end(self, trainer):
    if self.writer is not None:
      self.writer.flush()


class ProgressLine(Callback):
  """The live progress line (core.progress) with the phase and the losses.

  Example: ``adversarial: 9/9 (100.0%) 1.52 units/s ETA 0m00s adv=0.693
  reg=0.012 d_loss=1.386 acc_real=0.750 acc_ref=0.500``.
  """

  # The logs shown, by their short names.
  KEYS = {"refiner/adversarial": "adv",
          "refiner/self_regularization": "reg",
          "discriminator/loss": "d_loss",
          "discriminator/accuracy_real": "acc_real",
          "discriminator/accuracy_refined": "acc_ref"}

  def __init__(self, every: int = 1, stream=None):
    self.every = max(1, every)
    self.stream = stream or sys.stderr
    self.latest = {}
    self.progress = None

  def on_train_begin(self, trainer):
    # The rate counts this process's units only, so a resumed run's ETA is
    # not flattered by the units a checkpoint brought.
    self.progress = progress_lib.Progress(
        trainer.hparams.total_units, "train", "units", self.stream,
        start=int(trainer.gan.units_done.numpy()))

  def on_unit_end(self, trainer, unit, logs):
    self.latest.update(logs)
    if unit % self.every and unit != trainer.hparams.total_units:
      return
    short = " ".join(f"{self.KEYS[k]}={float(self.latest[k]):.3f}"
                     for k in self.KEYS if k in self.latest)
    self.progress.label = trainer.phase(unit - 1)
    self.progress.set(unit, short)


class StopAfter(Callback):
  """Stops training after a number of units in this process (for tests and
  for splitting long runs); the run resumes from its checkpoint later."""

  def __init__(self, units: int):
    self.units = units

  def on_train_begin(self, trainer):
    self.stop_at = int(trainer.gan.units_done.numpy()) + self.units

  def on_unit_end(self, trainer, unit, logs):
    if unit >= self.stop_at:
      trainer.stop_requested = True


class Snapshots(Callback):
  """Saves the exported refiner's weights every `every` adversarial units.

  The refiner's quality moves from one adversarial unit to the next, and the
  paper's stopping rule ("until the validation error converges") needs real
  labels, which the S+U setting does not have; so a label-free criterion
  (refiner/selection.py) picks one of these snapshots instead of trusting
  the last. Files: ``workdir.snapshot_name(unit)`` in WORKDIR/snapshots.
  """

  def __init__(self, workdir: str, every: int):
    self.workdir = workdir
    self.every = max(1, every)

  def on_unit_end(self, trainer, unit, logs):
    if trainer.phase(unit - 1) != "adversarial" or unit % self.every:
      return
    path = workdir_lib.snapshot_path(self.workdir,
                                     workdir_lib.snapshot_name(unit))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    files.write_with(path, trainer.gan.export_refiner.save_weights)


class StopWhenConverged(Callback):
  """Stops adversarial training when the label-free criterion stops
  improving: the S+U version of the paper's "until the validation error
  converges" (no real label may say when R is done).

  Every `every` adversarial units (with the snapshots) `score(refiner)` is
  measured on the exported refiner (lower is better: the Fréchet distance
  of refiner/selection.py); after `patience` scores without a new best,
  training stops and the run counts as finished (`trainer.converged`).
  Scores go to WORKDIR/convergence.json as they come, so a resumed run
  keeps those up to its checkpoint and the record draws the curve units ->
  distance.
  """

  def __init__(self, score: Callable[[Any], float], every: int,
               patience: int, workdir: str):
    self.score = score
    self.every = max(1, every)
    self.patience = patience
    self.workdir = workdir
    self.path = os.path.join(workdir, workdir_lib.CONVERGENCE_FILE)
    self.scores: List[Dict[str, float]] = []

  def _converged(self) -> bool:
    values = [s["score"] for s in self.scores]
    if not values:
      return False
    best = int(np.argmin(values))
    return len(values) - 1 - best >= self.patience

  def on_train_begin(self, trainer):
    units = int(trainer.gan.units_done.numpy())
    self.scores = [s for s in workdir_lib.read_convergence(
        self.workdir).get("scores", []) if s["unit"] <= units]
    if self._converged():  # Killed after converging, before the export.
      trainer.converged = trainer.stop_requested = True

  def on_unit_end(self, trainer, unit, logs):
    if trainer.phase(unit - 1) != "adversarial" or unit % self.every:
      return
    self.scores.append({"unit": unit,
                        "score": float(self.score(trainer.gan.export_refiner))})
    converged = self._converged()
    files.write_json(self.path, {"patience": self.patience,
                                 "scores": self.scores,
                                 "converged": converged})
    if converged:
      trainer.converged = trainer.stop_requested = True
