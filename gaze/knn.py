"""k-nearest-neighbour gaze regression on synthetic images (Table 3's
"k-NN with UnityEyes" row, Wood et al. ETRA 2016, which we re-run).

Each image becomes a unit vector of its standardised pixels (mean 0,
std 1 per image, so global brightness and contrast do not count); a test
image's gaze is the normalised mean of the gaze labels of its k most similar
training images by cosine similarity.
"""

import sys
from typing import Optional, TextIO

import numpy as np

from core import progress as progress_lib
from data import source as source_lib


def _features(images: np.ndarray) -> np.ndarray:
  flat = images.reshape(len(images), -1).astype(np.float32)
  flat = flat - flat.mean(axis=1, keepdims=True)
  norm = np.linalg.norm(flat, axis=1, keepdims=True)
  return flat / np.maximum(norm, 1e-6)


class KNNGaze:
  """k-NN regressor over a labelled training source.

  Args:
    train: a source with gaze labels.
    k: neighbours averaged per prediction.
  """

  def __init__(self, train: source_lib.ImageSource, k: int = 5):
    if k < 1:
      raise ValueError(f"k must be positive, got {k}")
    self.k = min(k, len(train))
    self.features = _features(train.read_all())
    self.labels = train.labels(source_lib.GAZE_COLUMNS)

  def predict(self, images: np.ndarray, batch_size: int = 1024,
              progress: Optional[TextIO] = sys.stderr):
    """Gaze unit vectors (n, 3) for images (n, H, W, 1).

    A prediction that takes more than a few seconds (many test images
    against many training ones) shows a progress line on `progress`.
    """
    bar = progress_lib.Progress(len(images), "k-NN", "img", progress,
                                delay_seconds=3.0)
    out = []
    for start in range(0, len(images), batch_size):
      query = _features(images[start:start + batch_size])
      similarity = query @ self.features.T
      nearest = np.argpartition(-similarity, self.k - 1, axis=1)[:, :self.k]
      mean = self.labels[nearest].mean(axis=1)
      out.append(mean / np.maximum(np.linalg.norm(mean, axis=1,
                                                  keepdims=True), 1e-9))
      bar.update(len(query))
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)
