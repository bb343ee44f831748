"""The gaze.evaluate binary, run as a user runs it (a subprocess)."""

import csv
import json
import os

import cv2
import keras
import numpy as np
import pytest

from data import source as source_lib
from tests import helpers


def test_a_workdir_without_a_model_is_one_error_line(tmp_path):
  proc = helpers.run_module("gaze.evaluate", f"--workdir={tmp_path}",
                            "--test=embedded-eyes-real?n=4", "--threads=1,1")
  model = os.path.join(str(tmp_path), "estimator.keras")
  helpers.assert_one_error_line(
      proc, f"error: {model}: no trained estimator (train one into "
      f"{tmp_path} first)")


@pytest.mark.slow
def test_evaluates_a_labelled_folder_exactly(tmp_path):
  # A model that predicts (0, 0, -1) for every image, and labels at 0, 4, 11
  # and 30 degrees of yaw from it.
  inputs = keras.Input((35, 55, 1))
  outputs = keras.layers.Dense(
      3, kernel_initializer="zeros",
      bias_initializer=keras.initializers.Constant([0.0, 0.0, -1.0]))(
          keras.layers.GlobalAveragePooling2D()(inputs))
  keras.Model(inputs, outputs).save(str(tmp_path / "estimator.keras"))
  folder = tmp_path / "test"
  folder.mkdir()
  angles = np.radians([0.0, 4.0, 11.0, 30.0])
  labels = np.stack([-np.sin(angles), np.zeros(4), -np.cos(angles)], 1)
  names = ["a.png", "b.png", "c.png", "d.png"]
  for name in names:
    cv2.imwrite(str(folder / name), np.full((35, 55), 128, np.uint8))
  source_lib.frame_for(names, labels).to_csv(folder / "labels.csv",
                                             index=False)
  proc = helpers.run_module("gaze.evaluate", f"--workdir={tmp_path}",
                            f"--test=folder:{folder}", "--batch_size=3",
                            "--threads=1,1")
  assert proc.returncode == 0, proc.stderr[-3000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result["n"] == 4
  assert result["mean_deg"] == pytest.approx(11.25, abs=1e-4)
  assert result["pct_within"]["5"] == 50.0
  out = tmp_path / "eval"
  assert json.loads((out / "metrics.json").read_text()) == result
  with open(out / "errors.csv") as f:
    assert [row["filename"] for row in csv.DictReader(f)] == names
  assert "--batch_size=3" in (out / "flags.txt").read_text()
