"""Thread pools, the device description and settings (core/runtime.py)."""

import textwrap

import pytest
import tensorflow as tf

from core import runtime
from tests import helpers


def _python(code):
  """Runs `code` in a fresh interpreter (TensorFlow not started yet)."""
  proc = helpers.run_python("-c", textwrap.dedent(code), timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc.stdout.split()


def test_explicit_pools_take_effect_and_are_then_fixed():
  out = _python("""
      import tensorflow as tf
      from core import runtime
      runtime.apply_thread_setting("1,1")
      tf.constant(1.0).numpy()  # Starts the runtime with these pools.
      threading = tf.config.threading
      print(threading.get_intra_op_parallelism_threads(),
            threading.get_inter_op_parallelism_threads())
      runtime.configure_threads(1, 1)  # Unchanged: allowed.
      try:
        runtime.apply_thread_setting("3,2")
      except RuntimeError as e:
        print("refused" if "before running any TensorFlow op" in str(e)
              else e)
      """)
  assert out == ["1", "1", "refused"]


def test_auto_applies_this_devices_recommended_pools():
  out = _python("""
      import tensorflow as tf
      from core import runtime
      best = runtime.apply_thread_setting("auto")
      tf.constant(1.0).numpy()
      threading = tf.config.threading
      print(best == runtime.recommended(),
            threading.get_intra_op_parallelism_threads() == best.intra_op,
            threading.get_inter_op_parallelism_threads() == best.inter_op)
      """)
  assert out == ["True", "True", "True"]


@pytest.mark.parametrize("text", ["two", "1", "1,2,3", "1.5,1", ""])
def test_bad_thread_settings(text):
  with pytest.raises(ValueError, match=f"^--threads={text!r}: expected "
                     "auto, tf or INTRA,INTER$"):
    runtime.apply_thread_setting(text)


def test_negative_thread_counts():
  with pytest.raises(ValueError, match=r"thread counts must be >= 0 \(0 = "
                     r"TensorFlow's default\), got intra_op=-1, inter_op=0"):
    runtime.apply_thread_setting("-1,0")


def test_configure_threads_after_start_up_in_this_process():
  tf.constant(1.0).numpy()  # Make sure the runtime has started.
  intra = tf.config.threading.get_intra_op_parallelism_threads()
  inter = tf.config.threading.get_inter_op_parallelism_threads()
  runtime.configure_threads(intra, inter)  # Unchanged: allowed.
  with pytest.raises(RuntimeError, match=(
      rf"configure_threads\(intra_op={intra + 3}, inter_op={inter}\) was "
      rf"called after TensorFlow had started \(pools are intra_op={intra}, "
      rf"inter_op={inter}\)")):
    runtime.configure_threads(intra + 3, inter)


def test_device_kind_from_description():
  base = {"kind": "cpu", "avx512_bf16": False, "amx_bf16": False}
  assert runtime.device_kind(base) == "cpu"
  assert runtime.device_kind({**base, "avx512_bf16": True}) == "cpu_bf16"
  assert runtime.device_kind({**base, "amx_bf16": True}) == "cpu_bf16"
  assert runtime.device_kind({**base, "kind": "gpu", "amx_bf16": True}) == (
      "gpu")


def test_recommended_follows_the_device(monkeypatch):
  bf16 = {"kind": "cpu", "avx512_bf16": True, "amx_bf16": False}
  monkeypatch.setattr(runtime, "describe_device", lambda: bf16)
  assert runtime.device_kind() == "cpu_bf16"
  assert runtime.recommended() is runtime.recommended("cpu_bf16")
  with pytest.raises(ValueError, match="unknown device kind 'tpu'; expected "
                     r"one of \['cpu', 'cpu_bf16', 'gpu'\]"):
    runtime.recommended("tpu")


def test_describe_device():
  d = runtime.describe_device()
  assert set(d) == {"kind", "name", "cpu_model", "cpu_cores", "usable_cores",
                    "avx512_bf16", "amx_bf16", "gpus", "tensorflow", "keras"}
  assert d["kind"] == ("gpu" if d["gpus"] else "cpu")
  assert d["name"] == (d["gpus"][0] if d["gpus"] else d["cpu_model"])
  assert d["cpu_cores"] >= d["usable_cores"] >= 1
  assert isinstance(d["avx512_bf16"], bool)
  assert d["tensorflow"] == tf.__version__


def _addn_widths(graph):
  return sorted(len(op.inputs) for op in graph.get_operations()
                if op.type == "AddN")


def test_gradients_sum_the_terms_of_a_tensor_pairwise():
  # x feeds four ops, so its gradient has four terms:
  # d/dx [sum(a x) + sum(x^2) + mean(x) + sum(sin x)] = a + 2x + 1/n + cos x.
  x = tf.Variable([0.5, -1.0, 2.0, 0.25])
  a = tf.constant([1.0, 2.0, -3.0, 0.5])

  def loss():
    return (tf.reduce_sum(a * x) + tf.reduce_sum(tf.square(x)) +
            tf.reduce_mean(x) + tf.reduce_sum(tf.sin(x)))

  pairwise = tf.function(lambda: runtime.gradients(loss(), [x])[0])

  def taped():
    with tf.GradientTape() as tape:
      value = loss()
    return tape.gradient(value, x)
  taped = tf.function(taped)

  expected = a + 2.0 * x + 0.25 + tf.cos(x)
  assert pairwise().numpy() == pytest.approx(expected.numpy(), rel=1e-6)
  assert taped().numpy() == pytest.approx(expected.numpy(), rel=1e-6)
  # The tape adds the four terms with one AddN, whose order of additions is
  # chosen at run time; the pairwise sum has only two-input AddNs, whose
  # result is the same either way round.
  assert _addn_widths(taped.get_concrete_function().graph) == [4]
  assert _addn_widths(pairwise.get_concrete_function().graph) == [2, 2, 2]
