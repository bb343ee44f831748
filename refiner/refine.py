r"""Refines a whole data set with a trained refiner, keeping its labels.

  python -m refiner.refine --workdir=DIR --input=SPEC --output=OUT

Writes every refined image under its source file name below OUT (PNG, or
JPEG for .jpg names) together with OUT/labels.csv holding the source's
labels unchanged — SimGAN preserves the annotation of each synthetic image,
which is the point of the method. An OUT ending in '.h5' writes an HDF5
cache instead (exact float values; readable as h5:OUT).
"""


from absl import flags

from core import cli

FLAGS = flags.FLAGS

flags.DEFINE_string("workdir", None, "A refiner.train workdir (reads its "
                    "refiner.keras).")
flags.DEFINE_string("input", None, "SPEC of the images to refine.")
flags.DEFINE_string("output", None, "Output folder, or FILE.h5.")
flags.DEFINE_string("image_size", None, "HxW to resize inputs to.")
flags.DEFINE_integer("batch_size", 256, "Images per inference batch.",
                     lower_bound=1)
flags.DEFINE_string("snapshot", "", "Use this snapshot's weights (a file in "
                    "WORKDIR/snapshots) instead of the final refiner.")
_THREADS = cli.define_threads()
_INPUT_LIMITS = cli.define_input_limits()
flags.mark_flags_as_required(["workdir", "input", "output"])


def main(argv):
  # Thread pools before any TF op runs.
  cli.start(argv, _THREADS.value, _INPUT_LIMITS)
  # Imports after flag parsing keep --help fast.
  from data import specs  # pylint: disable=g-import-not-at-top
  from refiner import refine_lib  # pylint: disable=g-import-not-at-top
  from refiner import workdir  # pylint: disable=g-import-not-at-top
  source = specs.open_source(FLAGS.input,
                             specs.parse_image_size(FLAGS.image_size))
  refiner = workdir.load_refiner(FLAGS.workdir, FLAGS.snapshot)
  n = refine_lib.refine_source(refiner, source, FLAGS.output,
                               FLAGS.batch_size)
  print(f"refined {n} images from {FLAGS.input} into {FLAGS.output}")


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
