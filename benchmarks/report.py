"""What the reports of Tables 2 and 4 share: tables, notes, timings, curves.

Every file is written atomically (core.files): a report interrupted while
writing leaves the previous version of a file, never half of one.
"""

import dataclasses
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import pandas as pd

from benchmarks import paper_numbers
from core import files

# Our curves: thick and opaque; the paper's: thin and faded behind them.
OURS_WIDTH = 2.0
PAPER_WIDTH, PAPER_ALPHA = 1.0, 0.35


def markdown(frame: pd.DataFrame) -> str:
  """A frame as a markdown table, one decimal; NaN or None prints as a dash
  (a row the paper does not have), not 'nan'."""
  frame = frame.astype(object).where(frame.notna(), None)
  return frame.to_markdown(index=False, floatfmt=".1f", missingval="—")


def document(title: str, table: str, notes: Sequence[str]) -> str:
  """A markdown document: '# title', the table, then the notes as a list."""
  return (f"# {title}\n\n{table}\n\n" + "\n".join(f"- {n}" for n in notes) +
          "\n")


def gap_closed(evaluations: Mapping[str, Dict], synthetic: str, refined: str,
               real: str, error: str) -> Optional[float]:
  """(E_synthetic − E_refined) / (E_synthetic − E_real) of one error key.

  The share of the synthetic-to-real gap that refinement closes: 1 when the
  refined row is as good as the one trained on labelled real images, 0 when
  refining did not help. None when a row is missing or the gap is zero.
  """
  if not {real, synthetic, refined} <= set(evaluations):
    return None
  e_syn = evaluations[synthetic][error]
  e_ref = evaluations[refined][error]
  e_real = evaluations[real][error]
  if e_syn == e_real:
    return None
  return (e_syn - e_ref) / (e_syn - e_real)


def training_columns(record: Optional[Dict], unit: str) -> Dict:
  """A row's convergence columns from its training record (template's
  `training_record`): steps run (best step), the steps of its
  learning-rate drops where its schedule has any, how it stopped, the best
  validation error. Empty without a record (a row of an older run)."""
  if record is None:
    return {}
  columns = {"steps (best)": f"{record['steps']} ({record['best_step']})"}
  if record.get("lr_drops"):
    columns["lr drop at"] = (
        ", ".join(map(str, record["lr_drop_steps"])) or "none")
  columns["stopped"] = ("converged" if record["stopped_early"] else
                        "CAP" if record["hit_cap"] else "data end")
  columns[f"val. error ({unit})"] = record["validation_error"]
  return columns


def convergence_note(training: Mapping[str, Dict]) -> str:
  """Whether every estimator converged, naming any that hit its step cap."""
  capped = [key for key, r in training.items() if r["hit_cap"]]
  if capped:
    return ("NOT CONVERGED: " + ", ".join(capped) + " hit the step cap "
            "while the validation error still improved ('stopped' = CAP); "
            "these rows are budget-bound, not converged.")
  patience = {r["patience"] for r in training.values()}
  drops = {(r.get("lr_drops", 0), r.get("lr_drop_factor"))
           for r in training.values() if r.get("lr_drops")}
  dropped = "".join(
      f", after the learning rate dropped {1 / factor:g}x at "
      + ("the first such plateau" if n == 1 else
         f"each of the first {n} such plateaus") + " ('lr drop at')"
      for n, factor in sorted(drops))
  return ("Every estimator trained until its validation error stopped "
          f"improving ({'/'.join(map(str, sorted(patience)))} evaluations "
          f"without a new best{dropped}; 'stopped' = converged) and is "
          "scored at its best validation step; none hit the step cap.")


