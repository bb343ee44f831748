"""The k-NN gaze baseline (gaze/knn.py, Table 3)."""

import io

import numpy as np

from core import progress
from data import source as source_lib
from gaze import knn


def _train_source():
  rng = np.random.default_rng(2)
  images = rng.normal(size=(50, 5, 7, 1)).astype("f4")
  labels = rng.normal(size=(50, 3))
  labels /= np.linalg.norm(labels, axis=1, keepdims=True)
  return images, labels, source_lib.ArraySource(
      "t", images, source_lib.frame_for([str(i) for i in range(50)], labels))


def test_knn_recovers_the_label_of_a_matching_image():
  images, labels, train = _train_source()
  model = knn.KNNGaze(train, k=1)
  # Brightness and contrast changes do not change the neighbour.
  predicted = model.predict(images[[4, 9]] * 2.0 + 0.5)
  np.testing.assert_allclose(predicted, labels[[4, 9]], atol=1e-5)
  assert knn.KNNGaze(train, k=3).predict(images[:2]).shape == (2, 3)


def test_a_long_prediction_shows_progress(monkeypatch):
  images, _, train = _train_source()
  model = knn.KNNGaze(train, k=3)
  quick = io.StringIO()
  model.predict(images, batch_size=20, progress=quick)
  assert quick.getvalue() == ""  # Done within the delay: no line.
  # A clock that moves 2 s per reading: past the delay from the 2nd batch.
  now = [0.0]

  def tick():
    now[0] += 2.0
    return now[0]

  monkeypatch.setattr(progress.time, "monotonic", tick)
  slow = io.StringIO()
  model.predict(images, batch_size=20, progress=slow)
  assert [line.split()[1] for line in slow.getvalue().splitlines()] == [
      "40/50", "50/50"]
