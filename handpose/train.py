r"""Trains the hand-pose estimator (stacked hourglass) on a labelled source.

    python -m handpose.train --train=nyu:/data/nyu/train?domain=synthetic \
        --workdir=/tmp/h [--image_size=224x224 --batch_size=16 \
         --filters=256 --max_steps=20000 --noaugment --threads=auto]

The source needs the joint labels j00_u, j00_v, ..., j13_v (image pixels);
a validation split of it is held out for early stopping. Re-running the same
command after a kill resumes from WORKDIR/ckpt; a finished run (WORKDIR/DONE)
is skipped. Writes WORKDIR/estimator.keras (best by validation error),
train_log.csv, DONE and flags.txt.
"""

import json

from absl import app
from absl import flags

from data import source as source_lib
from data import specs
from handpose import train_lib
from refiner import common_flags
from refiner import runtime

_DEFAULTS = train_lib.HParams()

_TRAIN = flags.DEFINE_string(
    "train", None, "SPEC of the labelled training source (synthetic, refined "
    "or real); a validation split of it is held out.", required=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.",
                               required=True)
_IMAGE_SIZE = flags.DEFINE_string(
    "image_size", "224x224", "HEIGHTxWIDTH the source is read at (the "
    "paper's hand crops are 224x224).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size,
                                   "Images per step.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate,
                                    "Constant learning rate.")
_OPTIMIZER = flags.DEFINE_enum(
    "optimizer", _DEFAULTS.optimizer, ["adam", "rmsprop"],
    "Optimizer (Newell et al.: rmsprop at 2.5e-4).")
_MAX_STEPS = flags.DEFINE_integer("max_steps", _DEFAULTS.max_steps,
                                  "Most training steps.")
_EVAL_EVERY = flags.DEFINE_integer(
    "eval_every", _DEFAULTS.eval_every,
    "Steps between validation evaluations and checkpoints.")
_PATIENCE = flags.DEFINE_integer(
    "patience", _DEFAULTS.patience,
    "Evaluations without improvement before stopping.")
_VALIDATION_FRACTION = flags.DEFINE_float(
    "validation_fraction", _DEFAULTS.validation_fraction,
    "Share of the training source held out for validation.")
_MAX_VALIDATION = flags.DEFINE_integer(
    "max_validation", _DEFAULTS.max_validation, "Most validation images.")
_SUBSET_FRACTION = flags.DEFINE_float(
    "subset_fraction", _DEFAULTS.subset_fraction,
    "Share of the remaining training images used.")
_AUGMENT = flags.DEFINE_boolean(
    "augment", _DEFAULTS.augment,
    "Random rotations, scales and shifts of training batches (the paper's "
    "'random [-20, 20] degree rotations and crops').")
_MAX_ROTATION = flags.DEFINE_float(
    "max_rotation_deg", _DEFAULTS.max_rotation_deg,
    "Rotation range of the augmentation, degrees.")
_SIGMA = flags.DEFINE_float(
    "sigma", _DEFAULTS.sigma, "Target Gaussian std, heatmap pixels.")
_HEATMAP_SIZE = flags.DEFINE_integer(
    "heatmap_size", _DEFAULTS.heatmap_size, "Heatmap side (paper: 64).")
_FOREGROUND_WEIGHT = flags.DEFINE_float(
    "foreground_weight", _DEFAULTS.foreground_weight,
    "Heatmap pixels weigh 1 + this x target in the loss (0: Newell's plain "
    "MSE; 10 lifts small hourglasses off the all-zeros plateau).")
_FILTERS = flags.DEFINE_integer("filters", _DEFAULTS.filters,
                                "Hourglass width (Newell: 256).")
_NUM_STACKS = flags.DEFINE_integer("num_stacks", _DEFAULTS.num_stacks,
                                   "Hourglass blocks (paper: 2).")
_DEPTH = flags.DEFINE_integer("depth", _DEFAULTS.depth,
                              "Pooling levels per hourglass (Newell: 4).")
_SEED = flags.DEFINE_integer("seed", _DEFAULTS.seed, "Random seed.")
_PRECISION = flags.DEFINE_enum(
    "precision", _DEFAULTS.precision, ["float32", "mixed_bfloat16"],
    "Compute precision (weights stay float32).")
_THREADS = common_flags.define_threads()


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  if not runtime.apply_thread_flag(_THREADS.value):  # Before any TF op runs.
    return 1
  try:
    hparams = train_lib.HParams(
        batch_size=_BATCH_SIZE.value, learning_rate=_LEARNING_RATE.value,
        optimizer=_OPTIMIZER.value, max_steps=_MAX_STEPS.value,
        eval_every=_EVAL_EVERY.value, patience=_PATIENCE.value,
        validation_fraction=_VALIDATION_FRACTION.value,
        max_validation=_MAX_VALIDATION.value,
        subset_fraction=_SUBSET_FRACTION.value, augment=_AUGMENT.value,
        max_rotation_deg=_MAX_ROTATION.value, sigma=_SIGMA.value,
        heatmap_size=_HEATMAP_SIZE.value,
        foreground_weight=_FOREGROUND_WEIGHT.value, filters=_FILTERS.value,
        num_stacks=_NUM_STACKS.value, depth=_DEPTH.value, seed=_SEED.value,
        precision=_PRECISION.value)
    image_size = specs.parse_image_size(_IMAGE_SIZE.value)
    source = specs.open_source(_TRAIN.value, image_size)
  except ValueError as e:  # DataError included: bad flags, SPEC or data.
    raise app.UsageError(str(e))
  runtime.write_flags_file(_WORKDIR.value, flags.FLAGS.flags_into_string())
  try:
    stats = train_lib.train(hparams, source, _WORKDIR.value)
  except source_lib.DataError as e:
    raise app.UsageError(str(e))
  print(json.dumps({k: v for k, v in stats.items() if k != "hparams"}))


def run():
  app.run(main)


if __name__ == "__main__":
  run()
