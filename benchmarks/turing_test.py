r"""The visual Turing test of the paper (§3.1, Table 1) on a finished
reproduction: served to people in a browser, then reported.

  python -m benchmarks.turing_test serve --results=results/table2
  python -m benchmarks.turing_test report --results=results/table2

`serve` runs the paper's protocol on 127.0.0.1 (only this machine can reach
it): each subject enters an id and labels 50 real and 50 refined images,
then a control block of 10 real and 10 unrefined synthetic images, in an
order fixed by (subject, --seed), with 20 examples of each kind always on
screen. Answers are stored as given in RESULTS/turing.sqlite: a closed tab
or a stopped server loses nothing and a subject resumes where they were.
The images are RESULTS/turing_pool.npz, written by the reproduction's
'turing test' stage, which also runs the machine observer.

`report` writes RESULTS/table1.md and table1.json: the human answers in the
paper's layout (confusion matrix, accuracy, exact binomial p, per subject)
beside the machine observer and the paper's numbers.
"""

import os

from absl import flags

from core import cli

FLAGS = flags.FLAGS
COMMANDS = ("serve", "report")

flags.DEFINE_string("results", None, "A reproduction's results folder "
                    "(holding turing_pool.npz).", required=True)
flags.DEFINE_integer("port", 8000, "serve: the port on 127.0.0.1 (0: any "
                     "free port; the address is printed).", lower_bound=0,
                     upper_bound=65535)
flags.DEFINE_integer("seed", 0, "serve: with the subject id, fixes which "
                     "images a subject sees and in what order.")


def main(argv):
  if len(argv) != 2 or argv[1] not in COMMANDS:
    raise ValueError(f"expected one command, {' or '.join(COMMANDS)}; got "
                     f"{' '.join(argv[1:]) or 'none'}")
  cli.start(argv[:1])
  # pylint: disable=g-import-not-at-top
  if argv[1] == "report":
    # Only here: its scipy, pandas and matplotlib take seconds to import.
    from benchmarks.turing import report
    print(report.write_table1(FLAGS.results), end="")
    print(f"wrote {os.path.join(FLAGS.results, report.TABLE1_FILE)}")
    return
  from benchmarks.turing import pool as pool_lib
  from benchmarks.turing import server as server_lib
  from benchmarks.turing import store as store_lib
  # pylint: enable=g-import-not-at-top
  pool = pool_lib.read_pool(os.path.join(FLAGS.results, pool_lib.POOL_FILE))
  store = store_lib.Store(os.path.join(FLAGS.results, store_lib.DB_FILE))
  try:
    server = server_lib.make_server(
        server_lib.TuringTest(pool, store, FLAGS.seed), FLAGS.port)
  except OSError as e:
    store.close()
    raise OSError(f"--port={FLAGS.port}: cannot listen on "
                  f"{server_lib.HOST}: {e.strerror or e}") from e
  print(f"Turing test of {FLAGS.results}: open "
        f"http://{server_lib.HOST}:{server.server_address[1]}/ "
        "(Ctrl-C stops; answers are saved as they are given)", flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    server.server_close()
    store.close()
  print(f"stopped; python -m benchmarks.turing_test report "
        f"--results={FLAGS.results} writes table1.md")


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
