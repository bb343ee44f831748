r"""Evaluates a trained hand-pose estimator on a labelled test source.

    python -m handpose.evaluate --workdir=/tmp/h \
        --test=nyu:/data/nyu/test?domain=real [--output=/tmp/h/eval_real]

Reads WORKDIR/estimator.keras, opens the test source at the model's input
size, and writes metrics.json (mean error and % of joints / of images within
d = 1..10 pixels of the 64 x 64 grid; Table 4 is d = 5), errors.csv (per
image and joint), curve.csv (Fig. 12's cumulative curve) and flags.txt to
OUTPUT (default WORKDIR/eval).
"""

import json

from absl import flags

from core import cli
from core import estimator_cli
from data import specs
from handpose import train_lib

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Training directory holding estimator.keras.",
    required=True)
_TEST = flags.DEFINE_string("test", None, "SPEC of the labelled test source.",
                            required=True)
_OUTPUT = flags.DEFINE_string("output", None,
                              "Output directory (default WORKDIR/eval).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32,
                                   "Images per forward pass.")
_THREADS = cli.define_threads()
flags.adopt_module_key_flags(cli)  # --threads shows in --helpshort.


def main(argv):
  cli.start(argv, _THREADS.value)  # Before any TensorFlow op runs.
  result = estimator_cli.evaluate_main(
      train_lib.evaluate, specs.open_source, _WORKDIR.value, _TEST.value,
      _OUTPUT.value, _BATCH_SIZE.value)
  # The curve is in OUTPUT/metrics.json; the summary fits one line.
  print(json.dumps({k: v for k, v in result.items() if k != "curve"}))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
