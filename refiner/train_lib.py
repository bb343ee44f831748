"""Runs Algorithm 1 end to end: data, schedule, checkpoints, export.

Schedule (paper §3.1): ``refiner_pretrain_steps`` R steps on the
self-regularisation loss alone, then ``discriminator_pretrain_steps`` D steps,
then ``steps`` iterations of Kg R-steps followed by Kd D-steps. Each of these
is one *unit*; ``SimGAN.units_done`` counts them and is checkpointed with
everything else (networks, optimizers, history, counters), so re-running the
same command after a kill resumes where the last checkpoint left off, and the
data streams restart at exactly the batch they had reached.

What the work directory holds is described in refiner/workdir.py.
"""

import dataclasses
import os
import shutil
import traceback
from typing import Callable, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from core import files
from core import provenance
from core import finite
from data import pipeline
from data import source as source_lib
from data import specs
from refiner import callbacks as callbacks_lib
from refiner import simgan
from refiner import workdir as workdir_lib

PREVIEW_IMAGES = 8
STRATEGIES = ("default", "mirrored")

def open_sources(synthetic_spec: str, real_spec: str,
                 image_size: Optional[Tuple[int, int]] = None
                ) -> Tuple[source_lib.ImageSource, source_lib.ImageSource]:
  """The synthetic images x_i and the real images y_j of a run.

  Raises:
    DataError: a SPEC names no readable source.
  """
  return (specs.open_source(synthetic_spec, image_size),
          specs.open_source(real_spec, image_size))


def claim_workdir(workdir: str, hparams: simgan.HParams,
                  synthetic: source_lib.ImageSource,
                  real: source_lib.ImageSource, overwrite: bool = False):
  """Holds a SimGAN workdir for this run (a context manager).

  Its provenance (core/provenance.py) is every hyper-parameter and what the
  synthetic and real images are: the same run resumes, another one is
  refused with the first field that differs (or, with `overwrite`, starts
  afresh in the emptied workdir).

  Raises:
    ProvenanceError: the workdir holds another run or is in use.
  """
  return provenance.claim(workdir, {
      "hparams": dataclasses.asdict(hparams), "synthetic": synthetic.identity,
      "real": real.identity}, overwrite)


