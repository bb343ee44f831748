"""--set KEY=VALUE on a reproduction's preset (reproduce_cli.override_preset)
and where a changed preset shows: provenance, results and the tables."""

import pytest

from benchmarks import report
from benchmarks import reproduce_cli
from benchmarks import table2_lib
from benchmarks import table4_lib
from core import provenance
from tests import helpers

_TABLE2 = table2_lib.Reproduction.preset_targets()
_TABLE4 = table4_lib.Reproduction.preset_targets()


def _table2(*settings, preset="quick"):
  return reproduce_cli.override_preset(table2_lib.PRESETS[preset], settings,
                                       _TABLE2)


def test_the_issue_example_sets_a_field_of_each_kind():
  quick = table2_lib.PRESETS["quick"]
  preset = _table2("simgan.steps=2000", "schedule.max_steps=3000",
                   "n_synthetic=2000")
  assert preset.n_synthetic == 2000
  assert preset.simgan == dict(batch_size=16, refiner_pretrain_steps=100,
                               discriminator_pretrain_steps=50, steps=2000,
                               history_batches=100)
  assert preset.schedule == dict(batch_size=64, max_steps=3000,
                                 eval_every=100, patience=3,
                                 min_improvement=0.01, max_validation=1000)
  assert preset.name == "quick" and preset.n_real == quick.n_real
  # The preset itself is left as it was.
  assert (quick.n_synthetic, quick.simgan["steps"],
          quick.schedule["max_steps"]) == (6000, 1500, 4000)
  assert _table2() == quick


def test_values_take_the_type_of_their_field():
  preset = _table2("simgan.lam=2", "simgan.history_buffer=false",
                   "simgan.jit_compile=YES", "simgan.optimizer=sgd",
                   "schedule.learning_rate=5e-4", "refiner_patience=0",
                   "description=mine")
  assert preset.simgan["lam"] == 2.0 and isinstance(preset.simgan["lam"],
                                                    float)
  assert preset.simgan["history_buffer"] is False
  assert preset.simgan["jit_compile"] is True
  assert preset.simgan["optimizer"] == "sgd"
  assert preset.schedule["learning_rate"] == 5e-4
  assert (preset.refiner_patience, preset.description) == (0, "mine")


def test_a_later_setting_wins():
  assert _table2("simgan.steps=10", "simgan.steps=20").simgan["steps"] == 20


def test_the_hand_estimator_fields_are_settable():
  preset = reproduce_cli.override_preset(
      table4_lib.PRESETS["smoke"],
      ["estimator.filters=16", "estimator.augment=false", "image_size=48",
       "simgan.arch=hand"], _TABLE4)
  assert preset.estimator == dict(filters=16, heatmap_size=16, depth=2,
                                  num_stacks=1, augment=False)
  assert (preset.image_size, preset.simgan["arch"]) == (48, "hand")


_SIMGAN_KEYS = (
    "['arch', 'batch_size', 'refiner_pretrain_steps', "
    "'discriminator_pretrain_steps', 'steps', 'k_g', 'k_d', 'lam', "
    "'reduction', 'psi', 'adversarial_loss', 'history_buffer', "
    "'history_batches', 'optimizer', 'refiner_learning_rate', "
    "'discriminator_learning_rate', 'momentum', 'refiner_ema', "
    "'padding_mode', 'refiner_output', 'd_padding', 'jit_compile']")


