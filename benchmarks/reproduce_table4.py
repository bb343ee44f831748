r"""Reproduces the hand-pose experiment end to end: Table 4 and Fig. 12.

  python -m benchmarks.reproduce_table4 --results=results/table4
  python -m benchmarks.reproduce_table4 --nyu=/data/nyu/dataset \
      --preset=paper --results=results/table4_paper

Without --nyu it runs on the embedded depth-hand world. Re-running the same
command resumes: every stage skips what is already complete. Outputs in
--results: table4.md, table4.csv, fig12.png, fig12.pdf, timings.md,
results.json, flags.txt, versions.json, config.json and the stages' work
folders.
"""

import os

from absl import app
from absl import flags

from refiner import common_flags

FLAGS = flags.FLAGS

flags.DEFINE_enum("preset", "quick", ["smoke", "quick", "paper"],
                  "smoke: a minute (tests); quick: the embedded-world "
                  "default (64x64 crops, CPU-sized networks, ~40 min on 2 "
                  "CPU cores); paper: 224x224, the paper's hand refiner and "
                  "a 256-wide hourglass, for a GPU and NYU.")
flags.DEFINE_string("results", "results/table4", "Output directory.")
flags.DEFINE_string("nyu", None,
                    "NYU hand dataset root holding train/ and test/ "
                    "(joint_data.mat + depth/synthdepth PNGs). Default: the "
                    "embedded world.")
flags.DEFINE_list("rows", None, "Only these Table-4 rows (default: all).")
common_flags.define_threads()
flags.DEFINE_integer("seed", 0, "Seed of data, refiner and estimators.")
flags.DEFINE_integer(
    "jobs", 0, "Independent stages (SimGAN, estimators) run this many at a "
    "time, each in its own process with an equal share of the cores. 0: "
    "one on a GPU (each process would claim its memory), else min(2, "
    "cores); the quick preset's ~40 minutes assume 2.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from refiner import runtime  # pylint: disable=g-import-not-at-top
  if not runtime.apply_thread_flag(FLAGS.threads):  # Before any TF op runs.
    return 1
  from benchmarks import table4_lib  # pylint: disable=g-import-not-at-top
  from benchmarks import table4_report  # pylint: disable=g-import-not-at-top

  preset = table4_lib.PRESETS[FLAGS.preset]
  sources = (table4_lib.nyu_sources(FLAGS.nyu) if FLAGS.nyu else
             table4_lib.embedded_sources(preset, FLAGS.seed))
  unknown = set(FLAGS.rows or []) - set(table4_lib.ROW_BY_KEY)
  if unknown:
    raise app.UsageError(f"unknown rows {sorted(unknown)}; expected "
                         f"{list(table4_lib.ROW_BY_KEY)}")
  if FLAGS.jobs < 0:
    raise app.UsageError(f"--jobs must be >= 0, got {FLAGS.jobs}")
  jobs = FLAGS.jobs or (1 if runtime.device_kind() == "gpu" else
                        min(2, os.cpu_count() or 1))
  runtime.write_flags_file(FLAGS.results, FLAGS.flags_into_string())
  try:
    run = table4_lib.Reproduction(preset, sources, FLAGS.results, FLAGS.seed,
                                  FLAGS.rows, jobs)
    results = run.run()
    texts = table4_report.report(FLAGS.results, run.rows, results,
                                 sources.embedded)
  except ValueError as e:  # DataError included: bad input is one line.
    return runtime.report_error(e)
  print(texts["table4"])
  print(f"wrote {FLAGS.results}/table4.md, table4.csv, fig12.png, fig12.pdf")
  return 0


def run():
  app.run(main)


if __name__ == "__main__":
  run()
