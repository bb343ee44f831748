"""Finite or stop (core/finite.py)."""

import numpy as np
import pytest
import tensorflow as tf

from core import finite


def test_finite_values_pass_and_the_first_bad_one_is_named():
  finite.check_finite({"a": 1.5, "b": tf.constant(-2.0), "c": np.float32(0)},
                      "/runs/x", "step 3")
  with pytest.raises(finite.NonFiniteError) as raised:
    finite.check_finite({"a": 1.0, "d/loss": tf.constant(np.inf),
                         "e": float("nan")}, "/runs/x", "unit 40")
  assert str(raised.value).startswith(
      "/runs/x: d/loss is inf at unit 40: training diverged and stopped")
  # A ValueError: every binary reports it as its one error line.
  assert isinstance(raised.value, ValueError)
