r"""Evaluates a trained gaze estimator on a labelled test source.

    python -m gaze.evaluate --workdir=/tmp/g \
        --test=embedded-eyes-real?split=test [--output=/tmp/g/eval_real]

Reads WORKDIR/estimator.keras, opens the test source at the model's input
size, and writes flags.txt, errors.csv (per image), curve.csv (Fig. 7's
cumulative curve) and, last, metrics.json (mean, median, % within 5..20
degrees, n) to OUTPUT (default WORKDIR/eval): an OUTPUT with metrics.json
holds a whole evaluation.
"""

import json

from absl import flags

from core import cli
from core import estimator_cli
from data import specs
from gaze import train_lib

_FLAGS = estimator_cli.EvaluateFlags(batch_size=512)
flags.adopt_module_key_flags(estimator_cli)  # Its flags show in --helpshort.
flags.adopt_module_key_flags(cli)


def main(argv):
  result = estimator_cli.evaluate_main(argv, _FLAGS, train_lib.evaluate,
                                       specs.open_source)
  print(json.dumps(result))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
