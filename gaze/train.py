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

_TRAIN = flags.DEFINE_string(
    "train", None, "SPEC of the labelled training source (synthetic, refined "
    "or real); a validation split of it is held out.", required=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.",
                               required=True)
_IMAGE_SIZE = flags.DEFINE_string(
    "image_size", "35x55", "HEIGHTxWIDTH the source is read at (the paper's "
    "CNN takes 35x55).")
_SCHEDULE = estimator_cli.define_schedule_flags(
    _DEFAULTS.schedule, train_lib.OPTIMIZERS, {
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
_THREADS = cli.define_threads()
# The shared flags show in --helpshort as this binary's own.
flags.adopt_module_key_flags(estimator_cli)
flags.adopt_module_key_flags(cli)


def main(argv):
  cli.start(argv, _THREADS.value)  # Before any TensorFlow op runs.
  hparams = train_lib.HParams(schedule=_SCHEDULE(), augment=_AUGMENT.value)
  source = specs.open_source(_TRAIN.value,
                             specs.parse_image_size(_IMAGE_SIZE.value))
  cli.write_flags_file(_WORKDIR.value)
  stats = train_lib.train(hparams, source, _WORKDIR.value)
  print(json.dumps({k: v for k, v in stats.items() if k != "hparams"}))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