def refiner_training_markdown(refiner_training: Dict,
                              errors: Optional[Mapping[int, float]] = None,
                              unit: str = "") -> str:
  """refiner.md: how the SimGAN stopped and its criterion per snapshot
  (units -> Fréchet distance [-> downstream error, where a snapshot study
  measured it by unit])."""
  r = refiner_training
  records = []
  best = (min(r["scores"], key=lambda s: s["score"])["unit"]
          if r["scores"] else None)
  for score in r["scores"]:
    record = {"unit": score["unit"],
              "Fréchet distance to real": score["score"],
              "lowest": "◀ lowest" if score["unit"] == best else ""}
    if errors:
      record[f"downstream error{unit}"] = errors.get(score["unit"])
    records.append(record)
  if r["converged"]:
    how = (f"stopped at unit {r['units']} of a {r['cap']}-unit cap: "
           f"{r['patience']} snapshots without a lower distance")
  else:
    how = (f"ran all {r['cap']} units (the cap bound: the distance was "
           "still improving, or no stopping criterion was set)")
  frame = pd.DataFrame(records)
  frame = frame.astype(object).where(frame.notna(), None)
  return document(
      "Refiner training: the label-free criterion per snapshot",
      frame.to_markdown(index=False, floatfmt=".4g", missingval="—")
      if records else "(no snapshot was scored)",
      [f"SimGAN {how}.",
       "Distance: Fréchet distance between the refined and the real images' "
       "features (the selection's criterion, no real labels)."] +
      (["Downstream error: the snapshot study's estimator trained on that "
        "snapshot's refined images, on the real test set."] if errors
       else []))


def overrides_note(results: Dict) -> Optional[str]:
  """The fields --set changed in the preset, or None where it ran as is."""
  overrides = results.get("preset_overrides")
  if not overrides:
    return None
  return (f"Preset {results['preset']} with --set " + ", ".join(
      f"{key}={value}" for key, value in overrides.items()) +
          " (the preset changed: these are not its numbers).")


def selection_note(selection: Dict) -> str:
  """Which snapshot refined the training set, and how it was chosen."""
  chosen = selection["chosen"]
  return (f"Refiner: snapshot at unit {chosen['unit']}, chosen without real "
          f"labels ({selection['criterion']}).")


def label_preservation_note(shift: Dict, what: str, key: str,
                            unit: str) -> str:
  """How far refinement moves the labels an estimator sees.

  Args:
    shift: label_preservation.json ('judge', 'n', 'mean_KEY', 'median_KEY',
      and with an oracle 'oracle_mean_KEY', 'oracle_median_KEY').
    what: what the labels are ('gaze', 'joints').
    key: the statistic's suffix ('shift_deg', 'shift_px').
    unit: its unit as printed ('°', ' px').
  """
  note = (f"Label preservation: refinement moves the {what} that the "
          f"{shift['judge']} estimator sees by {shift['mean_' + key]:.2f}"
          f"{unit} on average (median {shift['median_' + key]:.2f}{unit}, "
          f"{shift['n']} images).")
  if "oracle_mean_" + key in shift:
    note += (f" Between each synthetic image and the same scene rendered as "
             f"real (the oracle, true shift 0) it moves by "
             f"{shift['oracle_mean_' + key]:.2f}{unit} (median "
             f"{shift['oracle_median_' + key]:.2f}{unit}): that much is the "
             "judge's own reaction to rendering.")
  return note


