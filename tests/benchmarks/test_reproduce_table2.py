"""The reproduction binaries run as the user runs them: their one error
exit, their progress and closing summary."""

import json
import re

import pytest

from tests import helpers

_NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}


def test_unknown_rows_are_one_error_line(tmp_path):
  results = tmp_path / "results"
  done = helpers.run_module("benchmarks.reproduce_table2", "--preset=smoke",
                            "--rows=synthetic_1x,nope",
                            f"--results={results}", timeout=300, env=_NO_GPU)
  helpers.assert_one_error_line(
      done, "error: unknown rows ['nope']; expected ['synthetic_1x', "
      "'synthetic_4x', 'refined_1x', 'refined_4x', 'synthetic_4x_aug', "
      "'refined_4x_aug', 'real_labelled', 'oracle_4x']")
  assert not results.exists()  # Checked before anything is written.


@pytest.mark.parametrize("module, args, error", [
    ("benchmarks.reproduce_table2", ["--unityeyes=/nowhere"],
     "error: give both --unityeyes and --mpiigaze, or neither"),
    ("benchmarks.reproduce_table2", ["--jobs=-1"],
     "error: --jobs must be >= 0, got -1"),
    ("benchmarks.reproduce_table4", ["stray"],
     "error: unexpected arguments: stray"),
])
def test_bad_flags_are_one_error_line(tmp_path, module, args, error):
  done = helpers.run_module(module, f"--results={tmp_path / 'r'}", *args,
                            timeout=300, env=_NO_GPU)
  helpers.assert_one_error_line(done, error)


def test_seed_spread_without_runs_is_one_error_line(tmp_path):
  done = helpers.run_module("benchmarks.seed_spread", f"--results={tmp_path}",
                            timeout=300, env=_NO_GPU)
  helpers.assert_one_error_line(
      done, f"error: {tmp_path}: no seed_N/results.json (run "
      "benchmarks.reproduce_table2 per seed first)")


def _smoke_folder(tmp_path, table: str):
  """A results folder claimed by the smoke preset at seed 0 and the
  binary's default precision, holding a table2.md with the text `table`."""
  from benchmarks import reproduce_cli  # pylint: disable=g-import-not-at-top
  from benchmarks import table2_lib  # pylint: disable=g-import-not-at-top
  results = tmp_path / "results"
  preset = table2_lib.PRESETS["smoke"]
  made = table2_lib.Reproduction(
      preset, table2_lib.embedded_sources(preset, 0), str(results), seed=0,
      precision=reproduce_cli.resolve_precision("auto"))
  with made.claim():
    (results / "table2.md").write_text(table)
  return results


def test_a_results_folder_of_another_configuration_is_refused(tmp_path):
  results = _smoke_folder(tmp_path, "the seed-0 table")
  done = helpers.run_module("benchmarks.reproduce_table2", "--preset=smoke",
                            "--seed=1", f"--results={results}", timeout=300,
                            env=_NO_GPU)
  helpers.assert_one_error_line(
      done, f"error: {results}: was made with seed=0, this run has seed=1; "
      "use another folder, or --overwrite to start it afresh")
  # Refused before anything was written: no flags.txt, the table kept.
  assert sorted(p.name for p in results.iterdir()) == [
      ".lock", "provenance.json", "table2.md"]
  assert (results / "table2.md").read_text() == "the seed-0 table"


def test_real_data_and_other_presets_default_to_folders_of_their_own():
  from benchmarks import reproduce_cli  # pylint: disable=g-import-not-at-top
  assert reproduce_cli.resolve_results(None, "2", "quick", True) == (
      "results/table2")
  assert reproduce_cli.resolve_results(None, "2", "quick", False) == (
      "results/table2_real")
  assert reproduce_cli.resolve_results(None, "4", "paper", False) == (
      "results/table4_paper_real")
  assert reproduce_cli.resolve_results(None, "4", "smoke", True) == (
      "results/table4_smoke")
  assert reproduce_cli.resolve_results("mine", "2", "paper", False) == "mine"


