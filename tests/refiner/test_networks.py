"""Architectures of R and D (paper §3.2, §3.3, Fig. 6)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from refiner import networks


def _conv_params(kernel, c_in, c_out):
  return kernel * kernel * c_in * c_out + c_out


@pytest.mark.parametrize("arch,kernel,blocks", [("gaze", 3, 4),
                                                ("hand", 7, 10)])
def test_refiner_parameter_count_follows_the_paper(arch, kernel, blocks):
  # Conv k x k @64 -> blocks x (2 convs k x k @64) -> Conv1x1 @1.
  expected = (_conv_params(kernel, 1, 64) +
              blocks * 2 * _conv_params(kernel, 64, 64) +
              _conv_params(1, 64, 1))
  assert networks.build_refiner(arch).count_params() == expected


def test_gaze_discriminator_parameter_count():
  expected = (_conv_params(3, 1, 96) + _conv_params(3, 96, 64) +
              _conv_params(3, 64, 32) + _conv_params(1, 32, 32) +
              _conv_params(1, 32, 2))
  assert networks.build_discriminator("gaze").count_params() == expected


@pytest.mark.parametrize("shape", [(35, 55), (36, 60), (17, 23)])
def test_refiner_is_fully_convolutional_and_bounded(shape):
  refiner = networks.build_refiner("gaze")
  x = np.random.default_rng(0).uniform(-1, 1, (2, *shape, 1)).astype("f4")
  y = np.asarray(refiner(x))
  assert y.shape == (2, *shape, 1)
  assert y.min() >= -1.0 and y.max() <= 1.0


@pytest.mark.parametrize("arch,shape,padding,grid", [
    ("gaze", (35, 55), "same", (9, 14)),     # §3.2: 35x55 input
    ("gaze", (35, 55), "valid", (4, 9)),
    ("gaze-local", (35, 55), "same", (18, 28)),  # one stride of 2
    ("hand", (224, 224), "same", (7, 7)),    # §3.3: 224x224 input
    ("hand", (224, 224), "valid", (5, 5)),
])
def test_discriminator_patch_grid(arch, shape, padding, grid):
  assert networks.patch_grid(arch, shape, padding) == grid
  d = networks.build_discriminator(arch, padding=padding)
  out = d(np.zeros((1, *shape, 1), "f4"))
  assert tuple(out.shape) == (1, *grid, 2)


def test_discriminator_outputs_raw_logits():
  # A ReLU (or softmax) on the last layer would bound the outputs; raw
  # logits take both signs and are not probabilities.
  d = networks.build_discriminator("gaze")
  assert d.get_layer("logits").activation.__name__ == "linear"
  x = np.random.default_rng(1).uniform(-1, 1, (8, 35, 55, 1)).astype("f4")
  out = np.asarray(d(x))
  assert (out < 0).any() and (out > 0).any()


def test_global_head_classifies_the_whole_image():
  d = networks.build_discriminator("gaze", head="global")
  assert tuple(d(np.zeros((3, 35, 55, 1), "f4")).shape) == (3, 1, 1, 2)
  assert any(isinstance(l, keras.layers.Dense) for l in d.layers)


@pytest.mark.parametrize("mode", ["reflect", "zero"])
def test_padding_mode_reaches_the_border(mode):
  # A constant image padded by reflection stays constant, so the first
  # conv's response is the same at the border and in the middle; zero
  # padding makes the border differ (the frame lines a refiner draws).
  pad = networks.SpatialPad(1, mode)
  x = np.ones((1, 5, 6, 1), "f4")
  y = np.asarray(pad(x))
  assert y.shape == (1, 7, 8, 1)
  assert y[0, 0, 0, 0] == (1.0 if mode == "reflect" else 0.0)


def test_refiner_keras_round_trip(tmp_path):
  refiner = networks.build_refiner("gaze", padding_mode="reflect")
  x = np.random.default_rng(2).uniform(-1, 1, (2, 35, 55, 1)).astype("f4")
  path = os.path.join(tmp_path, "r.keras")
  refiner.save(path)
  loaded = keras.models.load_model(path)
  np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(refiner(x)),
                             atol=1e-6)
  assert loaded.get_layer("conv_in_pad").mode == "reflect"


def test_hand_lite_sizes():
  # conv_in 3*3*1*32+32, 4 blocks of two 3x3@32 convs, 1x1 output conv.
  refiner = networks.build_refiner("hand-lite")
  assert refiner.count_params() == (9 * 32 + 32) + 4 * 2 * (
      9 * 32 * 32 + 32) + (32 + 1)
  assert networks.patch_grid("hand-lite", (64, 64)) == (16, 16)
  d = networks.build_discriminator("hand-lite")
  assert d(np.zeros((2, 64, 64, 1), np.float32)).shape == (2, 16, 16, 2)


def test_clipped_tanh_reaches_the_range_ends_exactly():
  layer = networks.ClippedTanh()
  s = networks.CLIPPED_TANH_SCALE
  assert s == 1.05
  x0 = np.arctanh(1 / s)                    # ≈ 1.857: s·tanh(x0) = 1
  big = np.array([x0 + 1e-3, 2.0, 5.0, 30.0, 1e4], np.float32)
  np.testing.assert_array_equal(np.asarray(layer(big)), np.ones(5, "f4"))
  np.testing.assert_array_equal(np.asarray(layer(-big)), -np.ones(5, "f4"))
  # Inside, s·tanh(x) (within float32 rounding).
  inside = np.linspace(-x0 + 1e-3, x0 - 1e-3, 101).astype(np.float32)
  y = np.asarray(layer(inside))
  np.testing.assert_allclose(y, s * np.tanh(inside.astype(np.float64)),
                             rtol=0, atol=2e-7)
  assert np.abs(y).max() < 1.0
  # Plain tanh gets there only where float32 rounds it to 1 (|x| ≳ 7.9).
  assert np.asarray(keras.activations.tanh(np.float32(5.0))) < 1.0


def test_clipped_tanh_is_exact_under_xla():
  layer = networks.ClippedTanh()
  x = tf.constant([-40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0])
  y = tf.function(layer, jit_compile=True)(x).numpy()
  assert y[0] == -1.0 and y[1] == -1.0 and y[-1] == 1.0 and y[-2] == 1.0
  np.testing.assert_allclose(y[2:5], 1.05 * np.tanh([-0.5, 0.0, 0.5]),
                             atol=2e-7)


def test_clipped_tanh_gradient_is_straight_through():
  # The backward pass is that of s·tanh(x), clipped or not: never zero.
  layer = networks.ClippedTanh()
  x = tf.constant([-3.0, 0.0, 1.0, 2.5, 6.0])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = layer(x)
  g = tape.gradient(y, x).numpy()
  np.testing.assert_allclose(g, 1.05 * (1 - np.tanh(x.numpy()) ** 2),
                             rtol=1e-4)
  assert (g > 0).all()


def test_clipped_tanh_scale_must_exceed_one():
  with pytest.raises(ValueError, match="scale must be > 1"):
    networks.ClippedTanh(scale=1.0)


def test_refiner_output_option():
  assert networks.build_refiner("gaze").layers[-1].name == "tanh"
  r = networks.build_refiner("gaze", output="clipped_tanh")
  assert isinstance(r.layers[-1], networks.ClippedTanh)
  # Same weights as the tanh refiner: the output layer has none.
  assert r.count_params() == networks.build_refiner("gaze").count_params()
  with pytest.raises(ValueError, match="refiner output must be one of"):
    networks.build_refiner("gaze", output="sigmoid")


def test_clipped_refiner_keras_round_trip(tmp_path):
  keras.utils.set_random_seed(0)  # Some pixels clip, others not.
  refiner = networks.build_refiner("gaze", output="clipped_tanh")
  # Large output weights make many pixels clip at ±1.
  w, b = refiner.get_layer("conv_out").get_weights()
  refiner.get_layer("conv_out").set_weights([w * 50, b])
  x = np.random.default_rng(3).uniform(-1, 1, (2, 35, 55, 1)).astype("f4")
  y = np.asarray(refiner(x))
  assert (np.abs(y) == 1).mean() > 0.1 and (np.abs(y) < 1).any()
  path = os.path.join(tmp_path, "r.keras")
  refiner.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded.layers[-1], networks.ClippedTanh)
  assert loaded.layers[-1].scale == networks.CLIPPED_TANH_SCALE
  np.testing.assert_array_equal(np.asarray(loaded(x)), y)
