r"""Evaluates a trained hand-pose estimator on a labelled test source.

    python -m handpose.evaluate --workdir=/tmp/h \
        --test=nyu:/data/nyu/test?domain=real [--output=/tmp/h/eval_real]

Reads WORKDIR/estimator.keras, opens the test source at the model's input
size, and writes flags.txt, errors.csv (per image and joint), curve.csv
(Fig. 12's cumulative curve) and, last, metrics.json (mean error and % of
joints / of images within d = 1..10 pixels of the 64 x 64 grid; Table 4 is
d = 5) to OUTPUT (default WORKDIR/eval): an OUTPUT with metrics.json holds a
whole evaluation.
"""

import json

from absl import flags

from core import cli
from core import estimator_cli
from data import specs
from handpose import train_lib

_FLAGS = estimator_cli.EvaluateFlags(batch_size=32)
flags.adopt_module_key_flags(estimator_cli)  # Its flags show in --helpshort.
flags.adopt_module_key_flags(cli)


def main(argv):
  result = estimator_cli.evaluate_main(argv, _FLAGS, train_lib.evaluate,
                                       specs.open_source)
  # The curve is in OUTPUT/metrics.json; the summary fits one line.
  print(json.dumps({k: v for k, v in result.items() if k != "curve"}))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