class Trainer:
  """Holds the state the loop and callbacks share."""

  def __init__(self, hparams: simgan.HParams, synthetic, real, workdir: str,
               strategy=None, checkpoint_every: int = 100,
               max_to_keep: int = 3):
    if synthetic.image_shape != tuple(hparams.image_shape):
      raise source_lib.DataError(
          synthetic.description, f"has {synthetic.image_shape[0]}x"
          f"{synthetic.image_shape[1]} images but the run uses "
          f"{hparams.image_shape[0]}x{hparams.image_shape[1]}")
    if real.image_shape != synthetic.image_shape:
      raise source_lib.DataError(
          real.description, f"has {real.image_shape[0]}x{real.image_shape[1]}"
          f" images but the synthetic ones are {synthetic.image_shape[0]}x"
          f"{synthetic.image_shape[1]}; pass --image_size=HxW")
    self.hparams = hparams
    self.workdir = workdir
    self.synthetic = synthetic
    self.real = real
    self.checkpoint_every = max(1, checkpoint_every)
    self.stop_requested = False
    self.converged = False  # Stopped by the label-free criterion.
    os.makedirs(workdir, exist_ok=True)
    self.gan = simgan.SimGAN(hparams, strategy)
    self.checkpoint = tf.train.Checkpoint(**self.gan.checkpoint_items())
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(workdir, workdir_lib.CHECKPOINT_DIR),
        max_to_keep)
    if self.manager.latest_checkpoint:
      self.checkpoint.restore(self.manager.latest_checkpoint).assert_consumed()
    files.write_json(os.path.join(workdir, workdir_lib.CONFIG_FILE),
                     dataclasses.asdict(hparams))
    self.preview = tf.constant(
        synthetic.read(np.arange(min(PREVIEW_IMAGES, len(synthetic)))))

  def phase(self, unit: int) -> str:
    """Name of the schedule phase of (0-based) unit `unit`."""
    h = self.hparams
    if unit < h.refiner_pretrain_steps:
      return "pretrain-R"
    if unit < h.refiner_pretrain_steps + h.discriminator_pretrain_steps:
      return "pretrain-D"
    return "adversarial"

  def _streams(self):
    h = self.hparams
    b = h.batch_size
    r_done = int(self.gan.refiner_updates.numpy())
    d_done = int(self.gan.discriminator_updates.numpy())
    # Three independent, restartable streams: R's synthetic batches, D's
    # synthetic batches and D's real batches (see data/pipeline.py).
    seed = h.seed * 3
    r_syn = pipeline.stream(self.synthetic, b, seed + 0, start_batch=r_done)
    d_syn = pipeline.stream(self.synthetic, b, seed + 1, start_batch=d_done)
    d_real = pipeline.stream(self.real, b, seed + 2, start_batch=d_done)
    return iter(r_syn), iter(d_syn), iter(d_real)

  def run_unit(self, unit: int, r_syn, d_syn, d_real):
    """Runs unit number `unit` (0-based) of the schedule; returns its logs."""
    h = self.hparams
    phase = self.phase(unit)
    logs = {}
    if phase == "pretrain-R":
      logs.update(self.gan.refiner_step(next(r_syn), adversarial=False))
    elif phase == "pretrain-D":
      logs.update(self.gan.discriminator_step(next(d_syn), next(d_real)))
    else:
      for _ in range(h.k_g):
        logs.update(self.gan.refiner_step(next(r_syn), adversarial=True))
      for _ in range(h.k_d):
        logs.update(self.gan.discriminator_step(next(d_syn), next(d_real)))
    self.gan.units_done.assign(unit + 1)
    return logs

  def fit(self, callbacks: Optional[List[callbacks_lib.Callback]] = None):
    """Trains to the end of the schedule (or until a callback stops it)."""
    callbacks = callbacks or []
    total = self.hparams.total_units
    start = int(self.gan.units_done.numpy())
    for cb in callbacks:
      cb.on_train_begin(self)
    streams = self._streams()
    unit = start
    try:
      while unit < total and not self.stop_requested:
        logs = self.run_unit(unit, *streams)
        unit += 1
        # Before any callback or checkpoint sees the diverged state.
        finite.check_finite(logs, self.workdir, f"unit {unit}")
        for cb in callbacks:
          cb.on_unit_end(self, unit, logs)
        if unit % self.checkpoint_every == 0 or unit == total:
          self.manager.save(checkpoint_number=unit)
    except BaseException as e:
      # Endless stream iterators must not outlive training: kept alive by
      # the traceback's frames they deadlock interpreter exit
      # (data/pipeline.py), and a crashed run would hang instead of exiting.
      del streams
      traceback.clear_frames(e.__traceback__)
      raise
    if unit != start and unit % self.checkpoint_every and unit != total:
      self.manager.save(checkpoint_number=unit)
    for cb in callbacks:
      cb.on_train_end(self)
    return unit

  @property
  def finished(self) -> bool:
    return int(self.gan.units_done.numpy()) >= self.hparams.total_units

  def export(self):
    """Writes refiner.keras and saved_model/ (atomically, replacing old)."""
    export_refiner(self.gan.export_refiner, self.workdir)


def export_refiner(model: keras.Model, workdir: str) -> None:
  """Saves `model` as workdir/refiner.keras and workdir/saved_model/.

  Both are written under temporary names and renamed into place, so an
  interrupted export never leaves a half-written refiner behind;
  refiner.keras, which marks a trained workdir, comes last.
  """
  # Export a float32 copy: a refiner trained under a mixed policy still
  # serves float32 images, and the .keras file then loads under any policy.
  policy = keras.mixed_precision.global_policy().name
  keras.mixed_precision.set_global_policy("float32")
  try:
    clean = keras.models.clone_model(model)
  finally:
    keras.mixed_precision.set_global_policy(policy)
  clean.set_weights(model.get_weights())
  saved = os.path.join(workdir, workdir_lib.SAVED_MODEL_DIR)
  tmp_dir = f"{saved}.tmp{os.getpid()}"
  shutil.rmtree(tmp_dir, ignore_errors=True)
  clean.export(tmp_dir, format="tf_saved_model", verbose=False)
  old = saved + ".old"
  shutil.rmtree(old, ignore_errors=True)
  if os.path.exists(saved):
    os.replace(saved, old)
  os.replace(tmp_dir, saved)
  shutil.rmtree(old, ignore_errors=True)
  files.save_model(clean, os.path.join(workdir, workdir_lib.REFINER_FILE))


