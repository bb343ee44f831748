"""The flags the reproduction binaries share, defined once.

Only binaries call these (at import time, like any flag definition). This
module imports no TensorFlow, so a binary defines its flags before
core.cli.start sizes TensorFlow's thread pools.
"""

import dataclasses
import math
from typing import Any, Mapping, NamedTuple, Sequence, Tuple

from absl import flags

from core import cli

PRESETS = ("smoke", "quick", "paper")


class ReproductionFlags(NamedTuple):
  preset: flags.FlagHolder
  results: flags.FlagHolder
  overwrite: flags.FlagHolder
  rows: flags.FlagHolder
  seed: flags.FlagHolder
  jobs: flags.FlagHolder
  precision: flags.FlagHolder
  threads: flags.FlagHolder
  input_limits: Tuple[flags.FlagHolder, flags.FlagHolder]
  overrides: flags.FlagHolder


def define_reproduction_flags(table: str, preset_help: str, jobs: int,
                              jobs_help: str) -> ReproductionFlags:
  """--preset, --results, --overwrite, --rows, --seed, --jobs, --precision,
  --threads, the input limits (core.cli.define_input_limits) and --set
  (see `override_preset`).

  Args:
    table: the table's number ('2', '4'): names the default results folder
      and the rows in the help.
    preset_help: what each preset is, for this table.
    jobs: the default of --jobs.
    jobs_help: what the default of --jobs means, for this table.
  """
  return ReproductionFlags(
      preset=flags.DEFINE_enum("preset", "quick", list(PRESETS), preset_help),
      results=flags.DEFINE_string(
          "results", None, f"Output directory; re-running the same command "
          f"resumes from what it holds, another configuration is refused. "
          f"Default: results/table{table}, with _PRESET for a preset other "
          "than quick and _real for real data (a folder of their own)."),
      overwrite=flags.DEFINE_bool(
          "overwrite", False, "Start afresh: empty the results folder first "
          "(only one this project made)."),
      rows=flags.DEFINE_list("rows", None,
                             f"Only these Table-{table} rows (default: "
                             "all)."),
      seed=flags.DEFINE_integer("seed", 0,
                                "Seed of data, refiner and estimators."),
      jobs=flags.DEFINE_integer(
          "jobs", jobs, "Independent stages (SimGAN, estimators) run this "
          "many at a time, each in its own process with an equal share of "
          "the cores; 1: one after the other in this process; 0: one on a "
          "GPU (each process would claim its memory), else min(2, cores). "
          + jobs_help),
      precision=flags.DEFINE_enum(
          "precision", "auto", ["float32", "mixed_bfloat16", "auto"],
          "Keras dtype policy of every model trained (SimGAN and "
          "estimators). mixed_bfloat16 computes in bf16 with float32 "
          "weights, fast only where the hardware computes bf16 (emulated "
          "elsewhere, far slower); auto: mixed_bfloat16 on such hardware "
          "(AVX-512 bf16 or AMX), else float32. The precision is part of "
          "a results folder's configuration."),
      threads=cli.define_threads(),
      input_limits=cli.define_input_limits(),
      overrides=flags.DEFINE_multi_string(
          "set", [], "KEY=VALUE, repeatable: changes one field of the "
          "preset, e.g. --set snapshot_every=100 (a field of the preset), "
          "--set simgan.steps=2000 (refiner.simgan.HParams), --set "
          "schedule.max_steps=3000 (core.estimator.Schedule) or --set "
          "estimator.KEY (the estimator's other HParams). A changed preset "
          "is another configuration: a results folder of the unchanged one "
          "is refused (give another --results); results.json and the "
          "tables record the changes."))


