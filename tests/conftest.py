"""Test-session set-up shared by all tests.

Two logical CPU devices are configured before TensorFlow initialises, so
the MirroredStrategy test can run two replicas on a CPU-only machine; every
other test uses the default device as usual.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

# tests/helpers.py's asserts report their values as a test's own do.
pytest.register_assert_rewrite("tests.helpers")

_cpus = tf.config.list_physical_devices("CPU")
try:
  tf.config.set_logical_device_configuration(
      _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError:  # Already initialised by an earlier import.
  pass


@pytest.fixture(autouse=True)
def _float32_policy():
  """Each test starts (and ends) under the float32 Keras policy."""
  keras.mixed_precision.set_global_policy("float32")
  yield
  keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(autouse=True)
def _default_op_determinism():
  """A test that runs a binary's start in this process (cli.start turns
  deterministic ops on, for the whole process) leaves them as it found
  them: XLA steps, for one, have no deterministic MaxPool gradient."""
  # TensorFlow's public API can only turn it on; the off switch is internal.
  from tensorflow.python.framework import config  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  was = config.is_op_determinism_enabled()
  yield
  if config.is_op_determinism_enabled() != was:
    (config.enable_op_determinism if was else
     config.disable_op_determinism)()
