"""What the Table 2 and 4 reports share: benchmarks/report.py."""

import os

import numpy as np
import pandas as pd

from benchmarks import report
from core import files


def _evaluations(synthetic, refined, real):
  return {"syn": {"err": synthetic}, "ref": {"err": refined},
          "real": {"err": real}}


def test_gap_closed_on_fixed_numbers():
  assert report.gap_closed(_evaluations(10.0, 7.0, 4.0), "syn", "ref",
                           "real", "err") == 0.5
  assert report.gap_closed(_evaluations(10.0, 4.0, 4.0), "syn", "ref",
                           "real", "err") == 1.0
  # Refining made it worse: a negative share.
  assert report.gap_closed(_evaluations(10.0, 13.0, 4.0), "syn", "ref",
                           "real", "err") == -0.5
  # No gap, or no real row: undefined.
  assert report.gap_closed(_evaluations(4.0, 3.0, 4.0), "syn", "ref",
                           "real", "err") is None
  assert report.gap_closed({"syn": {"err": 1.0}, "ref": {"err": 2.0}},
                           "syn", "ref", "real", "err") is None


def test_markdown_prints_a_dash_for_missing_numbers():
  frame = pd.DataFrame([{"row": "a", "ours": 12.345, "paper": 62.3},
                        {"row": "b", "ours": 1.0, "paper": np.nan},
                        {"row": "c", "ours": 2.0, "paper": None}])
  assert report.markdown(frame).splitlines() == [
      "| row   |   ours |   paper |",
      "|:------|-------:|--------:|",
      "| a     |   12.3 |    62.3 |",
      "| b     |    1.0 |     —   |",
      "| c     |    2.0 |     —   |"]


def test_document_lists_the_notes():
  assert report.document("T", "| x |", ["one", "two"]) == (
      "# T\n\n| x |\n\n- one\n- two\n")


def test_timings_markdown_totals_and_end_to_end():
  text = report.timings_markdown(
      {"simgan": {"wall_seconds": 120.0, "cpu_seconds": 240.0,
                  "peak_rss_bytes": 3 * 2**30},
       "estimator a": {"wall_seconds": 60.0, "cpu_seconds": 30.0,
                       "peak_rss_bytes": 2**29}},
      end_to_end_seconds=150.0)
  lines = text.splitlines()
  assert lines[0] == "# Stage timings"
  assert lines[4:7] == [
      "| simgan      |          2.0 |         4.0 |              3.0 |",
      "| estimator a |          1.0 |         0.5 |              0.5 |",
      "| total       |          3.0 |         4.5 |              3.0 |"]
  assert "- End to end: 2.5 min wall" in text
  assert "End to end" not in report.timings_markdown(
      {"simgan": {"wall_seconds": 1.0, "cpu_seconds": 1.0}})


def test_timings_of_an_older_run_have_no_peak_memory():
  text = report.timings_markdown(
      {"simgan": {"wall_seconds": 60.0, "cpu_seconds": 60.0}})
  assert "| simgan  |          1.0 |         1.0 | —" in text


def test_training_columns_and_convergence_note():
  converged = {"steps": 900, "best_step": 600, "stopped_early": True,
               "hit_cap": False, "patience": 3, "validation_error": 4.25}
  capped = dict(converged, steps=1000, best_step=1000, stopped_early=False,
                hit_cap=True)
  assert report.training_columns(converged, "°") == {
      "steps (best)": "900 (600)", "stopped": "converged",
      "val. error (°)": 4.25}
  assert report.training_columns(capped, "px")["stopped"] == "CAP"
  assert report.training_columns(None, "°") == {}
  assert report.convergence_note({"a": converged, "b": converged}).startswith(
      "Every estimator trained until its validation error stopped improving "
      "(3 evaluations")
  assert report.convergence_note({"a": converged, "b": capped}).startswith(
      "NOT CONVERGED: b hit the step cap")


def test_learning_rate_drops_have_a_column_and_a_note():
  dropped = {"steps": 900, "best_step": 800, "stopped_early": True,
             "hit_cap": False, "patience": 4, "lr_drops": 1,
             "lr_drop_factor": 0.1, "lr_drop_steps": [500],
             "validation_error": 3.5}
  undropped = dict(dropped, steps=400, best_step=400, stopped_early=False,
                   hit_cap=False, lr_drop_steps=[])
  assert report.training_columns(dropped, "px") == {
      "steps (best)": "900 (800)", "lr drop at": "500",
      "stopped": "converged", "val. error (px)": 3.5}
  assert report.training_columns(undropped, "px")["lr drop at"] == "none"
  assert report.convergence_note({"a": dropped}) == (
      "Every estimator trained until its validation error stopped "
      "improving (4 evaluations without a new best, after the learning rate "
      "dropped 10x at the first such plateau ('lr drop at'); 'stopped' = "
      "converged) and is scored at its best validation step; none hit the "
      "step cap.")


