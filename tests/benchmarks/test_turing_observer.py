"""The machine observer of the visual Turing test (Table 1, paper §3.1)."""

import json

import numpy as np
import pytest
from scipy import stats

from benchmarks.turing import observer

SHAPE = (16, 24, 1)


def _noise(seed: int, n: int, shape=SHAPE) -> np.ndarray:
  """n images of i.i.d. uniform noise in [-1, 1]."""
  rng = np.random.default_rng(seed)
  return rng.uniform(-1.0, 1.0, (n,) + shape).astype(np.float32)


def _check_counts(result, n):
  confusion = result["confusion"]
  assert confusion["real_as_real"] + confusion["real_as_synthetic"] == n
  assert (confusion["synthetic_as_real"] +
          confusion["synthetic_as_synthetic"] == n)
  assert result["correct"] == (confusion["real_as_real"] +
                               confusion["synthetic_as_synthetic"])
  assert result["n_per_class"] == n and result["trials"] == 2 * n
  assert result["accuracy"] == result["correct"] / (2 * n)
  assert len(result["fold_accuracies"]) == len(result["epochs"])
  assert len(result["epochs"]) == result["folds"]
  # The tests deal n evenly into folds: their mean accuracy is the overall one.
  assert np.mean(result["fold_accuracies"]) == pytest.approx(
      result["accuracy"])
  assert json.loads(json.dumps(result)) == result


def test_identical_distributions_are_at_chance():
  n = 120
  # 20 more real images than other ones: only the first n of each are used.
  result = observer.observe(_noise(0, n + 20), _noise(1, n), seed=0,
                            max_epochs=8, patience=2)
  _check_counts(result, n)
  # The 99.9 % band of Binomial(2n, 0.5) correct answers: 95..145 of 240.
  low, high = stats.binom.ppf([0.0005, 0.9995], 2 * n, 0.5)
  assert (low, high) == (95, 145)
  assert low <= result["correct"] <= high, result
  assert all(1 <= e <= 8 for e in result["epochs"])
  assert result["folds"] == 5
  assert result["classifier"].startswith(
      "CNN from scratch: image + 3x3 high-pass residual (standardised), "
      "conv3x3/2@16")
  assert "5-fold stratified CV" in result["classifier"]


def test_brightness_offset_is_caught():
  n = 100
  other = np.clip(_noise(1, n) + 0.3, -1.0, 1.0)
  result = observer.observe(_noise(0, n), other, seed=0, max_epochs=10,
                            batch_size=32)
  _check_counts(result, n)
  assert result["accuracy"] >= 0.95, result


def test_bright_border_line_is_caught():
  n = 100
  other = _noise(1, n)
  other[:, :, -1] = 1.0  # A bright right-hand column, the rest as real.
  result = observer.observe(_noise(0, n), other, seed=0, max_epochs=10,
                            batch_size=32)
  _check_counts(result, n)
  assert result["accuracy"] >= 0.95, result


def test_same_seed_same_result():
  real, other = _noise(0, 12, (16, 16, 1)), _noise(1, 12, (16, 16, 1))
  run = lambda seed: observer.observe(real, other, seed=seed, folds=2,
                                      max_epochs=2, patience=1)
  first = run(3)
  assert run(3) == first
  _check_counts(first, 12)


def test_large_images_are_pooled_first():
  n = 10
  result = observer.observe(_noise(0, n, (65, 130, 1)),
                            _noise(1, n, (65, 130, 1)), seed=0, folds=2,
                            max_epochs=1)
  _check_counts(result, n)
  assert result["classifier"].startswith("CNN from scratch: avg-pool /3, ")


def test_prepare_appends_the_high_pass_residual():
  images = _noise(0, 3, (70, 20, 2))
  prepared = observer.prepare(images)
  assert prepared.shape == (3, 35, 10, 4) and prepared.dtype == np.float32
  pooled = observer._average_pool(images, 2)
  np.testing.assert_array_equal(prepared[..., :2], pooled)
  # An inner pixel minus the mean of its 3x3 neighbourhood.
  want = pooled[:, 5, 6] - pooled[:, 4:7, 5:8].mean(axis=(1, 2))
  np.testing.assert_allclose(prepared[:, 5, 6, 2:], want, atol=1e-6)
  # A constant image has no residual, its edges included.
  flat = observer.prepare(np.full((1, 5, 7, 1), 0.25, np.float32))
  np.testing.assert_allclose(flat[..., 1], 0.0, atol=1e-7)


def test_average_pool_replicates_the_edges():
  images = np.arange(15, dtype=np.float32).reshape(1, 3, 5, 1)
  pooled = observer._average_pool(images, 2)
  # Rows 0-1 and 2-2 (row 2 repeated), columns 0-1, 2-3 and 4-4.
  want = [[(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, (4 + 9) / 2],
          [(10 + 11) / 2, (12 + 13) / 2, 14]]
  np.testing.assert_allclose(pooled[0, :, :, 0], want)
  assert observer._pool_factor(64, 64) == 1
  assert observer._pool_factor(35, 55) == 1
  assert observer._pool_factor(224, 224) == 4


@pytest.mark.parametrize("real_shape, other_shape, folds, message", [
    ((10, 16, 24, 1), (10, 16, 25, 1), 5,
     r"same shape, got \(10, 16, 24, 1\) and \(10, 16, 25, 1\)"),
    ((10, 16, 24), (10, 16, 24), 5, "must be \\(N, H, W, C\\) images"),
    ((10, 16, 24, 1), (4, 16, 24, 1), 5,
     "need at least 5 images of each class for 5 folds, got 10 real and 4 "
     "other"),
    ((3, 16, 24, 1), (3, 16, 24, 1), 2,
     "need at least 4 images of each class for 2 folds, got 3 real and 3 "
     "other"),
    ((10, 16, 24, 1), (10, 16, 24, 1), 1, "folds must be >= 2, got 1"),
])
def test_rejects_bad_input(real_shape, other_shape, folds, message):
  real = np.zeros(real_shape, np.float32)
  other = np.zeros(other_shape, np.float32)
  with pytest.raises(ValueError, match=message):
    observer.observe(real, other, seed=0, folds=folds)


def test_rejects_bad_settings():
  images = np.zeros((10, 16, 24, 1), np.float32)
  with pytest.raises(ValueError, match="must be >= 1, got 0, 3, 64"):
    observer.observe(images, images, seed=0, max_epochs=0)
