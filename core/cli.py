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

Binaries are quiet by default: TensorFlow's C++ lines, its Python logger
below ERROR and absl's INFO lines are hidden; absl's ``--verbosity=0``
(INFO) brings them back (``set_verbosity``). A long binary ends with
``summary``: wall and CPU time, peak memory, what it wrote.
"""

import dataclasses
import importlib.abc
import importlib.util
import logging
import os
import re
import resource
import sys
import tempfile
import time
from typing import Callable, List, Optional, Sequence, Tuple
import warnings

from absl import app
from absl import flags
from absl import logging as absl_logging

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
                                       flags.FlagHolder]] = None,
          deterministic: bool = True) -> None:
  """A binary's first step: no stray arguments; thread pools before any op
  and deterministic ops (runtime.make_deterministic) where it has --threads.

  Args:
    argv: main's argv (argv[0] is the program).
    threads: the --threads value, or None for a binary without the flag.
    input_limits: what ``define_input_limits`` returned, put in force here;
      None for a binary without those flags.
    deterministic: False leaves ops as TensorFlow runs them by default (XLA
      has no deterministic MaxPool gradient, which D uses).

  Raises:
    ValueError: stray positional arguments or a bad --threads value.
  """
  if len(argv) > 1:
    raise ValueError(f"unexpected arguments: {' '.join(argv[1:])}")
  if threads is not None:  # A binary that computes: it has --threads.
    from core import runtime  # pylint: disable=g-import-not-at-top
    runtime.apply_thread_setting(threads)
    if deterministic:
      runtime.make_deterministic()
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


# -- quiet logs ----------------------------------------------------------------

# TensorFlow's C++ log threshold: 0 all, 1 no INFO, 2 no WARNING, 3 no ERROR.
TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
# The variable as the user set it (None: unset), before a binary's default.
_USER_TF_LOG_LEVEL = os.environ.get(TF_LOG_LEVEL)

# A C++ log line: absl's 'I0000 00:00:1796092655.69   4973 port.cc:153] ...'
# (the time field reads so before absl::InitializeLog) or the
# older '2025-09-17 14:44:05.157831: I external/.../x.cc:32] ...'.
_CPP_LINE = re.compile(
    r"(?:(?P<absl>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ |"
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<glog>[IWEF]) )\S+:\d+\] ")
_ABSL_PREAMBLE = ("WARNING: All log messages before absl::InitializeLog() is "
                  "called are written to STDERR")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
# Python's own stderr lines (a warning, a traceback): never continuations.
_PYTHON_LINE = re.compile(r"Traceback |\S+:\d+: \w*Warning: ")

# Lines of TensorFlow's import that the filter dropped (set_verbosity at
# INFO writes them after all).
_dropped: List[str] = []


def drop_tensorflow_lines(text: str, min_level: int) -> Tuple[str, str]:
  """Splits stderr text into (kept, dropped): TensorFlow's C++ log lines
  below `min_level` (TF_CPP_MIN_LOG_LEVEL's scale) are dropped, with the
  lines that continue them; anything else (a Python warning, a traceback)
  is kept."""
  kept, dropped = [], []
  dropping = False
  for line in text.splitlines(keepends=True):
    found = _CPP_LINE.match(line)
    if found:
      severity = _SEVERITY[found.group("absl") or found.group("glog")]
      dropping = severity < min_level
    elif line.startswith(_ABSL_PREAMBLE):
      dropping = _SEVERITY["W"] < min_level
    elif _PYTHON_LINE.match(line):
      dropping = False
    # Otherwise the continuation of the record before it.
    (dropped if dropping else kept).append(line)
  return "".join(kept), "".join(dropped)


def _min_log_level() -> int:
  try:
    return int(os.environ.get(TF_LOG_LEVEL, "0"))
  except ValueError:
    return 0


class _FilteredLoader(importlib.abc.Loader):
  """Runs TensorFlow's import with fd 2 captured, then writes it back less
  the C++ lines below TF_CPP_MIN_LOG_LEVEL. TensorFlow prints some lines
  (oneDNN, CUDA drivers) while it loads, whatever that variable says."""

  def __init__(self, loader: importlib.abc.Loader):
    self.loader = loader

  def create_module(self, spec):
    return self.loader.create_module(spec)

  def exec_module(self, module):
    module.__loader__ = module.__spec__.loader = self.loader
    sys.stderr.flush()
    try:
      saved = os.dup(2)
    except OSError:  # No stderr to capture.
      self.loader.exec_module(module)
      return
    try:
      with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
          self.loader.exec_module(module)
        finally:
          sys.stderr.flush()
          os.dup2(saved, 2)
          captured.seek(0)
          kept, dropped = drop_tensorflow_lines(
              captured.read().decode("utf-8", "replace"), _min_log_level())
          _dropped.append(dropped)
          sys.stderr.write(kept)
          sys.stderr.flush()
    finally:
      os.close(saved)


class _QuietImport(importlib.abc.MetaPathFinder):
  """Hands the first import of TensorFlow to _FilteredLoader."""

  def __init__(self):
    self.used = False

  def find_spec(self, name, path=None, target=None):
    if name != "tensorflow" or self.used:
      return None
    self.used = True
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.loader is not None:
      spec.loader = _FilteredLoader(spec.loader)
    return spec


def quiet_tensorflow() -> None:
  """TensorFlow's C++ lines off (TF_CPP_MIN_LOG_LEVEL=3 unless the user set
  it) and its import filtered: before TensorFlow is imported, which reads the
  variable once. ``set_verbosity`` may turn them back on, the import's lines
  included."""
  os.environ.setdefault(TF_LOG_LEVEL, "3")
  if "tensorflow" not in sys.modules and not any(
      isinstance(finder, _QuietImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _QuietImport())


def set_verbosity(verbosity: int) -> None:
  """Puts absl's verbosity in force for this process's logs, TensorFlow's
  included (and its worker processes', which inherit the environment).

  Below INFO (the binaries' default, -1) TensorFlow's C++ lines, its Python
  logger below ERROR (retracing notes, checkpoint timings) and Python
  warnings raised in TensorFlow or Keras are hidden. At INFO (0) or more
  everything shows: TF_CPP_MIN_LOG_LEVEL=0 (unless the user set it) and the
  lines the import filter dropped are written.
  """
  absl_logging.set_verbosity(verbosity)
  quiet = verbosity < absl_logging.INFO
  if not quiet and _USER_TF_LOG_LEVEL is None:
    os.environ[TF_LOG_LEVEL] = "0"
  logging.getLogger("tensorflow").setLevel(
      logging.ERROR if quiet else logging.NOTSET)
  if quiet:
    warnings.filterwarnings("ignore", module=r"(tensorflow|keras)(\.|$)")
  else:
    sys.stderr.write("".join(_dropped))
  _dropped.clear()
  quiet_tensorflow()


def configure_worker(verbosity: int) -> None:
  """A binary's worker process (benchmarks/stages.py): logs at the parent's
  `verbosity`, progress as whole lines (its terminal is shared). Runs before
  the worker imports TensorFlow, so this module must not import it."""
  set_verbosity(verbosity)
  progress.use_whole_lines()


def _runs_a_binary() -> bool:
  """Whether this process runs one of the project's binaries (python -m
  gaze.train, or a simgan-* console script)."""
  main = sys.modules.get("__main__")
  name = getattr(getattr(main, "__spec__", None), "name", None) or ""
  return (name.split(".")[0] in _PROJECT or
          os.path.basename(sys.argv[0] if sys.argv else "").startswith(
              "simgan-"))


# -- the closing summary -------------------------------------------------------

# About when the binary started (it imports this module first), for the
# summary's wall time.
_started = time.monotonic()


@dataclasses.dataclass(frozen=True)
class Usage:
  """What a run cost.

  Attributes:
    wall_seconds: since the binary started.
    cpu_seconds: user + system time of this process and of its children
      (stage workers) that ended.
    peak_rss_bytes: this process's largest resident set (over every
      `reset_peak_rss` count).
    children_peak_rss_bytes: the largest resident set of one child that
      ended (a stage worker; 0 if none). On Linux a child's count starts at
      this process's peak when it was started (ru_maxrss survives fork and
      exec).
  """
  wall_seconds: float
  cpu_seconds: float
  peak_rss_bytes: int
  children_peak_rss_bytes: int


def _rss_bytes(usage: resource.struct_rusage) -> int:
  # ru_maxrss is in KiB on Linux, in bytes on macOS.
  return usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


# The largest peak counted before the last reset_peak_rss (bytes).
_peak_before_reset = 0


def _status_bytes(field: str) -> Optional[int]:
  """A 'kB' field of /proc/self/status in bytes; None where there is none."""
  try:
    with open("/proc/self/status", encoding="ascii") as f:
      for line in f:
        if line.startswith(field + ":"):
          return int(line.split()[1]) * 1024
  except (OSError, ValueError, IndexError):
    pass
  return None


def peak_rss_bytes() -> int:
  """This process's largest resident set since the last `reset_peak_rss`
  (bytes).

  Linux's VmHWM belongs to this process's memory alone; ru_maxrss, the
  fallback elsewhere, also counts the parent's resident set when a spawned
  worker was forked from it.
  """
  hwm = _status_bytes("VmHWM")
  if hwm is not None:
    return hwm
  return _rss_bytes(resource.getrusage(resource.RUSAGE_SELF))


def reset_peak_rss() -> None:
  """Starts a new count of `peak_rss_bytes` (a stage's own peak), on Linux
  (writing 5 to /proc/self/clear_refs); elsewhere the count goes on.
  `measure_usage` still reports the process's peak over all counts."""
  global _peak_before_reset
  peak = peak_rss_bytes()
  try:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
      f.write("5")
  except OSError:
    return
  _peak_before_reset = max(_peak_before_reset, peak)


def measure_usage() -> Usage:
  """This binary's usage so far (resource.getrusage of self and children)."""
  own = resource.getrusage(resource.RUSAGE_SELF)
  children = resource.getrusage(resource.RUSAGE_CHILDREN)
  return Usage(
      wall_seconds=time.monotonic() - _started,
      cpu_seconds=(own.ru_utime + own.ru_stime + children.ru_utime +
                   children.ru_stime),
      peak_rss_bytes=max(_peak_before_reset, peak_rss_bytes()),
      children_peak_rss_bytes=_rss_bytes(children))


def summary(outputs: Sequence[str], usage: Optional[Usage] = None) -> str:
  """The closing lines of a long binary: its cost, then what it wrote.

  Args:
    outputs: lines naming what was written (e.g. 'wrote DIR/table2.md, ...').
    usage: the numbers to show; None measures them now.

  Returns:
    e.g. 'done in 1h02m05s (CPU 2h01m40s, 1.96 cores); peak memory 1.50 GiB,
    largest child 2.00 GiB' (a child: a stage worker; named only when it
    held more than this process) followed by `outputs`, one per line.
  """
  usage = usage or measure_usage()
  cores = usage.cpu_seconds / max(usage.wall_seconds, 1e-9)
  line = (f"done in {progress.format_duration(usage.wall_seconds)} (CPU "
          f"{progress.format_duration(usage.cpu_seconds)}, {cores:.2f} "
          f"cores); peak memory {usage.peak_rss_bytes / 2**30:.2f} GiB")
  # A child at or below this process's peak may only have inherited it.
  if usage.children_peak_rss_bytes > usage.peak_rss_bytes:
    line += (f", largest child "
             f"{usage.children_peak_rss_bytes / 2**30:.2f} GiB")
  return "\n".join([line, *outputs])


def run(main: Callable[[List[str]], Optional[int]]) -> None:
  """absl's app.run with the one error exit (see ``guarded``), a --help
  that lists every flag of the binary and quiet logs unless --verbosity
  asks for more (``set_verbosity``)."""
  _help_lists_every_flag(main)

  def main_with_verbosity(argv):
    # absl raises an unset --verbosity to INFO; a binary stays at WARNING.
    if not flags.FLAGS["verbosity"].present:
      flags.FLAGS.verbosity = absl_logging.WARNING
    set_verbosity(flags.FLAGS.verbosity)
    return main(argv)

  app.run(guarded(main_with_verbosity), flags_parser=parse_flags)


# A binary whose module imports TensorFlow (the estimator binaries, through
# their flags' defaults) does so before run(); core.cli comes first. With
# --verbosity=0 such a binary shows its import's lines, but no later C++
# line: TensorFlow has read TF_CPP_MIN_LOG_LEVEL=3 by then.
if _runs_a_binary():
  quiet_tensorflow()
