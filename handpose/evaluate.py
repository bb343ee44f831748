r"""Evaluates a trained hand-pose estimator on a labelled test source.

    python -m handpose.evaluate --workdir=/tmp/h \
        --test=nyu:/data/nyu/test?domain=real [--output=/tmp/h/eval_real]

Reads WORKDIR/estimator.keras, opens the test source at the model's input
size, and writes metrics.json (mean error and % of joints / of images within
d = 1..10 pixels of the 64 x 64 grid; Table 4 is d = 5), errors.csv (per
image and joint) and curve.csv (Fig. 12's cumulative curve) to OUTPUT
(default WORKDIR/eval).
"""

import json
import os

from absl import app
from absl import flags
import keras

from data import source as source_lib
from data import specs
from handpose import train_lib
from refiner import common_flags
from refiner import runtime

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Training directory holding estimator.keras.",
    required=True)
_TEST = flags.DEFINE_string("test", None, "SPEC of the labelled test source.",
                            required=True)
_OUTPUT = flags.DEFINE_string("output", None,
                              "Output directory (default WORKDIR/eval).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32,
                                   "Images per forward pass.")
_THREADS = common_flags.define_threads()


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  if not runtime.apply_thread_flag(_THREADS.value):  # Before any TF op runs.
    return 1
  model_path = os.path.join(_WORKDIR.value, train_lib.ESTIMATOR)
  if not os.path.exists(model_path):
    raise app.UsageError(f"{model_path}: no trained estimator (run "
                         "handpose.train first)")
  model = keras.models.load_model(model_path)
  try:
    source = specs.open_source(_TEST.value, tuple(model.input_shape[1:3]))
  except ValueError as e:  # DataError included: a bad SPEC or bad data.
    raise app.UsageError(str(e))
  try:
    result = train_lib.evaluate(model, source,
                                _OUTPUT.value or os.path.join(
                                    _WORKDIR.value, "eval"),
                                _BATCH_SIZE.value)
  except source_lib.DataError as e:
    raise app.UsageError(str(e))
  print(json.dumps({k: v for k, v in result.items() if k != "curve"}))


def run():
  app.run(main)


if __name__ == "__main__":
  run()
