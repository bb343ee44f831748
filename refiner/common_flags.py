"""Flags that several binaries define, with one definition and help text.

Only binaries call these (at import time, like any flag definition); the
values reach libraries as arguments. This module imports no TensorFlow, so
a binary can define its flags before it decides how TensorFlow starts.
"""

from absl import flags


def define_threads() -> flags.FlagHolder:
  """--threads, applied by refiner.runtime.apply_thread_flag in main."""
  return flags.DEFINE_string(
      "threads", "auto", "TensorFlow thread pools: 'auto' = the measured "
      "best for this device (refiner/runtime.py; intra 2 / inter 1 on the "
      "2-core CPU), 'tf' = TensorFlow's defaults, or 'INTRA,INTER'.")
