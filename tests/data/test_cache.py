"""Tests of the HDF5 cache (data.cache) and its writer binary (data.prepare)."""

import concurrent.futures
import io
import os
import pickle

import cv2
import h5py
import numpy as np
import pandas as pd
import pytest

from data import cache
from data import source as source_lib
from data import specs
from tests import helpers


def _gray_source(n=50, shape=(7, 11), seed=0):
  """An 8-bit source with float, int and string labels."""
  rng = np.random.default_rng(seed)
  levels = rng.integers(0, 256, (n, *shape)).astype(np.uint8)
  frame = pd.DataFrame({
      "filename": [f"sub/{i:05d}.png" for i in range(n)],
      "gaze_x": rng.normal(size=n),
      "eye": ["left" if i % 2 else "right" for i in range(n)],
      "person": np.arange(n, dtype=np.int64) % 3,
  })
  return source_lib.ArraySource("gray", source_lib.uint8_to_unit(levels),
                                frame)


class CountingSource(source_lib.ImageSource):
  """Delegates to another source and records the size of every read."""

  def __init__(self, inner):
    super().__init__(inner.description, inner.frame, inner.image_shape)
    self.inner = inner
    self.sizes = []

  def read(self, indices):
    self.sizes.append(len(indices))
    return self.inner.read(indices)

  def read_all(self):
    raise AssertionError("read_all must not be used by write_cache")


def test_round_trip_of_8bit_images_is_exact(tmp_path):
  source = _gray_source()
  path = str(tmp_path / "c.h5")
  cache.write_cache(source, path, chunk=16, log=None)
  cached = specs.open_source(f"h5:{path}")
  assert cached.storage == "uint8" and cached.image_shape == (7, 11)
  assert np.array_equal(cached.read_all(), source.read_all())
  pd.testing.assert_frame_equal(cached.frame, source.frame)
  assert cached.frame["person"].dtype == np.int64
  # Unsorted, repeated indices come back in the order asked.
  indices = np.array([5, 1, 5, 49, 0])
  assert np.array_equal(cached.read(indices), source.read(indices))
  with h5py.File(path) as f:
    assert f["images"].dtype == np.uint8
    assert f["images"].compression == "lzf"
    assert f.attrs["spec"] == "gray" and f.attrs["complete"]


def test_round_trip_of_other_images_within_float16(tmp_path):
  rng = np.random.default_rng(1)
  images = rng.uniform(-1, 1, (20, 9, 9, 1)).astype(np.float32)
  source = source_lib.ArraySource(
      "depth", images, source_lib.frame_for([f"{i}.png" for i in range(20)]))
  path = str(tmp_path / "f.h5")
  cache.write_cache(source, path, chunk=6, spec="nyu:x", log=None)
  cached = cache.open_cache(path)
  assert cached.storage == "float16"
  assert np.abs(cached.read_all() - images).max() <= 2.0**-11
  assert np.abs(cached.read_all() - images).max() > 0


def test_switches_to_float16_when_a_later_chunk_is_not_8bit(tmp_path):
  source = _gray_source(n=30)
  images = source.read_all().copy()
  images[25, 0, 0, 0] = 0.3  # not a gray level
  mixed = source_lib.ArraySource("mixed", images, source.frame)
  path = str(tmp_path / "m.h5")
  cache.write_cache(mixed, path, chunk=8, log=None)
  cached = cache.open_cache(path)
  assert cached.storage == "float16"
  assert np.abs(cached.read_all() - images).max() <= 2.0**-11
  with h5py.File(path) as f:
    assert list(f.keys()) == ["frame", "images"]


def test_streams_in_chunks_and_reports_progress(tmp_path):
  source = CountingSource(_gray_source(n=50))
  log = io.StringIO()
  cache.write_cache(source, str(tmp_path / "s.h5"), chunk=8, log=log)
  assert source.sizes == [8, 8, 8, 8, 8, 8, 2]
  # One progress line per chunk (each passes a tenth of the total).
  text = log.getvalue()
  assert text.endswith("\n") and "\r" not in text
  lines = text.splitlines()
  assert [line.split()[1] for line in lines] == [
      "8/50", "16/50", "24/50", "32/50", "40/50", "48/50", "50/50"]
  assert lines[-1].startswith("prepare: 50/50 (100.0%)")
  assert "images/s" in lines[0] and "ETA 0m00s" in lines[0]


