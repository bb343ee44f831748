"""The gaze reproduction (Tables 2, 3, Fig. 7) end to end on the smoke preset.

The smoke run guards the main job: it stays in the fast suite.
"""

import dataclasses
import json
import os

import pandas as pd
import pytest

from benchmarks import table2_lib
from benchmarks import table2_report


def test_smoke_preset_writes_tables_and_figure(tmp_path):
  preset = table2_lib.PRESETS["smoke"]
  sources = table2_lib.embedded_sources(preset, seed=0)
  run = table2_lib.Reproduction(preset, sources, str(tmp_path), seed=0,
                                snapshot_study=True)
  results = run.run()
  texts = table2_report.report(str(tmp_path), run.rows, results,
                               embedded=True)
  for name in ("table2.md", "table2.csv", "table3.md", "fig7.png",
               "fig7.pdf", "results.json", "versions.json", "config.json",
               "selection.json", "label_preservation.json", "refined.h5",
               "snapshot_study.json", "snapshots.md", "timings.json",
               "timings.md", "elapsed.json"):
    assert os.path.exists(tmp_path / name), name
  assert not [n for n in os.listdir(tmp_path) if ".tmp" in n]
  table = pd.read_csv(tmp_path / "table2.csv")
  assert list(table["Training data"]) == [r.label for r in table2_lib.ROWS]
  assert "Oracle" in table["Training data"].iloc[-1]
  # The paper's 13° numbers stand beside ours for the four paper rows.
  assert list(table["paper: % within d (13°)"][:4]) == [62.3, 64.9, 69.4,
                                                         87.2]
  assert results["image_shape"] == [35, 55]
  evaluations = results["evaluations"]
  assert list(evaluations) == [r.key for r in table2_lib.ROWS] + [
      "knn_synthetic", "synthetic_4x@synthetic_test"]
  assert evaluations["refined_4x"]["n"] == preset.n_test
  assert 0 <= evaluations["knn_synthetic"]["mean_deg"] <= 180
  selection = json.loads((tmp_path / "selection.json").read_text())
  # Snapshots at adversarial units 4 and 6 (2 + 1 pretraining units first).
  assert [s["unit"] for s in selection["snapshots"]] == [4, 6]
  assert results["selection"] == selection
  lp = results["label_preservation"]
  assert (lp["judge"], lp["n"]) == ("real_labelled", 32)
  # With the oracle, the floor: the judge on the same eyes rendered as real.
  assert 0 < lp["oracle_mean_shift_deg"] < 180
  assert 0 < lp["judge_error_on_oracle_deg"] < 180
  text = (tmp_path / "table3.md").read_text()
  assert "quoted from the paper" in text and "k-NN with embedded" in text
  # Every snapshot got its downstream error; the chosen one is the
  # refined_1x row itself, the other was trained on its own refined images.
  study = results["snapshot_study"]
  assert [e["unit"] for e in study["entries"]] == [4, 6]
  chosen = [e for e in study["entries"] if e["chosen"]]
  assert [e["name"] for e in chosen] == [selection["chosen"]["name"]]
  assert chosen[0]["mean_deg"] == evaluations["refined_1x"]["mean_deg"]
  (other,) = [e for e in study["entries"] if not e["chosen"]]
  assert os.path.exists(tmp_path / "estimators" / "snapshot_study" /
                        f"{other['unit']:06d}" / "DONE")
  assert study["chosen_rank"] in (1, 2)
  assert study["unrefined_mean_deg"] == evaluations["synthetic_1x"][
      "mean_deg"]
  assert "Refiner snapshots" in texts["snapshots"]
  timings = results["timings"]
  # The feature row's estimator first: the SimGAN stops by its features.
  # In one process the refined rows come as soon as refined.h5 exists.
  assert list(timings) == [
      "estimator synthetic_1x", "simgan", "selection", "refine",
      "estimator refined_1x", "estimator refined_4x",
      "estimator refined_4x_aug", "estimator synthetic_4x",
      "estimator synthetic_4x_aug", "estimator real_labelled",
      "estimator oracle_4x", "evaluation", "turing test", "snapshot study"]
  # Table 1 by the machine observer, the pool of a person's test, pictures.
  # The embedded world has an oracle: a third observer row, of the refined
  # scenes rendered as real.
  assert set(results["turing_test"]) == {"refined", "synthetic", "oracle"}
  assert results["turing_test"]["oracle"]["trials"] == results[
      "turing_test"]["refined"]["trials"]
  assert "real vs oracle" in (tmp_path / "table1.md").read_text()
  assert results["turing_test"]["refined"]["trials"] == 2 * min(
      preset.n_real, preset.n_synthetic)
  assert "## Machine observer" in (tmp_path / "table1.md").read_text()
  assert {"turing_pool.npz", "turing_observer.json", "table1.json",
          "refined_examples.png"} <= set(os.listdir(tmp_path))
  assert all(t["wall_seconds"] > 0 and t["peak_rss_bytes"] > 10**8
             for t in timings.values())
  # How every model stopped is on record and in the table.
  training = results["training"]
  assert list(training) == [r.key for r in table2_lib.ROWS]
  for key, record in training.items():
    done = json.loads((tmp_path / "estimators" / key / "DONE").read_text())
    assert record["steps"] == done["steps"] <= 6
    assert record["hit_cap"] == (not done["stopped_early"] and
                                 done["steps"] == 6)
    assert record["validation_error"] == done["best_val_error_deg"]
  assert set(table["stopped"]) <= {"converged", "CAP"}
  capped = [k for k, r in training.items() if r["hit_cap"]]
  assert ("NOT CONVERGED" in texts["table2"]) == bool(capped)
  # The SimGAN's criterion was measured at each snapshot (patience 1 of
  # the smoke preset: it stops at the second unless that one is better).
  refiner_training = results["refiner_training"]
  scores = [s["score"] for s in refiner_training["scores"]]
  assert [s["unit"] for s in refiner_training["scores"]] == [4, 6][
      :len(scores)]
  assert refiner_training["converged"] == (len(scores) == 2 and
                                           scores[1] >= scores[0])
  # The selection ranks the same snapshots by the same criterion.
  assert [s["frechet_distance"] for s in selection["snapshots"]] == (
      pytest.approx(scores))
  assert results["end_to_end_wall_seconds"] > sum(
      t["wall_seconds"] for t in timings.values()) * 0.9
  assert "wall_seconds_this_run" not in results
  assert "End to end:" in texts["timings"]

  # A second run resumes: every stage is already complete.
  again = table2_lib.Reproduction(preset, sources, str(tmp_path), seed=0)
  second = again.run()
  assert second["evaluations"] == json.loads(json.dumps(evaluations))
  # Resumed stages add (almost) no time to the accumulated timings, and the
  # end-to-end clock adds this invocation's.
  assert second["timings"]["simgan"]["wall_seconds"] < (
      timings["simgan"]["wall_seconds"] + 5.0)
  assert second["end_to_end_wall_seconds"] > results[
      "end_to_end_wall_seconds"]


