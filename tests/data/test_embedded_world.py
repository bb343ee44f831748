"""Tests of what the embedded worlds share (data/embedded/world.py)."""

import numpy as np
import pandas as pd
import pytest

from data import source as source_lib
from data.embedded import world
from tests import helpers

_KIND = "embedded-test"
_SPLITS = ("train", "test")
_DEFAULT_N = {(_KIND, "train"): 100, (_KIND, "test"): 10}


class _CountingSource(world.RenderedSource):
  """Image i is filled with i / 100; records the chunks it renders."""

  def __init__(self, n, chunk):
    frame = pd.DataFrame({"filename": [f"{i}.png" for i in range(n)]})
    super().__init__("counting", frame, (2, 3))
    self.chunk = chunk
    self.chunks = []

  def chunk_size(self):
    return self.chunk

  def render(self, indices):
    self.chunks.append(list(indices))
    return np.broadcast_to(
        (indices / 100.0).astype(np.float32)[:, None, None],
        (len(indices), 2, 3)).copy()


def test_read_renders_in_chunks_and_keeps_the_order():
  source = _CountingSource(10, chunk=3)
  images = source.read(np.array([9, 0, 4, 4, 7]))
  assert images.shape == (5, 2, 3, 1) and images.dtype == np.float32
  np.testing.assert_array_equal(images[:, 0, 0, 0],
                                np.float32([0.09, 0.0, 0.04, 0.04, 0.07]))
  assert sorted(source.chunks) == [[4, 7], [9, 0, 4]]


def test_read_splits_into_chunk_size_pieces():
  source = _CountingSource(10, chunk=4)
  source.read_all()
  assert sorted(source.chunks) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
  single = _CountingSource(10, chunk=16)
  np.testing.assert_array_equal(single.read_all(), source.read_all())
  assert single.chunks == [list(range(10))]


def test_empty_read():
  images = _CountingSource(3, chunk=2).read(np.array([], np.int64))
  assert images.shape == (0, 2, 3, 1) and images.dtype == np.float32


@pytest.mark.parametrize("indices", [[3], [-1], [0, 5]])
def test_out_of_range_indices_raise(indices):
  with helpers.raises_exactly(IndexError,
                              "counting: index out of range [0, 3)"):
    _CountingSource(3, chunk=2).read(np.array(indices))


def test_open_options_defaults_and_values():
  parsed, split, n, seed = world.open_options(_KIND, {}, _SPLITS, _DEFAULT_N)
  assert (split, n, seed) == ("train", 100, 0)
  assert parsed.where == _KIND
  _, split, n, seed = world.open_options(
      _KIND, {"split": "test", "seed": "4"}, _SPLITS, _DEFAULT_N)
  assert (split, n, seed) == ("test", 10, 4)
  parsed, _, n, _ = world.open_options(
      _KIND, {"n": "7", "views": "2"}, _SPLITS, _DEFAULT_N, extra=("views",))
  assert n == 7 and parsed.views() == (2,)


@pytest.mark.parametrize("options,fault", [
    ({"views": "2"}, "unknown option(s) ['views']; expected ['n', 'seed', "
     "'split']"),
    ({"split": "val"}, "option split='val' is not one of ['train', 'test']"),
    ({"n": "0"}, "option n=0 is below 1"),
    ({"n": "1e3"}, "option n='1e3' is not an integer"),
    ({"seed": "-2"}, "option seed=-2 is below 0"),
])
def test_open_options_faults(options, fault):
  with helpers.raises_exactly(source_lib.DataError, f"{_KIND}: {fault}"):
    world.open_options(_KIND, options, _SPLITS, _DEFAULT_N)


def test_image_shape():
  assert world.image_shape(_KIND, None, (35, 55)) == (35, 55)
  assert world.image_shape(_KIND, (36.0, 60), (35, 55)) == (36, 60)
  with helpers.raises_exactly(
      source_lib.DataError, f"{_KIND}: image size (0, 5) is not a positive "
      "(height, width)"):
    world.image_shape(_KIND, (0, 5), (35, 55))