def test_selection_note():
  assert report.selection_note(
      {"chosen": {"unit": 40}, "criterion": "FD"}) == (
          "Refiner: snapshot at unit 40, chosen without real labels (FD).")


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
  files.write_atomic(str(tmp_path / "a.md"), "text\n")
  report.write_csv(str(tmp_path / "a.csv"),
                   pd.DataFrame({"x": [1.23456], "y": ["b"]}), "%.2f")
  assert (tmp_path / "a.md").read_text() == "text\n"
  assert (tmp_path / "a.csv").read_text() == "x,y\n1.23,b\n"
  assert report.write_timings(str(tmp_path), {}) is None
  text = report.write_timings(str(tmp_path), {
      "timings": {"s": {"wall_seconds": 6.0, "cpu_seconds": 6.0}},
      "end_to_end_wall_seconds": 6.0})
  assert (tmp_path / "timings.md").read_text() == text
  assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.md", "timings.md"]


def test_cumulative_plot_over_the_paper_curves(tmp_path):
  lines = report.paper_lines("fig12_hand", {"synthetic": "synthetic_1x"},
                             "px", {"synthetic": ("tab:red", "--")})
  assert [(l.label, l.colour, l.dash, l.width, l.alpha) for l in lines] == [
      ("paper: synthetic", "tab:red", "--", 1.0, 0.35)]
  assert len(lines[0].distance) == len(lines[0].percent) > 10
  lines.append(report.Line([0, 5, 10], [0, 50, 100], "ours: synthetic"))
  report.plot_cumulative(str(tmp_path), "fig", lines, "px", "%", 10, "t")
  assert sorted(os.listdir(tmp_path)) == ["fig.pdf", "fig.png"]
  assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


def test_label_preservation_note_in_each_unit():
  gaze = {"judge": "real_labelled", "n": 500, "mean_shift_deg": 3.914,
          "median_shift_deg": 2.5}
  assert report.label_preservation_note(gaze, "gaze", "shift_deg", "°") == (
      "Label preservation: refinement moves the gaze that the real_labelled "
      "estimator sees by 3.91° on average (median 2.50°, 500 images).")
  hands = {"judge": "real", "n": 64, "mean_shift_px": 3.2,
           "median_shift_px": 1.0}
  assert report.label_preservation_note(hands, "joints", "shift_px",
                                        " px") == (
      "Label preservation: refinement moves the joints that the real "
      "estimator sees by 3.20 px on average (median 1.00 px, 64 images).")
  # With an oracle: the floor that rendering alone gives, beside it.
  gaze.update(oracle_mean_shift_deg=3.68, oracle_median_shift_deg=3.444)
  assert report.label_preservation_note(gaze, "gaze", "shift_deg", "°") == (
      "Label preservation: refinement moves the gaze that the real_labelled "
      "estimator sees by 3.91° on average (median 2.50°, 500 images). "
      "Between each synthetic image and the same scene rendered as real (the "
      "oracle, true shift 0) it moves by 3.68° (median 3.44°): that much is "
      "the judge's own reaction to rendering.")


def test_refiner_training_markdown_draws_the_curve():
  record = {"units": 300, "cap": 1000, "converged": True, "patience": 2,
            "scores": [{"unit": 200, "score": 0.5},
                       {"unit": 250, "score": 0.25},
                       {"unit": 300, "score": 0.75}]}
  text = report.refiner_training_markdown(record, {250: 6.5}, " (°)")
  lines = text.splitlines()
  assert lines[0] == "# Refiner training: the label-free criterion per snapshot"
  assert "downstream error (°)" in lines[2]
  assert [l.split("|")[1].strip() for l in lines[4:7]] == ["200", "250",
                                                           "300"]
  assert "◀ lowest" in lines[5] and "6.5" in lines[5] and "—" in lines[4]
  assert ("SimGAN stopped at unit 300 of a 1000-unit cap: 2 snapshots "
          "without a lower distance.") in text
  capped = report.refiner_training_markdown(
      dict(record, converged=False, units=1000))
  assert "ran all 1000 units (the cap bound" in capped
  assert "downstream error" not in capped