def test_chunks_shrink_to_the_byte_cap(tmp_path, monkeypatch):
  monkeypatch.setattr(cache, "MAX_CHUNK_BYTES", 5 * 7 * 11 * 4)
  source = CountingSource(_gray_source(n=12))
  cache.write_cache(source, str(tmp_path / "s.h5"), chunk=8, log=None)
  assert source.sizes == [5, 5, 2]


def test_failed_prepare_leaves_no_cache(tmp_path):
  class Failing(CountingSource):

    def read(self, indices):
      if indices[0] >= 16:
        raise RuntimeError("disk gone")
      return super().read(indices)

  path = str(tmp_path / "x.h5")
  with pytest.raises(RuntimeError, match="disk gone"):
    cache.write_cache(Failing(_gray_source()), path, chunk=8, log=None)
  assert os.listdir(tmp_path) == []

  images = _gray_source(n=4).read_all().copy()
  images[2, 1, 1, 0] = np.nan
  broken = source_lib.ArraySource("broken", images, _gray_source(n=4).frame)
  with pytest.raises(source_lib.DataError, match="broken: images 0..3 hold "
                     "NaN"):
    cache.write_cache(broken, path, log=None)
  assert os.listdir(tmp_path) == []


def test_incomplete_truncated_corrupt_and_missing_caches(tmp_path):
  path = str(tmp_path / "c.h5")
  cache.write_cache(_gray_source(n=200, shape=(20, 20)), path, log=None)
  size = os.path.getsize(path)

  truncated = str(tmp_path / "t.h5")
  with open(path, "rb") as f, open(truncated, "wb") as g:
    g.write(f.read(size // 2))
  with pytest.raises(source_lib.DataError, match="t.h5: is not a readable"):
    specs.open_source(f"h5:{truncated}")

  incomplete = str(tmp_path / "i.h5")
  with h5py.File(incomplete, "w") as f:
    f.create_dataset("images", data=np.zeros((2, 3, 3), np.uint8))
  with pytest.raises(source_lib.DataError, match="i.h5: is an incomplete"):
    specs.open_source(f"h5:{incomplete}")

  corrupt = str(tmp_path / "r.h5")
  with open(corrupt, "wb") as f:
    f.write(os.urandom(4096))
  with pytest.raises(source_lib.DataError, match="r.h5: is not a readable"):
    specs.open_source(f"h5:{corrupt}")

  with pytest.raises(source_lib.DataError, match="nope.h5: is missing"):
    specs.open_source(f"h5:{tmp_path}/nope.h5")
  with pytest.raises(source_lib.DataError, match="holds 20x20 images but "
                     "35x55"):
    specs.open_source(f"h5:{path}", image_size=(35, 55))


def test_concurrent_reads_and_pickling(tmp_path):
  source = _gray_source(n=64)
  path = str(tmp_path / "c.h5")
  cache.write_cache(source, path, log=None)
  cached = cache.open_cache(path)
  batches = [np.arange(i, 64, 7) for i in range(7)]
  with concurrent.futures.ThreadPoolExecutor(4) as pool:
    results = list(pool.map(cached.read, batches * 4))
  for indices, images in zip(batches * 4, results):
    assert np.array_equal(images, source.read(indices))
  copy = pickle.loads(pickle.dumps(cached))  # no open handle travels
  assert np.array_equal(copy.read([3]), source.read([3]))
  cached.close()
  assert np.array_equal(cached.read([4]), source.read([4]))  # reopens


def test_a_forked_child_opens_its_own_handle(tmp_path, monkeypatch):
  source = _gray_source(n=8)
  path = str(tmp_path / "c.h5")
  cache.write_cache(source, path, log=None)
  cached = cache.open_cache(path)
  cached.read([0])
  parent_handle = cached._file
  monkeypatch.setattr(cache.os, "getpid", lambda: -1)  # as in a child
  assert np.array_equal(cached.read([2, 1]), source.read([2, 1]))
  assert cached._file is not parent_handle


def test_pipeline_streams_from_the_cache(tmp_path):
  from data import pipeline  # imports TensorFlow
  source = _gray_source(n=40)
  path = str(tmp_path / "c.h5")
  cache.write_cache(source, path, log=None)
  cached = cache.open_cache(path)
  # in_memory_bytes=0 forces batch-by-batch reads through source.read.
  got = list(pipeline.stream(cached, 16, seed=3, num_batches=3,
                             label_columns=["gaze_x"], in_memory_bytes=0))
  want = list(pipeline.stream(source, 16, seed=3, num_batches=3,
                              label_columns=["gaze_x"]))
  for (gi, gl), (wi, wl) in zip(got, want):
    assert np.array_equal(gi.numpy(), wi.numpy())
    assert np.array_equal(gl.numpy(), wl.numpy())


def test_prepare_binary_on_a_folder(tmp_path):
  folder = tmp_path / "pngs"
  folder.mkdir()
  rng = np.random.default_rng(2)
  levels = rng.integers(0, 256, (5, 12, 20)).astype(np.uint8)
  for i, image in enumerate(levels):
    cv2.imwrite(str(folder / f"{i}.png"), image)
  pd.DataFrame({"filename": [f"{i}.png" for i in range(5)],
                "gaze_x": np.arange(5) / 10}).to_csv(folder / "labels.csv",
                                                      index=False)
  output = str(tmp_path / "out" / "eyes.h5")
  run = helpers.run_module("data.prepare", f"--source=folder:{folder}",
                           f"--output={output}", "--image_size=6x10",
                           "--chunk=2", timeout=120)
  assert run.returncode == 0, run.stderr
  assert run.stderr.count("prepare: ") == 3
  assert "prepare: 5/5 (100.0%)" in run.stderr
  cached = specs.open_source(f"h5:{output}")
  expected = cv2.resize(levels[3], (10, 6), interpolation=cv2.INTER_AREA)
  assert np.array_equal(source_lib.unit_to_uint8(cached.read([3])[0, ..., 0]),
                        expected)
  assert cached.frame["gaze_x"].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]
  with h5py.File(output) as f:
    assert f.attrs["spec"] == f"folder:{folder}"
  assert not os.path.exists(output + ".tmp")


def test_damaged_attributes_frame_and_pixels(tmp_path):
  path = str(tmp_path / "c.h5")

  def refused(change, fault):
    cache.write_cache(_gray_source(n=4), path, log=None)
    with h5py.File(path, "r+") as f:
      change(f)
    with helpers.raises_exactly(source_lib.DataError, f"{path}: {fault}"):
      cache.open_cache(path).read_all()

  refused(lambda f: f.attrs.create("image_shape", 7),
          "has attributes count=4, image_shape=(7,), storage='uint8'; not "
          "a cache of images")
  refused(lambda f: f.attrs.create("storage", "int64"),
          "has attributes count=4, image_shape=(7, 11), storage='int64'; not "
          "a cache of images")
  refused(lambda f: f.attrs.create("count", "four"),
          "is not a readable data.prepare cache (ValueError: invalid literal "
          "for int() with base 10: 'four')")
  refused(lambda f: f.attrs.create("format_version", "\n"),
          "has cache format , this code reads format 1; prepare it again")
  refused(lambda f: f["frame"].move("c000", "c009"),
          "has no filename as its first frame column")

  # Pixels of a float16 cache that are not finite (flipped bits).
  images = np.zeros((3, 4, 5, 1), np.float32) + 0.3
  source = source_lib.ArraySource("f", images, source_lib.frame_for(
      ["a", "b", "c"]))
  cache.write_cache(source, path, log=None)
  with h5py.File(path, "r+") as f:
    f["images"][1, 2, 3] = np.inf
  cached = cache.open_cache(path)
  assert cached.read([0, 2]).shape == (2, 4, 5, 1)
  with helpers.raises_exactly(
      source_lib.DataError,
      f"{path}: holds NaN or infinite pixel values (a damaged file?)"):
    cached.read([1])
