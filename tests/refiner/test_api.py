"""The Python API: Refiner.load / refine and refiner.train on numpy arrays."""

import os

import keras
import numpy as np
import pytest

import refiner
from core import provenance
from data import source as source_lib
from refiner import workdir as workdir_lib
from tests import helpers

_SHAPE = (16, 24)
# The smallest run: the CPU-sized architecture, one unit of each phase but
# two adversarial ones, so the first snapshot differs from the export.
_TINY = dict(arch="hand-lite", batch_size=2, refiner_pretrain_steps=1,
             discriminator_pretrain_steps=1, steps=2, history_batches=1)


def _arrays(seed=0, n=8):
  rng = np.random.default_rng(seed)
  return (rng.integers(0, 128, (n, *_SHAPE), dtype=np.uint8),
          rng.integers(64, 256, (n, *_SHAPE), dtype=np.uint8))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """(workdir, the Refiner refiner.train returned, its synthetic images)."""
  workdir = str(tmp_path_factory.mktemp("api") / "run")
  synthetic, real = _arrays()
  r = refiner.train(synthetic, real, workdir, snapshot_every=1,
                    progress=False, **_TINY)
  return workdir, r, synthetic


def _predict(workdir, unit_images, snapshot=None):
  """What workdir.load_refiner's model predicts for (N, H, W, 1) images."""
  model = workdir_lib.load_refiner(workdir, snapshot)
  return model.predict(unit_images, verbose=0)


def test_three_lines_on_a_uint8_batch(trained):
  workdir, _, synthetic = trained
  r = refiner.Refiner.load(workdir)
  refined = r.refine(synthetic)
  assert refined.dtype == np.uint8 and refined.shape == synthetic.shape
  expected = _predict(workdir, source_lib.uint8_to_unit(synthetic)[..., None])
  np.testing.assert_array_equal(
      refined, source_lib.unit_to_uint8(expected)[..., 0])


def test_train_returns_the_workdirs_refiner(trained):
  workdir, r, synthetic = trained
  assert repr(r) == f"Refiner(path={workdir!r}, snapshot=None, channels=1)"
  assert r.channels == 1 and r.path == workdir and r.snapshot is None
  assert isinstance(r.model, keras.Model)
  np.testing.assert_array_equal(
      r.refine(synthetic), refiner.Refiner.load(workdir).refine(synthetic))


def test_one_image_gray_or_with_a_channel_axis(trained):
  _, r, synthetic = trained
  batch = r.refine(synthetic)
  one = r.refine(synthetic[3])
  assert one.shape == _SHAPE and one.dtype == np.uint8
  np.testing.assert_array_equal(one, batch[3])
  np.testing.assert_array_equal(r.refine(synthetic[3][..., None]),
                                batch[3][..., None])
  np.testing.assert_array_equal(r.refine(synthetic[..., None]),
                                batch[..., None])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floats_in_are_floats_out_as_the_model_predicts(trained, dtype):
  workdir, r, _ = trained
  x = np.random.default_rng(1).uniform(-1, 1, (5, *_SHAPE, 1)).astype(dtype)
  refined = r.refine(x, batch_size=2)  # Batches of 2, 2, 1.
  assert refined.dtype == dtype and refined.shape == x.shape
  assert np.all(np.abs(refined) <= 1)
  expected = _predict(workdir, x.astype(np.float32))
  # Not bit-equal: oneDNN's kernels on AVX-512 round a batch of 1 (the last
  # one here) differently from a batch of 5, by ~1e-7.
  np.testing.assert_allclose(refined, expected, rtol=0, atol=1e-6)


def test_any_image_size(trained):
  # R is fully convolutional (§3.2): trained on 16x24, it refines 9x31.
  workdir, r, _ = trained
  x = np.random.default_rng(2).integers(0, 256, (3, 9, 31), dtype=np.uint8)
  refined = r.refine(x)
  assert refined.shape == (3, 9, 31) and refined.dtype == np.uint8
  expected = _predict(workdir, source_lib.uint8_to_unit(x)[..., None])
  np.testing.assert_array_equal(
      refined, source_lib.unit_to_uint8(expected)[..., 0])


_SHAPES = "pass (H, W), (N, H, W), (H, W, 1) or (N, H, W, 1)"


@pytest.mark.parametrize("images,message", [
    (np.zeros((2, 16, 24, 3), np.uint8), "images of shape (2, 16, 24, 3) do "
     f"not fit this 1-channel refiner; {_SHAPES}"),
    (np.zeros((2, 2, 16, 24, 1), np.uint8), "images must be (H, W), (N, H, "
     "W), (H, W, 1) or (N, H, W, 1), got 5 axes (shape (2, 2, 16, 24, 1))"),
    (np.full((2, 16, 24), 255.0), "float images must be in [-1, 1] but span "
     "[255, 255]; pass 8-bit levels as uint8, or scale them to [-1, 1] "
     "(x / 127.5 - 1)"),
    (np.full((16, 24), np.nan, np.float32),
     "images hold NaN or infinite values"),
    (np.zeros((16, 24), np.int64), "images have dtype int64; pass uint8 "
     "levels (0..255) or floats in [-1, 1]"),
    (np.zeros((0, 16, 24), np.uint8), "images are empty (shape (0, 16, 24))"),
    (np.zeros((1, 24), np.uint8), "images of 1x24 pixels are too small for "
     "this refiner's padding; it needs at least 2 pixels a side"),
])
def test_bad_images_are_one_clear_error(trained, images, message):
  _, r, _ = trained
  with helpers.raises_exactly(ValueError, message):
    r.refine(images)


