"""Tests of the paper's gaze CNN (gaze/networks.py)."""

import numpy as np
import pytest
import tensorflow as tf

from gaze import networks


def _conv_output_size(size, kernel, stride=1):
  """Output length of an unpadded ('valid') conv or pool along one axis."""
  return (size - kernel) // stride + 1


def _expected_flat(height, width):
  sides = []
  for side in (height, width):
    for kernel, stride in ((3, 1), (3, 1), (3, 1), (3, 2), (3, 1), (3, 1),
                           (2, 2)):
      side = _conv_output_size(side, kernel, stride)
    sides.append(side)
  return sides[0] * sides[1] * 192


def test_paper_input_flattens_to_9600():
  model = networks.gaze_estimator()
  assert model.get_layer("fc9600").output.shape[1:] == (9600,)
  assert _expected_flat(35, 55) == 5 * 10 * 192 == 9600
  assert networks.flattened_size() == 9600
  assert model.get_layer("pool2").output.shape[1:] == (5, 10, 192)
  assert model.get_layer("fc1000").output.shape[1:] == (1000,)
  # 5 convs + FC1000 + FC3: 9,816,659 weights.
  assert model.count_params() == 9816659


@pytest.mark.parametrize("shape", [(35, 55), (36, 60), (19, 19), (40, 31)])
def test_flattened_size_formula(shape):
  assert networks.flattened_size((*shape, 1)) == _expected_flat(*shape)


def test_output_shape_and_relu():
  model = networks.gaze_estimator()
  images = np.random.default_rng(0).uniform(-1, 1, (4, 35, 55, 1))
  out = model(images.astype(np.float32))
  assert tuple(out.shape) == (4, 3)
  assert out.dtype == tf.float32
  assert model.get_layer("conv1").activation.__name__ == "relu"
  assert model.get_layer("fc1000").activation.__name__ == "relu"
  assert model.get_layer("fc3").activation.__name__ == "linear"


def test_mixed_bfloat16_computes_in_bf16_with_float32_output():
  model = networks.gaze_estimator(dtype="mixed_bfloat16")
  assert model.get_layer("conv1").compute_dtype == "bfloat16"
  assert model.get_layer("conv1").kernel.dtype == "float32"
  out = model(np.zeros((2, 35, 55, 1), np.float32))
  assert out.dtype == tf.float32


def test_too_small_input_is_rejected():
  assert networks.flattened_size((18, 40, 1)) == 0
  with pytest.raises(ValueError, match="too small"):
    networks.gaze_estimator((18, 40, 1))
