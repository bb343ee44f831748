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

import os
from typing import List, Optional, Tuple

import keras

from core import files
from data import source as source_lib
# Imported for its side effect: load_model needs the custom layers registered.
from refiner import networks  # pylint: disable=unused-import

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
