"""The hand reproduction end to end on the smoke preset."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from benchmarks import stages
from benchmarks import table4_lib
from benchmarks import table4_report
from data import source as source_lib
from handpose import metrics
from handpose import train_lib as hand_lib


def test_smoke_preset_writes_table_and_figure(tmp_path):
  preset = table4_lib.PRESETS["smoke"]
  sources = table4_lib.embedded_sources(preset, seed=0)
  run = table4_lib.Reproduction(preset, sources, str(tmp_path), seed=0)
  results = run.run()
  table4_report.report(str(tmp_path), run.rows, results, embedded=True)
  for name in ("table4.md", "table4.csv", "fig12.png", "fig12.pdf",
               "results.json", "versions.json", "config.json",
               "selection.json", "label_preservation.json", "refined.h5",
               "timings.md"):
    assert os.path.exists(tmp_path / name), name
  table = pd.read_csv(tmp_path / "table4.csv")
  assert list(table["Training data"]) == [r.label for r in table4_lib.ROWS]
  assert list(table["paper: % within 5 px"]) == [69.7, 72.4, 74.5, 77.7, 83.3]
  evaluations = results["evaluations"]
  # The test set is the frontal view of n_test frames; 3x rows train on all
  # three views of the same frames, 1x rows on the frontal view only.
  assert evaluations["refined_3x"]["n_images"] == preset.n_test
  assert "synthetic_3x@synthetic_test" in evaluations
  done = lambda key: json.loads(
      (tmp_path / "estimators" / key / "DONE").read_text())
  n_val = lambda key: done(key)["n_train"] + done(key)["n_validation"]
  assert n_val("synthetic_3x") == 3 * preset.n_frames
  assert n_val("synthetic") == preset.n_frames
  assert n_val("refined") == preset.n_frames
  selection = json.loads((tmp_path / "selection.json").read_text())
  # Snapshots every 2 units after the 2 + 1 pretraining units.
  assert [s["unit"] for s in selection["snapshots"]] == [4, 6]
  lp = results["label_preservation"]
  assert lp["judge"] == "real" and lp["mean_shift_px"] >= 0
  text = (tmp_path / "table4.md").read_text()
  assert "32x32, not the paper's 224x224" in text
  # The constant mean-pose guess is scored on the same test images.
  assert results["mean_pose"]["n_images"] == preset.n_test
  joints = lambda source: source.labels(
      hand_lib.JOINT_COLUMNS).reshape(len(source), 14, 2)
  truth = joints(run.source("test"))
  guess = np.broadcast_to(joints(run.training_source(
      table4_lib.ROW_BY_KEY["synthetic"])).mean(axis=0), truth.shape)
  np.testing.assert_allclose(
      results["mean_pose"]["mean_error_px"],
      np.mean(metrics.joint_errors(guess, truth, run.image_shape)),
      rtol=1e-5)
  assert "Floor: predicting the mean synthetic training pose" in text

  # A second run resumes: every stage is already complete.
  again = table4_lib.Reproduction(preset, sources, str(tmp_path), seed=0)
  assert again.run()["evaluations"] == json.loads(json.dumps(evaluations))


def test_frontal_indices_follow_the_kinect_column(tmp_path):
  from data import specs  # pylint: disable=g-import-not-at-top
  source = specs.open_source("embedded-hands-sim?n=3&views=all", (16, 16))
  indices = table4_lib.frontal_indices(source)
  assert len(indices) == 3
  assert (source.frame["kinect"].to_numpy()[indices] == 1).all()


def test_nyu_layout_runs_through_the_pipeline(tmp_path):
  """The NYU path: fixture files in the real layout, two rows end to end."""
  from tests import test_nyu_hand  # pylint: disable=g-import-not-at-top
  root = tmp_path / "nyu"
  test_nyu_hand.write_split(str(root / "train"), num_frames=4)
  test_nyu_hand.write_split(str(root / "test"), num_frames=2)
  sources = table4_lib.nyu_sources(str(root))
  preset = table4_lib.PRESETS["smoke"]
  # Two jobs: the SimGAN and the synthetic estimator train side by side in
  # worker processes (the parallel path of stages.StagedRun.run_stages).
  run = table4_lib.Reproduction(preset, sources, str(tmp_path / "out"),
                                rows=["synthetic", "refined"], jobs=2)
  assert len(run.source("synthetic")) == 12   # 4 frames x 3 Kinects
  assert len(run.training_source(table4_lib.ROW_BY_KEY["synthetic"])) == 4
  assert len(run.source("test")) == 2
  results = run.run()
  assert results["evaluations"]["refined"]["n_images"] == 2
  timings = results["timings"]
  for stage in ("simgan", "estimator synthetic", "estimator refined"):
    assert timings[stage]["wall_seconds"] > 0, stage
  # The run's own clock (elapsed.json) is reported beside the stages'.
  elapsed = json.loads((tmp_path / "out" / "elapsed.json").read_text())
  assert results["end_to_end_wall_seconds"] == elapsed["wall_seconds"] > 0
  table4_report.report(str(tmp_path / "out"), run.rows, results,
                       embedded=False)
  text = (tmp_path / "out" / "table4.md").read_text()
  assert "the NYU test set (Kinect 1)" in text
  assert "End to end:" in (tmp_path / "out" / "timings.md").read_text()


class _ToyRun(stages.StagedRun):
  """Stages that write their name, or fail: run_stages' bookkeeping."""

  def run_stage(self, name):
    if name == "bad":
      raise source_lib.DataError(self.path(name), "is not a stage")
    with open(self.path(name), "w") as f:
      f.write(name)

  def worker_spec(self):
    return _ToyRun, dict(results=self.results)


def test_run_stages_in_workers_record_timings_and_raise_failures(tmp_path):
  run = _ToyRun(str(tmp_path))
  run.run_stages(["a", "b"], jobs=2)
  assert (tmp_path / "a").read_text() == "a"
  assert (tmp_path / "b").read_text() == "b"
  assert sorted(run.timings()) == ["a", "b"]
  # A worker's DataError reaches the parent whole (it pickles by its
  # arguments), and the stages that finished keep their timings.
  with pytest.raises(source_lib.DataError,
                     match=f"{tmp_path / 'bad'}: is not a stage"):
    run.run_stages(["c", "bad"], jobs=2)
  assert (tmp_path / "c").read_text() == "c"
