"""The throughput benchmark's comparisons: the plain-Keras baseline, the
interleaved timing, the ratios and the speed target (no timing asserts)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import throughput_baseline as plain_lib
from benchmarks import throughput_lib as throughput
from core import runtime
from refiner import networks
from refiner import simgan


def _kernel_shapes(model):
  return [tuple(w.shape) for w in model.weights]


@pytest.mark.parametrize("arch", ["gaze", "hand"])
def test_plain_networks_have_the_project_layers(arch):
  plain_r = plain_lib.build_plain_refiner(arch)
  plain_d = plain_lib.build_plain_discriminator(arch)
  project_r = networks.build_refiner(arch)
  project_d = networks.build_discriminator(arch)
  assert _kernel_shapes(plain_r) == _kernel_shapes(project_r)
  assert _kernel_shapes(plain_d) == _kernel_shapes(project_d)
  assert plain_r.count_params() == project_r.count_params()
  assert plain_d.count_params() == project_d.count_params()
  # Same output shapes on the architecture's images (a smaller hand image
  # for speed: both are fully convolutional).
  shape = (35, 55) if arch == "gaze" else (48, 40)
  x = tf.zeros((1, *shape, 1))
  assert plain_r(x).shape == project_r(x).shape == (1, *shape, 1)
  assert plain_d(x).shape == project_d(x).shape
  assert plain_d(x).shape[1:3] == networks.patch_grid(arch, shape)


def test_plain_networks_are_the_zero_padded_project_networks():
  """With the project's weights, the plain networks compute what the
  project's compute with zero padding ('same' == zero pad + 'valid')."""
  keras.utils.set_random_seed(0)
  project_r = networks.build_refiner("gaze", padding_mode="zero")
  project_d = networks.build_discriminator("gaze")
  plain_r = plain_lib.build_plain_refiner("gaze")
  plain_d = plain_lib.build_plain_discriminator("gaze")
  plain_r.set_weights(project_r.get_weights())
  plain_d.set_weights(project_d.get_weights())
  x = tf.random.stateless_uniform((2, 35, 55, 1), (0, 1), -1.0, 1.0)
  np.testing.assert_allclose(plain_r(x), project_r(x), atol=1e-5)
  np.testing.assert_allclose(plain_d(x), project_d(x), atol=1e-5)
  # And differ from the default reflect-padded R (the border sees no zeros).
  reflect_r = networks.build_refiner("gaze")
  reflect_r.set_weights(project_r.get_weights())
  assert not np.allclose(plain_r(x), reflect_r(x), atol=1e-5)


def test_plain_networks_stay_float32_under_a_mixed_policy():
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  for model in (plain_lib.build_plain_refiner("gaze"),
                plain_lib.build_plain_discriminator("gaze")):
    assert {layer.compute_dtype for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer)} == {"float32"}
    assert {w.dtype for w in model.weights} == {"float32"}
    assert model(tf.zeros((1, 35, 55, 1))).dtype == tf.float32


