"""`python -m refiner.train` as a user runs it."""

import json
import os

import cv2
import numpy as np
import pandas as pd
import pytest

from tests import helpers


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


def test_bad_input_is_one_error_line_and_nothing_is_written(tmp_path):
  workdir = tmp_path / "run"
  helpers.assert_refused_before_writing(
      workdir, "refiner.train", "extra",
      line="error: unexpected arguments: extra")
  helpers.assert_refused_before_writing(
      workdir, "refiner.train", "--threads=two",
      line="error: --threads='two': expected auto, tf or INTRA,INTER")


def test_a_workdir_of_another_run_is_refused_and_left_as_is(tmp_path):
  workdir = tmp_path / "run"
  common = ("--synthetic=embedded-eyes-sim?n=8", "--real=embedded-eyes-real?n=8",
            f"--workdir={workdir}", "--batch_size=2",
            "--refiner_pretrain_steps=1", "--discriminator_pretrain_steps=1",
            "--steps=1", "--history_batches=1")
  assert helpers.run_module("refiner.train", *common).returncode == 0
  def stamps():  # The lock file is the lock's, touched by every attempt.
    return {p: os.path.getmtime(os.path.join(workdir, p))
            for p in os.listdir(workdir) if p != ".lock"}

  before = stamps()
  helpers.assert_one_error_line(
      helpers.run_module("refiner.train", *common, "--arch=hand-lite"),
      f'error: {workdir}: was made with hparams.arch="gaze", this run has '
      'hparams.arch="hand-lite"; use another folder, or --overwrite to start '
      "it afresh")
  # Refused before writing: flags.txt and the rest are as they were.
  assert stamps() == before
  proc = helpers.run_module("refiner.train", *common, "--lam=0.5",
                            "--overwrite")
  assert proc.returncode == 0, proc.stderr
  assert json.loads((workdir / "config.json").read_text())["lam"] == 0.5


def test_a_folder_not_made_by_the_project_is_refused(tmp_path):
  workdir = tmp_path / "run"
  workdir.mkdir()
  (workdir / "config.json").write_text(json.dumps({"arch": "gaze"}))
  for extra in ((), ("--overwrite",)):
    helpers.assert_one_error_line(
        helpers.run_module("refiner.train", "--synthetic=embedded-eyes-sim?n=4",
                           "--real=embedded-eyes-real?n=4",
                           f"--workdir={workdir}", *extra),
        f"error: {workdir}: holds files but no provenance.json (not made by "
        "this version of the project); choose another folder, or empty it "
        "first")
  assert os.listdir(workdir) == ["config.json"]


@pytest.mark.slow
def test_train_stop_and_resume_png_folders(tmp_path):
  syn, real = str(tmp_path / "syn"), str(tmp_path / "real")
  _png_folder(syn, 16, 90, labels=True)
  _png_folder(real, 16, 160, labels=False)
  workdir = str(tmp_path / "run")
  common = [f"--synthetic=folder:{syn}", f"--real=folder:{real}",
            f"--workdir={workdir}", "--refiner_pretrain_steps=5",
            "--discriminator_pretrain_steps=5", "--steps=10",
            "--batch_size=4", "--checkpoint_every=5", "--snapshot_every=5"]
  # A 20-unit run, interrupted after 12 units and then resumed.
  out = helpers.run_module("refiner.train", *common, "--stop_after=12")
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip().splitlines()[-1] == (
      f"stopped (re-run to resume) at unit 12/20; workdir {workdir}")
  assert not os.path.exists(os.path.join(workdir, "refiner.keras"))
  out = helpers.run_module("refiner.train", *common)
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip().splitlines()[-1] == (
      f"finished at unit 20/20; workdir {workdir}")
  assert "adversarial: 20/20 (100.0%)" in out.stderr
  flags_text = open(os.path.join(workdir, "flags.txt")).read()
  assert "--batch_size=4\n" in flags_text
  assert f"--workdir={workdir}\n" in flags_text
  assert sorted(os.listdir(workdir)) == [
      ".lock", "ckpt", "config.json", "flags.txt", "provenance.json",
      "refiner.keras", "saved_model", "snapshots", "tb"]
  assert sorted(os.listdir(os.path.join(workdir, "snapshots"))) == [
      "refiner-000015.weights.h5", "refiner-000020.weights.h5"]


def test_a_diverged_run_is_one_error_line_and_exports_nothing(tmp_path):
  # Learning rates of 1e9 overflow the weights within a few updates.
  workdir = tmp_path / "run"
  done = helpers.run_module(
      "refiner.train", "--synthetic=embedded-eyes-sim?n=16",
      "--real=embedded-eyes-real?n=16", f"--workdir={workdir}",
      "--refiner_learning_rate=1e9", "--discriminator_learning_rate=1e9",
      "--refiner_pretrain_steps=3", "--discriminator_pretrain_steps=2",
      "--steps=4", "--batch_size=4", "--checkpoint_every=2",
      "--snapshot_every=2")
  line = helpers.one_error_line(done)
  assert line.startswith(f"error: {workdir}: refiner/")
  assert "is nan at unit " in line and "training diverged" in line
  # No refiner, no snapshot: nothing a later stage could take as a result.
  assert not {"refiner.keras", "saved_model", "snapshots"} & set(
      os.listdir(workdir))


@pytest.mark.parametrize("flag", ["--batch_size=0", "--steps=-5",
                                  "--lam=-1"])
def test_out_of_range_flags_are_refused_at_parse_time(tmp_path, flag):
  workdir = tmp_path / "run"
  proc = helpers.run_module("refiner.train", flag,
                            "--synthetic=embedded-eyes-sim?n=4",
                            "--real=embedded-eyes-real?n=4",
                            f"--workdir={workdir}")
  line = helpers.one_error_line(proc)
  assert flag.split("=")[0] in line
  assert not workdir.exists()


def test_xla_training_runs_although_its_max_pool_gradient_is_not_deterministic(
    tmp_path):
  # Under deterministic ops XLA refuses D's MaxPool gradient; --xla trains
  # with TensorFlow's default ops instead.
  proc = helpers.run_module(
      "refiner.train", "--synthetic=embedded-eyes-sim?n=8",
      "--real=embedded-eyes-real?n=8", f"--workdir={tmp_path / 'run'}",
      "--batch_size=2", "--refiner_pretrain_steps=1",
      "--discriminator_pretrain_steps=1", "--steps=1", "--history_batches=1",
      "--xla", "--threads=1,1")
  assert proc.returncode == 0, proc.stderr[-3000:]
