"""Thread pools, device description and measured per-device speed defaults.

TensorFlow fixes the sizes of its two thread pools when its runtime starts,
that is when the first op executes (or a device is initialised). So
:func:`configure_threads` must run before any TensorFlow computation: in a
binary, first thing in ``main``, before building networks or datasets.
Importing TensorFlow, defining flags and listing physical devices are
harmless.

``DEFAULTS`` records, per device kind, the settings that made a SimGAN
training step fastest in ``python -m benchmarks.throughput``, with the
numbers that justify each choice; :func:`recommended` picks the entry for
the device this process runs on.
"""

import dataclasses
import os
import sys
from typing import Dict, Optional

import keras
import tensorflow as tf

from data import rundir

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


# Measured with `python -m benchmarks.throughput` (SimGAN steps, images/s,
# medians); see each entry. "R" = adversarial refiner step, "D" =
# discriminator step, gaze at batch 64 on 35x55.
DEFAULTS = {
    # 2-core AMD EPYC (family 25) with AVX2 but no AVX-512 and no bf16
    # hardware, TF 2.21, load average < 1, gaze R/D/refine at batch 64,
    # float32: default pools 0/0 16.3 / 52.9 / 62.2 img/s; intra 2 /
    # inter 1 17.7-19.9 / 57.5-67.2 / 75.8-85.7; 1/1 11.0 / 37.7 / 42.2.
    # XLA (intra 2/inter 1): 10.8 / 32.6 / 42.0, about half. bfloat16 is
    # emulated there: the R step ran at 0.5 img/s against 8.5 in float32
    # (batch 8, shared machine).
    "cpu": Settings(precision="float32", jit_compile=False, intra_op=2,
                    inter_op=1),
    # CPUs that compute bfloat16 in hardware (avx512_bf16 or amx_bf16).
    # Measured only with probes of the same networks, not with this project's
    # benchmark: a 2-core AMD EPYC (Zen 5, avx512_bf16) ran the gaze R step
    # at ~221 img/s in mixed_bfloat16 against ~105 in float32, and XLA at
    # ~73 against ~105 (float32). Pretraining R on self-regularisation alone
    # reached the same loss in both precisions (see the benchmark's notes).
    "cpu_bf16": Settings(precision="mixed_bfloat16", jit_compile=False,
                         intra_op=2, inter_op=1),
    # Unmeasured: no GPU was available. float32 without XLA is the safe
    # choice until benchmarks/throughput has run on one.
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


def apply_thread_setting(text: str) -> Settings:
  """Applies a --threads flag value before TensorFlow starts.

  'auto' uses the measured best pools of this device (``recommended``),
  'tf' keeps TensorFlow's defaults, 'INTRA,INTER' sets them explicitly.
  Returns the recommended settings (for precision and XLA defaults).
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


# -- what every binary's main shares -------------------------------------
# The binaries (refiner, gaze and handpose train/evaluate, the
# reproductions) all import this module first thing in main, for --threads;
# the rest of their common start-up and error reporting lives with it.


def report_error(error: Exception) -> int:
  """Writes a bad input as one `error: ...` line on stderr; returns 1.

  For ValueError (DataError included) raised by bad flags, SPECs or data:
  a user's mistake, which a traceback would only obscure. main returns the
  result as its exit code.
  """
  sys.stderr.write(f"error: {error}\n")
  return 1


def apply_thread_flag(text: str) -> bool:
  """A binary's first step: applies its --threads value before TF starts.

  Returns:
    True when applied; False after reporting a bad value (report_error):
    main then returns 1.
  """
  try:
    apply_thread_setting(text)
  except ValueError as e:
    report_error(e)
    return False
  return True


def write_flags_file(directory: str, flags_text: str) -> None:
  """Records a run's resolved flags in DIRECTORY/flags.txt (atomically).

  Args:
    directory: the run's output folder (created if missing).
    flags_text: absl's `FLAGS.flags_into_string()`; passed in so that this
      module reads no flags itself.
  """
  os.makedirs(directory, exist_ok=True)
  rundir.write_atomic(os.path.join(directory, "flags.txt"), flags_text)
