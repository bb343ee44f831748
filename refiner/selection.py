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

from typing import Callable, Dict, List, Optional, Tuple

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


def rank_snapshots(snapshots: List[Tuple[int, str]],
                   refine: Callable[[str], np.ndarray],
                   features: Callable[[np.ndarray], np.ndarray],
                   real_images: np.ndarray,
                   dims: int = 64) -> List[Dict[str, object]]:
  """Scores each snapshot; lower is better.

  Args:
    snapshots: (unit, name) pairs.
    refine: name -> refined images of a fixed synthetic sample.
    features: images -> (n, d) features.
    real_images: a sample of real images.
    dims: principal components of the real features kept (at most n/4, so
      covariances stay well estimated).

  Returns:
    One dict per snapshot (unit, name, frechet_distance), in input order.
  """
  real_features = np.asarray(features(real_images), np.float64)
  projection = principal_projection(
      real_features, max(1, min(dims, len(real_features) // 4)))
  real_projected = real_features @ projection
  scores = []
  for unit, name in snapshots:
    refined = np.asarray(features(refine(name)), np.float64) @ projection
    scores.append({"unit": unit, "name": name,
                   "frechet_distance": frechet_distance(refined,
                                                        real_projected)})
  return scores


def choose_snapshot(workdir: str, synthetic_images: np.ndarray,
                    real_images: np.ndarray, feature_model: keras.Model,
                    batch_size: int) -> Dict[str, object]:
  """Ranks every snapshot of a refiner workdir; the closest to real wins.

  The unrefined synthetic images are scored like a snapshot: the distance a
  refiner has to beat.

  Args:
    workdir: a refiner.train workdir with snapshots.
    synthetic_images: a fixed sample of synthetic images to refine.
    real_images: a sample of real images.
    feature_model: images -> (n, d) features (the fixed feature map).
    batch_size: images per refiner / feature-model pass.

  Returns:
    unrefined_frechet_distance, snapshots (rank_snapshots' scores) and
    chosen (the best of them).

  Raises:
    DataError: the workdir holds no snapshots.
  """
  snapshots = workdir_lib.list_snapshots(workdir)
  if not snapshots:
    raise source_lib.DataError(workdir, "holds no refiner snapshots")
  refiner = workdir_lib.load_refiner(workdir)

  def refine(name):
    if not name:
      return synthetic_images
    workdir_lib.load_snapshot(refiner, workdir, name)
    return refiner.predict(synthetic_images, batch_size=batch_size,
                           verbose=0)

  def features(images):
    return feature_model.predict(images, batch_size=batch_size, verbose=0)

  scores = rank_snapshots([(0, "")] + snapshots, refine, features,
                          real_images)
  unrefined = scores.pop(0)["frechet_distance"]
  return {"unrefined_frechet_distance": unrefined, "snapshots": scores,
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