def test_a_subset_of_rows_runs_only_what_it_needs(tmp_path):
  preset = table2_lib.PRESETS["smoke"]
  sources = table2_lib.embedded_sources(preset, seed=1)
  run = table2_lib.Reproduction(preset, sources, str(tmp_path), seed=1,
                                rows=["synthetic_1x"])
  results = run.run()
  assert set(results["evaluations"]) == {"synthetic_1x", "knn_synthetic"}
  assert "selection" not in results and "label_preservation" not in results
  assert "turing_test" not in results  # Table 1 needs refined images.
  assert not os.path.exists(tmp_path / "simgan")
  assert os.listdir(tmp_path / "estimators") == ["synthetic_1x"]
  assert list(results["timings"]) == ["estimator synthetic_1x",
                                      "evaluation"]
  table2_report.report(str(tmp_path), run.finished_rows(), results,
                       embedded=True)
  assert "Synthetic Data" in (tmp_path / "table2.md").read_text()

  # A run of another row into the folder (as the per-row flagfiles do) adds
  # it: the tables show both rows, in the table's order; the first row's
  # evaluation is read back, not redone.
  metrics = tmp_path / "evaluations" / "synthetic_1x" / "metrics.json"
  written = metrics.stat().st_mtime_ns
  again = table2_lib.Reproduction(preset, sources, str(tmp_path), seed=1,
                                  rows=["synthetic_4x"])
  second = again.run()
  assert [r.key for r in again.finished_rows()] == ["synthetic_1x",
                                                    "synthetic_4x"]
  assert list(second["training"]) == ["synthetic_1x", "synthetic_4x"]
  assert list(second["evaluations"]) == [
      "synthetic_1x", "synthetic_4x", "knn_synthetic",
      "synthetic_4x@synthetic_test"]
  assert second["evaluations"]["synthetic_1x"] == json.loads(
      json.dumps(results["evaluations"]["synthetic_1x"]))
  assert metrics.stat().st_mtime_ns == written
  table2_report.report(str(tmp_path), again.finished_rows(), second,
                       embedded=True)
  table = pd.read_csv(tmp_path / "table2.csv")
  assert list(table["Training data"]) == ["Synthetic Data",
                                          "Synthetic Data 4x"]
  labels = [line.split("|")[1].strip() for line in
            (tmp_path / "table2.md").read_text().splitlines()
            if line.startswith("| Synthetic")]
  assert labels == ["Synthetic Data", "Synthetic Data 4x"]


def test_unknown_rows_and_negative_jobs_are_value_errors(tmp_path):
  preset = table2_lib.PRESETS["smoke"]
  sources = table2_lib.embedded_sources(preset)
  with pytest.raises(ValueError, match=r"unknown rows \['nope'\]"):
    table2_lib.Reproduction(preset, sources, str(tmp_path / "a"),
                            rows=["synthetic_1x", "nope"])
  with pytest.raises(ValueError, match="jobs must be >= 0"):
    table2_lib.Reproduction(preset, sources, str(tmp_path / "b"), jobs=-1)
  assert not os.listdir(tmp_path)  # Nothing was created.


