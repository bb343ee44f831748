"""The one progress line of the project: count, rate, ETA on stderr.

Used by long loops (refining a data set, writing a cache, Algorithm 1's
units, an estimator's steps, the k-NN baseline). On a terminal the line is
rewritten in place with a carriage return. Anywhere else (a log file, a
pipe, a stage worker sharing the terminal with others) rewrites would pile
up, so whole lines are written instead, and only now and then: at each
tenth of the total, every `every_seconds` and at the end.
"""

import sys
import time
import weakref
from typing import Optional, TextIO


# Streams whose last write left a progress line open (no newline yet);
# weak, so a closed stream's id reused by a new one cannot be mistaken.
_OPEN_LINES = weakref.WeakSet()

# Set by `use_whole_lines`: no in-place line even on a terminal.
_whole_lines_only = False

# Least seconds between two redraws of a live line: a loop of fast steps
# need not write to the terminal at each one.
_REDRAW_SECONDS = 0.1


def use_whole_lines() -> None:
  """Makes every Progress of this process write whole lines, as to a log.

  For a process that shares its terminal with others (a stage worker,
  benchmarks/stages.py): their live lines would overwrite each other.
  """
  global _whole_lines_only
  _whole_lines_only = True


def _is_terminal(stream: TextIO) -> bool:
  try:
    return stream.isatty()
  except (AttributeError, ValueError):  # No isatty, or a closed stream.
    return False


def end_open_line(stream: TextIO = None) -> None:
  """Ends a progress line left open on `stream` (default stderr), so that
  what is written next (an error line) starts on a line of its own."""
  stream = stream or sys.stderr
  if stream in _OPEN_LINES:
    _OPEN_LINES.discard(stream)
    stream.write("\n")


def format_duration(seconds: float) -> str:
  """12 -> '0m12s', 3725 -> '1h02m05s'; infinity -> '?'."""
  if seconds != seconds or seconds == float("inf"):  # NaN or no rate yet.
    return "?"
  seconds = int(max(seconds, 0))
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
  """A progress line on stderr: live on a terminal, whole lines elsewhere.

  Args:
    total: number of items expected.
    label: what is being done, e.g. 'refine'.
    unit: what an item is called in the rate, e.g. 'img'.
    stream: where to write (stderr by default; None disables output).
    start: items already done when this process began (a resumed run);
      the rate counts from there.
    live: rewrite one line in place; None: when `stream` is a terminal
      (and `use_whole_lines` was not called).
    every_seconds: whole-line mode: longest wait between two lines
      (besides one at each tenth of the total and one at the end).
    delay_seconds: write nothing before this many seconds have passed,
      so a loop that ends quickly leaves no line at all.
  """

  def __init__(self, total: int, label: str, unit: str = "items",
               stream: Optional[TextIO] = sys.stderr, start: int = 0,
               live: Optional[bool] = None, every_seconds: float = 30.0,
               delay_seconds: float = 0.0):
    self.total = total
    self.label = label
    self.unit = unit
    self.stream = stream
    self.done = start
    self.live = (live if live is not None else
                 stream is not None and not _whole_lines_only and
                 _is_terminal(stream))
    self.every_seconds = every_seconds
    self.delay_seconds = delay_seconds
    self._start_count = start
    self._start_time = time.monotonic()
    self._last_write = None  # When a line was last written.
    self._ended = None  # (count, extra) of the line that ended, if one did.
    self._last_tenth = self._tenth(start)

  def _tenth(self, done: int) -> int:
    """Which tenth of the total `done` is in (10 at the end)."""
    return min(10, 10 * done // max(self.total, 1))

  def line(self, extra: str = "") -> str:
    """The status text for the current count (no carriage return)."""
    elapsed = max(time.monotonic() - self._start_time, 1e-9)
    rate = (self.done - self._start_count) / elapsed
    eta = (self.total - self.done) / rate if rate > 0 else float("inf")
    pct = 100.0 * self.done / max(self.total, 1)
    text = (f"{self.label}: {self.done}/{self.total} ({pct:5.1f}%) "
            f"{rate:,.2f} {self.unit}/s ETA {format_duration(eta)}")
    return f"{text} {extra}".rstrip()

  def update(self, n: int = 1, extra: str = "") -> None:
    """Counts `n` more items done and redraws the line."""
    self.set(self.done + n, extra)

  def set(self, done: int, extra: str = "") -> None:
    """Sets the count of items done and redraws (or writes) the line."""
    self._draw(done, extra, finished=done >= self.total)

  def finish(self, extra: str = "") -> None:
    """Writes the last line (and ends it) short of the total: a loop that
    stopped early, like an estimator whose validation error converged.
    Nothing when the line already ended with this count and text."""
    if self._ended != (self.done, extra):
      self._draw(self.done, extra, finished=True)

  def _draw(self, done: int, extra: str, finished: bool) -> None:
    self.done = done
    if self.stream is None:
      return
    now = time.monotonic()
    if now - self._start_time < self.delay_seconds:
      return  # Too early for a line (none at all if the loop ends now).
    if self.live:
      if (not finished and self._last_write is not None and
          now - self._last_write < _REDRAW_SECONDS):
        return
      self.stream.write("\r" + self.line(extra)[:200].ljust(100))
      if finished:
        self.stream.write("\n")
        _OPEN_LINES.discard(self.stream)
      else:
        _OPEN_LINES.add(self.stream)
    else:
      tenth = self._tenth(self.done)
      quiet_since = (self._start_time if self._last_write is None
                     else self._last_write)
      if not (finished or tenth > self._last_tenth or
              now - quiet_since >= self.every_seconds):
        return
      self._last_tenth = tenth
      self.stream.write(self.line(extra) + "\n")
    self._last_write = now
    self._ended = (done, extra) if finished else None
    self.stream.flush()
