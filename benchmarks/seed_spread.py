r"""Aggregates reproductions of several seeds: spread.md and spread.csv.

  for s in 0 1 2; do python -m benchmarks.reproduce_table2 --seed=$s \
      --results=results/table2_seeds/seed_$s; done
  python -m benchmarks.seed_spread --results=results/table2_seeds

Reads RESULTS/seed_*/results.json and writes, in RESULTS, each row's mean
error per seed with its mean, standard deviation, minimum and maximum, and
the share of the domain gap closed per seed.
"""

import glob
import json
import os
import re
import sys

from absl import app
from absl import flags

from benchmarks import table2_report

FLAGS = flags.FLAGS

flags.DEFINE_string("results", "results/table2_seeds",
                    "Folder holding one seed_N folder per reproduction.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  by_seed = {}
  for path in sorted(glob.glob(os.path.join(FLAGS.results, "seed_*",
                                            "results.json"))):
    match = re.fullmatch(r"seed_(\d+)", os.path.basename(os.path.dirname(
        path)))
    if not match:
      continue
    try:
      with open(path) as f:
        by_seed[int(match.group(1))] = json.load(f)
    except (OSError, ValueError) as e:
      sys.stderr.write(f"error: {path}: not a readable results file ({e})\n")
      return 1
  if not by_seed:
    sys.stderr.write(f"error: {FLAGS.results}: no seed_N/results.json "
                     "(run benchmarks.reproduce_table2 per seed first)\n")
    return 1
  print(table2_report.write_spread(FLAGS.results, by_seed))
  return 0


if __name__ == "__main__":
  app.run(main)
