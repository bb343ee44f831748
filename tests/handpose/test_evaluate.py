"""The handpose.evaluate binary, run as a user runs it (a subprocess).

Its successful run follows a training run in test_train.py.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_a_bad_threads_value_is_one_error_line(tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
  proc = subprocess.run(
      [sys.executable, "-m", "handpose.evaluate", f"--workdir={tmp_path}",
       "--test=embedded-hands-real?n=4", "--threads=two"],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 1
  assert [line for line in proc.stderr.splitlines()
          if line.startswith("error:")] == [
              "error: --threads='two': expected auto, tf or INTRA,INTER"]
  assert "Traceback" not in proc.stderr
