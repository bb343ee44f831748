r"""Speed of SimGAN's training steps and of refinement, in images per second.

  python -m benchmarks.throughput [--archs=gaze,hand] \
      [--precisions=float32,mixed_bfloat16] [--xla=false,true] \
      [--intra_op=2 --inter_op=1] [--output=results/throughput.json]

For every architecture x precision x XLA setting it builds a SimGAN on
random images of the architecture's size, runs a few warm-up steps (tracing
and XLA compilation, not timed), then times `--steps` steps of each of

* ``refiner_step``: one adversarial R update (R forward and backward through
  a fixed D), Algorithm 1's inner loop;
* ``discriminator_step``: one D update, including refining its synthetic
  half with R and mixing in the history buffer;
* ``refine``: the exported refiner's inference (``training=False``), as the
  refine binary runs it;

`--repeats` times, and reports the median images/s of each. A configuration
that fails (XLA unable to compile an op, out of memory) is recorded with its
error instead of stopping the run. Thread pool sizes cannot change within a
process, so compare thread settings by running the binary once per setting.

The numbers chose ``refiner/runtime.py``'s DEFAULTS. Expected on a 2-core
AVX2 EPYC with a quiet machine: gaze float32 R step ~18 img/s, D step ~60,
refine ~80 (batch 64, 2 intra-op threads); about 10 minutes for the full default grid, most of it the hand networks.
"""

from absl import app
from absl import flags

from benchmarks import throughput_lib

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
flags.DEFINE_string("output", "results/throughput.json",
                    "Where the JSON record goes.")

# What each timed measurement is called in the record.
def _parse_bool(text: str) -> bool:
  lowered = text.strip().lower()
  if lowered in ("true", "1", "yes", "on"):
    return True
  if lowered in ("false", "0", "no", "off"):
    return False
  raise app.UsageError(f"--xla: expected true/false, got {text!r}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  # Thread pools are fixed when TensorFlow starts: set them before anything.
  from refiner import runtime  # pylint: disable=g-import-not-at-top
  runtime.configure_threads(FLAGS.intra_op, FLAGS.inter_op)
  for arch in FLAGS.archs:
    if arch not in ("gaze", "hand"):
      raise app.UsageError(f"--archs: unknown architecture {arch!r}")
  for precision in FLAGS.precisions:
    if precision not in runtime.PRECISIONS:
      raise app.UsageError(f"--precisions: unknown precision {precision!r}")
  report = throughput_lib.run_benchmark(
      FLAGS.archs, FLAGS.precisions, [_parse_bool(x) for x in FLAGS.xla],
      batch_sizes={"gaze": FLAGS.batch_size, "hand": FLAGS.hand_batch_size},
      steps={"gaze": FLAGS.steps, "hand": FLAGS.hand_steps},
      warmup=FLAGS.warmup, repeats=FLAGS.repeats,
      max_seconds=FLAGS.max_seconds, threads=(FLAGS.intra_op, FLAGS.inter_op))
  print(throughput_lib.format_table(report))
  load = report["load_average"]
  print(f"device: {report['device']['name']} ({report['device']['kind']}); "
        f"load average before/after: {load['before'][0]:.2f}/"
        f"{load['after'][0]:.2f}; {report['elapsed_seconds']:.0f} s")
  throughput_lib.write_json(report, FLAGS.output)
  print(f"wrote {FLAGS.output}")
  return 0


def run():
  app.run(main)


if __name__ == "__main__":
  run()
