"""Tests of the validation split of a labelled source (data/source.py)."""

import numpy as np
import pytest

from core import estimator
from data import source as source_lib
from tests import helpers


def _source(n=10):
  return source_lib.ArraySource(
      "toy", np.arange(n, dtype=np.float32).reshape(n, 1, 1),
      source_lib.frame_for([f"{i}.png" for i in range(n)],
                           np.tile([0.0, 0.0, -1.0], (n, 1))))


def test_split_holds_out_the_seeds_images_and_names_both_parts():
  schedule = estimator.Schedule(validation_fraction=0.2, seed=0)
  train, validation = source_lib.split_train_validation(_source(), schedule)
  # default_rng(0).permutation(10) = [4 6 2 7 3 5 9 0 8 1].
  assert validation.filenames == ["4.png", "6.png"]
  assert train.filenames == ["0.png", "1.png", "2.png", "3.png", "5.png",
                             "7.png", "8.png", "9.png"]
  assert (train.description, validation.description) == ("toy[train]",
                                                          "toy[validation]")
  # The images follow the names.
  np.testing.assert_array_equal(validation.read_all().ravel(), [4.0, 6.0])


def test_subsets_are_nested_and_share_the_validation_images():
  schedule = estimator.Schedule(validation_fraction=0.2, seed=0)
  quarter = estimator.Schedule(validation_fraction=0.2, seed=0,
                               subset_fraction=0.25)
  train4x, val4x = source_lib.split_train_validation(_source(), schedule)
  train1x, val1x = source_lib.split_train_validation(_source(), quarter)
  assert train1x.filenames == ["2.png", "7.png"]
  assert set(train1x.filenames) <= set(train4x.filenames)
  assert val1x.filenames == val4x.filenames


def test_a_source_too_small_to_split_is_a_data_error():
  with helpers.raises_exactly(
      source_lib.DataError, "toy: 1 images leave none for training after "
      "a 0.1 validation split and a 1.0 subset"):
    source_lib.split_train_validation(_source(n=1), estimator.Schedule())


@pytest.mark.parametrize("name", ["../x.png", "/abs/x.png", "a/../../x.png",
                                  "..\\\\x.png", ""])
def test_names_from_data_stay_inside_the_output(tmp_path, name):
  with pytest.raises(source_lib.DataError) as raised:
    source_lib.path_inside(str(tmp_path), name, "cache.h5")
  assert str(raised.value).startswith(f"cache.h5: entry {name!r} is not a "
                                      "relative file name inside")


def test_a_symlink_out_of_the_output_is_refused(tmp_path):
  (tmp_path / "out").mkdir()
  (tmp_path / "out" / "link").symlink_to(tmp_path)
  with pytest.raises(source_lib.DataError):
    source_lib.path_inside(str(tmp_path / "out"), "link/x.png", "s")
  assert source_lib.path_inside(str(tmp_path / "out"), "sub/x.png", "s") == (
      str(tmp_path / "out" / "sub" / "x.png"))
