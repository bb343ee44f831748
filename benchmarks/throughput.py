r"""Speed of SimGAN's training steps and of refinement, in images per second.

  python -m benchmarks.throughput [--archs=gaze,hand] \
      [--precisions=float32,mixed_bfloat16] [--xla=false,true] \
      [--intra_op=2 --inter_op=1] [--nobaseline] [--nopadding_cost] \
      [--estimator_batch_size=64] [--output=results/throughput.json]

For every architecture x precision x XLA setting it builds a SimGAN on
random images of the architecture's size, runs a few warm-up steps (tracing
and XLA compilation, not timed), then times `--steps` steps of each of

* ``refiner_step``: one adversarial R update (R forward and backward through
  a fixed D), Algorithm 1's inner loop;
* ``discriminator_step``: one D update, including refining its synthetic
  half with R and mixing in the history buffer;
* ``refine``: the exported refiner's inference (``training=False``), as the
  refine binary runs it;

`--repeats` times, and reports the median images/s of each. In the same
configuration, their repeats interleaved with the project's so that a drift
of the machine's speed cancels in the ratios, it also times

* a plain-Keras baseline (``--baseline``): the same networks built directly
  with keras.layers, 'same' (zero) padding, bare tf.GradientTape steps in
  float32 without XLA (no history buffer, weight average or strategy);
* the SimGAN with zero padding (``--padding_cost``): the R step and refine,
  for the cost of R's default reflect padding;
* in gaze configurations, the gaze estimator's training step (the paper's
  gaze CNN, L2 loss, Adam; ``--estimator_batch_size``, 0 to skip);

and prints a second table of ratios (img/s over img/s): the project against
the plain float32 baseline (so a mixed_bfloat16 row compares with plain
float32) and reflect against zero padding, then whether this device's
default settings (core/runtime.py) meet the R-step target: at least 2x the
plain float32 step where the default is mixed_bfloat16 (bf16 hardware),
0.95x otherwise.

A configuration (or one network or step of it) that fails (XLA unable to
compile an op, out of memory) is recorded with its error instead of
stopping the run. Thread pool sizes cannot change within a process, so
compare thread settings by running the binary once per setting.

Its numbers chose ``core/runtime.py``'s DEFAULTS; the README's speed section
holds them. The hand networks take most of the default grid's time; the
comparisons about double it (``--nobaseline --nopadding_cost
--estimator_batch_size=0`` times the project alone).
"""

from absl import flags

from benchmarks import throughput_lib
from core import cli

FLAGS = flags.FLAGS

flags.DEFINE_list("archs", ["gaze", "hand"], "Architectures: gaze, hand.")
flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"],
                  "Keras precision policies to time (mixed_float16 is "
                  "also accepted; it is slow on CPUs).")
flags.DEFINE_list("xla", ["false", "true"],
                  "jit_compile settings to time.")
flags.DEFINE_integer("batch_size", 64, "Batch size of the gaze networks.")
flags.DEFINE_integer("hand_batch_size", 8,
                     "Batch size of the hand networks (224x224).")
flags.DEFINE_integer("steps", 10, "Timed steps per repeat (gaze).")
flags.DEFINE_integer("hand_steps", 2, "Timed steps per repeat (hand).")
flags.DEFINE_integer("warmup", 2, "Untimed steps before timing.")
flags.DEFINE_integer("repeats", 3, "Timed repeats; the median is reported.")
flags.DEFINE_float("max_seconds", 60.0,
                   "Warm-up, and each repeat, stop early after this long "
                   "(after at least one step).")
flags.DEFINE_integer("intra_op", 0,
                     "Intra-op threads (0: TensorFlow's default).")
flags.DEFINE_integer("inter_op", 0,
                     "Inter-op threads (0: TensorFlow's default).")
flags.DEFINE_bool("baseline", True,
                  "Also time the plain-Keras float32 baseline of the same "
                  "networks, interleaved, and print the ratios.")
flags.DEFINE_bool("padding_cost", True,
                  "Also time the SimGAN with zero instead of reflect "
                  "padding (R step, refine), interleaved.")
flags.DEFINE_integer("estimator_batch_size", 64,
                     "Batch of the gaze estimator's training step timed in "
                     "the gaze configurations; 0 skips it.", lower_bound=0)
flags.DEFINE_string("output", "results/throughput.json",
                    "Where the JSON record goes.")


def main(argv):
  cli.start(argv)
  # Thread pools are fixed when TensorFlow starts: set them before anything.
  from core import runtime  # pylint: disable=g-import-not-at-top
  runtime.configure_threads(FLAGS.intra_op, FLAGS.inter_op)
  xla = throughput_lib.check_settings(FLAGS.archs, FLAGS.precisions,
                                      FLAGS.xla)
  report = throughput_lib.run_benchmark(
      FLAGS.archs, FLAGS.precisions, xla,
      batch_sizes={"gaze": FLAGS.batch_size, "hand": FLAGS.hand_batch_size},
      steps={"gaze": FLAGS.steps, "hand": FLAGS.hand_steps},
      warmup=FLAGS.warmup, repeats=FLAGS.repeats,
      max_seconds=FLAGS.max_seconds, threads=(FLAGS.intra_op, FLAGS.inter_op),
      baseline=FLAGS.baseline, padding_cost=FLAGS.padding_cost,
      estimator_batch_size=FLAGS.estimator_batch_size)
  print(throughput_lib.format_table(report))
  if FLAGS.baseline or FLAGS.padding_cost:
    print()
    print(throughput_lib.format_ratio_table(report))
  if FLAGS.baseline:
    print("\n".join(throughput_lib.target_lines(report)))
  print(throughput_lib.summary_line(report))
  throughput_lib.write_report(report, FLAGS.output)
  print(f"wrote {FLAGS.output}")


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
