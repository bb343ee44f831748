"""Refining sources with a refiner, labels kept (refiner/refine_lib.py)."""

import os
import re

import cv2
import keras
import numpy as np
import pandas as pd

from data import source as source_lib
from data import specs
from refiner import refine_lib
from tests import helpers


def _source(n=10, seed=0):
  rng = np.random.default_rng(seed)
  images = rng.uniform(-1, 0, (n, 35, 55, 1)).astype("f4")
  frame = source_lib.frame_for([f"{i}.png" for i in range(n)],
                               rng.normal(size=(n, 3)))
  return source_lib.ArraySource("syn", images, frame)


def _negate():
  return keras.Sequential([keras.Input((None, None, 1)),
                           keras.layers.Lambda(lambda x: -x)])


def test_memoized_refined_source_refines_each_image_once():
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
  assert memo.description == "refined(ramp)"
  np.testing.assert_array_equal(memo.read([4, 1, 4]), lazy.read([4, 1, 4]))
  refined_counts.clear()
  np.testing.assert_array_equal(memo.read([1, 2, 4]), 0.5 * images[[1, 2, 4]])
  assert refined_counts == [1]  # only image 2 was new
  np.testing.assert_array_equal(memo.read([4, 1]), 0.5 * images[[4, 1]])
  assert refined_counts == [1]


def test_refine_source_keeps_labels_and_shows_progress(tmp_path, capsys):
  syn = _source()
  n = refine_lib.refine_source(_negate(), syn, str(tmp_path / "out"),
                               batch_size=4)
  assert n == 10
  labels = pd.read_csv(tmp_path / "out" / "labels.csv")
  pd.testing.assert_frame_equal(labels, syn.frame, check_exact=False)
  image = cv2.imread(str(tmp_path / "out" / "3.png"), cv2.IMREAD_GRAYSCALE)
  expected = source_lib.unit_to_uint8(-syn.read([3])[0, ..., 0])
  np.testing.assert_array_equal(image, expected)
  # One progress line per batch of 4: 4, 8, 10 images (whole lines: the
  # captured stderr is no terminal, and each batch passes a tenth).
  lines = capsys.readouterr().err.splitlines()
  assert [l.split(" ")[1] for l in lines] == ["4/10", "8/10", "10/10"]
  assert re.fullmatch(r"refine: 10/10 \(100\.0%\) [\d,.]+ img/s ETA 0m00s",
                      lines[-1])


def test_refining_again_into_a_folder_leaves_no_stale_labels(tmp_path):
  # labels.csv marks a complete refined copy: refining into a folder that
  # has one removes it first and writes the new one last.
  out = tmp_path / "out"
  first, second = _source(n=4, seed=0), _source(n=4, seed=1)

  def refine(source):
    return refine_lib.refine_source(_negate(), source, str(out),
                                    batch_size=2, show_progress=False)

  assert refine(first) == 4
  names = ["0.png", "1.png", "2.png", "3.png"]
  assert sorted(os.listdir(out)) == names + ["labels.csv"]
  # Killed at the third image, then at labels.csv (the fifth write).
  assert helpers.killed_at_write(3, lambda: refine(second)) == str(
      out / "2.png")
  assert sorted(os.listdir(out)) == names
  assert helpers.killed_at_write(5, lambda: refine(second)) == str(
      out / "labels.csv")
  assert sorted(os.listdir(out)) == names
  assert refine(second) == 4
  pd.testing.assert_frame_equal(pd.read_csv(out / "labels.csv"),
                                second.frame, check_exact=False)


def test_refine_source_into_a_cache_keeps_exact_values(tmp_path):
  syn = _source(n=5)
  path = str(tmp_path / "refined.h5")
  assert refine_lib.refine_source(_negate(), syn, path, batch_size=2,
                                  show_progress=False) == 5
  refined = specs.open_source(f"h5:{path}")
  assert len(refined) == 5
  np.testing.assert_allclose(refined.read(np.arange(5)),
                             -syn.read(np.arange(5)), atol=1e-3)
  pd.testing.assert_frame_equal(refined.frame, syn.frame, check_exact=False)


def _scaled(factor):
  """A one-weight refiner: x -> factor * x."""
  model = keras.Sequential([keras.Input((None, None, 1)),
                            keras.layers.Conv2D(1, 1, use_bias=False)])
  model.set_weights([np.full((1, 1, 1, 1), factor, np.float32)])
  return model


def test_a_refined_set_names_its_refiner_so_its_estimators_notice(tmp_path):
  from core import estimator  # pylint: disable=g-import-not-at-top
  from core import provenance  # pylint: disable=g-import-not-at-top
  from gaze import train_lib as gaze_lib  # pylint: disable=g-import-not-at-top
  path = str(tmp_path / "refined.h5")
  refine_lib.refine_source(_scaled(0.5), _source(), path,
                           show_progress=False)
  first = specs.open_source(f"h5:{path}")
  # The file records what it was written from: the refined images, whose
  # record names the refiner's weights and the input.
  assert first.made_by == provenance.digest(refine_lib.RefinedSource(
      _source(), _scaled(0.5)).identity)
  workdir = str(tmp_path / "estimator")
  hparams = gaze_lib.HParams()
  with estimator.open_workdir(workdir, hparams, first):
    pass
  # Refined again, by other weights, into the same file: the estimator's
  # workdir (trained on the old images) is refused.
  refine_lib.refine_source(_scaled(0.25), _source(), path,
                           show_progress=False)
  second = specs.open_source(f"h5:{path}")
  assert second.description == first.description
  assert second.made_by != first.made_by
  with helpers.raises_exactly(
      provenance.ProvenanceError,
      f'{workdir}: was made with train.made_by="{first.made_by}", this run '
      f'has train.made_by="{second.made_by}"; use another folder, or '
      "--overwrite to start it afresh"):
    with estimator.open_workdir(workdir, hparams, second):
      pass
