r"""Read speed of data sources (the embedded worlds render on read).

  python -m benchmarks.data_speed [--sources=SPEC,SPEC] [--images=8000] \
      [--output=results/data_speed.json]

The README's data section holds the numbers of this project's machine.
"""

from absl import flags

from benchmarks import data_speed_lib
from core import cli
from data import specs

FLAGS = flags.FLAGS

flags.DEFINE_list(
    "sources",
    ["embedded-eyes-sim?n=20000", "embedded-eyes-real?n=20000"],
    "SPECs to time; each must hold at least --warmup + --images images.")
flags.DEFINE_integer("images", 8000, "Images per timed read.")
flags.DEFINE_integer("repeats", 3, "Timed reads per source.")
flags.DEFINE_integer("warmup", 1000, "Untimed images read first.")
flags.DEFINE_string("image_size", None,
                    "HEIGHTxWIDTH to render/read at (e.g. 64x64 for the "
                    "hand quick preset); default: each source's own.")
flags.DEFINE_string("output", "results/data_speed.json",
                    "Where the JSON record goes ('' for none).")
_INPUT_LIMITS = cli.define_input_limits()


def main(argv):
  cli.start(argv, input_limits=_INPUT_LIMITS)
  records = data_speed_lib.run(FLAGS.sources, FLAGS.images, FLAGS.repeats,
                               FLAGS.warmup,
                               specs.parse_image_size(FLAGS.image_size))
  print(data_speed_lib.table(records))
  if FLAGS.output:
    data_speed_lib.write_report(records, FLAGS.output)


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
