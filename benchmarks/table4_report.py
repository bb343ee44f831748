"""Table 4 and Fig. 12 from a hand reproduction's evaluations."""

import os
from typing import Dict, List, Optional

import pandas as pd

from benchmarks import paper_numbers
from benchmarks import report as report_lib
from core import files

# Our row key -> the paper's Fig. 12 series of the same training data.
PAPER_SERIES = {"synthetic": "synthetic_1x", "refined": "refined_1x",
                "real": "real_1x", "synthetic_3x": "synthetic_3x",
                "refined_3x": "refined_3x"}
STYLE = {  # The paper's colours: refined blue, synthetic red, real green.
    "synthetic": ("tab:red", "--"), "synthetic_3x": ("tab:red", "-"),
    "refined": ("tab:blue", "--"), "refined_3x": ("tab:blue", "-"),
    "real": ("tab:green", "-"),
}
D = "5"  # Table 4's distance, heatmap pixels


def table4(rows: List, evaluations: Dict,
           training: Optional[Dict] = None) -> pd.DataFrame:
  records = []
  for row in rows:
    ev = evaluations[row.key]
    records.append({
        "Training data": row.label,
        f"% joints within {D} px": ev["pct_within"][D],
        f"% images, all joints within {D} px": ev["pct_images_within"][D],
        "mean error (px)": ev["mean_error_px"],
        f"paper: % within {D} px": paper_numbers.TABLE4.get(row.key),
        **report_lib.training_columns((training or {}).get(row.key), "px"),
    })
  return pd.DataFrame(records)


def write_table(results_dir: str, rows: List, results: Dict,
                embedded: bool) -> str:
  """Writes table4.md and table4.csv; returns the markdown."""
  evaluations = results["evaluations"]
  training = results.get("training")
  frame = table4(rows, evaluations, training)
  report_lib.write_csv(os.path.join(results_dir, "table4.csv"), frame,
                       "%.2f")
  height, width = results["image_shape"]
  test = ("the embedded real stand-in test split (frontal view)" if embedded
          else "the NYU test set (Kinect 1)")
  notes = [
      f"Evaluated on {test}; {evaluations[rows[0].key]['n_images']} images "
      f"x 14 joints, {height}x{width} crops.",
      "Distances are in pixels of the 64x64 heatmap grid (the unit Fig. 12's "
      "steps imply); '% joints' counts every (image, joint) pair — the "
      "primary statistic, see handpose/metrics.py — and '% images' counts "
      "images whose 14 joints are all within d.",
      "1x = the frontal view of every training frame; 3x = all three views "
      "of the same frames; refined rows are the same images passed through "
      "the chosen refiner.",
  ]
  for a, b in (("synthetic", "refined"), ("synthetic_3x", "refined_3x")):
    share = report_lib.gap_closed(evaluations, a, b, "real", "mean_error_px")
    if share is not None:
      notes.append(f"Share of the domain gap closed, {b} vs {a} (mean "
                   f"error): {100 * share:.0f} % = (E_synthetic − E_refined) "
                   "/ (E_synthetic − E_real).")
  if "mean_pose" in evaluations:
    constant = evaluations["mean_pose"]
    notes.append(
        f"Floor: predicting the mean synthetic training pose for every test "
        f"image scores {constant['pct_within'][D]:.1f} % within {D} "
        f"px ({constant['mean_error_px']:.2f} px mean); a row near it has "
        "learnt little from the images (dotted black in Fig. 12).")
  gap = evaluations.get("synthetic_3x@synthetic_test")
  if gap and "synthetic_3x" in evaluations:
    notes.append(
        f"Domain gap: the synthetic_3x estimator's mean error is "
        f"{gap['mean_error_px']:.2f} px on held-out synthetic images and "
        f"{evaluations['synthetic_3x']['mean_error_px']:.2f} px on the real "
        "test set" + (f"; trained on labelled real images: "
                      f"{evaluations['real']['mean_error_px']:.2f} px."
                      if "real" in evaluations else "."))
  if embedded:
    notes.append("Embedded world: these numbers show the method on a "
                 "controlled domain gap; the paper's numbers need NYU hands."
                 + ("" if (height, width) == (224, 224) else
                    f" Crops are {height}x{width}, not the paper's 224x224, "
                    "to fit a CPU budget."))
  if "label_preservation" in results:
    notes.append(report_lib.label_preservation_note(
        results["label_preservation"], "joints", "shift_px", " px"))
  if "selection" in results:
    notes.append(report_lib.selection_note(results["selection"]))
  if training:
    notes.append(report_lib.convergence_note(training))
  overrides = report_lib.overrides_note(results)
  if overrides:
    notes.append(overrides)
  text = report_lib.document(f"Table 4: hand pose, % within d = {D} px",
                             report_lib.markdown(frame), notes)
  files.write_atomic(os.path.join(results_dir, "table4.md"), text)
  return text


def plot_fig12(results_dir: str, rows: List, evaluations: Dict,
               title: str) -> None:
  """Fig. 12: our cumulative curves (thick) over the paper's (thin, faded),
  and the constant mean-pose guess (dotted) where it was scored."""
  lines = report_lib.paper_lines("fig12_hand", PAPER_SERIES, "px", STYLE)
  for row in rows:
    curve = evaluations[row.key]["curve"]
    colour, dash = STYLE.get(row.key, ("black", "-"))
    lines.append(report_lib.Line(curve["distance_px"], curve["pct_within"],
                                 f"ours: {row.label}", colour, dash))
  if "mean_pose" in evaluations:
    curve = evaluations["mean_pose"]["curve"]
    lines.append(report_lib.Line(curve["distance_px"], curve["pct_within"],
                                 "ours: mean pose (constant)", "black", ":",
                                 width=1.2))
  report_lib.plot_cumulative(
      results_dir, "fig12", lines,
      "Distance from ground truth [pixels of the 64x64 heatmap]",
      "Percentage of joints", 10, title)


def report(results_dir: str, rows: List, results: Dict,
           embedded: bool) -> Dict[str, str]:
  """Writes Table 4, Fig. 12, refiner.md and the stage timings of one
  reproduction; returns the texts by name (table4, refiner, timings)."""
  texts = {"table4": write_table(results_dir, rows, results, embedded)}
  what = "embedded depth-hand world" if embedded else "NYU hands"
  plot_fig12(results_dir, rows, results["evaluations"],
             f"Fig. 12 reproduction ({what}, preset {results['preset']})")
  refiner = report_lib.write_refiner_training(results_dir, results)
  if refiner is not None:
    texts["refiner"] = refiner
  timings = report_lib.write_timings(results_dir, results)
  if timings is not None:
    texts["timings"] = timings
  return texts
