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
- ``killed_at_write``: a call killed at its N-th write through core/files,
  to test that a marker is written last;
- ``train_log`` / ``logged_steps``: an estimator run's train_log.csv;
- ``Background`` / ``start_module`` / ``paused_code`` /
  ``latest_checkpoint_number``: a binary run in the background, to SIGKILL
  it at a moment (or inside a checkpoint write) the test chooses.
"""

import contextlib
import csv
import os
import subprocess
import sys
import time
from unittest import mock

import pytest

from core import estimator
from core import files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(*args, timeout=600, env=None):
  """`python ARGS` in a fresh interpreter, with the repository as its cwd.

  Args:
    *args: the interpreter's arguments (a script, `-m MODULE`, `-c CODE`)
      and the program's.
    timeout: seconds before subprocess.TimeoutExpired.
    env: environment variables set over os.environ and the defaults here,
      PYTHONPATH=REPO and TF_CPP_MIN_LOG_LEVEL=3; a None value unsets one.

  Returns:
    The subprocess.CompletedProcess, with text stdout and stderr; a non-zero
    exit status is not raised.
  """
  variables = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
  variables.update(env or {})
  variables = {k: v for k, v in variables.items() if v is not None}
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


def killed_at_write(number, run):
  """Calls `run()` killed at its `number`-th write through core/files
  (``files.write_with``, which every writer there goes through); returns
  the path that write was for. Fails if `run` makes fewer writes."""
  with writes_fail_at(files, "write_with", number):
    with pytest.raises(Killed) as killed:
      run()
  return killed.value.args[0]


class Background:
  """A binary started as ``run_python`` starts it, but in the background,
  so that a test can SIGKILL it (as the OOM killer or a lost machine would)
  at a moment it chooses.

  Its stdout and stderr go to LOG.out and LOG.err: a pipe nobody reads
  would stall a chatty run. As a context manager it kills the process on
  exit if it still runs, so a failing test leaves none behind.
  """

  def __init__(self, *args, log, env=None):
    variables = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    variables.update(env or {})
    self.args = [sys.executable, *args]
    self.log = str(log)
    with open(self.log + ".out", "w") as out, \
        open(self.log + ".err", "w") as err:
      self.process = subprocess.Popen(self.args, cwd=REPO, env=variables,
                                      stdout=out, stderr=err)

  @property
  def pid(self):
    return self.process.pid

  def stdout(self):
    with open(self.log + ".out") as f:
      return f.read()

  def stderr(self):
    with open(self.log + ".err") as f:
      return f.read()

  def running(self):
    return self.process.poll() is None

  def kill(self):
    """SIGKILL (if it still runs), then reaps it."""
    if self.running():
      self.process.kill()  # SIGKILL on POSIX.
    self.process.wait()

  def kill_when(self, condition, timeout=600, poll=0.05):
    """SIGKILLs the process as soon as `condition()` is true (polled every
    `poll` seconds); returns that value. Fails if the process ends first
    or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
      value = condition()
      if value:
        self.kill()
        return value
      if not self.running():
        pytest.fail(f"ended (status {self.process.returncode}) before the "
                    f"kill point: {self.stderr()[-3000:]}")
      if time.monotonic() > deadline:
        self.kill()
        pytest.fail(f"no kill point within {timeout} s")
      time.sleep(poll)

  def result(self, timeout=600):
    """Waits for the end; a subprocess.CompletedProcess as run_python's."""
    try:
      self.process.wait(timeout)
    except subprocess.TimeoutExpired:
      self.kill()
      raise
    return subprocess.CompletedProcess(self.args, self.process.returncode,
                                       self.stdout(), self.stderr())

  def __enter__(self):
    return self

  def __exit__(self, *unused):
    self.kill()


def start_module(module, *args, log, env=None):
  """`python -m MODULE ARGS` in the background (see ``Background``)."""
  return Background("-m", module, *args, log=log, env=env)


# Where ``paused_code`` can hold a run inside a checkpoint write
# (tf.train.CheckpointManager.save; TF 2.21's internals), as (module,
# attribute) paused before it is called:
# - shards: the variables are in ckpt-N_temp/, ckpt-N.index does not exist;
# - state: ckpt-N is complete, the `checkpoint` state file does not name it;
# - sweep: the state names ckpt-N, checkpoints beyond max_to_keep remain.
CHECKPOINT_WRITE_POINTS = {
    "shards": ("tensorflow.python.ops.gen_io_ops", "merge_v2_checkpoints"),
    "state": ("tensorflow.python.checkpoint.checkpoint_management",
              "update_checkpoint_state_internal"),
    "sweep": ("tensorflow.python.checkpoint.checkpoint_management",
              "CheckpointManager._sweep"),
}

_PAUSED = '''
import importlib, runpy, time
from tensorflow.python.checkpoint import checkpoint_management
_number = {number!r}
_armed = [_number is None]

def _pause():
  if _armed[0]:
    open({mark!r}, "w").close()
    time.sleep(3600)  # Until the test's SIGKILL.

if _number is not None:
  _save = checkpoint_management.CheckpointManager.save

  def _save_armed(self, checkpoint_number=None, *args, **kwargs):
    _armed[0] = checkpoint_number == _number
    try:
      return _save(self, checkpoint_number, *args, **kwargs)
    finally:
      _armed[0] = False

  checkpoint_management.CheckpointManager.save = _save_armed
_owner = importlib.import_module({owner!r})
*_path, _name = {attribute!r}.split(".")
for _part in _path:
  _owner = getattr(_owner, _part)
_original = getattr(_owner, _name)

def _paused(*args, **kwargs):
  _pause()
  return _original(*args, **kwargs)

setattr(_owner, _name, _paused)
runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
'''


def paused_code(module, mark, point=None, checkpoint=None, at=None):
  """`python -c` code that runs `python -m MODULE` (with the arguments that
  follow it) but pauses for good at a chosen call, after creating the file
  MARK: the test then kills it there, inside a write.

  The call: `at`, a (module, attribute) pair such as ("keras",
  "Model.export"), or `point`, a key of CHECKPOINT_WRITE_POINTS; with
  `checkpoint`, only during the save of that checkpoint number.
  """
  owner, attribute = at or CHECKPOINT_WRITE_POINTS[point]
  return _PAUSED.format(module=module, mark=str(mark), number=checkpoint,
                        owner=owner, attribute=attribute)


def latest_checkpoint_number(folder):
  """The number N of the checkpoint (ckpt-N) that FOLDER/checkpoint, the
  tf.train.CheckpointManager state, names; None without one."""
  path = os.path.join(folder, "checkpoint")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    for line in f:
      if line.startswith("model_checkpoint_path:"):
        return int(line.split('"')[1].rsplit("-", 1)[1])
  return None
