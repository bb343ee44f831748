"""Label-free refiner selection and the k-NN baseline."""

import numpy as np
import pytest

from data import source as source_lib
from gaze import knn
from refiner import selection


def test_frechet_distance_of_gaussians():
  rng = np.random.default_rng(0)
  a = rng.normal(0, 1, (20000, 2))
  b = rng.normal([3, 0], 1, (20000, 2))
  # Same covariance: the distance is the squared mean difference, 9.
  assert selection.frechet_distance(a, b) == pytest.approx(9.0, rel=0.03)
  assert selection.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
  # Scale 2 vs 1 in both dims: tr(I + 4I - 2*2I) = 2.
  assert selection.frechet_distance(a, 2 * a) == pytest.approx(2.0, rel=0.03)


def test_rank_snapshots_prefers_the_closest_distribution():
  rng = np.random.default_rng(1)
  real = rng.normal(1.0, 1.0, (500, 3))
  shifts = {"a": 3.0, "b": 1.1, "c": -1.0}
  scores = selection.rank_snapshots(
      [(10, "a"), (20, "b"), (30, "c")],
      refine=lambda name: rng.normal(shifts[name], 1.0, (500, 3)),
      features=lambda x: x, real_images=real)
  best = min(scores, key=lambda s: s["frechet_distance"])
  assert best["name"] == "b" and best["unit"] == 20


def test_knn_recovers_the_label_of_a_matching_image():
  rng = np.random.default_rng(2)
  images = rng.normal(size=(50, 5, 7, 1)).astype("f4")
  labels = rng.normal(size=(50, 3))
  labels /= np.linalg.norm(labels, axis=1, keepdims=True)
  train = source_lib.ArraySource("t", images, source_lib.frame_for(
      [str(i) for i in range(50)], labels))
  model = knn.KNNGaze(train, k=1)
  # Brightness and contrast changes do not change the neighbour.
  predicted = model.predict(images[[4, 9]] * 2.0 + 0.5)
  np.testing.assert_allclose(predicted, labels[[4, 9]], atol=1e-5)
  assert knn.KNNGaze(train, k=3).predict(images[:2]).shape == (2, 3)


def test_memoized_refined_source_refines_each_image_once():
  from refiner import refine_lib  # pylint: disable=g-import-not-at-top
  images = np.linspace(-1, 1, 6 * 4 * 5, dtype=np.float32).reshape(6, 4, 5, 1)
  parent = source_lib.ArraySource(
      "ramp", images, source_lib.frame_for([f"{i}.png" for i in range(6)]))
  refined_counts = []

  def refiner(x, training):
    assert not training
    refined_counts.append(len(x))
    return 0.5 * x

  lazy = refine_lib.RefinedSource(parent, refiner, batch_size=2)
  memo = refine_lib.RefinedSource(parent, refiner, batch_size=2, memoize=True)
  np.testing.assert_array_equal(memo.read([4, 1, 4]), lazy.read([4, 1, 4]))
  refined_counts.clear()
  np.testing.assert_array_equal(memo.read([1, 2, 4]), 0.5 * images[[1, 2, 4]])
  assert refined_counts == [1]  # only image 2 was new
  np.testing.assert_array_equal(memo.read([4, 1]), 0.5 * images[[4, 1]])
  assert refined_counts == [1]


def test_spearman_of_orders():
  assert selection.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
  assert selection.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
  assert selection.spearman([1, 2, 3], [1, 3, 2]) == 0.5
  assert selection.spearman([1, 2], [1, 2]) is None
  assert selection.spearman([1, 1, 1], [1, 2, 3]) is None
