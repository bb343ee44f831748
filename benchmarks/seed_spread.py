r"""Aggregates reproductions of several seeds: spread.md and spread.csv.

  for s in 0 1 2; do python -m benchmarks.reproduce_table2 --seed=$s \
      --results=results/table2_seeds/seed_$s; done
  python -m benchmarks.seed_spread --results=results/table2_seeds

Reads RESULTS/seed_*/results.json and writes, in RESULTS, each row's mean
error per seed with its mean, standard deviation, minimum and maximum, and
the share of the domain gap closed per seed.
"""

import glob
import os
import re

from absl import flags

from core import cli
from core import files

FLAGS = flags.FLAGS

flags.DEFINE_string("results", "results/table2_seeds",
                    "Folder holding one seed_N folder per reproduction.")


def main(argv):
  cli.start(argv)
  from benchmarks import table2_report  # pylint: disable=g-import-not-at-top

  by_seed = {}
  for path in sorted(glob.glob(os.path.join(FLAGS.results, "seed_*",
                                            "results.json"))):
    match = re.fullmatch(r"seed_(\d+)", os.path.basename(os.path.dirname(
        path)))
    if not match:
      continue
    try:
      by_seed[int(match.group(1))] = files.read_json(path)
    except ValueError as e:
      raise ValueError(f"{path}: not a readable results file ({e})") from e
  if not by_seed:
    raise ValueError(f"{FLAGS.results}: no seed_N/results.json (run "
                     "benchmarks.reproduce_table2 per seed first)")
  print(table2_report.write_spread(FLAGS.results, by_seed))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
