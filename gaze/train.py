r"""Trains the paper's gaze estimator on a labelled source.

    python -m gaze.train --train=embedded-eyes-sim?n=20000 --workdir=/tmp/g \
        [--batch_size=512 --learning_rate=0.001 --max_steps=10000 --augment \
         --subset_fraction=0.25 --precision=mixed_bfloat16 --seed=0]

Re-running the same command after a kill resumes from WORKDIR/ckpt; a
finished run (WORKDIR/DONE) is skipped. Writes WORKDIR/estimator.keras (best
by validation error), train_log.csv, DONE and flags.txt.
"""

import json

from absl import app
from absl import flags

from data import source as source_lib
from data import specs
from gaze import train_lib
from refiner import common_flags
from refiner import runtime

_DEFAULTS = train_lib.HParams()

_TRAIN = flags.DEFINE_string(
    "train", None, "SPEC of the labelled training source (synthetic, refined "
    "or real); a validation split of it is held out.", required=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.",
                               required=True)
_IMAGE_SIZE = flags.DEFINE_string(
    "image_size", "35x55", "HEIGHTxWIDTH the source is read at (the paper's "
    "CNN takes 35x55).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size,
                                   "Images per step (paper: 512).")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate,
                                    "Constant learning rate (paper: 0.001).")
_OPTIMIZER = flags.DEFINE_enum("optimizer", _DEFAULTS.optimizer,
                               ["adam", "sgd"], "Optimizer.")
_MOMENTUM = flags.DEFINE_float("momentum", _DEFAULTS.momentum,
                               "SGD momentum.")
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
    "Share of the training images used: Table 2's 1x = 0.25, 4x = 1.0.")
_AUGMENT = flags.DEFINE_boolean(
    "augment", _DEFAULTS.augment,
    "Random gain, gamma, blur and noise on training batches.")
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
        optimizer=_OPTIMIZER.value, momentum=_MOMENTUM.value,
        max_steps=_MAX_STEPS.value, eval_every=_EVAL_EVERY.value,
        patience=_PATIENCE.value,
        validation_fraction=_VALIDATION_FRACTION.value,
        max_validation=_MAX_VALIDATION.value,
        subset_fraction=_SUBSET_FRACTION.value, augment=_AUGMENT.value,
        seed=_SEED.value, precision=_PRECISION.value)
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
