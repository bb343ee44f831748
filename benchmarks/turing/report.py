"""Table 1 of the paper (the visual Turing test), from the answers of human
subjects and from the machine observer.

Each test is a confusion matrix of ground truth (real, synthetic) against
the selection ("selected as real", "selected as synthetic"), the number
correct, the accuracy and the exact binomial p-value of that many correct
answers under guessing (probability 1/2). The paper's p = 0.148 for 517 of
1000 is the one-sided value; both are reported.
"""

import os
import statistics
from typing import Dict, List, Mapping, Optional

import pandas as pd
from scipy import stats

from benchmarks import paper_numbers
from benchmarks import report
from benchmarks.turing import store as store_lib
from core import files

TABLE1_FILE = "table1.md"
TABLE1_JSON = "table1.json"
OBSERVER_FILE = "turing_observer.json"
CELLS = ("real_as_real", "real_as_synthetic", "synthetic_as_real",
         "synthetic_as_synthetic")
# What each block tests, in the table.
TESTS = {"refined": "real vs refined",
         "synthetic": "real vs unrefined synthetic (control)"}
# The machine observer also judges, where the world has one, the oracle:
# the refined scenes rendered as real, what a perfect label-preserving
# refiner would output. Its accuracy is what the populations alone give.
OBSERVER_TESTS = {**TESTS, "oracle": "real vs oracle (the same scenes "
                                     "rendered as real)"}


def summary(correct: int, trials: int) -> Dict:
  """Accuracy and exact binomial p-values of `correct` of `trials`."""
  if not trials:
    return {"correct": 0, "trials": 0, "accuracy": None,
            "p_two_sided": None, "p_one_sided": None}
  return {"correct": correct, "trials": trials,
          "accuracy": correct / trials,
          "p_two_sided": float(stats.binomtest(correct, trials).pvalue),
          "p_one_sided": float(stats.binomtest(
              correct, trials, alternative="greater").pvalue)}


def with_summary(confusion: Mapping[str, int]) -> Dict:
  """A confusion matrix (CELLS) with its summary."""
  correct = confusion["real_as_real"] + confusion["synthetic_as_synthetic"]
  return {**{c: int(confusion[c]) for c in CELLS},
          **summary(correct, sum(int(confusion[c]) for c in CELLS))}


def confusion_of(answers: List[Dict]) -> Dict:
  """CELLS counted over `answers` (the store's rows)."""
  counts = dict.fromkeys(CELLS, 0)
  for a in answers:
    truth = "real" if a["kind"] == "real" else "synthetic"
    counts[f"{truth}_as_{a['answer']}"] += 1
  return counts


def human_results(answers: List[Dict]) -> Dict:
  """The human study: per block, the confusion and summary over every
  subject; per subject, answered trials, accuracy per block and the median
  response time."""
  out = {"blocks": {}, "subjects": []}
  for block in TESTS:
    out["blocks"][block] = with_summary(confusion_of(
        [a for a in answers if a["block"] == block]))
  for subject in sorted({a["subject"] for a in answers}):
    mine = [a for a in answers if a["subject"] == subject]
    times = [a["response_seconds"] for a in mine
             if a["response_seconds"] is not None]
    row = {"subject": subject, "answered": len(mine),
           "median_response_seconds": statistics.median(times)
                                      if times else None}
    for block in TESTS:
      row[block] = with_summary(confusion_of(
          [a for a in mine if a["block"] == block]))
    out["subjects"].append(row)
  return out


def _percent(value: Optional[float]) -> Optional[float]:
  return None if value is None else 100 * value


def _p(value: Optional[float]) -> str:
  return "—" if value is None else f"{value:.3g}"


def confusion_markdown(result: Mapping, what: str) -> str:
  """The paper's layout: ground truth rows, selection columns."""
  frame = pd.DataFrame(
      [[f"Ground truth real", result["real_as_real"],
        result["real_as_synthetic"]],
       [f"Ground truth {what}", result["synthetic_as_real"],
        result["synthetic_as_synthetic"]]],
      columns=["", "Selected as real", "Selected as synthetic"])
  return report.markdown(frame)


