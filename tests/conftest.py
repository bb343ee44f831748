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
