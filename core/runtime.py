"""Thread pools, device description and the measured-best speed settings.

TensorFlow fixes the sizes of its two thread pools when its runtime starts,
that is when the first op executes (or a device is initialised). So
:func:`configure_threads` must run before any TensorFlow computation: in a
binary, first thing in ``main`` (core.cli.start does it). Importing
TensorFlow, defining flags and listing physical devices are harmless.

``DEFAULTS`` holds, per device kind, the settings that made a SimGAN step
fastest in ``python -m benchmarks.throughput``; the measurements are in the
README's speed section. :func:`recommended` picks this device's entry.
"""

import dataclasses
import os
import re
from typing import Dict, List, Optional

import keras
import tensorflow as tf

from core import cli

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def configure_threads(intra_op: int, inter_op: int) -> None:
  """Sets TensorFlow's intra-op and inter-op thread pool sizes.

  Must be called before TensorFlow executes its first op: the pools are
  created once, when the runtime starts, and cannot be resized afterwards.

  Args:
    intra_op: threads one op (a convolution, a matrix multiply) may use;
      0 keeps TensorFlow's default (one per logical core).
    inter_op: ops that may run at the same time; 0 keeps TensorFlow's default.

  Raises:
    ValueError: a negative thread count.
    RuntimeError: TensorFlow's runtime has already started with different
      pool sizes.
  """
  if intra_op < 0 or inter_op < 0:
    raise ValueError(f"thread counts must be >= 0 (0 = TensorFlow's default),"
                     f" got intra_op={intra_op}, inter_op={inter_op}")
  threading = tf.config.threading
  current = (threading.get_intra_op_parallelism_threads(),
             threading.get_inter_op_parallelism_threads())
  if current == (intra_op, inter_op):
    return  # Already so (also after start-up): nothing to change.
  try:
    threading.set_intra_op_parallelism_threads(intra_op)
    threading.set_inter_op_parallelism_threads(inter_op)
  except RuntimeError as e:
    raise RuntimeError(
        f"configure_threads(intra_op={intra_op}, inter_op={inter_op}) was "
        f"called after TensorFlow had started (pools are intra_op="
        f"{current[0]}, inter_op={current[1]}); call it before running any "
        f"TensorFlow op or building any network") from e


def _cpuinfo() -> Dict[str, str]:
  """Fields of the first processor in /proc/cpuinfo ({} where there is none)."""
  info = {}
  try:
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
      for line in f:
        if not line.strip():
          if info:
            break  # End of the first processor's block.
          continue
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
  except OSError:
    pass
  return info


def describe_device() -> dict:
  """What this process computes on, for benchmark records.

  Returns:
    A dict with ``kind`` ('gpu' if TensorFlow sees a GPU, else 'cpu'),
    ``name`` (the GPU's name, or the CPU model), ``cpu_model``, ``cpu_cores``
    (logical cores of the machine), ``usable_cores`` (those this process may
    run on), ``avx512_bf16`` and ``amx_bf16`` (whether the CPU computes
    bfloat16 in hardware, from /proc/cpuinfo flags), ``gpus`` (names of all
    GPUs), ``tensorflow`` and ``keras`` (versions).
  """
  cpu = _cpuinfo()
  flags = set(cpu.get("flags", "").split())
  cpu_model = cpu.get("model name") or cpu.get("Model") or "unknown"
  gpu_names = []
  for gpu in tf.config.list_physical_devices("GPU"):
    details = tf.config.experimental.get_device_details(gpu)
    gpu_names.append(details.get("device_name", gpu.name))
  try:
    usable = len(os.sched_getaffinity(0))
  except AttributeError:  # Not on Linux.
    usable = os.cpu_count()
  return {
      "kind": "gpu" if gpu_names else "cpu",
      "name": gpu_names[0] if gpu_names else cpu_model,
      "cpu_model": cpu_model,
      "cpu_cores": os.cpu_count(),
      "usable_cores": usable,
      "avx512_bf16": "avx512_bf16" in flags,
      "amx_bf16": "amx_bf16" in flags,
      "gpus": gpu_names,
      "tensorflow": tf.__version__,
      "keras": keras.__version__,
  }


@dataclasses.dataclass(frozen=True)
class Settings:
  """Speed settings of a training run (maps onto HParams and the flags)."""
  precision: str        # Keras dtype policy, one of PRECISIONS
  jit_compile: bool     # XLA-compile each training step
  intra_op: int         # configure_threads arguments; 0 = TF default
  inter_op: int


