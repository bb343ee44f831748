r"""Does a trained SimGAN's D tell refined from real patches by saturated
pixels alone? (refiner/diagnostics.py.)

  python -m refiner.diagnose --workdir=results/table4/simgan \
      --synthetic='embedded-hands-sim?views=all' \
      --real='embedded-hands-real?split=train&views=all' \
      --image_size=64x64 --output=saturation.json

D from the workdir's last checkpoint judges the first --images synthetic
images refined by the workdir's refiner (its final one, from the same
unit) and the first --images real images. The report gives D's per-patch
accuracy and confidence on the patches that hold saturated pixels (±1) and
on the others, for real and refined patches. A D much more accurate on
the saturated patches uses the cue, and `--refiner_output=clipped_tanh`
then gives R an output that reaches ±1.
"""

from absl import flags

from core import cli

FLAGS = flags.FLAGS

flags.DEFINE_string("workdir", None, "A refiner.train workdir (its last "
                    "checkpoint's D, its refiner).")
flags.DEFINE_string("synthetic", None, "SPEC of the synthetic images.")
flags.DEFINE_string("real", None, "SPEC of the real images.")
flags.DEFINE_string("image_size", None, "HxW to open both sources at "
                    "(default: their own).")
flags.DEFINE_integer("images", 500, "Synthetic and real images judged.",
                     lower_bound=1)
flags.DEFINE_string("output", None, "JSON file to write (optional).")
_THREADS = cli.define_threads()
_INPUT_LIMITS = cli.define_input_limits()
flags.mark_flags_as_required(["workdir", "synthetic", "real"])


def main(argv):
  cli.start(argv, _THREADS.value, _INPUT_LIMITS)
  # pylint: disable=g-import-not-at-top
  import numpy as np
  from core import files
  from core import inference
  from data import specs
  from refiner import diagnostics
  from refiner import workdir
  # pylint: enable=g-import-not-at-top
  size = specs.parse_image_size(FLAGS.image_size)
  synthetic = specs.open_source(FLAGS.synthetic, size)
  real = specs.open_source(FLAGS.real, size)
  refiner = workdir.load_refiner(FLAGS.workdir)
  discriminator, unit = workdir.load_discriminator(FLAGS.workdir)
  images = synthetic.read(np.arange(min(FLAGS.images, len(synthetic))))
  refined = inference.predict(inference.forward(refiner), images, 64)
  report = diagnostics.saturation_accuracy(
      discriminator, refined,
      real.read(np.arange(min(FLAGS.images, len(real)))), images)
  report = {"unit": unit, "images": len(images), **report}
  for who in ("real", "refined"):
    print(f"{who} patches called {who}: " + ", ".join(
        f"{kind} {report[f'{who}_{kind}_accuracy']:.3f} "
        f"({report[f'{who}_{kind}_patches']} patches, confidence "
        f"{report[f'{who}_{kind}_confidence']:.2f})"
        for kind in ("saturated", "other")))
  print(f"pixels at ±1: real {report['real_at_limit_fraction']:.3f}, "
        f"refined {report['refined_at_limit_fraction']:.3f} (D of unit "
        f"{unit})")
  if FLAGS.output:
    files.write_json(FLAGS.output, report)


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
