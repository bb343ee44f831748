"""A one-line progress display (count, rate, ETA) for long loops."""

import sys
import time


class Progress:
  """Rewrites one stderr line as work advances; prints a final newline.

  Args:
    total: number of items expected.
    label: what is being done, e.g. 'refine'.
    stream: where to write (stderr by default; None disables output).
  """

  def __init__(self, total: int, label: str, stream=sys.stderr):
    self.total = total
    self.label = label
    self.stream = stream
    self.done = 0
    self.start = time.monotonic()

  def update(self, n: int) -> None:
    self.done += n
    if self.stream is None:
      return
    elapsed = max(time.monotonic() - self.start, 1e-9)
    rate = self.done / elapsed
    eta = (self.total - self.done) / rate if rate > 0 else float("inf")
    pct = 100.0 * self.done / max(self.total, 1)
    self.stream.write(f"\r{self.label}: {self.done}/{self.total} "
                      f"({pct:5.1f}%) {rate:,.0f}/s ETA {eta:,.0f}s   ")
    if self.done >= self.total:
      self.stream.write("\n")
    self.stream.flush()
