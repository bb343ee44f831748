"""What every binary's main shares: --threads, flags.txt, one error exit.

A binary defines its flags at import time (``define_threads`` for the
thread pools, ``define_input_limits`` for the caps on the images it reads),
starts with ``start(argv, threads)`` (and ``apply_input_limits``) and
is launched with ``run(main)``. Bad input — a bad flag value, SPEC or data
file, an unwritable output — is raised as ValueError
(``data.source.DataError`` is one) or OSError anywhere below main; ``run``
turns it into one line ``error: ...`` on stderr and exit status 1, never
a traceback. Libraries never read flags; the values reach them as
arguments.
"""

import os
import sys
from typing import Callable, List, Optional, Tuple

from absl import app
from absl import flags

from core import files
from core import limits
from core import progress

FLAGS_FILE = "flags.txt"


def define_threads(flag_values: flags.FlagValues = flags.FLAGS
                  ) -> flags.FlagHolder:
  """--threads, applied by ``start``."""
  return flags.DEFINE_string(
      "threads", "auto", "TensorFlow thread pools: 'auto' = the measured "
      "best for this device (core/runtime.py), 'tf' = TensorFlow's "
      "defaults, or 'INTRA,INTER'.", flag_values=flag_values)


def define_input_limits(flag_values: flags.FlagValues = flags.FLAGS
                       ) -> Tuple[flags.FlagHolder, flags.FlagHolder]:
  """--max_image_megapixels and --max_file_mib, for a binary that reads
  image files; their values go to ``apply_input_limits``.

  Returns:
    (the --max_image_megapixels holder, the --max_file_mib holder).
  """
  megapixels = flags.DEFINE_integer(
      "max_image_megapixels", limits.DEFAULT_MAX_IMAGE_MEGAPIXELS,
      "Largest image (megapixels) a reader decodes or an --image_size "
      "asks for; larger ones are refused as bad input (a decompression "
      "bomb is a few KB that decode to gigabytes).", lower_bound=1,
      flag_values=flag_values)
  mib = flags.DEFINE_integer(
      "max_file_mib", limits.DEFAULT_MAX_FILE_MIB,
      "Largest image or JSON file (MiB) a reader reads; larger ones are "
      "refused as bad input.", lower_bound=1, flag_values=flag_values)
  return megapixels, mib


def apply_input_limits(max_image_megapixels: int, max_file_mib: int) -> None:
  """Puts the values of ``define_input_limits``' flags in force for the
  readers (data/input_files.py)."""
  limits.set_limits(limits.Limits(
      max_file_bytes=int(max_file_mib) * limits.MIB,
      max_pixels=int(max_image_megapixels) * limits.MEGAPIXEL))


def start(argv: List[str], threads: Optional[str] = None,
          input_limits: Optional[Tuple[flags.FlagHolder,
                                       flags.FlagHolder]] = None) -> None:
  """A binary's first step: no stray arguments; thread pools before any op.

  Args:
    argv: main's argv (argv[0] is the program).
    threads: the --threads value, or None for a binary without the flag.
    input_limits: what ``define_input_limits`` returned, put in force here;
      None for a binary without those flags.

  Raises:
    ValueError: stray positional arguments or a bad --threads value.
  """
  if len(argv) > 1:
    raise ValueError(f"unexpected arguments: {' '.join(argv[1:])}")
  if threads is not None:
    from core import runtime  # pylint: disable=g-import-not-at-top
    runtime.apply_thread_setting(threads)
  if input_limits is not None:
    apply_input_limits(*(holder.value for holder in input_limits))


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


_TRANSLATIONS: List[Callable[[BaseException], Optional[Exception]]] = []


def add_error_translation(
    translate: Callable[[BaseException], Optional[Exception]]) -> None:
  """Lets ``guarded`` report `error` as `translate(error)` (a ValueError or
  OSError) when that is not None: how a library whose failures surface as
  another exception (a reader's DataError inside a tf.data pipeline,
  data/pipeline.py; a full disk under a checkpoint save, core/runtime.py)
  keeps the one-line exit without this module importing it."""
  _TRANSLATIONS.append(translate)


def _translated(error: BaseException) -> Optional[Exception]:
  """The bad-input error `error` stands for, or None."""
  for translate in _TRANSLATIONS:
    found = translate(error)
    if found is not None:
      return found
  return None


def guarded(main: Callable[[List[str]], Optional[int]]
           ) -> Callable[[List[str]], int]:
  """`main` with the one error exit: ValueError / OSError (and a reader's
  DataError met inside a tf.data pipeline) -> 1 line, exit 1."""

  def wrapped(argv):
    try:
      return main(argv) or 0
    except Exception as e:  # pylint: disable=broad-except
      if not isinstance(e, (ValueError, OSError)):
        e = _translated(e)
        if e is None:
          raise
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


# The project's packages: flags they define are the binaries' own.
_PROJECT = ("core", "data", "refiner", "gaze", "handpose", "benchmarks")


def _help_lists_every_flag(main: Callable) -> None:
  """Makes absl's --help show the binary's docstring and all its flags.

  absl lists only the flags the main module defined, and finds that module
  by sys.argv[0]: a console script (simgan-train, ...) runs a wrapper, so
  its --help listed none, and the flags shared through core.cli and
  benchmarks.reproduce_cli were missing from every binary's --help.
  """
  module = sys.modules.get(main.__module__)
  for name, defined in flags.FLAGS.flags_by_module_dict().items():
    if name == sys.argv[0] or name.split(".")[0] in _PROJECT:
      for flag in defined:
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
  if module is not None and module.__doc__:
    sys.modules["__main__"].__doc__ = module.__doc__


def run(main: Callable[[List[str]], Optional[int]]) -> None:
  """absl's app.run with the one error exit (see ``guarded``) and a --help
  that lists every flag of the binary."""
  _help_lists_every_flag(main)
  app.run(guarded(main), flags_parser=parse_flags)
