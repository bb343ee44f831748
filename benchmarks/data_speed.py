r"""Read speed of data sources (the embedded worlds render on read).

  python -m benchmarks.data_speed [--sources=SPEC,SPEC] [--images=8000] \
      [--output=results/data_speed.json]

Measured on the 2-core AVX2 VM, idle (load 0.3-0.7; 3 reads of 8,000 images
after 1,000 warm-up images, best / median): embedded-eyes-sim 13,400 / 10,400
img/s, embedded-eyes-real 6,800 / 6,450 img/s (3,670 per CPU second).
"""

from absl import app
from absl import flags

from benchmarks import data_speed_lib
from benchmarks import throughput_lib
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


def main(argv):
  del argv
  records = data_speed_lib.run(FLAGS.sources, FLAGS.images, FLAGS.repeats,
                               FLAGS.warmup,
                               specs.parse_image_size(FLAGS.image_size))
  print(data_speed_lib.table(records))
  if FLAGS.output:
    throughput_lib.write_json({"results": records}, FLAGS.output)


if __name__ == "__main__":
  app.run(main)