def summary_markdown(results: Mapping[str, Mapping]) -> str:
  """One row per test: ours (correct, accuracy, both p) beside the paper
  ('—' for a test the paper has not)."""
  rows = []
  for block, test in OBSERVER_TESTS.items():
    if block not in results:
      continue
    ours = results[block]
    row = [test, f"{ours['correct']} / {ours['trials']}",
           _percent(ours["accuracy"]), _p(ours["p_two_sided"]),
           _p(ours["p_one_sided"])]
    paper = paper_numbers.TABLE1.get(block)
    if paper is None:
      rows.append(row + ["—", None, "—"])
      continue
    paper_correct = paper.get("correct", paper.get("real_as_real", 0) +
                              paper.get("synthetic_as_synthetic", 0))
    paper_trials = paper.get("trials", sum(paper.get(c, 0) for c in CELLS))
    rows.append(row + [f"{paper_correct} / {paper_trials}",
                       100 * paper_correct / paper_trials, paper["p"]])
  return report.markdown(pd.DataFrame(rows, columns=[
      "Test", "Correct", "Accuracy %", "p (two-sided)", "p (one-sided)",
      "Paper: correct", "Paper: accuracy %", "Paper: p"]))


def subjects_markdown(subjects: List[Dict]) -> str:
  rows = [[s["subject"], s["answered"],
           f"{s['refined']['correct']} / {s['refined']['trials']}",
           _percent(s["refined"]["accuracy"]),
           f"{s['synthetic']['correct']} / {s['synthetic']['trials']}",
           _percent(s["synthetic"]["accuracy"]),
           s["median_response_seconds"]] for s in subjects]
  return report.markdown(pd.DataFrame(rows, columns=[
      "Subject", "Answered", "Real vs refined", "Accuracy %", "Control",
      "Control accuracy %", "Median response s"]))


def render(human: Optional[Dict], observer: Optional[Dict]) -> str:
  """table1.md: the human study (if any answers) and the machine observer
  (if it ran)."""
  parts = ["# Table 1: visual Turing test (paper §3.1)\n"]
  if human:
    blocks = human["blocks"]
    parts += [
        f"## Human subjects (subjects: {len(human['subjects'])}, answers: "
        f"{sum(b['trials'] for b in blocks.values())})\n",
        confusion_markdown(blocks["refined"], "refined"), "",
        summary_markdown(blocks), "",
        subjects_markdown(human["subjects"]), ""]
  else:
    parts += ["No human answers yet: `python -m benchmarks.turing_test serve "
              "--results=DIR` runs the study in a browser.\n"]
  if observer:
    parts += [
        "## Machine observer\n",
        confusion_markdown(observer["refined"], "refined"), "",
        summary_markdown(observer), "",
        f"- Observer: {observer['refined']['classifier']}; every image "
        "judged once, by a model trained on the other folds.",
        f"- Images per class: {observer['refined']['n_per_class']} (real vs "
        f"refined), {observer['synthetic']['n_per_class']} (control)"
        + (f", {observer['oracle']['n_per_class']} (oracle: the refined "
           "scenes rendered as real, a perfect refiner's output; its "
           "accuracy is what the populations alone give away)"
           if "oracle" in observer else "") + ".", ""]
  parts.append(
      "- The paper: 10 subjects, 50 real + 50 refined images each, 20 "
      "examples of each kind always on screen; its p = 0.148 is the "
      "one-sided exact binomial p of 517 of 1000 (two-sided 0.297).")
  return "\n".join(parts) + "\n"


def read_answers(results_dir: str) -> List[Dict]:
  """Every answered trial of the study in `results_dir` ([] without one)."""
  path = os.path.join(results_dir, store_lib.DB_FILE)
  if not os.path.exists(path):  # Opening would create an empty database.
    return []
  db = store_lib.Store(path)
  try:
    return db.answers()
  finally:
    db.close()


def write_table1(results_dir: str) -> str:
  """Writes table1.md and table1.json from the answers and the observer's
  results in `results_dir`; returns the markdown."""
  answers = read_answers(results_dir)
  human = human_results(answers) if answers else None
  observer_path = os.path.join(results_dir, OBSERVER_FILE)
  observer = (files.read_json(observer_path)
              if os.path.exists(observer_path) else None)
  text = render(human, observer)
  files.write_json(os.path.join(results_dir, TABLE1_JSON),
                   {"human": human, "machine_observer": observer})
  files.write_atomic(os.path.join(results_dir, TABLE1_FILE), text)
  return text
