r"""Draws what a trained refiner does: synthetic | refined | |difference| |
nearest real, one row per image (as the paper's Fig. 5 and 11).

  python -m refiner.show --workdir=runs/eyes --synthetic=embedded-eyes-sim \
      --real=embedded-eyes-real --output=refined_examples.png

The rows are the first --rows images of --synthetic; the nearest real image
(in pixel space) is searched among the first --real_images of --real.
"""

from absl import flags

from core import cli

FLAGS = flags.FLAGS

flags.DEFINE_string("workdir", None, "A refiner.train workdir.")
flags.DEFINE_string("snapshot", "", "Use this snapshot's weights (a file in "
                    "WORKDIR/snapshots) instead of the final refiner.")
flags.DEFINE_string("synthetic", None, "SPEC of the synthetic images.")
flags.DEFINE_string("real", None, "SPEC of the real images.")
flags.DEFINE_string("output", None, "PNG file to write.")
flags.DEFINE_string("image_size", None, "HxW to open both sources at "
                    "(default: their own).")
flags.DEFINE_integer("rows", 8, "Images shown.", lower_bound=1)
flags.DEFINE_integer("real_images", 1000, "Real images searched for the "
                     "nearest one.", lower_bound=1)
flags.DEFINE_integer("scale", 0, "Integer upscaling (0: about 200 pixels "
                     "wide per image).", lower_bound=0)
_THREADS = cli.define_threads()
_INPUT_LIMITS = cli.define_input_limits()
flags.mark_flags_as_required(["workdir", "synthetic", "real", "output"])


def main(argv):
  cli.start(argv, _THREADS.value, _INPUT_LIMITS)
  # pylint: disable=g-import-not-at-top
  import numpy as np
  from data import pictures
  from data import specs
  from refiner import workdir
  # pylint: enable=g-import-not-at-top
  size = specs.parse_image_size(FLAGS.image_size)
  synthetic = specs.open_source(FLAGS.synthetic, size)
  real = specs.open_source(FLAGS.real, size)
  if synthetic.image_shape != real.image_shape:
    raise ValueError(f"--synthetic images are {synthetic.image_shape}, "
                     f"--real ones {real.image_shape}; give --image_size")
  refiner = workdir.load_refiner(FLAGS.workdir, FLAGS.snapshot)
  images = synthetic.read(np.arange(min(FLAGS.rows, len(synthetic))))
  refined = refiner.predict(images, verbose=0)
  scale = FLAGS.scale or max(1, 200 // synthetic.image_shape[1])
  picture = pictures.draw_refined_examples(
      images, refined, real.read(np.arange(min(FLAGS.real_images,
                                               len(real)))),
      scale, f"{FLAGS.workdir} {FLAGS.snapshot}".strip())
  pictures.write_png(picture, FLAGS.output)
  print(f"wrote {FLAGS.output} ({len(images)} rows)")


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