def timings_markdown(timings: Dict,
                     end_to_end_seconds: Optional[float] = None) -> str:
  """Wall and CPU minutes of each stage (accumulated over resumes).

  Args:
    timings: {stage: {"wall_seconds", "cpu_seconds"}}.
    end_to_end_seconds: the run's own wall clock over its invocations.
  """
  frame = pd.DataFrame([{"stage": stage,
                         "wall (min)": t["wall_seconds"] / 60,
                         "CPU (min)": t["cpu_seconds"] / 60,
                         "peak RSS (GiB)": (t["peak_rss_bytes"] / 2**30
                                            if t.get("peak_rss_bytes")
                                            else None)}
                        for stage, t in timings.items()])
  total = frame[["wall (min)", "CPU (min)"]].sum()
  frame.loc[len(frame)] = ["total", total["wall (min)"], total["CPU (min)"],
                           frame["peak RSS (GiB)"].max()]
  notes = ("- CPU minutes count all threads of the process. Peak RSS: the "
           "largest resident memory of the process that ran the stage (the "
           "worker's own when stages ran side by side; the total row: the "
           "largest of them).\n")
  if end_to_end_seconds is not None:
    notes += (f"- End to end: {end_to_end_seconds / 60:.1f} min wall (less "
              "than the total of the stages where they ran side by side, "
              "--jobs > 1).\n")
  frame = frame.astype(object).where(frame.notna(), None)
  return ("# Stage timings\n\n" + frame.to_markdown(
      index=False, floatfmt=".1f", missingval="—") +
          "\n\n" + notes)


def write_csv(path: str, frame: pd.DataFrame, float_format: str) -> None:
  files.write_atomic(path, frame.to_csv(index=False,
                                        float_format=float_format))


def write_refiner_training(results_dir: str, results: Dict,
                           errors: Optional[Mapping[int, float]] = None,
                           unit: str = "") -> Optional[str]:
  """refiner.md of a run's results (None, and no file, without a SimGAN)."""
  if "refiner_training" not in results:
    return None
  text = refiner_training_markdown(results["refiner_training"], errors, unit)
  files.write_atomic(os.path.join(results_dir, "refiner.md"), text)
  return text


def write_timings(results_dir: str, results: Dict) -> Optional[str]:
  """timings.md of a run's results (None, and no file, without timings)."""
  if "timings" not in results:
    return None
  text = timings_markdown(results["timings"],
                          results.get("end_to_end_wall_seconds"))
  files.write_atomic(os.path.join(results_dir, "timings.md"), text)
  return text


@dataclasses.dataclass(frozen=True)
class Line:
  """One cumulative curve of a figure: % of items within each distance."""
  distance: Sequence[float]
  percent: Sequence[float]
  label: str
  colour: str = "black"
  dash: str = "-"
  width: float = OURS_WIDTH
  alpha: float = 1.0


def paper_lines(figure: str, series: Mapping[str, str], distance: str,
                style: Mapping[str, Tuple[str, str]]) -> List[Line]:
  """The paper's digitised curves, thin and faded, labelled by our row keys.

  Args:
    figure: 'fig7_gaze' or 'fig12_hand' (benchmarks/paper).
    series: our row key -> the paper's series of the same training data.
    distance: the csv's distance column ('deg', 'px').
    style: our row key -> (colour, dash).
  """
  paper = paper_numbers.paper_curves(figure)
  lines = []
  for key, name in series.items():
    data = paper[paper.series == name]
    colour, dash = style[key]
    lines.append(Line(data[distance], data.percent_within,
                      f"paper: {key.replace('_', ' ')}", colour, dash,
                      PAPER_WIDTH, PAPER_ALPHA))
  return lines


def plot_cumulative(results_dir: str, name: str, lines: Sequence[Line],
                    xlabel: str, ylabel: str, max_distance: float,
                    title: str) -> None:
  """Writes NAME.png and NAME.pdf: the curves, in the order given."""
  fig, ax = plt.subplots(figsize=(7.5, 5.2))
  for line in lines:
    ax.plot(line.distance, line.percent, color=line.colour,
            linestyle=line.dash, linewidth=line.width, alpha=line.alpha,
            label=line.label)
  ax.set_xlim(0, max_distance)
  ax.set_ylim(0, 100)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.set_title(title, fontsize=10)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7, loc="lower right")
  fig.tight_layout()
  try:
    for ext in ("png", "pdf"):
      files.write_with(os.path.join(results_dir, f"{name}.{ext}"),
                       lambda p, ext=ext: fig.savefig(p, dpi=130, format=ext))
  finally:
    plt.close(fig)