@pytest.mark.parametrize("setting, message", [
    ("simgan.stepz=5", "--set simgan.stepz=5: unknown key 'simgan.stepz'; "
     f"expected simgan.KEY with KEY one of {_SIMGAN_KEYS}"),
    ("simgan.steps=abc",
     "--set simgan.steps=abc: simgan.steps takes an integer, got 'abc'"),
    ("simgan.steps=2.5",
     "--set simgan.steps=2.5: simgan.steps takes an integer, got '2.5'"),
    ("simgan.lam=-1",
     "--set simgan.lam=-1: simgan.lam must be a finite number >= 0, got "
     "'-1'"),
    ("simgan.lam=inf",
     "--set simgan.lam=inf: simgan.lam must be a finite number >= 0, got "
     "'inf'"),
    ("simgan.history_buffer=maybe", "--set simgan.history_buffer=maybe: "
     "simgan.history_buffer is true or false, got 'maybe'"),
    ("name=mine", "--set name=mine: the preset's name cannot be set "
     "(choose the preset with --preset)"),
    ("simgan.seed=3", "--set simgan.seed=3: simgan.seed is set by the run "
     "itself (from --seed, --precision, the data or the row), not by the "
     "preset"),
    ("schedule.subset_fraction=0.5", "--set schedule.subset_fraction=0.5: "
     "schedule.subset_fraction is set by the run itself (from --seed, "
     "--precision, the data or the row), not by the preset"),
    ("n_synth=5", "--set n_synth=5: unknown key 'n_synth'; expected one of "
     "['n_synthetic', 'n_real', 'n_test', 'snapshot_every', "
     "'refiner_patience', 'selection_images', 'study_snapshots', "
     "'knn_k', 'description', 'simgan.KEY', 'schedule.KEY', "
     "'estimator.KEY']"),
    ("simgan={}", "--set simgan={}: unknown key 'simgan'; expected one of "
     "['n_synthetic', 'n_real', 'n_test', 'snapshot_every', "
     "'refiner_patience', 'selection_images', 'study_snapshots', "
     "'knn_k', 'description', 'simgan.KEY', 'schedule.KEY', "
     "'estimator.KEY']"),
    ("model.depth=3", "--set model.depth=3: unknown key 'model.depth'; a "
     "dotted key is GROUP.KEY with GROUP one of ['simgan', 'schedule', "
     "'estimator']"),
    ("simgan.steps", "--set simgan.steps: expected KEY=VALUE"),
    # The target dataclass's own checks, named as --set.
    ("schedule.optimizer=adm", "--set schedule.optimizer=adm: optimizer must "
     "be one of ['adam', 'sgd', 'rmsprop'], got 'adm'"),
    ("schedule.batch_size=0",
     "--set schedule.batch_size=0: batch_size must be positive"),
])
def test_a_bad_setting_is_one_line_naming_it(setting, message):
  with helpers.raises_exactly(ValueError, message):
    _table2("simgan.steps=7", setting)


def test_a_changed_preset_is_recorded_and_noted(tmp_path):
  preset = _table2("simgan.steps=7", "n_synthetic=100", "simgan.k_g=3",
                   preset="smoke")
  run = table2_lib.Reproduction(preset, table2_lib.embedded_sources(preset),
                                str(tmp_path))
  assert run.preset_overrides() == {"n_synthetic": 100, "simgan.steps": 7,
                                    "simgan.k_g": 3}
  assert run.simgan_hparams().steps == 7  # What the SimGAN trains with.
  assert report.overrides_note({"preset": "smoke",
                                "preset_overrides": run.preset_overrides()}
                              ) == (
      "Preset smoke with --set n_synthetic=100, simgan.steps=7, "
      "simgan.k_g=3 (the preset changed: these are not its numbers).")
  plain = table2_lib.PRESETS["smoke"]
  assert table2_lib.Reproduction(plain, table2_lib.embedded_sources(plain),
                                 str(tmp_path)).preset_overrides() == {}
  assert report.overrides_note({"preset": "smoke",
                                "preset_overrides": {}}) is None


def test_a_folder_of_the_unchanged_preset_is_refused_under_a_change(
    tmp_path):
  plain = table2_lib.PRESETS["smoke"]
  sources = table2_lib.embedded_sources(plain)
  with table2_lib.Reproduction(plain, sources, str(tmp_path)).claim():
    pass
  changed = _table2("simgan.steps=7", preset="smoke")
  with helpers.raises_exactly(
      provenance.ProvenanceError,
      f"{tmp_path}: was made with preset.simgan.steps=4, this run has "
      "preset.simgan.steps=7; use another folder, or --overwrite to start "
      "it afresh"):
    with table2_lib.Reproduction(changed, sources, str(tmp_path)).claim():
      pass