@pytest.mark.parametrize("module", ["benchmarks.reproduce_table2",
                                    "benchmarks.reproduce_table4"])
def test_a_bad_set_is_one_error_line_before_anything_is_written(tmp_path,
                                                                module):
  results = tmp_path / "results"
  done = helpers.run_module(module, "--preset=smoke", "--set",
                            "simgan.steps=100", "--set", "simgan.stepz=5",
                            f"--results={results}", timeout=300, env=_NO_GPU)
  line = helpers.one_error_line(done)
  assert line.startswith("error: --set simgan.stepz=5: unknown key "
                         "'simgan.stepz'; expected simgan.KEY with KEY one "
                         "of ['arch', 'batch_size', "), line
  assert "'steps'" in line
  assert not results.exists()


def test_a_folder_of_the_unchanged_preset_is_refused_under_set(tmp_path):
  results = _smoke_folder(tmp_path, "the smoke table")
  done = helpers.run_module("benchmarks.reproduce_table2", "--preset=smoke",
                            "--set=simgan.steps=7", f"--results={results}",
                            timeout=300, env=_NO_GPU)
  helpers.assert_one_error_line(
      done, f"error: {results}: was made with preset.simgan.steps=4, this "
      "run has preset.simgan.steps=7; use another folder, or --overwrite to "
      "start it afresh")
  assert sorted(p.name for p in results.iterdir()) == [
      ".lock", "provenance.json", "table2.md"]


def test_a_run_shows_its_stages_and_a_summary_and_no_log_flood(tmp_path):
  # Two rows, two jobs: the estimators train in stage workers.
  results = tmp_path / "results"
  done = helpers.run_module(
      "benchmarks.reproduce_table2", "--preset=smoke",
      "--rows=synthetic_1x,synthetic_4x", "--jobs=2", f"--results={results}",
      timeout=300, env={**_NO_GPU, "TF_CPP_MIN_LOG_LEVEL": None})
  assert done.returncode == 0, done.stderr[-3000:]
  # Neither TensorFlow's C++ lines nor Python INFO lines, here or in the
  # workers: stderr holds the progress lines only.
  for noise in ("oneDNN", "cpu_feature_guard", "cuInit", "InitializeLog",
                "Sharding callback"):
    assert noise not in done.stderr, done.stderr
  assert all(line.startswith("estimator synthetic_")
             for line in done.stderr.splitlines()), done.stderr
  for row in ("synthetic_1x", "synthetic_4x"):  # Whole lines, each ended.
    assert re.search(rf"^estimator {row} \(max steps\): 6/6 \(100\.0%\) .* "
                     r"evals since best \d+/\d+$", done.stderr, re.MULTILINE)
  # Each stage starts and ends with its number among the run's stages.
  stages = [line.split("] ", 1)[1] for line in done.stdout.splitlines()
            if "] stage " in line]
  assert sorted(re.sub(r" in \d+m\d\ds$", "", line) for line in stages) == [
      "stage 1/3 estimator synthetic_1x",
      "stage 1/3 estimator synthetic_1x finished",
      "stage 2/3 estimator synthetic_4x",
      "stage 2/3 estimator synthetic_4x finished",
      "stage 3/3 evaluation", "stage 3/3 evaluation finished"]
  summary, wrote = done.stdout.strip().splitlines()[-2:]
  assert re.fullmatch(
      r"done in \d+m\d\ds \(CPU \d+m\d\ds, [\d.]+ cores\); peak memory "
      r"[\d.]+ GiB(, largest child [\d.]+ GiB)?", summary), summary
  assert wrote == (f"wrote {results}/table2.md, table2.csv, table3.md, "
                   "fig7.png, fig7.pdf")
  # The default precision is this device's: bf16 where it is hardware.
  from benchmarks import reproduce_cli  # pylint: disable=g-import-not-at-top
  config = json.loads((results / "config.json").read_text())
  assert config["precision"] == reproduce_cli.resolve_precision("auto")
