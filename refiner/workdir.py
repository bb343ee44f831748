"""The layout of a refiner's work directory, and loading what it holds.

`python -m refiner.train` writes, and everything that uses a trained
refiner (refining, snapshot selection, the reproductions) reads::

    config.json        hyper-parameters of the run (checked on resume)
    flags.txt          the command's resolved flags (core.cli.FLAGS_FILE)
    ckpt/              tf.train.CheckpointManager checkpoints
    tb/                TensorBoard events
    refiner.keras      the trained refiner (running average if enabled)
    saved_model/       the same refiner as a SavedModel ('serve' endpoint)
    snapshots/         refiner-UNIT.weights.h5 every --snapshot_every units
"""

import dataclasses
import os
from typing import List, Optional, Tuple

import keras
import tensorflow as tf

from core import files
from data import source as source_lib
# Registers the custom layers load_model needs; builds D.
from refiner import networks
from refiner import simgan

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "ckpt"
TENSORBOARD_DIR = "tb"
REFINER_FILE = "refiner.keras"
SAVED_MODEL_DIR = "saved_model"
SNAPSHOT_DIR = "snapshots"
CONVERGENCE_FILE = "convergence.json"  # the label-free criterion per snapshot
_SNAPSHOT_PREFIX = "refiner-"
_SNAPSHOT_SUFFIX = ".weights.h5"


def read_convergence(workdir: str) -> dict:
  """convergence.json of a run that stops by its criterion (callbacks.
  StopWhenConverged): patience, scores [{unit, score}], converged; {} if
  the run has none."""
  path = os.path.join(workdir, CONVERGENCE_FILE)
  return files.read_json(path) if os.path.exists(path) else {}


def snapshot_name(unit: int) -> str:
  """The file name of the snapshot taken after adversarial unit `unit`."""
  return f"{_SNAPSHOT_PREFIX}{unit:06d}{_SNAPSHOT_SUFFIX}"


def snapshot_path(workdir: str, name: str) -> str:
  """The path of snapshot file `name` (absolute names are kept)."""
  return os.path.join(workdir, SNAPSHOT_DIR, name)


def list_snapshots(workdir: str) -> List[Tuple[int, str]]:
  """Snapshot weight files of a workdir, by unit: [(unit, filename)]."""
  folder = os.path.join(workdir, SNAPSHOT_DIR)
  if not os.path.isdir(folder):
    return []
  out = []
  for name in os.listdir(folder):
    if not (name.startswith(_SNAPSHOT_PREFIX) and
            name.endswith(_SNAPSHOT_SUFFIX)):
      continue
    unit = name[len(_SNAPSHOT_PREFIX):-len(_SNAPSHOT_SUFFIX)]
    if unit.isdigit():  # Not a temporary file of a write in progress.
      out.append((int(unit), name))
  return sorted(out)


def load_refiner(workdir: str, snapshot: Optional[str] = None) -> keras.Model:
  """Loads workdir/refiner.keras, optionally with a snapshot's weights.

  Args:
    workdir: a refiner.train workdir.
    snapshot: None (or '') for the exported refiner, or a snapshot file name
      (in workdir/snapshots, or an absolute path).

  Raises:
    DataError: a file is missing or unreadable.
  """
  path = os.path.join(workdir, REFINER_FILE)
  if not os.path.exists(path):
    raise source_lib.DataError(path, "does not exist; train a refiner into "
                               "this workdir first (python -m refiner.train)")
  try:
    model = keras.models.load_model(path)
  except (ValueError, OSError) as e:
    raise source_lib.DataError(path, f"cannot be loaded: {e}")
  if snapshot:
    load_snapshot(model, workdir, snapshot)
  return model


def load_snapshot(model: keras.Model, workdir: str, snapshot: str) -> None:
  """Loads snapshot `snapshot`'s weights into a loaded refiner.

  Raises:
    DataError: the file is missing or does not fit the refiner.
  """
  weights = snapshot_path(workdir, snapshot)
  try:
    model.load_weights(weights)
  except (ValueError, OSError) as e:
    raise source_lib.DataError(weights, f"cannot be loaded: {e}")


def load_discriminator(workdir: str) -> Tuple[keras.Model, int]:
  """D of a refiner.train workdir's last checkpoint (float32), and the
  unit that checkpoint holds.

  Raises:
    DataError: the workdir has no config.json or no checkpoint.
  """
  config_path = os.path.join(workdir, CONFIG_FILE)
  folder = os.path.join(workdir, CHECKPOINT_DIR)
  latest = tf.train.latest_checkpoint(folder)
  if not os.path.exists(config_path) or latest is None:
    raise source_lib.DataError(
        workdir, "holds no SimGAN checkpoint (config.json and ckpt/); train "
        "a refiner into it first (python -m refiner.train)")
  config = files.read_json(config_path)
  fields = {f.name for f in dataclasses.fields(simgan.HParams)}
  h = simgan.HParams(**{k: v for k, v in config.items() if k in fields})
  discriminator = networks.build_discriminator(
      h.arch, head=h.adversarial_loss, padding=h.d_padding,
      image_shape=tuple(h.image_shape))
  unit = tf.Variable(0, dtype=tf.int64)
  tf.train.Checkpoint(discriminator=discriminator, units_done=unit).restore(
      latest).expect_partial()
  return discriminator, int(unit.numpy())