def test_load_a_keras_file_or_a_snapshot(trained):
  workdir, r, synthetic = trained
  keras_file = os.path.join(workdir, workdir_lib.REFINER_FILE)
  np.testing.assert_array_equal(
      refiner.Refiner.load(keras_file).refine(synthetic), r.refine(synthetic))
  (unit, name), _ = workdir_lib.list_snapshots(workdir)
  assert unit == 3  # After the first adversarial unit of 4.
  x = source_lib.uint8_to_unit(synthetic)
  expected = _predict(workdir, x[..., None], snapshot=name)[..., 0]
  assert not np.array_equal(expected, r.refine(x))  # Not the final weights.
  by_name = refiner.Refiner.load(workdir, snapshot=name)
  assert repr(by_name) == (
      f"Refiner(path={workdir!r}, snapshot={name!r}, channels=1)")
  by_path = refiner.Refiner.load(workdir_lib.snapshot_path(workdir, name))
  with_file = refiner.Refiner.load(keras_file, snapshot=name)
  for loaded in (by_name, by_path, with_file):
    assert loaded.snapshot == name
    np.testing.assert_array_equal(loaded.refine(x), expected)


def test_load_refuses_what_is_no_refiner(tmp_path):
  missing = str(tmp_path / "nothing")
  with helpers.raises_exactly(source_lib.DataError, (
      f"{missing}: does not exist; expected a refiner.train workdir or its "
      "refiner.keras")):
    refiner.Refiner.load(missing)
  stray = tmp_path / "refiner-000001.weights.h5"
  stray.write_bytes(b"")
  with helpers.raises_exactly(source_lib.DataError, (
      f"{stray}: is not in a workdir's snapshots/ folder; a snapshot loads "
      "into its workdir's refiner.keras")):
    refiner.Refiner.load(stray)


def test_train_refuses_a_workdir_of_other_images(trained):
  # The arrays' digest is part of the run's provenance.
  workdir, _, _ = trained
  synthetic, real = _arrays(seed=1)[0], _arrays()[1]
  with pytest.raises(provenance.ProvenanceError,
                     match='was made with synthetic.made_by='):
    refiner.train(synthetic, real, workdir, progress=False, **_TINY)


@pytest.mark.parametrize("synthetic,message", [
    (np.zeros((4, 16, 24, 3), np.uint8), "synthetic images must be a gray "
     "batch (N, H, W) or (N, H, W, 1), got shape (4, 16, 24, 3)"),
    (np.full((4, 16, 24), 200.0), "float synthetic images must be in [-1, 1] "
     "but span [200, 200]; pass 8-bit levels as uint8, or scale them to "
     "[-1, 1] (x / 127.5 - 1)"),
])
def test_train_refuses_bad_arrays_before_writing(tmp_path, synthetic, message):
  workdir = tmp_path / "run"
  with helpers.raises_exactly(ValueError, message):
    refiner.train(synthetic, _arrays()[1], str(workdir), **_TINY)
  assert not workdir.exists()


def test_import_refiner_alone_loads_no_tensorflow():
  """The package is cheap to import (binaries' --help); its names load on
  first use."""
  proc = helpers.run_python(
      "-c", "import sys, refiner; print('tensorflow' in sys.modules, "
      "callable(refiner.Refiner.load), 'tensorflow' in sys.modules)")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.split() == ["False", "True", "True"]


def test_a_fresh_interpreter_loads_after_from_refiner_import(trained):
  # Nothing but `from refiner import Refiner` registers the custom layers.
  workdir, r, synthetic = trained
  keras_file = os.path.join(workdir, workdir_lib.REFINER_FILE)
  code = (
      "import sys; import numpy as np; import keras\n"
      "from refiner import Refiner\n"
      "model = keras.models.load_model(sys.argv[1])\n"
      "images = np.load(sys.argv[2])\n"
      "np.save(sys.argv[3], Refiner.load(sys.argv[1]).refine(images))"
      "\nprint(model.name)\n")
  images = os.path.join(workdir, "..", "images.npy")
  out = os.path.join(workdir, "..", "refined.npy")
  np.save(images, synthetic)
  proc = helpers.run_python("-c", code, keras_file, images, out)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.split() == ["refiner_ema"]
  np.testing.assert_array_equal(np.load(out), r.refine(synthetic))
