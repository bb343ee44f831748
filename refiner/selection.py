"""Choosing a refiner snapshot without real labels.

In the S+U setting no real label may guide training, so "until the
validation error converges" cannot pick the refiner. We pick the snapshot
whose refined images are closest to the real images in distribution,
measured as the Fréchet distance between Gaussian fits of their features
(the construction of FID, Heusel et al. 2017) under a fixed feature map —
in the gaze benchmark, the penultimate layer of the gaze CNN trained on
*synthetic* images, so the distance weighs what matters for gaze.

Features are first projected onto the leading principal components of the
real features: a covariance of 1000-d features estimated from a thousand
images is singular, and its matrix square root is then noise.
"""

from typing import Dict, Optional

import keras
import numpy as np
import scipy.linalg
from scipy import stats

from data import source as source_lib
from refiner import workdir as workdir_lib


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
  """‖μa − μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) between two feature sets (n, d)."""
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a = np.cov(a, rowvar=False)
  cov_b = np.cov(b, rowvar=False)
  root, _ = scipy.linalg.sqrtm(cov_a @ cov_b, disp=False)
  root = np.real(root)
  return float(((mu_a - mu_b) ** 2).sum() +
               np.trace(cov_a + cov_b - 2.0 * root))


def principal_projection(features: np.ndarray, dims: int) -> np.ndarray:
  """(d, k) projection onto the k leading principal axes of `features`."""
  centred = features - features.mean(0)
  _, _, vt = np.linalg.svd(centred, full_matrices=False)
  return vt[:min(dims, vt.shape[0])].T


class FrechetScorer:
  """The label-free criterion of one run as a function of a refiner.

  Fixed samples of synthetic and real images, a fixed feature map and the
  real features' principal projection: `score(refiner)` is the Fréchet
  distance between the refined sample's and the real sample's projected
  features. SimGAN training stops when it stops improving
  (refiner/callbacks.py, StopWhenConverged) and `choose_snapshot` ranks the
  snapshots by it, so both see the same numbers.
  """

  def __init__(self, synthetic_images: np.ndarray, real_images: np.ndarray,
               feature_model: keras.Model, batch_size: int, dims: int = 64):
    self.synthetic_images = synthetic_images
    self.feature_model = feature_model
    self.batch_size = batch_size
    real = self._features(real_images)
    self.projection = principal_projection(
        real, max(1, min(dims, len(real) // 4)))
    self.real_projected = real @ self.projection

  def _features(self, images: np.ndarray) -> np.ndarray:
    return np.asarray(self.feature_model.predict(
        images, batch_size=self.batch_size, verbose=0), np.float64)

  def distance(self, images: np.ndarray) -> float:
    """Fréchet distance of images (refined synthetic ones) to the real."""
    return frechet_distance(self._features(images) @ self.projection,
                            self.real_projected)

  def unrefined(self) -> float:
    """The distance of the synthetic sample itself: what R must beat."""
    return self.distance(self.synthetic_images)

  def __call__(self, refiner: keras.Model) -> float:
    return self.distance(refiner.predict(
        self.synthetic_images, batch_size=self.batch_size, verbose=0))


def choose_snapshot(workdir: str, synthetic_images: np.ndarray,
                    real_images: np.ndarray, feature_model: keras.Model,
                    batch_size: int,
                    known: Optional[Dict[int, float]] = None
                   ) -> Dict[str, object]:
  """Ranks every snapshot of a refiner workdir; the closest to real wins.

  The unrefined synthetic images are scored like a snapshot: the distance a
  refiner has to beat.

  Args:
    workdir: a refiner.train workdir with snapshots.
    synthetic_images: a fixed sample of synthetic images to refine.
    real_images: a sample of real images.
    feature_model: images -> (n, d) features (the fixed feature map).
    batch_size: images per refiner / feature-model pass.
    known: unit -> distance already measured with these same samples and
      features (the SimGAN's own stopping scores); those snapshots are not
      refined again.

  Returns:
    unrefined_frechet_distance, snapshots (unit, name, frechet_distance
    of each, in order) and
    chosen (the best of them).

  Raises:
    DataError: the workdir holds no snapshots.
  """
  snapshots = workdir_lib.list_snapshots(workdir)
  if not snapshots:
    raise source_lib.DataError(workdir, "holds no refiner snapshots")
  known = known or {}
  refiner = (workdir_lib.load_refiner(workdir)
             if any(unit not in known for unit, _ in snapshots) else None)
  scorer = FrechetScorer(synthetic_images, real_images, feature_model,
                         batch_size)
  scores = []
  for unit, name in snapshots:
    if unit in known:
      distance = known[unit]
    else:
      workdir_lib.load_snapshot(refiner, workdir, name)
      distance = scorer(refiner)
    scores.append({"unit": unit, "name": name, "frechet_distance": distance})
  return {"unrefined_frechet_distance": scorer.unrefined(),
          "snapshots": scores,
          "chosen": min(scores, key=lambda s: s["frechet_distance"])}


def spearman(a: np.ndarray, b: np.ndarray) -> Optional[float]:
  """Spearman rank correlation of two score lists (None if undefined).

  Used to say whether the label-free criterion orders snapshots the way their
  downstream error does (+1: the same order).
  """
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
    return None
  return float(np.corrcoef(stats.rankdata(a), stats.rankdata(b))[0, 1])
