r"""Evaluates a trained gaze estimator on a labelled test source.

    python -m gaze.evaluate --workdir=/tmp/g \
        --test=embedded-eyes-real?split=test [--output=/tmp/g/eval_real]

Reads WORKDIR/estimator.keras, opens the test source at the model's input
size, and writes metrics.json (mean, median, % within 5..20 degrees, n),
errors.csv (per image), curve.csv (Fig. 7's cumulative curve) and flags.txt
to OUTPUT (default WORKDIR/eval).
"""

import json

from absl import flags

from core import cli
from core import estimator_cli
from data import specs
from gaze import train_lib

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Training directory holding estimator.keras.",
    required=True)
_TEST = flags.DEFINE_string("test", None, "SPEC of the labelled test source.",
                            required=True)
_OUTPUT = flags.DEFINE_string("output", None,
                              "Output directory (default WORKDIR/eval).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 512,
                                   "Images per forward pass.")
_THREADS = cli.define_threads()
flags.adopt_module_key_flags(cli)  # --threads shows in --helpshort.


def main(argv):
  cli.start(argv, _THREADS.value)  # Before any TensorFlow op runs.
  result = estimator_cli.evaluate_main(
      train_lib.evaluate, specs.open_source, _WORKDIR.value, _TEST.value,
      _OUTPUT.value, _BATCH_SIZE.value)
  print(json.dumps(result))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
