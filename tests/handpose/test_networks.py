"""Tests of the stacked hourglass estimator (handpose/networks.py)."""

import keras
import numpy as np
import pytest

from handpose import networks


@pytest.mark.parametrize("size,stride", [(64, 1), (128, 2), (224, 4),
                                         (256, 4), (32, 1)])
def test_stem_stride(size, stride):
  assert networks.stem_stride((size, size), 64) == stride


@pytest.mark.parametrize("size", [64, 224])
def test_estimator_outputs_two_stacks_of_64x64_heatmaps(size):
  model = networks.hourglass_estimator((size, size, 1), filters=8)
  outputs = model(np.zeros((2, size, size, 1), np.float32))
  assert [tuple(o.shape) for o in outputs] == [(2, 64, 64, 14)] * 2
  # A 224 input is resized to 256 for Newell's stride-4 stem; 64 is not.
  names = {layer.name for layer in model.layers}
  assert ("resize" in names) == (size == 224)
  assert ("stem_pool" in names) == (size == 224)


@pytest.mark.parametrize("channels,filters", [(8, 16), (16, 16)])
def test_residual_parameter_count(channels, filters):
  inputs = keras.Input((8, 8, channels))
  block = keras.Model(inputs, networks.residual(inputs, filters, "r"))
  h = filters // 2
  expected = (4 * channels + (channels * h + h) + 4 * h + (9 * h * h + h) +
              4 * h + (h * filters + filters))
  if channels != filters:
    expected += channels * filters + filters
  assert block.count_params() == expected


def test_estimator_keras_round_trip(tmp_path):
  model = networks.hourglass_estimator((32, 32), filters=8, heatmap_size=16,
                                       depth=2)
  images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(
      np.float32)
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = keras.models.load_model(path)
  for a, b in zip(model(images), loaded(images)):
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_heatmap_size_must_allow_the_pooling():
  with pytest.raises(ValueError, match="not divisible"):
    networks.hourglass_estimator((64, 64), heatmap_size=24, depth=4)
