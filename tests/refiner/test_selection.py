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


class _Shift:
  """A stand-in model: predict(x) = x + shift (features or a refiner)."""

  def __init__(self, shift):
    self.shift = shift

  def predict(self, images, batch_size, verbose):
    del batch_size, verbose
    return images + self.shift


def test_frechet_scorer_prefers_the_refiner_closest_to_real():
  rng = np.random.default_rng(1)
  real = rng.normal(1.0, 1.0, (2000, 3))
  synthetic = rng.normal(0.0, 1.0, (2000, 3))
  scorer = selection.FrechetScorer(synthetic, real, _Shift(0.0),
                                   batch_size=64)
  # Same covariance: the distance is the squared mean offset, 3 dims.
  assert scorer.unrefined() == pytest.approx(3.0, rel=0.1)
  scores = {shift: scorer(_Shift(shift)) for shift in (3.0, 1.0, -1.0)}
  assert scores[1.0] == pytest.approx(0.0, abs=0.05)
  assert scores[3.0] == pytest.approx(3 * 2.0**2, rel=0.1)
  assert min(scores, key=scores.get) == 1.0


def test_spearman_of_orders():
  assert selection.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
  assert selection.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
  assert selection.spearman([1, 2, 3], [1, 3, 2]) == 0.5
  assert selection.spearman([1, 2], [1, 2]) is None
  assert selection.spearman([1, 1, 1], [1, 2, 3]) is None


def _constant_refiner_weights(refiner, value):
  """Weights that make the gaze refiner output `value` everywhere: every
  kernel and bias 0 but the last layer's bias, atanh(value) before tanh."""
  weights = [np.zeros_like(w) for w in refiner.get_weights()]
  weights[-1] = np.full_like(weights[-1], np.arctanh(value))
  return weights


def test_choose_snapshot_picks_the_refiner_closest_to_real(tmp_path):
  import keras  # pylint: disable=g-import-not-at-top
  from core import files  # pylint: disable=g-import-not-at-top
  from data import source as source_lib  # pylint: disable=g-import-not-at-top
  from refiner import networks  # pylint: disable=g-import-not-at-top
  from refiner import workdir  # pylint: disable=g-import-not-at-top

  with pytest.raises(source_lib.DataError, match="holds no refiner snapshots"):
    selection.choose_snapshot(str(tmp_path), None, None, None, 4)
  refiner = networks.build_refiner("gaze")
  files.save_model(refiner, str(tmp_path / workdir.REFINER_FILE))
  (tmp_path / workdir.SNAPSHOT_DIR).mkdir()
  for unit, value in ((10, -0.2), (20, 0.5), (30, 0.9)):
    refiner.set_weights(_constant_refiner_weights(refiner, value))
    refiner.save_weights(workdir.snapshot_path(
        str(tmp_path), workdir.snapshot_name(unit)))
  rng = np.random.default_rng(0)
  synthetic = np.full((16, 35, 55, 1), -0.5, np.float32)
  # Real images: constant per image, around 0.5.
  real = (0.5 + 0.05 * rng.standard_normal((16, 1, 1, 1))).astype(
      np.float32) * np.ones((16, 35, 55, 1), np.float32)
  # Features: the mean of the left and of the right half of an image.
  half_means = keras.Sequential([
      keras.Input((35, 55, 1)), keras.layers.Cropping2D(((0, 0), (0, 1))),
      keras.layers.AveragePooling2D((35, 27)), keras.layers.Flatten()])
  result = selection.choose_snapshot(str(tmp_path), synthetic, real,
                                     half_means, batch_size=8)
  distances = [s["frechet_distance"] for s in result["snapshots"]]
  assert [s["unit"] for s in result["snapshots"]] == [10, 20, 30]
  assert result["chosen"]["unit"] == 20
  # A constant refiner's features have no spread: its distance is the
  # squared mean offset plus the real features' variance, in both features.
  real_mean = real.mean(axis=(1, 2, 3))
  variance = real_mean.var(ddof=1)
  for value, distance in zip((-0.2, 0.5, 0.9), distances):
    assert distance == pytest.approx(
        2 * ((value - real_mean.mean())**2 + variance), rel=1e-3, abs=1e-5)
  assert result["unrefined_frechet_distance"] == pytest.approx(
      2 * ((-0.5 - real_mean.mean())**2 + variance), rel=1e-3)


def test_choose_snapshot_reuses_known_distances(tmp_path, monkeypatch):
  from refiner import workdir  # pylint: disable=g-import-not-at-top
  (tmp_path / workdir.SNAPSHOT_DIR).mkdir()
  for unit in (10, 20):
    (tmp_path / workdir.SNAPSHOT_DIR / workdir.snapshot_name(unit)).touch()
  # Every snapshot known: no refiner is loaded, no snapshot refined.
  monkeypatch.setattr(workdir, "load_refiner", None)
  rng = np.random.default_rng(2)
  result = selection.choose_snapshot(
      str(tmp_path), rng.normal(0, 1, (400, 3)), rng.normal(1, 1, (400, 3)),
      _Shift(0.0), 64, known={10: 0.5, 20: 0.25})
  assert [s["frechet_distance"] for s in result["snapshots"]] == [0.5, 0.25]
  assert result["chosen"]["unit"] == 20
  assert result["unrefined_frechet_distance"] == pytest.approx(3.0, rel=0.2)
