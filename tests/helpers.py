"""What many test files share, in one place (``from tests import helpers``).

- ``run_module`` / ``run_python``: a binary run as a user runs it, in a
  fresh interpreter in the repository;
- ``error_lines`` / ``one_error_line`` / ``assert_one_error_line`` /
  ``assert_refused_before_writing``: the one error exit every binary keeps
  (core/cli.py);
- ``raises_exactly``: an exception whose message is exactly a given line;
- ``Killed`` / ``fails_at_call`` / ``writes_fail_at`` /
  ``killed_and_resumed``: a run killed at a chosen file write, to test
  that it resumes;
- ``train_log`` / ``logged_steps``: an estimator run's train_log.csv.
"""

import contextlib
import csv
import os
import subprocess
import sys
from unittest import mock

import pytest

from core import estimator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(*args, timeout=600, env=None):
  """`python ARGS` in a fresh interpreter, with the repository as its cwd.

  Args:
    *args: the interpreter's arguments (a script, `-m MODULE`, `-c CODE`)
      and the program's.
    timeout: seconds before subprocess.TimeoutExpired.
    env: environment variables set over os.environ and the defaults here,
      PYTHONPATH=REPO and TF_CPP_MIN_LOG_LEVEL=3.

  Returns:
    The subprocess.CompletedProcess, with text stdout and stderr; a non-zero
    exit status is not raised.
  """
  variables = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
  variables.update(env or {})
  return subprocess.run([sys.executable, *args], cwd=REPO, env=variables,
                        capture_output=True, text=True, timeout=timeout,
                        check=False)


def run_module(module, *args, timeout=600, env=None):
  """`python -m MODULE ARGS`, as ``run_python`` runs it."""
  return run_python("-m", module, *args, timeout=timeout, env=env)


def error_lines(proc):
  """The lines of `proc`'s stderr that start with 'error:'."""
  return [line for line in proc.stderr.splitlines()
          if line.startswith("error:")]


def one_error_line(proc):
  """The line of a binary's error exit, once that exit is checked.

  The exit: status 1, no traceback, and exactly one stderr line starting
  with 'error: ', which is stderr's last line.
  """
  tail = proc.stderr[-3000:]
  assert proc.returncode == 1, tail
  assert "Traceback" not in proc.stderr, tail
  lines = error_lines(proc)
  assert len(lines) == 1, tail
  assert lines[0].startswith("error: "), lines[0]
  assert proc.stderr.strip().splitlines()[-1] == lines[0], tail
  return lines[0]


def assert_one_error_line(proc, line):
  """`proc` took the one error exit (see ``one_error_line``) with `line`."""
  assert one_error_line(proc) == line


def assert_refused_before_writing(workdir, module, *args, line):
  """`python -m MODULE --workdir=WORKDIR ARGS` takes the one error exit
  with `line` before it creates WORKDIR."""
  assert_one_error_line(run_module(module, f"--workdir={workdir}", *args),
                        line)
  assert not os.path.exists(workdir)


@contextlib.contextmanager
def raises_exactly(error_type, message):
  """Expects the block to raise `error_type` with exactly `message`.

  (pytest.raises' `match` searches a regular expression in the message.)
  """
  with pytest.raises(error_type) as error:
    yield error
  assert str(error.value) == message


class Killed(Exception):
  """A kill simulated at a chosen call (``fails_at_call``)."""


def fails_at_call(function, number):
  """`function`, but its `number`-th call raises Killed (and does nothing).

  Killed carries the call's first argument (a writer's path).
  """
  calls = []

  def wrapper(*args, **kwargs):
    calls.append(args)
    if len(calls) == number:
      raise Killed(*args[:1])
    return function(*args, **kwargs)

  return wrapper


@contextlib.contextmanager
def writes_fail_at(module, attribute, call_number):
  """Within the block, `module.attribute` (a file writer) raises Killed at
  its `call_number`-th call, as if the process were killed at that write."""
  writer = fails_at_call(getattr(module, attribute), call_number)
  with mock.patch.object(module, attribute, writer):
    yield


def killed_and_resumed(train_lib, train, tmp_path, logged):
  """An estimator run killed at a write, then resumed, beside a straight run.

  The scenario the gaze and hand trainers share (their train_lib modules
  write through ``train_lib._write_atomic``): ``train(workdir)`` runs
  straight in TMP_PATH/a; in TMP_PATH/b it is killed at its second write,
  the log write of its second evaluation, so it leaves no DONE and only the
  first evaluation logged; run again there, it resumes from that step and
  logs the evaluations at steps `logged`, as the straight run.

  Returns:
    (the straight run's stats, the resumed run's stats, TMP_PATH/b).
  """
  straight = train(str(tmp_path / "a"))
  workdir = str(tmp_path / "b")
  with writes_fail_at(train_lib, "_write_atomic", 2):
    with pytest.raises(Killed):
      train(workdir)
  assert not os.path.exists(os.path.join(workdir, estimator.DONE))
  assert logged_steps(workdir) == logged[:1]
  resumed = train(workdir)
  assert resumed["resumed_from_step"] == logged[0]
  assert resumed["steps"] == logged[-1]
  assert logged_steps(workdir) == logged == logged_steps(tmp_path / "a")
  return straight, resumed, workdir


def train_log(workdir):
  """The rows (dicts of strings) of an estimator run's WORKDIR/train_log.csv."""
  with open(os.path.join(workdir, estimator.TRAIN_LOG)) as f:
    return list(csv.DictReader(f))


def logged_steps(workdir):
  """The steps of the evaluations in WORKDIR/train_log.csv, as ints."""
  return [int(row["step"]) for row in train_log(workdir)]