def override_preset(preset: Any, settings: Sequence[str],
                    targets: Mapping[str, Tuple[type, Sequence[str]]]) -> Any:
  """`preset` with the --set `settings` applied, in order (a later one wins).

  A setting is KEY=VALUE. KEY is a field of the preset (not its `name`:
  --preset chooses that), or GROUP.FIELD for a dict field GROUP of the
  preset that `targets` names: a field of the dataclass whose overrides it
  holds. VALUE is parsed as the type of that field (a bool is true/false);
  every number a preset holds is a size, count, rate or weight, so a
  negative one is refused.

  Args:
    preset: a frozen dataclass (a table's Preset).
    settings: the KEY=VALUE strings.
    targets: {GROUP: (the dataclass its keys name, the fields of it the run
      sets itself, which a preset may not)}
      (template.Reproduction.preset_targets).

  Returns:
    A new preset (dataclasses.replace); `preset` itself is unchanged.

  Raises:
    ValueError: one line naming --set, the setting and the fault: no '=',
      an unknown or unsettable key (with the keys allowed), a value that
      is not of the field's type, or one the target dataclass refuses.
  """
  for setting in settings:
    key, equals, text = setting.partition("=")
    if not equals:
      raise ValueError(f"--set {setting}: expected KEY=VALUE")
    group, dot, name = key.partition(".")
    if not dot:
      fields = [f.name for f in dataclasses.fields(preset)
                if f.name != "name" and f.name not in targets]
      if key == "name":
        raise ValueError(f"--set {setting}: the preset's name cannot be "
                         "set (choose the preset with --preset)")
      if key not in fields:
        raise ValueError(
            f"--set {setting}: unknown key {key!r}; expected one of "
            f"{fields + [f'{g}.KEY' for g in targets]}")
      value = _parse(setting, key, text, type(getattr(preset, key)))
      preset = dataclasses.replace(preset, **{key: value})
      continue
    if group not in targets:
      raise ValueError(f"--set {setting}: unknown key {key!r}; a dotted key "
                       f"is GROUP.KEY with GROUP one of {list(targets)}")
    target, fixed = targets[group]
    fields = {f.name: f for f in dataclasses.fields(target)
              if f.name not in fixed}
    if name in fixed:
      raise ValueError(f"--set {setting}: {key} is set by the run itself "
                       "(from --seed, --precision, the data or the row), "
                       "not by the preset")
    if name not in fields:
      raise ValueError(f"--set {setting}: unknown key {key!r}; expected "
                       f"{group}.KEY with KEY one of {list(fields)}")
    field = fields[name]
    default = (field.default if field.default is not dataclasses.MISSING
               else field.default_factory())
    values = {**getattr(preset, group),
              name: _parse(setting, key, text, type(default))}
    try:  # The target's own checks (choices, ranges), named as --set.
      target(**values)
    except ValueError as e:
      raise ValueError(f"--set {setting}: {e}") from None
    preset = dataclasses.replace(preset, **{group: values})
  return preset


def _parse(setting: str, key: str, text: str, kind: type) -> Any:
  """VALUE of one --set as `kind` (bool, int, float or str)."""
  if kind is bool:
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False,
             "no": False}
    if text.lower() not in words:
      raise ValueError(f"--set {setting}: {key} is true or false, got "
                       f"{text!r}")
    return words[text.lower()]
  if kind is str:
    return text
  if kind not in (int, float):
    raise ValueError(f"--set {setting}: {key} (a {kind.__name__}) cannot "
                     "be set from the command line")
  try:
    value = kind(text)
  except ValueError:
    what = "an integer" if kind is int else "a number"
    raise ValueError(f"--set {setting}: {key} takes {what}, got "
                     f"{text!r}") from None
  if not math.isfinite(value) or value < 0:
    raise ValueError(f"--set {setting}: {key} must be a finite number >= 0, "
                     f"got {text!r}")
  return value


def resolve_results(results: str, table: str, preset: str,
                    embedded: bool) -> str:
  """The --results value to run with: as given, or the default folder of
  this table, preset and data (see the flag's help)."""
  if results:
    return results
  return (f"results/table{table}" + ("" if preset == "quick" else
                                     f"_{preset}") +
          ("" if embedded else "_real"))


def resolve_precision(precision: str) -> str:
  """The --precision value to run with ('auto' = this device's)."""
  if precision != "auto":
    return precision
  from core import runtime  # pylint: disable=g-import-not-at-top
  return runtime.recommended().precision


def resolve_jobs(jobs: int) -> int:
  """The --jobs value to run with (0 = the device's default).

  Raises:
    ValueError: a negative value.
  """
  if jobs < 0:
    raise ValueError(f"--jobs must be >= 0, got {jobs}")
  if jobs:
    return jobs
  from benchmarks import template  # pylint: disable=g-import-not-at-top
  return template.default_jobs()
