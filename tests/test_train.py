"""End-to-end SimGAN training: checkpoints, resume, export, refine, errors."""

import json
import os
import subprocess
import sys

import cv2
import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from data import source as source_lib
from refiner import callbacks
from refiner import refine_lib
from refiner import simgan
from refiner import train_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sources(n=24, seed=0):
  rng = np.random.default_rng(seed)
  syn = rng.uniform(-1, 0, (n, 35, 55, 1)).astype("f4")
  real = rng.uniform(0, 1, (n, 35, 55, 1)).astype("f4")
  frame = source_lib.frame_for([f"{i}.png" for i in range(n)],
                               rng.normal(size=(n, 3)))
  return (source_lib.ArraySource("syn", syn, frame),
          source_lib.ArraySource("real", real, source_lib.frame_for(
              [f"r{i}.png" for i in range(n)])))


def _hparams(**kw):
  base = dict(batch_size=4, refiner_pretrain_steps=3,
              discriminator_pretrain_steps=2, steps=4, history_batches=2,
              refiner_ema=0.9, seed=1)
  base.update(kw)
  return simgan.HParams(**base)


def _weights(trainer):
  gan = trainer.gan
  return ([v.numpy() for v in gan.refiner.weights] +
          [v.numpy() for v in gan.discriminator.weights] +
          [v.numpy() for v in gan.refiner_ema.weights] +
          [gan.history.images.numpy(), gan.history.count.numpy()])


def test_training_writes_checkpoint_summaries_and_exports(tmp_path):
  syn, real = _sources()
  trainer = train_lib.train(_hparams(), syn, real, str(tmp_path),
                            checkpoint_every=4, log_every=1, image_every=3,
                            snapshot_every=2, progress=False)
  assert trainer.finished
  assert int(trainer.gan.units_done) == 3 + 2 + 4
  # Pretraining R: 3 steps; 4 iterations x Kg=2; D: 2 + 4 x Kd=1.
  assert int(trainer.gan.refiner_updates) == 3 + 8
  assert int(trainer.gan.discriminator_updates) == 2 + 4
  assert tf.train.latest_checkpoint(tmp_path / "ckpt").endswith("ckpt-9")
  events = [f for f in os.listdir(tmp_path / "tb")
            if f.startswith("events.out.tfevents")]
  assert events
  config = json.loads((tmp_path / "config.json").read_text())
  assert config["arch"] == "gaze" and config["k_g"] == 2
  refiner = keras.models.load_model(tmp_path / "refiner.keras")
  x = syn.read(np.arange(4))
  expected = trainer.gan.refiner_ema(x).numpy()
  np.testing.assert_allclose(refiner(x).numpy(), expected, atol=1e-5)
  served = tf.saved_model.load(str(tmp_path / "saved_model"))
  np.testing.assert_allclose(served.serve(tf.constant(x)).numpy(), expected,
                             atol=1e-5)
  # Snapshots at the even adversarial units (units 6..9 are adversarial),
  # each with the weights of its own moment.
  snapshots = refine_lib.list_snapshots(str(tmp_path))
  assert [unit for unit, _ in snapshots] == [6, 8]
  last = refine_lib.load_refiner(str(tmp_path), snapshots[-1][1])
  first = refine_lib.load_refiner(str(tmp_path), snapshots[0][1])
  assert not np.allclose(first(x).numpy(), last(x).numpy())


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
  syn, real = _sources()
  hp = _hparams()
  keras.utils.set_random_seed(4)
  straight = train_lib.Trainer(hp, syn, real, str(tmp_path / "a"),
                               checkpoint_every=100)
  straight.fit()
  expected = _weights(straight)

  keras.utils.set_random_seed(4)
  first = train_lib.Trainer(hp, syn, real, str(tmp_path / "b"),
                            checkpoint_every=100)
  # Stop in the middle of the adversarial phase (unit 7 of 9).
  first.fit([callbacks.StopAfter(7)])
  assert int(first.gan.units_done) == 7 and not first.finished
  keras.utils.set_random_seed(123)   # a fresh process has other weights
  second = train_lib.Trainer(hp, syn, real, str(tmp_path / "b"),
                             checkpoint_every=100)
  assert int(second.gan.units_done) == 7
  second.fit()
  for a, b in zip(expected, _weights(second)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_workdir_of_another_architecture_is_refused(tmp_path):
  syn, real = _sources()
  train_lib.Trainer(_hparams(), syn, real, str(tmp_path))
  with pytest.raises(source_lib.DataError,
                     match="holds a checkpoint of architecture 'gaze', not "
                     "'hand'"):
    train_lib.check_workdir(str(tmp_path), _hparams(arch="hand"))
  with pytest.raises(source_lib.DataError, match="batch_size=4, not 8"):
    train_lib.check_workdir(str(tmp_path), _hparams(batch_size=8))


def test_mismatched_real_and_synthetic_sizes(tmp_path):
  syn, _ = _sources()
  real = source_lib.ArraySource("small", np.zeros((4, 20, 30, 1), "f4"),
                                source_lib.frame_for(list("abcd")))
  with pytest.raises(source_lib.DataError, match="small: has 20x30 images"):
    train_lib.Trainer(_hparams(), syn, real, str(tmp_path))


def test_refine_source_keeps_labels(tmp_path):
  syn, _ = _sources(n=10)
  refiner = keras.Sequential([keras.Input((None, None, 1)),
                              keras.layers.Lambda(lambda x: -x)])
  n = refine_lib.refine_source(refiner, syn, str(tmp_path / "out"),
                               batch_size=4, show_progress=False)
  assert n == 10
  labels = pd.read_csv(tmp_path / "out" / "labels.csv")
  pd.testing.assert_frame_equal(labels, syn.frame, check_exact=False)
  image = cv2.imread(str(tmp_path / "out" / "3.png"), cv2.IMREAD_GRAYSCALE)
  expected = source_lib.unit_to_uint8(-syn.read([3])[0, ..., 0])
  np.testing.assert_array_equal(image, expected)


def _run(*args, check=True):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=600)
  if check:
    assert proc.returncode == 0, proc.stderr[-3000:]
  return proc


