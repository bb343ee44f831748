"""Side effects of SimGAN training: summaries, image grids, a progress line.

The training loop calls ``on_train_begin(trainer)``, ``on_unit_end(trainer,
unit, logs)`` after each unit of Algorithm 1 (a pretraining step or one
Kg/Kd iteration) and ``on_train_end(trainer)``. ``trainer`` is the
``train_lib.Trainer`` (it holds ``gan``, ``hparams``, ``workdir``,
``preview`` — a fixed batch of synthetic images — and ``phase(unit)``).
"""

import os
import sys
import time

import numpy as np
import tensorflow as tf


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


def _format_duration(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class ProgressLine(Callback):
  """A live one-line status on stderr: unit, phase, rate, ETA, losses."""

  KEYS = ("refiner/adversarial", "refiner/self_regularization",
          "discriminator/loss", "discriminator/accuracy_real",
          "discriminator/accuracy_refined")

  def __init__(self, every: int = 1, stream=None):
    self.every = max(1, every)
    self.stream = stream or sys.stderr
    self.latest = {}

  def on_train_begin(self, trainer):
    self.start_time = time.monotonic()
    self.start_unit = int(trainer.gan.units_done.numpy())

  def on_unit_end(self, trainer, unit, logs):
    self.latest.update(logs)
    total = trainer.hparams.total_units
    if unit % self.every and unit != total:
      return
    elapsed = time.monotonic() - self.start_time
    rate = (unit - self.start_unit) / max(elapsed, 1e-9)
    eta = (total - unit) / rate if rate > 0 else float("inf")
    short = " ".join(f"{k.split('/')[-1][:8]}={float(v):.3f}"
                     for k, v in self.latest.items() if k in self.KEYS)
    line = (f"\r[{trainer.phase(unit - 1):>11}] {unit}/{total} "
            f"{rate:.2f} units/s ETA {_format_duration(eta)} {short}")
    self.stream.write(line[:200].ljust(120))
    if unit == total:
      self.stream.write("\n")
    self.stream.flush()


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

  The refiner's quality moves between checkpoints (MEASURED.md), so the
  benchmark picks one of these snapshots with a label-free criterion
  instead of trusting the last. Files: snapshots/refiner-UNIT.weights.h5.
  """

  def __init__(self, directory: str, every: int):
    self.directory = directory
    self.every = max(1, every)

  def on_unit_end(self, trainer, unit, logs):
    if trainer.phase(unit - 1) != "adversarial" or unit % self.every:
      return
    os.makedirs(self.directory, exist_ok=True)
    path = os.path.join(self.directory, f"refiner-{unit:06d}.weights.h5")
    tmp = path[:-len(".weights.h5")] + ".tmp.weights.h5"
    trainer.gan.export_refiner.save_weights(tmp)
    os.replace(tmp, path)
