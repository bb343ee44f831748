"""The flags the reproduction binaries share, defined once.

Only binaries call these (at import time, like any flag definition). This
module imports no TensorFlow, so a binary defines its flags before
core.cli.start sizes TensorFlow's thread pools.
"""

from typing import NamedTuple, Tuple

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


def define_reproduction_flags(table: str, preset_help: str, jobs: int,
                              jobs_help: str) -> ReproductionFlags:
  """--preset, --results, --overwrite, --rows, --seed, --jobs, --precision,
  --threads and the input limits (core.cli.define_input_limits).

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
          "precision", "float32", ["float32", "mixed_bfloat16", "auto"],
          "Keras dtype policy of every model trained (SimGAN and "
          "estimators). mixed_bfloat16 computes in bf16 with float32 "
          "weights, fast only where the hardware computes bf16 (emulated "
          "elsewhere, far slower); auto: mixed_bfloat16 on such hardware "
          "(AVX-512 bf16 or AMX), else float32. Default float32: bf16 "
          "accuracy is not yet shown equal on these tables."),
      threads=cli.define_threads(),
      input_limits=cli.define_input_limits())


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
