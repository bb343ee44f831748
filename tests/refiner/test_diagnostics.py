"""D's accuracy on saturated vs other patches (refiner/diagnostics.py)."""

import keras
import numpy as np
import pytest

from refiner import diagnostics
from refiner import losses


def test_receptive_fields():
  assert diagnostics.receptive_field("hand-lite") == (25, 4)
  assert diagnostics.receptive_field("gaze") == (23, 4)
  assert diagnostics.receptive_field("hand") == (71, 32)
  # 3 pixels, then 2 x 2 more for each 3-wide layer after the stride 2.
  assert diagnostics.receptive_field("gaze-local") == (11, 2)


def test_patch_regions_divide_the_image_proportionally():
  assert diagnostics.patch_regions((8, 6), (2, 3)) == (
      [(0, 4), (4, 8)], [(0, 2), (2, 4), (4, 6)])
  assert diagnostics.patch_regions((8, 6), (2, 3), margin=1) == (
      [(0, 5), (3, 8)], [(0, 3), (1, 5), (3, 6)])
  assert diagnostics.patch_regions((5, 5), (2, 2))[0] == [(0, 2), (2, 5)]


def test_saturated_pixels_and_patches():
  images = np.zeros((3, 4, 4, 1), np.float32)
  images[0, 1, 1] = 1.0                       # Exactly +1.
  images[1, 3, 0] = -1.0 + 0.5 / 255          # Within 1/255 of -1.
  images[2, 0, 3] = 1.0 - 2.0 / 255           # The 8-bit level 254: not.
  assert diagnostics.saturated_pixels(images).sum(axis=(1, 2)).tolist() == [
      1, 1, 0]
  patches = diagnostics.patch_saturation(images, (2, 2))
  np.testing.assert_array_equal(patches[0], [[True, False], [False, False]])
  np.testing.assert_array_equal(patches[1], [[False, False], [True, False]])
  assert not patches[2].any()
  # A margin of 1 widens each 2x2 cell to 3x3: pixel (1, 1) is in all four.
  assert diagnostics.patch_saturation(images, (2, 2), margin=1)[0].all()


def test_split_accuracy_on_fixed_logits():
  logits = np.array([[[[0.0, 1.0], [1.0, 0.0]],
                      [[2.0, 0.0], [0.0, np.log(3.0)]]]], np.float32)
  saturated = np.array([[[True, False], [True, True]]])
  out = diagnostics.split_accuracy(logits, saturated, losses.REFINED,
                                   "refined")
  e = np.e
  assert out["refined_saturated_patches"] == 3
  assert out["refined_saturated_accuracy"] == pytest.approx(2 / 3)
  assert out["refined_saturated_confidence"] == pytest.approx(
      (e / (1 + e) + 1 / (1 + e ** 2) + 0.75) / 3)
  assert out["refined_other_patches"] == 1
  assert out["refined_other_accuracy"] == 0.0
  assert out["refined_other_confidence"] == pytest.approx(1 / (1 + e))
  # As real patches, the same logits are right where they were wrong.
  real = diagnostics.split_accuracy(logits, saturated, losses.REAL, "real")
  assert real["real_saturated_accuracy"] == pytest.approx(1 / 3)
  assert real["real_other_accuracy"] == 1.0
  empty = diagnostics.split_accuracy(logits, np.zeros_like(saturated),
                                     losses.REAL, "real")
  assert np.isnan(empty["real_saturated_accuracy"])
  assert empty["real_saturated_patches"] == 0
  with pytest.raises(ValueError, match="does not match"):
    diagnostics.split_accuracy(logits, saturated[:, :1], losses.REAL, "r")


def _threshold_discriminator():
  """A D on 2x2 cells: 'real' iff the cell's mean exceeds 0.99."""
  inputs = keras.Input((None, None, 1))
  x = keras.layers.AveragePooling2D(2)(inputs)
  conv = keras.layers.Conv2D(2, 1)
  logits = conv(x)
  # Logit 0 (real) = 100 (v - 0.99); logit 1 (refined) = 0.
  conv.set_weights([np.array([100.0, 0.0], np.float32).reshape(1, 1, 1, 2),
                    np.array([-99.0, 0.0], np.float32)])
  return keras.Model(inputs, logits)


def test_saturation_accuracy_with_a_hand_built_discriminator():
  d = _threshold_discriminator()
  # Real: +1 background in the top-left cell, 0.5 elsewhere.
  real = np.full((1, 4, 4, 1), 0.5, np.float32)
  real[0, :2, :2] = 1.0
  synthetic = np.concatenate([real, real])
  # Refined: a tanh-like 0.98 where the input is +1, then a clipped 1.0.
  refined = synthetic.copy()
  refined[0, :2, :2] = 0.98
  out = diagnostics.saturation_accuracy(d, refined, real, synthetic,
                                        batch_size=1)
  assert out == {
      # The real saturated cell is called real, the others refined.
      "real_saturated_accuracy": 1.0, "real_saturated_patches": 1,
      "real_saturated_confidence": pytest.approx(1 / (1 + np.exp(-1.0))),
      "real_other_accuracy": 0.0, "real_other_patches": 3,
      "real_other_confidence": pytest.approx(1 / (1 + np.exp(49.0))),
      # The 0.98 cell gives the refined image away, the clipped one not.
      "refined_saturated_accuracy": 0.5, "refined_saturated_patches": 2,
      "refined_saturated_confidence": pytest.approx(
          (1 / (1 + np.exp(-1.0)) + 1 / (1 + np.exp(1.0))) / 2),
      "refined_other_accuracy": 1.0, "refined_other_patches": 6,
      "refined_other_confidence": pytest.approx(1 / (1 + np.exp(-49.0))),
      "real_at_limit_fraction": 0.25,
      "refined_at_limit_fraction": 0.125,
  }
  # Without the synthetic inputs the refined images' own pixels decide:
  # the 0.98 cell is then not saturated.
  own = diagnostics.saturation_accuracy(d, refined, real)
  assert own["refined_saturated_patches"] == 1
  assert own["refined_saturated_accuracy"] == 0.0
  assert own["refined_other_patches"] == 7
  assert own["refined_other_accuracy"] == 1.0
  with pytest.raises(ValueError, match="differ in shape"):
    diagnostics.saturation_accuracy(d, refined, real, synthetic[:1])
