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

from absl import flags

from core import cli
from core import estimator_cli
from data import specs
from handpose import train_lib

_DEFAULTS = train_lib.HParams()

_FLAGS = estimator_cli.TrainFlags(
    _DEFAULTS.schedule, train_lib.OPTIMIZERS, "224x224",
    "the paper's hand crops are 224x224", {
        "batch_size": "Not stated in the paper (Newell et al.: 6).",
        "optimizer": "Newell et al.: rmsprop at 2.5e-4.",
    })
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
# The shared flags show in --helpshort as this binary's own.
flags.adopt_module_key_flags(estimator_cli)
flags.adopt_module_key_flags(cli)


def main(argv):
  stats = estimator_cli.train_main(
      argv, _FLAGS,
      lambda schedule: train_lib.HParams(
          schedule=schedule, augment=_AUGMENT.value,
          max_rotation_deg=_MAX_ROTATION.value, sigma=_SIGMA.value,
          heatmap_size=_HEATMAP_SIZE.value, filters=_FILTERS.value,
          num_stacks=_NUM_STACKS.value, depth=_DEPTH.value,
          foreground_weight=_FOREGROUND_WEIGHT.value),
      train_lib.train, specs.open_source, specs.parse_image_size)
  print(json.dumps(stats))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
