"""SimGAN training end to end: checkpoints, resume, export, snapshots."""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from core import provenance
from data import source as source_lib
from refiner import callbacks
from refiner import networks
from refiner import simgan
from refiner import train_lib
from refiner import workdir as workdir_lib
from tests import helpers


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
  hparams = _hparams()
  trainer = train_lib.train(hparams, syn, real, str(tmp_path),
                            checkpoint_every=4, log_every=1, image_every=3,
                            snapshot_every=2, progress=False)
  assert train_lib.status_line(trainer) == (
      f"finished at unit 9/9; workdir {tmp_path}")
  assert int(trainer.gan.units_done) == 3 + 2 + 4
  # Pretraining R: 3 steps; 4 iterations x Kg=2; D: 2 + 4 x Kd=1.
  assert int(trainer.gan.refiner_updates) == 3 + 8
  assert int(trainer.gan.discriminator_updates) == 2 + 4
  assert tf.train.latest_checkpoint(tmp_path / "ckpt").endswith("ckpt-9")
  events = [f for f in os.listdir(tmp_path / "tb")
            if f.startswith("events.out.tfevents")]
  assert events
  config = (tmp_path / "config.json").read_text()
  assert config == json.dumps(dataclasses.asdict(hparams), indent=2) + "\n"
  assert json.loads(config)["image_shape"] == [35, 55]
  refiner = keras.models.load_model(tmp_path / "refiner.keras")
  x = syn.read(np.arange(4))
  expected = trainer.gan.refiner_ema(x).numpy()
  np.testing.assert_allclose(refiner(x).numpy(), expected, atol=1e-5)
  served = tf.saved_model.load(str(tmp_path / "saved_model"))
  np.testing.assert_allclose(served.serve(tf.constant(x)).numpy(), expected,
                             atol=1e-5)
  # No temporary file or folder of the atomic writes is left.
  # The lock file stays (an empty file: the OS lock went with the run).
  assert sorted(os.listdir(tmp_path)) == [
      ".lock", "ckpt", "config.json", "provenance.json", "refiner.keras",
      "saved_model", "snapshots", "tb"]
  assert provenance.read(str(tmp_path))["fields"] == provenance.canonical({
      "hparams": dataclasses.asdict(hparams),
      "synthetic": {"spec": "syn", "made_by": None},
      "real": {"spec": "real", "made_by": None}})
  # Snapshots at the even adversarial units (units 6..9 are adversarial),
  # each with the weights of its own moment.
  snapshots = workdir_lib.list_snapshots(str(tmp_path))
  assert snapshots == [(6, "refiner-000006.weights.h5"),
                       (8, "refiner-000008.weights.h5")]
  last = workdir_lib.load_refiner(str(tmp_path), snapshots[-1][1])
  first = workdir_lib.load_refiner(str(tmp_path), snapshots[0][1])
  assert not np.allclose(first(x).numpy(), last(x).numpy())


def test_export_keeps_a_clipped_tanh_output(tmp_path):
  model = networks.build_refiner("gaze", output="clipped_tanh")
  w, b = model.get_layer("conv_out").get_weights()
  model.get_layer("conv_out").set_weights([w * 50, b])  # Many pixels at ±1.
  x, _ = _sources(n=4)
  x = x.read(np.arange(4))
  expected = model(x).numpy()
  assert (np.abs(expected) == 1).any()
  train_lib.export_refiner(model, str(tmp_path))
  loaded = workdir_lib.load_refiner(str(tmp_path))
  assert loaded.layers[-1].name == "clipped_tanh"
  np.testing.assert_array_equal(loaded(x).numpy(), expected)
  served = tf.saved_model.load(str(tmp_path / "saved_model"))
  np.testing.assert_array_equal(served.serve(tf.constant(x)).numpy(),
                                expected)


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


def _short_run(**kw):
  return _hparams(refiner_pretrain_steps=1, discriminator_pretrain_steps=1,
                  steps=2, **kw)


def test_run_training_stops_after_and_reports_where_it_stands(tmp_path):
  syn, real = _sources(n=12)
  workdir = str(tmp_path)
  stopped = train_lib.run_training(_short_run(), syn, real, workdir,
                                   stop_after=3, progress=False)
  assert train_lib.status_line(stopped) == (
      f"stopped (re-run to resume) at unit 3/4; workdir {workdir}")
  assert tf.train.latest_checkpoint(tmp_path / "ckpt").endswith("ckpt-3")
  assert not os.path.exists(os.path.join(workdir, "refiner.keras"))


@pytest.mark.slow
def test_run_training_is_seeded_by_hparams(tmp_path):
  syn, real = _sources(n=12)
  hp = _short_run()
  refiners = []
  for global_seed in (99, 7):  # Overridden by hparams.seed.
    keras.utils.set_random_seed(global_seed)
    workdir = str(tmp_path / str(global_seed))
    train_lib.run_training(hp, syn, real, workdir, progress=False)
    refiners.append(workdir_lib.load_refiner(workdir).get_weights())
  for a, b in zip(*refiners):
    np.testing.assert_array_equal(a, b)


def test_strategies():
  assert train_lib.make_strategy("default") is None
  assert isinstance(train_lib.make_strategy("mirrored"),
                    tf.distribute.MirroredStrategy)
  with pytest.raises(ValueError, match="unknown strategy 'tpu'; expected "
                     "one of default, mirrored"):
    train_lib.make_strategy("tpu")


def test_workdir_of_another_run_or_data_is_refused(tmp_path):
  syn, real = _sources()
  with train_lib.claim_workdir(str(tmp_path), _hparams(), syn, real):
    pass
  with train_lib.claim_workdir(str(tmp_path), _hparams(), syn, real):
    pass  # The same run resumes.
  for hparams, data, field, old, new in [
      (_hparams(lam=0.5), (syn, real), "hparams.lam", "1.0", "0.5"),
      (_hparams(refiner_output="clipped_tanh"), (syn, real),
       "hparams.refiner_output", '"tanh"', '"clipped_tanh"'),
      (_hparams(), (syn, source_lib.ArraySource(
          "other", real.read_all(), real.frame)), "real.spec", '"real"',
       '"other"')]:
    with helpers.raises_exactly(
        provenance.ProvenanceError,
        f"{tmp_path}: was made with {field}={old}, this run has "
        f"{field}={new}; use another folder, or --overwrite to start it "
        "afresh"):
      with train_lib.claim_workdir(str(tmp_path), hparams, *data):
        pass


def test_mismatched_real_and_synthetic_sizes(tmp_path):
  syn, _ = _sources()
  real = source_lib.ArraySource("small", np.zeros((4, 20, 30, 1), "f4"),
                                source_lib.frame_for(list("abcd")))
  with pytest.raises(source_lib.DataError, match="small: has 20x30 images"):
    train_lib.Trainer(_hparams(), syn, real, str(tmp_path))


def test_open_sources_at_a_size():
  synthetic, real = train_lib.open_sources(
      "embedded-eyes-sim?n=3", "embedded-eyes-real?n=5", (20, 30))
  assert (len(synthetic), synthetic.image_shape) == (3, (20, 30))
  assert (len(real), real.image_shape) == (5, (20, 30))