# Per device kind, the fastest settings `python -m benchmarks.throughput`
# found (README, "Speed on this project's machine").
DEFAULTS = {
    # No bfloat16 hardware: mixed_bfloat16 is emulated and far slower, and
    # XLA roughly halves the step rate; 2 intra-op threads on 2 cores win.
    "cpu": Settings(precision="float32", jit_compile=False, intra_op=2,
                    inter_op=1),
    # avx512_bf16 or amx_bf16: bfloat16 compute about doubles the R step.
    "cpu_bf16": Settings(precision="mixed_bfloat16", jit_compile=False,
                         intra_op=2, inter_op=1),
    # Not yet measured on a GPU: float32 without XLA is the safe choice.
    "gpu": Settings(precision="float32", jit_compile=False, intra_op=0,
                    inter_op=0),
}


def device_kind(description: Optional[dict] = None) -> str:
  """The ``DEFAULTS`` key of a device description (default: this device)."""
  d = description or describe_device()
  if d["kind"] == "gpu":
    return "gpu"
  return "cpu_bf16" if (d["avx512_bf16"] or d["amx_bf16"]) else "cpu"


def recommended(kind: Optional[str] = None) -> Settings:
  """The measured-best settings for `kind` (default: this process's device).

  Args:
    kind: a key of ``DEFAULTS`` ('cpu', 'cpu_bf16', 'gpu'), or None to use
      :func:`device_kind` of this device.
  """
  kind = kind or device_kind()
  if kind not in DEFAULTS:
    raise ValueError(f"unknown device kind {kind!r}; expected one of "
                     f"{sorted(DEFAULTS)}")
  return DEFAULTS[kind]


def make_deterministic() -> None:
  """Deterministic op kernels, so a rerun of a command repeats its numbers.

  Together with `gradients` (the sums of gradient terms, which this switch
  does not cover) it makes two runs of one training command bit-identical
  (README, speed section). It costs no measured speed.
  Called, with the thread pools, by every binary that has --threads and by
  every stage worker.
  """
  tf.config.experimental.enable_op_determinism()


def gradients(loss, variables) -> List[tf.Tensor]:
  """d loss / d variables, repeatable to the bit; inside a tf.function only.

  Where a tensor feeds several ops, its gradient is the sum of one term per
  consumer; a tensor read by an unfused batch norm (mean, variance, scale)
  and a skip path has four. tf.GradientTape adds them with one AddN, and
  TensorFlow's CPU AddN writes into whichever input buffer is free at run
  time and adds the others to it, so with three or more terms the order of
  the additions, and the result's last bits, change from process to
  process; deterministic ops do not cover it. Summing the terms pairwise in
  graph order (AggregationMethod.EXPERIMENTAL_TREE) repeats exactly: a sum
  of two is the same either way round. The extra passes over memory cost
  the hand estimator's step a few percent (README, speed section).
  """
  return tf.gradients(
      loss, variables,
      aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)


def apply_thread_setting(text: str) -> Settings:
  """Applies a --threads value before TensorFlow starts.

  'auto' uses the measured best pools of this device (``recommended``),
  'tf' keeps TensorFlow's defaults, 'INTRA,INTER' sets them explicitly.
  Returns the recommended settings (for precision and XLA defaults).

  Raises:
    ValueError: `text` is none of these.
  """
  best = recommended()
  if text == "auto":
    configure_threads(best.intra_op, best.inter_op)
  elif text != "tf":
    try:
      intra, inter = (int(v) for v in text.split(","))
    except ValueError:
      raise ValueError(f"--threads={text!r}: expected auto, tf or "
                       "INTRA,INTER") from None
    configure_threads(intra, inter)
  return best


# TensorFlow's own file ops (checkpoint save, merge and restore) report a
# full disk or a refused write as an OpError, not an OSError.
_FILE_OPS = ("SaveV2", "MergeV2Checkpoints", "RestoreV2")


def file_error_of(error: BaseException) -> Optional[OSError]:
  """The OSError a failed TensorFlow file op stands for, or None."""
  if not isinstance(error, tf.errors.OpError) or not any(
      f"[Op:{op}]" in error.message for op in _FILE_OPS):
    return None
  text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", error.message)
  return OSError(re.sub(r"\s*\[Op:\w+\]\s*$", "", text))


cli.add_error_translation(file_error_of)

