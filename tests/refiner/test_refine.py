"""`python -m refiner.refine` as a user runs it."""

import os

import cv2
import numpy as np
import pandas as pd
import pytest

from core import files
from data import source as source_lib
from refiner import networks
from refiner import workdir as workdir_lib
from tests import helpers


def test_missing_refiner_is_one_error_line(tmp_path):
  proc = helpers.run_module("refiner.refine", f"--workdir={tmp_path}",
                            "--input=embedded-eyes-sim?n=2",
                            f"--output={tmp_path / 'out'}")
  helpers.assert_one_error_line(
      proc,
      f"error: {tmp_path / 'refiner.keras'}: does not exist; train a refiner "
      "into this workdir first (python -m refiner.train)")
  assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_refines_a_png_folder_with_a_snapshot_keeping_labels(tmp_path):
  workdir = str(tmp_path / "run")
  os.makedirs(os.path.join(workdir, workdir_lib.SNAPSHOT_DIR))
  refiner = networks.build_refiner("gaze")
  files.save_model(refiner, os.path.join(workdir, workdir_lib.REFINER_FILE))
  # The snapshot: every weight zero, so every image refines to tanh(0) = 0.
  refiner.set_weights([np.zeros_like(w) for w in refiner.get_weights()])
  refiner.save_weights(workdir_lib.snapshot_path(
      workdir, workdir_lib.snapshot_name(10)))
  folder = str(tmp_path / "syn")
  os.makedirs(folder)
  rng = np.random.default_rng(0)
  for i in range(5):
    cv2.imwrite(os.path.join(folder, f"{i}.png"),
                rng.integers(0, 256, (35, 55), dtype=np.uint8))
  labels = pd.DataFrame({"filename": [f"{i}.png" for i in range(5)],
                         "gaze_x": np.arange(5) * 0.1, "gaze_y": -0.2,
                         "gaze_z": -0.97})
  labels.to_csv(os.path.join(folder, "labels.csv"), index=False)
  output = str(tmp_path / "refined")

  proc = helpers.run_module(
      "refiner.refine", f"--workdir={workdir}", f"--input=folder:{folder}",
      f"--output={output}", "--snapshot=refiner-000010.weights.h5",
      "--batch_size=2")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.strip() == (
      f"refined 5 images from folder:{folder} into {output}")
  assert sorted(os.listdir(output)) == sorted(os.listdir(folder))
  pd.testing.assert_frame_equal(
      pd.read_csv(os.path.join(output, "labels.csv")), labels)
  # All-zero weights refine every image to 0, mid-gray.
  image = cv2.imread(os.path.join(output, "3.png"), cv2.IMREAD_GRAYSCALE)
  np.testing.assert_array_equal(image, source_lib.unit_to_uint8(
      np.zeros((35, 55), np.float32)))


def test_a_file_name_from_data_cannot_write_outside_the_output(tmp_path):
  from data import cache  # pylint: disable=g-import-not-at-top
  workdir = tmp_path / "run"
  workdir.mkdir()
  files.save_model(networks.build_refiner("gaze"),
                   str(workdir / workdir_lib.REFINER_FILE))
  # An HDF5 cache whose second entry names a file above the output folder.
  names = ["ok.png", "../escape.png", "b.png"]
  cache.write_cache(
      source_lib.ArraySource("crafted", np.zeros((3, 35, 55), np.float32),
                             source_lib.frame_for(names)),
      str(tmp_path / "bad.h5"), log=None)
  output = tmp_path / "out"
  proc = helpers.run_module("refiner.refine", f"--workdir={workdir}",
                            f"--input=h5:{tmp_path / 'bad.h5'}",
                            f"--output={output}")
  line = helpers.one_error_line(proc)
  assert "entry '../escape.png' is not a relative file name inside the " \
         "output folder" in line and "bad.h5" in line
  # Refused before any image was written, inside the output or above it.
  assert not output.exists() and not (tmp_path / "escape.png").exists()


def test_a_negative_batch_size_is_refused(tmp_path):
  proc = helpers.run_module("refiner.refine", f"--workdir={tmp_path}",
                            "--input=embedded-eyes-sim?n=2",
                            f"--output={tmp_path / 'out'}", "--batch_size=-1")
  assert "--batch_size" in helpers.one_error_line(proc)
  assert os.listdir(tmp_path) == []
