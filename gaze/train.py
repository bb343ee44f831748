r"""Trains the paper's gaze estimator on a labelled source.

    python -m gaze.train --train=embedded-eyes-sim?n=20000 --workdir=/tmp/g \
        [--batch_size=512 --learning_rate=0.001 --max_steps=10000 --augment \
         --subset_fraction=0.25 --precision=mixed_bfloat16 --seed=0]

Re-running the same command after a kill resumes from WORKDIR/ckpt; a
finished run (WORKDIR/DONE) is skipped. Writes WORKDIR/estimator.keras (best
by validation error), train_log.csv, DONE and flags.txt.
"""

import json

from absl import flags

from core import cli
from core import estimator_cli
from data import specs
from gaze import train_lib

_DEFAULTS = train_lib.HParams()

_FLAGS = estimator_cli.TrainFlags(
    _DEFAULTS.schedule, train_lib.OPTIMIZERS, "35x55",
    "the paper's CNN takes 35x55", {
        "batch_size": "Paper: 512.",
        "learning_rate": "Paper: 0.001.",
        "optimizer": "The paper's SGD at 0.001 barely moves this CNN in a "
                     "CPU budget, hence Adam at the paper's rate (README, "
                     "choices the paper leaves open).",
        "max_validation": "Keeps each evaluation short on a large source.",
        "subset_fraction": "Table 2's 1x = 0.25, 4x = 1.0.",
    })
_AUGMENT = flags.DEFINE_boolean(
    "augment", _DEFAULTS.augment,
    "Random gain, gamma, blur and noise on training batches (Table 2's "
    "'+ augmentation' rows; the paper uses none).")
# The shared flags show in --helpshort as this binary's own.
flags.adopt_module_key_flags(estimator_cli)
flags.adopt_module_key_flags(cli)


def main(argv):
  stats = estimator_cli.train_main(
      argv, _FLAGS,
      lambda schedule: train_lib.HParams(schedule=schedule,
                                         augment=_AUGMENT.value),
      train_lib.train, specs.open_source, specs.parse_image_size)
  print(json.dumps(stats))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
