"""The handpose.evaluate binary, run as a user runs it (a subprocess).

Its successful run follows a training run in test_train.py.
"""

from tests import helpers


def test_a_bad_threads_value_is_one_error_line(tmp_path):
  proc = helpers.run_module("handpose.evaluate", f"--workdir={tmp_path}",
                            "--test=embedded-hands-real?n=4",
                            "--threads=two")
  helpers.assert_one_error_line(
      proc, "error: --threads='two': expected auto, tf or INTRA,INTER")
