r"""Reproduces the gaze experiment end to end: Tables 2, 3 and Fig. 7.

  python -m benchmarks.reproduce_table2 --results=results/table2
  python -m benchmarks.reproduce_table2 --unityeyes=/data/UnityEyes \
      --mpiigaze=/data/MPIIGaze --preset=paper  # -> results/table2_paper_real
  python -m benchmarks.reproduce_table2 --set simgan.steps=2000 \
      --set schedule.max_steps=3000 --results=results/table2_steps

Without --unityeyes/--mpiigaze it runs on the embedded eye world. --set
changes one field of the preset (see its help). Re-running the same command
resumes: every stage skips what is already complete; a folder made with
another preset (or --set), data, seed or precision is refused
(provenance.json; --overwrite starts it afresh). A run with other --rows
adds its rows to the folder's tables.
Outputs in --results: table2.md, table2.csv, table3.md, fig7.png, fig7.pdf,
timings.md, results.json, flags.txt, versions.json, config.json and the
stages' work folders (+ snapshots.md with --snapshot_study). For the spread
over seeds, run it once per --seed into sibling folders and aggregate them
with `python -m benchmarks.seed_spread`.
"""

from absl import flags

from benchmarks import reproduce_cli
from core import cli

FLAGS = flags.FLAGS

_REPRODUCTION = reproduce_cli.define_reproduction_flags(
    "2", "smoke: minutes (tests); quick: the embedded-world default, every "
    "model trained until its criterion stops improving (timings in the "
    "README); paper: batch 512 and the paper's steps, for a GPU and real "
    "data.", jobs=0,
    jobs_help="Default 0: two jobs side by side on a CPU (one thread each), "
    "one on a GPU.")
flags.DEFINE_string("unityeyes", None,
                    "UnityEyes folder (imgs/*.jpg+json) or an h5: cache of "
                    "it made by data.prepare. Default: embedded world.")
flags.DEFINE_string("mpiigaze", None, "MPIIGaze root folder.")
flags.DEFINE_bool("mpiigaze_overlap", False,
                  "Let the refiner's real images come from the test "
                  "persons (the paper's apparent setup). Default: held out "
                  "by person (see data/mpiigaze.py).")
flags.DEFINE_bool("snapshot_study", False,
                  "Also retrain the refined_1x row on refiner snapshots "
                  "spread over the run (the preset's study_snapshots; the "
                  "chosen one among them) and report the downstream error "
                  "of each (snapshots.md): units -> Fréchet distance -> "
                  "error. Costs one refined_1x estimator per snapshot.")


def main(argv):
  cli.start(argv, FLAGS.threads, _REPRODUCTION.input_limits)
  from benchmarks import table2_lib  # pylint: disable=g-import-not-at-top
  from benchmarks import table2_report  # pylint: disable=g-import-not-at-top

  preset = reproduce_cli.override_preset(
      table2_lib.PRESETS[FLAGS.preset], _REPRODUCTION.overrides.value,
      table2_lib.Reproduction.preset_targets())
  if bool(FLAGS.unityeyes) != bool(FLAGS.mpiigaze):
    raise ValueError("give both --unityeyes and --mpiigaze, or neither")
  if FLAGS.unityeyes:
    sources = table2_lib.real_sources(FLAGS.unityeyes, FLAGS.mpiigaze,
                                      FLAGS.mpiigaze_overlap)
  else:
    sources = table2_lib.embedded_sources(preset, FLAGS.seed)
  folder = reproduce_cli.resolve_results(FLAGS.results, "2", FLAGS.preset,
                                         sources.embedded)
  reproduction = table2_lib.Reproduction(
      preset, sources, folder, FLAGS.seed, FLAGS.rows,
      FLAGS.snapshot_study, reproduce_cli.resolve_jobs(FLAGS.jobs),
      reproduce_cli.resolve_precision(FLAGS.precision))
  # Held before flags.txt is written: a refused run leaves the folder as is.
  with reproduction.claim(FLAGS.overwrite):
    cli.write_flags_file(folder)
    results = reproduction.run()
    texts = table2_report.report(folder, reproduction.finished_rows(),
                                 results, sources.embedded)
  print(texts["table2"])
  print(cli.summary([
      f"wrote {folder}/table2.md, table2.csv, table3.md, fig7.png, "
      "fig7.pdf" + (", table1.md" if "turing_test" in results else "")]))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
