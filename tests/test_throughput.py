"""Tests of benchmarks/throughput.py and refiner/runtime.py (no timing asserts)."""

import json
import math

import pytest
import tensorflow as tf

from benchmarks import throughput_lib as throughput
from refiner import runtime


def _positive_finite(x):
  return isinstance(x, float) and math.isfinite(x) and x > 0


def test_tiny_benchmark_writes_complete_json(tmp_path):
  report = throughput.run_benchmark(
      ["gaze"], ["float32"], [False], batch_sizes={"gaze": 2},
      steps={"gaze": 1}, warmup=1, repeats=1, max_seconds=60.0,
      threads=(0, 0),
      log=lambda line: None)
  path = tmp_path / "out" / "throughput.json"
  throughput.write_json(report, str(path))
  loaded = json.loads(path.read_text())

  assert set(loaded) == {"device", "settings", "load_average", "results",
                         "elapsed_seconds"}
  assert loaded["device"]["kind"] in ("cpu", "gpu")
  assert loaded["settings"]["batch_sizes"] == {"gaze": 2}
  assert loaded["settings"]["xla"] == [False]
  assert loaded["settings"]["history_batches"] == throughput.HISTORY_BATCHES
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
  for name in throughput.MEASUREMENTS:
    m = record[name]
    assert m["error"] is None, m["error"]
    assert _positive_finite(m["images_per_second"])
    assert len(m["repeats"]) == 1
    assert m["steps_timed"] == [1]
    assert m["repeats"][0] == m["images_per_second"]

  table = throughput.format_table(loaded)
  assert "R step img/s" in table
  assert "gaze" in table and "float32" in table


def test_failing_configuration_is_recorded_not_raised():
  record = throughput.benchmark_config("gaze", "float64", False,
                                       batch_size=2, steps=1, warmup=0,
                                       repeats=1)
  assert record["error"] == "ValueError: unknown precision 'float64'"
  assert "refiner_step" not in record
  assert "error: ValueError" in throughput._row(record)[4]


def test_error_string_of_a_traced_function_error():
  e = ValueError("in user code:\n\n  File x.py, line 3\n\n"
                 "  ValueError: Exception encountered.\n\n"
                 "  \x1b[1mNo gradients provided for any variable.\x1b[0m\n\n"
                 "  Arguments received by Cond.call():\n  • args=()")
  assert (throughput._error_string(e) ==
          "ValueError: No gradients provided for any variable.")
  assert (throughput._error_string(RuntimeError("first\nsecond")) ==
          "RuntimeError: first")


def test_describe_device():
  d = runtime.describe_device()
  assert set(d) == {"kind", "name", "cpu_model", "cpu_cores", "usable_cores",
                    "avx512_bf16", "amx_bf16", "gpus", "tensorflow", "keras"}
  assert d["kind"] == ("gpu" if d["gpus"] else "cpu")
  assert d["cpu_cores"] >= d["usable_cores"] >= 1
  assert isinstance(d["avx512_bf16"], bool)
  assert d["tensorflow"] == tf.__version__


def test_recommended_settings():
  settings = runtime.recommended()
  assert settings.precision in runtime.PRECISIONS
  assert settings == runtime.DEFAULTS[runtime.device_kind()]
  assert runtime.recommended("gpu").precision == "float32"
  assert runtime.recommended("cpu").precision == "float32"
  assert runtime.recommended("cpu_bf16").precision == "mixed_bfloat16"
  for s in runtime.DEFAULTS.values():
    assert s.precision in runtime.PRECISIONS
    assert s.intra_op >= 0 and s.inter_op >= 0
  with pytest.raises(ValueError, match="unknown device kind 'tpu'"):
    runtime.recommended("tpu")


def test_device_kind_from_description():
  base = {"kind": "cpu", "avx512_bf16": False, "amx_bf16": False}
  assert runtime.device_kind(base) == "cpu"
  assert runtime.device_kind({**base, "avx512_bf16": True}) == "cpu_bf16"
  assert runtime.device_kind({**base, "amx_bf16": True}) == "cpu_bf16"
  assert runtime.device_kind({**base, "kind": "gpu"}) == "gpu"


def test_configure_threads_after_start_up():
  tf.constant(1.0).numpy()  # Make sure the runtime has started.
  intra = tf.config.threading.get_intra_op_parallelism_threads()
  inter = tf.config.threading.get_inter_op_parallelism_threads()
  runtime.configure_threads(intra, inter)  # Unchanged: allowed.
  with pytest.raises(RuntimeError, match="before running any TensorFlow op"):
    runtime.configure_threads(intra + 3, inter)
  with pytest.raises(ValueError, match="must be >= 0"):
    runtime.configure_threads(-1, 0)