def test_plain_steps_compute_the_project_losses_and_updates():
  """One plain R step and D step from the weights of a zero-padded SimGAN
  (no history buffer) give its losses, and the same updated weights."""
  keras.utils.set_random_seed(0)
  gan = simgan.SimGAN(simgan.HParams(
      arch="gaze", batch_size=4, padding_mode="zero", history_buffer=False))
  plain_r = plain_lib.build_plain_refiner("gaze")
  plain_d = plain_lib.build_plain_discriminator("gaze")
  plain_r.set_weights(gan.refiner.get_weights())
  plain_d.set_weights(gan.discriminator.get_weights())
  synthetic = tf.random.stateless_uniform((4, 35, 55, 1), (0, 1), -1.0, 1.0)
  real = tf.random.stateless_uniform((4, 35, 55, 1), (0, 2), -1.0, 1.0)
  steps = plain_lib.plain_keras_steps(plain_r, plain_d, synthetic, real)
  assert set(steps) == set(throughput.MEASUREMENTS)

  d_before = [w.numpy() for w in plain_d.weights]
  r_loss = float(steps["refiner_step"]())
  logs = gan.refiner_step(synthetic, adversarial=True)
  assert math.isclose(r_loss, float(logs["refiner/loss"]), rel_tol=1e-5)
  for a, b in zip(plain_r.weights, gan.refiner.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
  for a, b in zip(plain_d.weights, d_before):  # R's step leaves D alone.
    np.testing.assert_array_equal(a.numpy(), b)

  r_before = [w.numpy() for w in plain_r.weights]
  d_loss = float(steps["discriminator_step"]())
  logs = gan.discriminator_step(synthetic, real)
  assert math.isclose(d_loss, float(logs["discriminator/loss"]),
                      rel_tol=1e-5)
  for a, b in zip(plain_d.weights, gan.discriminator.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
  for a, b in zip(plain_r.weights, r_before):  # D's step leaves R alone.
    np.testing.assert_array_equal(a.numpy(), b)

  np.testing.assert_allclose(steps["refine"](), gan.refiner(synthetic),
                             atol=1e-5)


# (float32, no XLA runs in test_throughput.py's tiny benchmark.)
@pytest.mark.parametrize("precision,xla", [("float32", True),
                                           ("mixed_bfloat16", False)])
def test_estimator_step_trains_the_gaze_cnn(precision, xla):
  keras.utils.set_random_seed(0)
  step = throughput.estimator_step(precision, xla, batch_size=2)
  losses = [float(step()) for _ in range(2)]
  assert all(math.isfinite(loss) and loss > 0 for loss in losses)
  assert losses[0] != losses[1]  # The weights moved.


def test_time_interleaved_alternates_and_isolates_failures():
  calls = []

  def step(name, fail_at=None):
    def run():
      calls.append(name)
      if len([c for c in calls if c == name]) == fail_at:
        raise RuntimeError(f"{name} broke")
      return tf.constant(1.0)
    return run

  timers = {"a": (step("a"), 4), "b": (step("b", fail_at=4), 2),
            "c": (step("c", fail_at=1), 1)}
  result = throughput._time_interleaved(timers, warmup=1, steps=2,
                                        repeats=3, max_seconds=60.0)
  # Warm-up (c fails there), then repeats of two steps, a and b in turn,
  # until b fails in its second repeat.
  assert calls == ["a", "b", "c", "a", "a", "b", "b", "a", "a", "b",
                   "a", "a"]
  assert result["a"]["error"] is None
  assert result["a"]["steps_timed"] == [2, 2, 2]
  assert result["a"]["images_per_second"] == sorted(
      result["a"]["repeats"])[1]
  assert all(r > 0 for r in result["a"]["repeats"])
  for key in ("b", "c"):
    assert result[key]["images_per_second"] is None
    assert result[key]["error"] == f"RuntimeError: {key} broke"
    assert "RuntimeError" in result[key]["traceback"]


def test_time_interleaved_stops_a_slow_repeat_after_max_seconds():
  calls = []
  result = throughput._time_interleaved(
      {"slow": (lambda: calls.append(1) or tf.constant(0.0), 1)},
      warmup=3, steps=5, repeats=2, max_seconds=0.0)
  assert len(calls) == 1 + 1 + 1  # One warm-up step, one per repeat.
  assert result["slow"]["steps_timed"] == [1, 1]


def _m(rate):
  return {"images_per_second": rate, "repeats": [rate] if rate else [],
          "steps_timed": [1] if rate else [],
          "error": None if rate else "ValueError: x"}


def _record(arch="gaze", precision="float32", xla=False):
  return {
      "arch": arch, "precision": precision, "xla": xla, "batch_size": 8,
      "error": None, "load_average": [0.5, 0.7],
      "refiner_step": _m(20.0), "discriminator_step": _m(60.0),
      "refine": _m(None),
      "plain_keras": {"error": None, "refiner_step": _m(16.0),
                      "discriminator_step": _m(50.0), "refine": _m(90.0)},
      "zero_padding": {"error": None, "refiner_step": _m(25.0),
                       "refine": _m(100.0)},
      "estimator_step": dict(_m(200.0), batch_size=64),
  }


def test_ratios_from_given_numbers():
  ratios = throughput.compute_ratios(_record())
  assert ratios == {
      "refiner_step_vs_plain": 20.0 / 16.0,
      "discriminator_step_vs_plain": 60.0 / 50.0,
      "refine_vs_plain": None,  # The project's refine failed.
      "refiner_step_zero_padding_vs_plain": 25.0 / 16.0,
      "refiner_step_reflect_vs_zero": 20.0 / 25.0,
      "refine_reflect_vs_zero": None,
  }
  bare = {k: v for k, v in _record().items()
          if k not in ("plain_keras", "zero_padding")}
  assert set(throughput.compute_ratios(bare).values()) == {None}


def test_paired_ratios_of_given_repeats():
  record = _record()
  record["refiner_step"]["repeats"] = [18.0, 20.0, 30.0]
  record["plain_keras"]["refiner_step"]["repeats"] = [12.0, 16.0, 20.0]
  record["zero_padding"]["refiner_step"]["repeats"] = [24.0]
  pairs = throughput.paired_ratios(record)
  assert set(pairs) == set(throughput.RATIOS)
  assert pairs["refiner_step_vs_plain"] == [1.5, 1.25, 1.5]
  assert pairs["refiner_step_reflect_vs_zero"] == [0.75]  # One pair only.
  assert pairs["refine_vs_plain"] == []  # The project's refine failed.
  assert throughput._ratio_cell(1.25, pairs["refiner_step_vs_plain"]) == (
      "1.25 (1.25-1.50)")
  assert throughput._ratio_cell(0.8, [0.75]) == "0.80"
  assert throughput._ratio_cell(None, []) == "-"


def test_tables_of_given_numbers():
  record = _record()
  record["ratios"] = throughput.compute_ratios(record)
  record["paired_ratios"] = throughput.paired_ratios(record)
  report = {"results": [record]}
  table = throughput.format_table(report).splitlines()
  assert [line.split() for line in table[2:]] == [
      ["gaze", "float32", "no-xla", "8", "project", "20.0", "60.0", "error:",
       "ValueError:", "x", "200.0", "0.5-0.7"],
      ["gaze", "float32", "no-xla", "8", "project", "zero-pad", "25.0", "-",
       "100.0"],
      ["gaze", "float32", "no-xla", "8", "plain", "Keras", "float32", "16.0",
       "50.0", "90.0"]]
  ratios = throughput.format_ratio_table(report).splitlines()
  assert ratios[2].split() == ["gaze", "float32", "no-xla", "1.25", "1.20",
                               "-", "1.56", "0.80", "-"]
  assert throughput.progress_line(record) == (
      "gaze float32 no-xla 8: refiner_step 20.0, discriminator_step 60.0, "
      "refine error: ValueError: x, estimator_step 200.0; R step / plain "
      "1.25, D step / plain 1.20, zero-pad R step / plain 1.56, R step "
      "reflect / zero 0.80; load 0.5-0.7")


def test_speed_target_of_the_default_settings():
  records = [_record(), _record(precision="mixed_bfloat16"),
             _record(arch="hand", xla=True)]
  records[1]["refiner_step"] = _m(40.0)
  for r in records:
    r["ratios"] = throughput.compute_ratios(r)
  cpu = runtime.Settings("float32", False, 2, 1)
  target = throughput.speed_target(records, cpu)
  assert target == {"precision": "float32", "xla": False, "minimum": 0.95,
                    "ratios": {"gaze": 1.25}}
  bf16 = runtime.Settings("mixed_bfloat16", False, 2, 1)
  target = throughput.speed_target(records, bf16)
  assert target == {"precision": "mixed_bfloat16", "xla": False,
                    "minimum": 2.0, "ratios": {"gaze": 2.5}}
  report = {"settings": {"archs": ["gaze", "hand"]}, "target": target}
  assert throughput.target_lines(report) == [
      "target gaze: project R step (mixed_bfloat16, no-xla, this device's "
      "default) / plain Keras float32 >= 2.00: 2.50, met",
      "target hand: the default settings (mixed_bfloat16, no-xla) were not "
      "timed"]
  report["target"]["ratios"]["gaze"] = 1.5
  assert throughput.target_lines(report)[0].endswith(": 1.50, not met")
