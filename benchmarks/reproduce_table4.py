r"""Reproduces the hand-pose experiment end to end: Table 4 and Fig. 12.

  python -m benchmarks.reproduce_table4 --results=results/table4
  python -m benchmarks.reproduce_table4 --nyu=/data/nyu/dataset \
      --preset=paper  # -> results/table4_paper_real

Without --nyu it runs on the embedded depth-hand world. --set changes one
field of the preset (e.g. --set simgan.steps=2000; see its help).
Re-running the same command resumes: every stage skips what is already
complete; a folder made with another preset (or --set), data, seed or
precision is refused (provenance.json; --overwrite starts it afresh). A run
with other --rows adds its rows to the folder's tables. Outputs in
--results: table4.md, table4.csv, fig12.png, fig12.pdf, timings.md,
results.json, flags.txt, versions.json, config.json and the stages' work
folders.
"""

from absl import flags

from benchmarks import reproduce_cli
from core import cli

FLAGS = flags.FLAGS

_REPRODUCTION = reproduce_cli.define_reproduction_flags(
    "4", "smoke: a minute (tests); quick: the embedded-world default (64x64 "
    "crops, CPU-sized networks, every model trained until its criterion "
    "stops improving; timings in the README); paper: "
    "224x224, the paper's hand refiner and a 256-wide hourglass, for a GPU "
    "and NYU.", jobs=0,
    jobs_help="Default 0: two jobs side by side on a CPU (one thread each), "
    "one on a GPU.")
flags.DEFINE_string("nyu", None,
                    "NYU hand dataset root holding train/ and test/ "
                    "(joint_data.mat + depth/synthdepth PNGs). Default: the "
                    "embedded world.")


def main(argv):
  cli.start(argv, FLAGS.threads, _REPRODUCTION.input_limits)
  from benchmarks import table4_lib  # pylint: disable=g-import-not-at-top
  from benchmarks import table4_report  # pylint: disable=g-import-not-at-top

  preset = reproduce_cli.override_preset(
      table4_lib.PRESETS[FLAGS.preset], _REPRODUCTION.overrides.value,
      table4_lib.Reproduction.preset_targets())
  sources = (table4_lib.nyu_sources(FLAGS.nyu) if FLAGS.nyu else
             table4_lib.embedded_sources(preset, FLAGS.seed))
  folder = reproduce_cli.resolve_results(FLAGS.results, "4", FLAGS.preset,
                                         sources.embedded)
  reproduction = table4_lib.Reproduction(
      preset, sources, folder, FLAGS.seed, FLAGS.rows,
      reproduce_cli.resolve_jobs(FLAGS.jobs),
      reproduce_cli.resolve_precision(FLAGS.precision))
  # Held before flags.txt is written: a refused run leaves the folder as is.
  with reproduction.claim(FLAGS.overwrite):
    cli.write_flags_file(folder)
    results = reproduction.run()
    texts = table4_report.report(folder, reproduction.finished_rows(),
                                 results, sources.embedded)
  print(texts["table4"])
  print(cli.summary([
      f"wrote {folder}/table4.md, table4.csv, fig12.png, fig12.pdf" +
      (", table1.md" if "turing_test" in results else "")]))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
