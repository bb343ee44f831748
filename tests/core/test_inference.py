"""core/inference.py: traced, batched inference equals the eager model."""

import keras
import numpy as np
import pytest

from core import inference


def _model():
  keras.utils.set_random_seed(0)
  inputs = keras.Input((6, 5, 1))
  x = keras.layers.Conv2D(3, 3, padding="same")(inputs)
  x = keras.layers.Dropout(0.9)(x)  # Only active with training=True.
  return keras.Model(inputs, keras.layers.Flatten()(x))


def test_predict_equals_the_eager_model_in_inference_mode():
  model = _model()
  images = np.random.default_rng(0).normal(size=(7, 6, 5, 1)).astype(
      np.float32)
  # 7 images in batches of 3: two full batches and a short last one.
  out = inference.predict(inference.forward(model), images, 3)
  assert out.shape == (7, 6 * 5 * 3) and out.dtype == np.float32
  np.testing.assert_allclose(out, model(images, training=False), atol=1e-6)


def test_head_is_applied_inside_the_function():
  model = _model()
  images = np.ones((2, 6, 5, 1), np.float32)
  out = inference.predict(inference.forward(model, lambda y: y[:, :2] * 2),
                          images, 8)
  np.testing.assert_allclose(out, 2 * model(images)[:, :2], atol=1e-6)


def test_empty_input_gives_an_empty_array_of_the_output_shape():
  function = inference.forward(_model())
  empty = np.zeros((0, 6, 5, 1), np.float32)
  assert inference.predict(function, empty, 4).shape == (0, 6, 5, 1)
  assert inference.predict(function, empty, 4, (90,)).shape == (0, 90)


def test_batch_size_must_be_positive():
  with pytest.raises(ValueError, match="batch_size must be positive"):
    inference.predict(inference.forward(_model()),
                      np.zeros((1, 6, 5, 1), np.float32), 0)
