"""Choosing a refiner snapshot without real labels.

In the S+U setting no real label may guide training, so "until the
validation error converges" cannot pick the refiner. We pick the snapshot
whose refined images are closest to the real images in distribution,
measured as the Fréchet distance between Gaussian fits of their features
(the construction of FID, Heusel et al. 2017) under a fixed feature map —
in the gaze benchmark, the penultimate layer of the gaze CNN trained on
*synthetic* images, so the distance weighs what matters for gaze.
"""

from typing import Callable, Dict, List, Tuple

import numpy as np
import scipy.linalg


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


def rank_snapshots(snapshots: List[Tuple[int, str]],
                   refine: Callable[[str], np.ndarray],
                   features: Callable[[np.ndarray], np.ndarray],
                   real_images: np.ndarray) -> List[Dict[str, object]]:
  """Scores each snapshot; lower is better.

  Args:
    snapshots: (unit, name) pairs.
    refine: name -> refined images of a fixed synthetic sample.
    features: images -> (n, d) features.
    real_images: a sample of real images.

  Returns:
    One dict per snapshot (unit, name, frechet_distance), in input order.
  """
  real_features = features(real_images)
  scores = []
  for unit, name in snapshots:
    distance = frechet_distance(features(refine(name)), real_features)
    scores.append({"unit": unit, "name": name,
                   "frechet_distance": distance})
  return scores
