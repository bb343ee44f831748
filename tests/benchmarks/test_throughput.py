"""The SimGAN throughput benchmark (no timing asserts: speeds vary)."""

import dataclasses
import json
import math
import os

import pytest

from benchmarks import throughput_baseline as plain_lib
from benchmarks import throughput_lib as throughput
from core import runtime
from tests import helpers


def _positive_finite(x):
  return isinstance(x, float) and math.isfinite(x) and x > 0


def _assert_timed_once(m):
  assert m["error"] is None, m["error"]
  assert _positive_finite(m["images_per_second"])
  assert len(m["repeats"]) == 1
  assert m["steps_timed"] == [1]
  assert m["repeats"][0] == m["images_per_second"]


def test_tiny_benchmark_writes_complete_json(tmp_path):
  lines = []
  report = throughput.run_benchmark(
      ["gaze"], ["float32"], [False], batch_sizes={"gaze": 2},
      steps={"gaze": 1}, warmup=1, repeats=1, max_seconds=60.0,
      threads=(0, 0), estimator_batch_size=3, log=lines.append)
  path = tmp_path / "out" / "throughput.json"
  throughput.write_report(report, str(path))
  loaded = json.loads(path.read_text())

  assert set(loaded) == {"device", "settings", "load_average", "results",
                         "target", "elapsed_seconds"}
  assert loaded["device"]["kind"] in ("cpu", "gpu")
  assert loaded["settings"]["batch_sizes"] == {"gaze": 2}
  assert loaded["settings"]["xla"] == [False]
  assert loaded["settings"]["history_batches"] == 2
  assert loaded["settings"]["max_seconds"] == 60.0
  assert loaded["settings"]["baseline"] == {
      "enabled": True, "precision": "float32", "xla": False,
      "padding": "same"}
  assert loaded["settings"]["padding_cost"] is True
  assert loaded["settings"]["estimator_batch_size"] == 3
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
    _assert_timed_once(record[name])
    _assert_timed_once(record["plain_keras"][name])
  assert record["plain_keras"]["error"] is None
  assert record["zero_padding"]["error"] is None
  assert set(record["zero_padding"]) == {"error", "build_seconds",
                                         "refiner_step", "refine"}
  for name in ("refiner_step", "refine"):
    _assert_timed_once(record["zero_padding"][name])
  assert record["estimator_step"]["batch_size"] == 3
  _assert_timed_once(record["estimator_step"])
  assert set(record["ratios"]) == set(throughput.RATIOS)
  assert record["paired_ratios"] == {
      name: [value] for name, value in record["ratios"].items()}
  assert all(_positive_finite(v) for v in record["ratios"].values())
  assert record["ratios"]["refiner_step_vs_plain"] == (
      record["refiner_step"]["images_per_second"] /
      record["plain_keras"]["refiner_step"]["images_per_second"])
  assert record["ratios"]["refine_reflect_vs_zero"] == (
      record["refine"]["images_per_second"] /
      record["zero_padding"]["refine"]["images_per_second"])

  table = throughput.format_table(loaded).splitlines()
  assert table[0].split() == ["arch", "precision", "xla", "batch", "network",
                              "R", "step", "img/s", "D", "step", "img/s",
                              "refine", "img/s", "estimator", "step", "img/s",
                              "load", "(1", "min)"]
  assert len(table) == 5
  assert table[2].split()[:5] == ["gaze", "float32", "no-xla", "2", "project"]
  assert table[3].split()[:6] == ["gaze", "float32", "no-xla", "2", "project",
                                  "zero-pad"]
  assert table[4].split()[:7] == ["gaze", "float32", "no-xla", "2", "plain",
                                  "Keras", "float32"]
  ratios = throughput.format_ratio_table(loaded).splitlines()
  assert len(ratios) == 3
  assert ratios[2].split()[:3] == ["gaze", "float32", "no-xla"]
  assert len(ratios[2].split()) == 3 + len(throughput.RATIOS)
  (target,) = throughput.target_lines(loaded)
  assert target.startswith("target gaze: ")
  assert throughput.summary_line(loaded).startswith(
      f"device: {loaded['device']['name']} ({loaded['device']['kind']}); "
      "load average before/after: ")
  (line,) = lines
  assert line.startswith("gaze float32 no-xla 2: refiner_step ")
  assert "R step / plain " in line and "estimator_step " in line


def test_comparisons_off_time_the_project_alone(monkeypatch):
  # The device's default settings are float32 here whatever the CPU (on
  # bf16 hardware they would be mixed_bfloat16, a configuration not timed).
  recommended = runtime.recommended
  monkeypatch.setattr(runtime, "recommended", lambda kind: (
      dataclasses.replace(recommended(kind), precision="float32",
                          jit_compile=False)))
  report = throughput.run_benchmark(
      ["gaze"], ["float32"], [False], batch_sizes={"gaze": 2},
      steps={"gaze": 1}, warmup=0, repeats=1, baseline=False,
      padding_cost=False, estimator_batch_size=0, log=lambda line: None)
  (record,) = report["results"]
  for key in ("plain_keras", "zero_padding", "estimator_step"):
    assert key not in record
  assert set(record["ratios"].values()) == {None}
  assert report["settings"]["baseline"]["enabled"] is False
  assert len(throughput.format_table(report).splitlines()) == 3
  assert throughput.target_lines(report)[0].endswith(": not measured")


def test_a_failing_baseline_is_recorded_and_the_rest_timed(monkeypatch):
  def fail(arch, channels=1):
    raise ValueError(f"no plain {arch}")
  monkeypatch.setattr(plain_lib, "build_plain_refiner", fail)
  record = throughput.benchmark_config(
      "gaze", "float32", False, batch_size=2, steps=1, warmup=0, repeats=1,
      padding_cost=False)
  assert record["plain_keras"] == {"error": "ValueError: no plain gaze"}
  assert _positive_finite(record["refiner_step"]["images_per_second"])
  assert record["ratios"]["refiner_step_vs_plain"] is None
  row = throughput._rows(record)[1]
  assert row[4:6] == ["plain Keras float32", "error: ValueError: no plain gaze"]


def test_failing_configuration_is_recorded_not_raised():
  record = throughput.benchmark_config("gaze", "float64", False,
                                       batch_size=2, steps=1, warmup=0,
                                       repeats=1)
  assert record["error"] == "ValueError: unknown precision 'float64'"
  assert "refiner_step" not in record
  assert "ratios" not in record
  assert throughput._row(record)[4:6] == [
      "project", "error: ValueError: unknown precision 'float64'"]
  assert throughput._rows(record) == [throughput._row(record)]


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
  lines = proc.stdout.splitlines()
  assert any(line.split()[:3] == ["arch", "precision", "xla"] and
             "R step / plain" in line for line in lines)
  assert any(line.startswith("target gaze: ") for line in lines)


def test_binary_negative_estimator_batch_is_one_error_line(tmp_path):
  proc = helpers.run_module("benchmarks.throughput",
                            "--estimator_batch_size=-1",
                            f"--output={tmp_path / 't.json'}")
  line = helpers.one_error_line(proc)
  assert line.startswith("error: flag --estimator_batch_size=-1: ")
  assert os.listdir(tmp_path) == []
