"""The one progress line of the project: count, rate, ETA on one stderr line.

Used by long loops (refining a data set, writing a cache, Algorithm 1's
units). The line is rewritten in place with a carriage return, so a log
file shows one line per update and a terminal one live line.
"""

import sys
import time
import weakref
from typing import Optional, TextIO


# Streams whose last write left a progress line open (no newline yet);
# weak, so a closed stream's id reused by a new one cannot be mistaken.
_OPEN_LINES = weakref.WeakSet()


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
  """Rewrites one stderr line as work advances; ends it with a newline.

  Args:
    total: number of items expected.
    label: what is being done, e.g. 'refine'.
    unit: what an item is called in the rate, e.g. 'img'.
    stream: where to write (stderr by default; None disables output).
  """

  def __init__(self, total: int, label: str, unit: str = "items",
               stream: Optional[TextIO] = sys.stderr, start: int = 0):
    self.total = total
    self.label = label
    self.unit = unit
    self.stream = stream
    self.done = start
    self._start_count = start
    self._start_time = time.monotonic()

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
    """Sets the count of items done and redraws the line."""
    self.done = done
    if self.stream is None:
      return
    self.stream.write("\r" + self.line(extra)[:200].ljust(100))
    if self.done >= self.total:
      self.stream.write("\n")
      _OPEN_LINES.discard(self.stream)
    else:
      _OPEN_LINES.add(self.stream)
    self.stream.flush()
