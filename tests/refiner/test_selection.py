"""Label-free refiner selection (refiner/selection.py)."""

import numpy as np
import pytest

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


def test_principal_projection_keeps_the_widest_axes():
  rng = np.random.default_rng(3)
  features = rng.normal(0, [5.0, 0.1, 1.0], (2000, 3))
  projection = selection.principal_projection(features, 2)
  assert projection.shape == (3, 2)
  # The axes of standard deviation 5 and 1, in that order (up to sign).
  np.testing.assert_allclose(np.abs(projection), [[1, 0], [0, 0], [0, 1]],
                             atol=0.02)
  assert selection.principal_projection(features, 10).shape == (3, 3)


def test_rank_snapshots_prefers_the_closest_distribution():
  rng = np.random.default_rng(1)
  real = rng.normal(1.0, 1.0, (500, 3))
  shifts = {"a": 3.0, "b": 1.1, "c": -1.0}
  scores = selection.rank_snapshots(
      [(10, "a"), (20, "b"), (30, "c")],
      refine=lambda name: rng.normal(shifts[name], 1.0, (500, 3)),
      features=lambda x: x, real_images=real)
  assert [(s["unit"], s["name"]) for s in scores] == [(10, "a"), (20, "b"),
                                                      (30, "c")]
  best = min(scores, key=lambda s: s["frechet_distance"])
  assert best["name"] == "b" and best["unit"] == 20


def test_spearman_of_orders():
  assert selection.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
  assert selection.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
  assert selection.spearman([1, 2, 3], [1, 3, 2]) == 0.5
  assert selection.spearman([1, 2], [1, 2]) is None
  assert selection.spearman([1, 1, 1], [1, 2, 3]) is None
