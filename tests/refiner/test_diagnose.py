"""`python -m refiner.diagnose` as a user runs it."""

import json

import keras
import numpy as np

from data import specs
from refiner import simgan
from refiner import train_lib
from tests import helpers

_SYN = "embedded-eyes-sim?n=8"
_REAL = "embedded-eyes-real?n=8"


def test_no_checkpoint_is_one_error_line(tmp_path):
  helpers.assert_one_error_line(
      helpers.run_module("refiner.diagnose", f"--workdir={tmp_path}",
                         f"--synthetic={_SYN}", f"--real={_REAL}"),
      f"error: {tmp_path / 'refiner.keras'}: does not exist; train a refiner "
      "into this workdir first (python -m refiner.train)")


def test_reports_d_per_patch_on_saturated_and_other_patches(tmp_path):
  # A D whose every weight is 0 but the last bias (5, 0): every patch of
  # every image gets the logits (5, 0), i.e. "real" (losses.REAL = 0) with
  # probability 1 / (1 + e^-5). Real patches are then all right and refined
  # ones all wrong, saturated or not.
  keras.utils.set_random_seed(0)
  workdir = str(tmp_path / "run")
  hparams = simgan.HParams(batch_size=2, refiner_pretrain_steps=1,
                           discriminator_pretrain_steps=1, steps=1)
  trainer = train_lib.Trainer(hparams, specs.open_source(_SYN),
                              specs.open_source(_REAL), workdir)
  d = trainer.gan.discriminator
  weights = [np.zeros_like(w) for w in d.get_weights()]
  assert weights[-1].shape == (2,)
  weights[-1] = np.array([5.0, 0.0], np.float32)
  d.set_weights(weights)
  trainer.gan.units_done.assign(3)
  trainer.manager.save(checkpoint_number=3)
  trainer.export()
  output = tmp_path / "saturation.json"
  proc = helpers.run_module(
      "refiner.diagnose", f"--workdir={workdir}", f"--synthetic={_SYN}",
      f"--real={_REAL}", "--images=4", f"--output={output}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  report = json.loads(output.read_text())
  assert (report["unit"], report["images"]) == (3, 4)
  h, w = d(np.zeros((1, 35, 55, 1), np.float32)).shape[1:3]
  confidence = 1 / (1 + np.exp(-5.0))
  for who, accuracy, probability in (("real", 1.0, confidence),
                                     ("refined", 0.0, 1 - confidence)):
    counts = [report[f"{who}_{kind}_patches"]
              for kind in ("saturated", "other")]
    assert sum(counts) == 4 * h * w
    for kind, n in zip(("saturated", "other"), counts):
      if n:
        assert report[f"{who}_{kind}_accuracy"] == accuracy
        np.testing.assert_allclose(report[f"{who}_{kind}_confidence"],
                                   probability, rtol=1e-5)
  assert "real patches called real: saturated" in proc.stdout
  assert proc.stdout.strip().endswith("(D of unit 3)")
