"""The SimGAN throughput benchmark (no timing asserts: speeds vary)."""

import json
import math
import os

import pytest

from benchmarks import throughput_lib as throughput
from tests import helpers


def _positive_finite(x):
  return isinstance(x, float) and math.isfinite(x) and x > 0


def test_tiny_benchmark_writes_complete_json(tmp_path):
  report = throughput.run_benchmark(
      ["gaze"], ["float32"], [False], batch_sizes={"gaze": 2},
      steps={"gaze": 1}, warmup=1, repeats=1, max_seconds=60.0,
      threads=(0, 0), log=lambda line: None)
  path = tmp_path / "out" / "throughput.json"
  throughput.write_report(report, str(path))
  loaded = json.loads(path.read_text())

  assert set(loaded) == {"device", "settings", "load_average", "results",
                         "elapsed_seconds"}
  assert loaded["device"]["kind"] in ("cpu", "gpu")
  assert loaded["settings"]["batch_sizes"] == {"gaze": 2}
  assert loaded["settings"]["xla"] == [False]
  assert loaded["settings"]["history_batches"] == 2
  assert loaded["settings"]["max_seconds"] == 60.0
  assert len(loaded["load_average"]["before"]) == 3
  assert [p.name for p in path.parent.iterdir()] == ["throughput.json"]

  (record,) = loaded["results"]
  assert record["arch"] == "gaze"
  assert record["precision"] == "float32"
  assert record["xla"] is False
  assert record["batch_size"] == 2
  assert record["image_shape"] == [35, 55]
  assert record["error"] is None
  for name in ("refiner_step", "discriminator_step", "refine"):
    m = record[name]
    assert m["error"] is None, m["error"]
    assert _positive_finite(m["images_per_second"])
    assert len(m["repeats"]) == 1
    assert m["steps_timed"] == [1]
    assert m["repeats"][0] == m["images_per_second"]

  table = throughput.format_table(loaded).splitlines()
  assert table[0].split() == ["arch", "precision", "xla", "batch", "R", "step",
                              "img/s", "D", "step", "img/s", "refine",
                              "img/s", "load", "(1", "min)"]
  assert table[2].split()[:4] == ["gaze", "float32", "no-xla", "2"]
  assert throughput.summary_line(loaded).startswith(
      f"device: {loaded['device']['name']} ({loaded['device']['kind']}); "
      "load average before/after: ")


def test_failing_configuration_is_recorded_not_raised():
  record = throughput.benchmark_config("gaze", "float64", False,
                                       batch_size=2, steps=1, warmup=0,
                                       repeats=1)
  assert record["error"] == "ValueError: unknown precision 'float64'"
  assert "refiner_step" not in record
  assert throughput._row(record)[4] == (
      "error: ValueError: unknown precision 'float64'")


def test_error_string_of_a_traced_function_error():
  e = ValueError("in user code:\n\n  File x.py, line 3\n\n"
                 "  ValueError: Exception encountered.\n\n"
                 "  \x1b[1mNo gradients provided for any variable.\x1b[0m\n\n"
                 "  Arguments received by Cond.call():\n  • args=()")
  assert (throughput._error_string(e) ==
          "ValueError: No gradients provided for any variable.")
  assert (throughput._error_string(RuntimeError("first\nsecond")) ==
          "RuntimeError: first")


def test_check_settings():
  assert throughput.check_settings(["gaze", "hand"], ["float32"],
                                   ["false", " TRUE", "1", "off"]) == [
                                       False, True, True, False]
  with pytest.raises(ValueError, match="--archs: unknown architecture 'x'"):
    throughput.check_settings(["x"], ["float32"], ["false"])
  with pytest.raises(ValueError,
                     match="--precisions: unknown precision 'float64'"):
    throughput.check_settings(["gaze"], ["float64"], ["false"])
  with pytest.raises(ValueError, match="--xla: expected true/false, got 'y'"):
    throughput.check_settings(["gaze"], ["float32"], ["y"])


def test_binary_bad_flag_is_one_error_line(tmp_path):
  proc = helpers.run_module("benchmarks.throughput", "--archs=gaze,tpu",
                            f"--output={tmp_path / 't.json'}")
  helpers.assert_one_error_line(
      proc, "error: --archs: unknown architecture 'tpu'; expected gaze, hand")
  assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_binary_tiny_run(tmp_path):
  output = tmp_path / "results" / "t.json"
  proc = helpers.run_module(
      "benchmarks.throughput", "--archs=gaze", "--precisions=float32",
      "--xla=false", "--batch_size=2", "--steps=1", "--warmup=1",
      "--repeats=1", "--intra_op=1", "--inter_op=1", f"--output={output}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.strip().splitlines()[-1] == f"wrote {output}"
  report = json.loads(output.read_text())
  assert report["settings"]["effective_intra_op"] == 1
  assert report["settings"]["effective_inter_op"] == 1
  assert report["results"][0]["error"] is None
