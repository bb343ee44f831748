"""The k-NN gaze baseline (gaze/knn.py, Table 3)."""

import numpy as np

from data import source as source_lib
from gaze import knn


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