def test_real_sources_have_no_labelled_real_row(tmp_path):
  sources = table2_lib.real_sources("/data/UnityEyes", "/data/MPIIGaze")
  assert sources.synthetic == "unityeyes:/data/UnityEyes"
  assert sources.test == "mpiigaze:/data/MPIIGaze?split=test"
  run = table2_lib.Reproduction(table2_lib.PRESETS["paper"], sources,
                                str(tmp_path))
  assert "real_labelled" not in run.keys
  assert run.judge() == "synthetic_4x"


@pytest.mark.parametrize("preset_name, schedule", [
    ("smoke", dict(batch_size=16, max_steps=6, eval_every=3, patience=1,
                   min_improvement=0.0, max_validation=32)),
    ("quick", dict(batch_size=64, max_steps=4000, eval_every=100, patience=3,
                   min_improvement=0.01, max_validation=1000)),
    ("paper", dict(batch_size=512, max_steps=100000, eval_every=1000,
                   patience=10, min_improvement=0.0, max_validation=5000)),
])
def test_estimator_hyper_parameters_of_each_row(tmp_path, preset_name,
                                                schedule):
  run = table2_lib.Reproduction(
      table2_lib.PRESETS[preset_name],
      table2_lib.embedded_sources(table2_lib.PRESETS["smoke"]),
      str(tmp_path), seed=3)
  for row in table2_lib.ROWS:
    hparams = run.estimator_hparams(row)
    assert dataclasses.asdict(hparams.schedule) == dict(
        learning_rate=1e-3, optimizer="adam", momentum=0.0,
        lr_drops=0, lr_drop_factor=0.1,  # §4.2: a constant rate.
        validation_fraction=0.1, subset_fraction=row.fraction, seed=3,
        precision="float32", **schedule), row.key
    assert hparams.augment == row.augment
  assert run.estimator_hparams(
      table2_lib.ROW_BY_KEY["refined_1x"]).schedule.subset_fraction == 0.25


@pytest.mark.slow
def test_two_jobs_train_the_estimators_in_workers(tmp_path):
  """--jobs 2: the same stages, two at a time in worker processes."""
  preset = table2_lib.PRESETS["smoke"]
  sources = table2_lib.embedded_sources(preset, seed=0)
  run = table2_lib.Reproduction(preset, sources, str(tmp_path), seed=0,
                                rows=["synthetic_1x", "synthetic_4x"],
                                jobs=2)
  results = run.run()
  assert {"estimator synthetic_1x", "estimator synthetic_4x",
          "evaluation"} == set(results["timings"])
  for key in ("synthetic_1x", "synthetic_4x"):
    assert os.path.exists(tmp_path / "estimators" / key / "DONE")
    assert results["evaluations"][key]["n"] == preset.n_test


def test_precision_reaches_every_trained_model(tmp_path):
  from benchmarks import reproduce_cli  # pylint: disable=g-import-not-at-top
  from core import runtime  # pylint: disable=g-import-not-at-top
  preset = table2_lib.PRESETS["smoke"]
  sources = table2_lib.embedded_sources(preset)
  run = table2_lib.Reproduction(preset, sources, str(tmp_path / "a"),
                                precision="mixed_bfloat16")
  assert run.simgan_hparams().precision == "mixed_bfloat16"
  assert all(run.estimator_hparams(r).schedule.precision == "mixed_bfloat16"
             for r in table2_lib.ROWS)
  _, kwargs = run.worker_spec()
  assert kwargs["precision"] == "mixed_bfloat16"  # Workers train alike.
  default = table2_lib.Reproduction(preset, sources, str(tmp_path / "b"))
  assert default.simgan_hparams().precision == "float32"
  with pytest.raises(ValueError, match="precision must be one of"):
    table2_lib.Reproduction(preset, sources, str(tmp_path / "c"),
                            precision="float16")
  assert reproduce_cli.resolve_precision("auto") == (
      runtime.recommended().precision)
  assert reproduce_cli.resolve_precision("float32") == "float32"


def test_the_snapshot_study_spreads_its_snapshots_and_keeps_the_chosen():
  snapshots = [(50 * (i + 1), f"s{i + 1}") for i in range(22)]  # 50..1100
  units = lambda picked: [u for u, _ in picked]
  # 6 of 22: indices round(linspace(0, 21, 6)) = 0, 4, 8, 13, 17, 21.
  assert units(table2_lib.study_snapshots(snapshots, "s5", 6)) == [
      50, 250, 450, 700, 900, 1100]
  # The chosen one (unit 600, index 11) replaces the nearest (index 13).
  assert units(table2_lib.study_snapshots(snapshots, "s12", 6)) == [
      50, 250, 450, 600, 900, 1100]
  assert table2_lib.study_snapshots(snapshots, "s3", 0) == snapshots
  assert table2_lib.study_snapshots(snapshots[:4], "s3", 6) == snapshots[:4]
