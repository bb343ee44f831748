"""Tests of core/estimator_cli.py: the estimator binaries' flags and main.

The binaries themselves run as a user runs them in tests/gaze and
tests/handpose (test_train.py, test_evaluate.py).
"""

import dataclasses
import os

from absl import flags
import keras
import pytest

from core import estimator
from core import estimator_cli
from core import provenance
from tests import helpers

DEFAULTS = estimator.Schedule(batch_size=16, max_steps=200, eval_every=20,
                              max_validation=100)


def _define(optimizers=("adam", "sgd"), notes=None):
  """Schedule flags on their own FlagValues; returns (flag values, getter)."""
  flag_values = flags.FlagValues()
  schedule = estimator_cli.define_schedule_flags(DEFAULTS, optimizers, notes,
                                                 flag_values=flag_values)
  return flag_values, schedule


def test_flags_give_the_defaults_then_the_values_passed():
  flag_values, schedule = _define()
  flag_values(["prog"])
  assert schedule() == DEFAULTS
  flag_values, schedule = _define()
  flag_values(["prog", "--batch_size=4", "--learning_rate=0.01",
               "--optimizer=sgd", "--momentum=0.9", "--max_steps=30",
               "--eval_every=10", "--patience=3", "--lr_drops=2",
               "--lr_drop_factor=0.5", "--validation_fraction=0.2",
               "--max_validation=7", "--subset_fraction=0.25", "--seed=5",
               "--precision=mixed_bfloat16"])
  assert schedule() == estimator.Schedule(
      batch_size=4, learning_rate=0.01, optimizer="sgd", momentum=0.9,
      max_steps=30, eval_every=10, patience=3, lr_drops=2,
      lr_drop_factor=0.5, validation_fraction=0.2,
      max_validation=7, subset_fraction=0.25, seed=5,
      precision="mixed_bfloat16")


def test_only_the_tasks_optimizers_and_momentum_only_with_sgd():
  flag_values, schedule = _define(optimizers=("adam", "rmsprop"))
  assert "momentum" not in flag_values
  with pytest.raises(flags.IllegalFlagValueError):
    flag_values(["prog", "--optimizer=sgd"])
  flag_values, schedule = _define(optimizers=("adam", "rmsprop"))
  flag_values(["prog", "--optimizer=rmsprop"])
  assert schedule() == dataclasses.replace(DEFAULTS, optimizer="rmsprop")


def test_a_bad_value_is_a_one_line_value_error_in_main():
  flag_values, schedule = _define()
  flag_values(["prog", "--validation_fraction=1.5"])
  with pytest.raises(ValueError, match=r"^validation_fraction must be in "
                     r"\(0, 1\)$"):
    schedule()


def test_help_notes_follow_the_shared_help():
  flag_values, _ = _define(notes={"batch_size": "Paper: 512."})
  assert flag_values["batch_size"].help == "Images per step. Paper: 512."
  assert flag_values["patience"].help.startswith("Evaluations without")
  with pytest.raises(ValueError, match=r"unknown schedule flags: \['bach'\]"):
    _define(notes={"bach": "typo"})
  with pytest.raises(ValueError, match="default optimizer 'adam' is not one"):
    _define(optimizers=("sgd",))


def _evaluate_flags(*args):
  """EvaluateFlags on their own FlagValues, parsed from `args`."""
  flag_values = flags.FlagValues()
  evaluate_flags = estimator_cli.EvaluateFlags(8, flag_values=flag_values)
  flag_values(["prog", "--threads=tf", *args])
  return evaluate_flags


def test_evaluate_main_without_a_model_names_the_missing_file(tmp_path):
  evaluate_flags = _evaluate_flags(f"--workdir={tmp_path}", "--test=spec")
  path = os.path.join(str(tmp_path), estimator.ESTIMATOR)
  with helpers.raises_exactly(ValueError, f"{path}: no trained estimator "
                              f"(train one into {tmp_path} first)"):
    estimator_cli.evaluate_main(["prog"], evaluate_flags, None, None)


def test_evaluate_main_opens_the_test_source_at_the_model_size(tmp_path):
  model = keras.Sequential([keras.Input((6, 10, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(3)])
  model.save(str(tmp_path / estimator.ESTIMATOR))
  opened, evaluated = [], []

  def open_source(spec, image_size):
    opened.append((spec, image_size))
    return "the source"

  def evaluate(model, source, output_dir, batch_size):
    evaluated.append((model.input_shape, source, output_dir, batch_size))
    return {"n": 3}

  evaluate_flags = _evaluate_flags(f"--workdir={tmp_path}",
                                   "--test=embedded-eyes-real")
  result = estimator_cli.evaluate_main(["prog"], evaluate_flags, evaluate,
                                       open_source)
  assert result == {"n": 3}
  assert opened == [("embedded-eyes-real", (6, 10))]
  output = os.path.join(str(tmp_path), "eval")
  assert evaluated == [((None, 6, 10, 1), "the source", output, 8)]
  assert os.path.exists(os.path.join(output, "flags.txt"))


def test_train_main_builds_hparams_opens_at_the_size_and_trains(tmp_path):
  flag_values = flags.FlagValues()
  train_flags = estimator_cli.TrainFlags(DEFAULTS, ("adam",), "35x55",
                                         "a note", flag_values=flag_values)
  workdir = str(tmp_path / "run")
  flag_values(["prog", "--threads=tf", "--train=embedded-eyes-sim",
               f"--workdir={workdir}", "--image_size=6x10", "--seed=3"])
  calls = []

  @dataclasses.dataclass
  class HParams:
    seed: int

  class Source:
    def __init__(self, spec, size):
      self.spec, self.size = spec, size
      self.identity = {"spec": spec, "made_by": None}

  def train(hparams, source, directory):
    # The binary holds the workdir (and wrote flags.txt) before training.
    assert os.path.exists(os.path.join(directory, "flags.txt"))
    calls.append((hparams, source.spec, source.size, directory))
    return {"steps": 5, "hparams": "dropped"}

  stats = estimator_cli.train_main(
      ["prog"], train_flags, lambda schedule: HParams(schedule.seed),
      train, Source, lambda text: tuple(int(v) for v in text.split("x")))
  assert stats == {"steps": 5}
  assert calls == [(HParams(3), "embedded-eyes-sim", (6, 10), workdir)]
  assert provenance.read(workdir)["fields"] == {
      "hparams": {"seed": 3},
      "train": {"spec": "embedded-eyes-sim", "made_by": None}}
  assert flag_values["image_size"].help == (
      "HEIGHTxWIDTH the source is read at (a note).")
  with pytest.raises(ValueError, match="unexpected arguments: extra"):
    estimator_cli.train_main(["prog", "extra"], train_flags, None, None,
                             None, None)