def _png_folder(folder, n, value, labels):
  os.makedirs(folder)
  rng = np.random.default_rng(value)
  rows = []
  for i in range(n):
    image = np.clip(rng.normal(value, 20, (35, 55)), 0, 255).astype(np.uint8)
    cv2.imwrite(os.path.join(folder, f"{i:02d}.png"), image)
    rows.append((f"{i:02d}.png", 0.1 * i, -0.2, -0.97))
  if labels:
    pd.DataFrame(rows, columns=["filename", "gaze_x", "gaze_y", "gaze_z"]
                ).to_csv(os.path.join(folder, "labels.csv"), index=False)


def test_binaries_train_resume_and_refine_png_folders(tmp_path):
  syn, real = str(tmp_path / "syn"), str(tmp_path / "real")
  _png_folder(syn, 16, 90, labels=True)
  _png_folder(real, 16, 160, labels=False)
  workdir = str(tmp_path / "run")
  common = ["refiner.train", f"--synthetic=folder:{syn}",
            f"--real=folder:{real}", f"--workdir={workdir}",
            "--refiner_pretrain_steps=5", "--discriminator_pretrain_steps=5",
            "--steps=10", "--batch_size=4", "--checkpoint_every=5"]
  # A 20-unit run, interrupted after 12 units and then resumed.
  out = _run(*common, "--stop_after=12")
  assert "stopped (re-run to resume) at unit 12/20" in out.stdout
  assert not os.path.exists(os.path.join(workdir, "refiner.keras"))
  out = _run(*common)
  assert "finished at unit 20/20" in out.stdout
  assert "--batch_size=4" in open(os.path.join(workdir, "flags.txt")).read()
  for name in ("refiner.keras", "saved_model", "tb", "ckpt", "config.json"):
    assert os.path.exists(os.path.join(workdir, name)), name

  refined = str(tmp_path / "refined")
  out = _run("refiner.refine", f"--workdir={workdir}",
             f"--input=folder:{syn}", f"--output={refined}")
  assert "refined 16 images" in out.stdout
  assert sorted(os.listdir(refined)) == sorted(os.listdir(syn))
  pd.testing.assert_frame_equal(pd.read_csv(os.path.join(refined,
                                                         "labels.csv")),
                                pd.read_csv(os.path.join(syn, "labels.csv")))

  # Bad input: one line naming the path and the fault, nothing written.
  bad = _run("refiner.train", "--arch=hand", f"--synthetic=folder:{syn}",
             f"--real=folder:{real}", f"--workdir={workdir}", check=False)
  assert bad.returncode == 1
  assert bad.stderr.strip().splitlines()[-1] == (
      f"error: {workdir}: holds a checkpoint of architecture 'gaze', not "
      "'hand'; use another --workdir")
