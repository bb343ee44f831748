"""Table 2's report beyond the run: the spread over seeds."""

import numpy as np

from benchmarks import table2_report


def _fake_results(seed, syn, ref, real):
  def ev(mean):
    return {"mean_deg": mean}
  return {"preset": "quick", "seed": seed,
          "evaluations": {"synthetic_1x": ev(syn), "refined_1x": ev(ref),
                          "real_labelled": ev(real)},
          "selection": {"chosen": {"unit": 100 + seed}},
          "timings": {"simgan": {"wall_seconds": 600.0, "cpu_seconds": 1.0}}}


def test_spread_over_seeds(tmp_path):
  by_seed = {0: _fake_results(0, 8.0, 5.0, 4.0),
             2: _fake_results(2, 10.0, 6.0, 4.0)}
  by_seed[0]["end_to_end_wall_seconds"] = 1500.0
  frame = table2_report.spread(by_seed)
  assert list(frame.columns) == ["row", "seed 0", "seed 2", "mean", "std",
                                 "min", "max"]
  syn = frame.set_index("row").loc["synthetic_1x"]
  assert (syn["seed 0"], syn["seed 2"], syn["mean"], syn["std"]) == (
      8.0, 10.0, 9.0, 1.0)
  gap = frame.set_index("row").loc["gap closed 1x (%)"]
  np.testing.assert_allclose([gap["seed 0"], gap["seed 2"], gap["min"]],
                             [75.0, 200 / 3, 200 / 3])
  assert "gap closed 4x (%)" not in set(frame["row"])
  text = table2_report.write_spread(str(tmp_path), by_seed)
  # The run's own clock where it has one, else the sum of its stages'.
  assert "- seed 0: preset quick, chosen snapshot unit 100, 25 min wall" in (
      text)
  assert "- seed 2: preset quick, chosen snapshot unit 102, 10 min wall" in (
      text)
  assert (tmp_path / "spread.md").read_text() == text
  assert (tmp_path / "spread.csv").read_text().splitlines()[1] == (
      "synthetic_1x,8.000,10.000,9.000,1.000,8.000,10.000")


def test_spread_leaves_a_row_missing_from_a_seed_empty():
  by_seed = {0: _fake_results(0, 8.0, 5.0, 4.0),
             1: _fake_results(1, 10.0, 6.0, 4.0)}
  del by_seed[1]["evaluations"]["refined_1x"]
  refined = table2_report.spread(by_seed).set_index("row").loc["refined_1x"]
  assert refined["seed 0"] == 5.0 and np.isnan(refined["seed 1"])
  assert (refined["mean"], refined["std"]) == (5.0, 0.0)
