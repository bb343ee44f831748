"""What every binary's main shares: --threads, flags.txt, one error exit.

A binary defines its flags at import time (``define_threads`` for the
thread pools), starts with ``start(argv, threads)`` and is launched with
``run(main)``. Bad input — a bad flag value, SPEC or data file, an
unwritable output — is raised as ValueError (``data.source.DataError`` is
one) or OSError anywhere below main; ``run`` turns it into one line
``error: ...`` on stderr and exit status 1, never a traceback. Libraries
never read flags; the values reach them as arguments.
"""

import os
import sys
from typing import Callable, List, Optional

from absl import app
from absl import flags

from core import files
from core import progress

FLAGS_FILE = "flags.txt"


def define_threads(flag_values: flags.FlagValues = flags.FLAGS
                  ) -> flags.FlagHolder:
  """--threads, applied by ``start``."""
  return flags.DEFINE_string(
      "threads", "auto", "TensorFlow thread pools: 'auto' = the measured "
      "best for this device (core/runtime.py), 'tf' = TensorFlow's "
      "defaults, or 'INTRA,INTER'.", flag_values=flag_values)


def start(argv: List[str], threads: Optional[str] = None) -> None:
  """A binary's first step: no stray arguments; thread pools before any op.

  Args:
    argv: main's argv (argv[0] is the program).
    threads: the --threads value, or None for a binary without the flag.

  Raises:
    ValueError: stray positional arguments or a bad --threads value.
  """
  if len(argv) > 1:
    raise ValueError(f"unexpected arguments: {' '.join(argv[1:])}")
  if threads is not None:
    from core import runtime  # pylint: disable=g-import-not-at-top
    runtime.apply_thread_setting(threads)


def write_flags_file(directory: str) -> None:
  """Records the resolved flags in DIRECTORY/flags.txt (created if needed).

  A `--flagfile=DIRECTORY/flags.txt` re-runs the same command.
  """
  os.makedirs(directory, exist_ok=True)
  files.write_atomic(os.path.join(directory, FLAGS_FILE),
                     flags.FLAGS.flags_into_string())


def error_line(error: BaseException) -> str:
  """The one line a user sees for a bad input."""
  if isinstance(error, OSError) and error.filename is not None:
    text = f"{error.filename}: {error.strerror or error}"
  else:
    text = str(error)
  return "error: " + " ".join(text.split())


def guarded(main: Callable[[List[str]], Optional[int]]
           ) -> Callable[[List[str]], int]:
  """`main` with the one error exit: ValueError / OSError -> 1 line, exit 1."""

  def wrapped(argv):
    try:
      return main(argv) or 0
    except (ValueError, OSError) as e:
      progress.end_open_line(sys.stderr)  # The error gets a line of its own.
      sys.stderr.write(error_line(e) + "\n")
      return 1

  return wrapped


def parse_flags(argv: List[str]) -> List[str]:
  """absl's flag parsing, with a bad flag (unknown, missing, out of its
  choices) reported as the same one line and exit status 1."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.stderr.write(error_line(e) + "\n")
    sys.exit(1)


def run(main: Callable[[List[str]], Optional[int]]) -> None:
  """absl's app.run with the one error exit (see ``guarded``)."""
  app.run(guarded(main), flags_parser=parse_flags)