def train(hparams: simgan.HParams, synthetic: source_lib.ImageSource,
          real: source_lib.ImageSource, workdir: str, strategy=None,
          checkpoint_every: int = 100, log_every: int = 10,
          image_every: int = 100, snapshot_every: int = 0,
          progress: bool = True, extra_callbacks=None,
          criterion: Optional[Callable[[keras.Model], float]] = None,
          patience: int = 0, overwrite: bool = False) -> Trainer:
  """Trains (or resumes) a SimGAN run in `workdir` and exports its refiner.

  The workdir is held for the run (`claim_workdir`; `overwrite` starts it
  afresh).

  With a `criterion` (refiner -> label-free distance, lower is better) and
  `patience` > 0, it is measured with every snapshot and training stops,
  finished, after `patience` snapshots without a new best
  (callbacks.StopWhenConverged); the schedule's units are then a cap.
  """
  with claim_workdir(workdir, hparams, synthetic, real, overwrite):
    return _train(hparams, synthetic, real, workdir, strategy,
                  checkpoint_every, log_every, image_every, snapshot_every,
                  progress, extra_callbacks, criterion, patience)


def _train(hparams, synthetic, real, workdir, strategy, checkpoint_every,
           log_every, image_every, snapshot_every, progress, extra_callbacks,
           criterion, patience) -> Trainer:
  """`train` in a workdir this run holds."""
  trainer = Trainer(hparams, synthetic, real, workdir, strategy,
                    checkpoint_every)
  callbacks = [callbacks_lib.TensorBoard(
      os.path.join(workdir, workdir_lib.TENSORBOARD_DIR), log_every,
      image_every)]
  if snapshot_every:
    callbacks.append(callbacks_lib.Snapshots(workdir, snapshot_every))
  if progress:
    callbacks.append(callbacks_lib.ProgressLine())
  if criterion is not None and patience > 0:
    if not snapshot_every:
      raise ValueError("a stopping criterion needs snapshot_every > 0")
    callbacks.append(callbacks_lib.StopWhenConverged(
        criterion, snapshot_every, patience, workdir))
  callbacks += list(extra_callbacks or [])
  trainer.fit(callbacks)
  if trainer.finished or trainer.converged:
    trainer.export()
  return trainer


def make_strategy(name: str) -> Optional[tf.distribute.Strategy]:
  """None for 'default'; a MirroredStrategy over all local GPUs (or the
  CPU) for 'mirrored'."""
  if name not in STRATEGIES:
    raise ValueError(f"unknown strategy {name!r}; expected one of "
                     f"{', '.join(STRATEGIES)}")
  return tf.distribute.MirroredStrategy() if name == "mirrored" else None


def run_training(hparams: simgan.HParams, synthetic: source_lib.ImageSource,
                 real: source_lib.ImageSource, workdir: str,
                 strategy: str = "default", stop_after: int = 0,
                 **train_args) -> Trainer:
  """What `python -m refiner.train` runs: a seeded `train`.

  Seeds Keras (initial weights) with ``hparams.seed`` first, so the same
  command gives the same refiner.

  Args:
    hparams, synthetic, real, workdir: as for `train`.
    strategy: a name of ``STRATEGIES``.
    stop_after: stop after this many units in this process (0: run to the
      end); re-running resumes.
    **train_args: the other arguments of `train` (checkpoint_every,
      log_every, image_every, snapshot_every, progress, criterion,
      patience, overwrite).
  """
  keras.utils.set_random_seed(hparams.seed)
  extra = [callbacks_lib.StopAfter(stop_after)] if stop_after else []
  return train(hparams, synthetic, real, workdir,
               strategy=make_strategy(strategy), extra_callbacks=extra,
               **train_args)


def status_line(trainer: Trainer) -> str:
  """Where a run stands, e.g. 'finished at unit 20/20; workdir DIR'."""
  state = ("converged" if trainer.converged else
           "finished" if trainer.finished else "stopped (re-run to resume)")
  return (f"{state} at unit {int(trainer.gan.units_done.numpy())}/"
          f"{trainer.hparams.total_units}; workdir {trainer.workdir}")
