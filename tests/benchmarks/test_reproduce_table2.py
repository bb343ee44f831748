"""The reproduction binaries' one error exit, run as the user runs them."""

import os
import subprocess
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _run(module, *args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
  return subprocess.run([sys.executable, "-m", module, *args], cwd=_ROOT,
                        env=env, capture_output=True, text=True, timeout=300,
                        check=False)


def _error_lines(stderr):
  return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_unknown_rows_are_one_error_line(tmp_path):
  results = tmp_path / "results"
  done = _run("benchmarks.reproduce_table2", "--preset=smoke",
              "--rows=synthetic_1x,nope", f"--results={results}")
  assert done.returncode == 1
  assert _error_lines(done.stderr) == [
      "error: unknown rows ['nope']; expected ['synthetic_1x', "
      "'synthetic_4x', 'refined_1x', 'refined_4x', 'synthetic_4x_aug', "
      "'refined_4x_aug', 'real_labelled']"]
  assert "Traceback" not in done.stderr
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
  done = _run(module, f"--results={tmp_path / 'r'}", *args)
  assert done.returncode == 1
  assert _error_lines(done.stderr) == [error]
  assert "Traceback" not in done.stderr


def test_seed_spread_without_runs_is_one_error_line(tmp_path):
  done = _run("benchmarks.seed_spread", f"--results={tmp_path}")
  assert done.returncode == 1
  assert _error_lines(done.stderr) == [
      f"error: {tmp_path}: no seed_N/results.json (run "
      "benchmarks.reproduce_table2 per seed first)"]
