"""The progress line and duration format (core/progress.py)."""

import io
import math

import pytest

from core import progress


@pytest.mark.parametrize("seconds,text", [
    (0, "0m00s"), (12, "0m12s"), (59.9, "0m59s"), (60, "1m00s"),
    (3599, "59m59s"), (3725, "1h02m05s"), (36000, "10h00m00s"),
    (-5, "0m00s"), (math.inf, "?"), (math.nan, "?")])
def test_format_duration(seconds, text):
  assert progress.format_duration(seconds) == text


@pytest.fixture
def clock(monkeypatch):
  """A settable stand-in for time.monotonic."""
  now = [100.0]
  monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
  return now


def test_line_is_rewritten_in_place_and_ended(clock):
  stream = io.StringIO()
  bar = progress.Progress(10, "refine", "img", stream)
  clock[0] = 102.0
  bar.update(4)
  assert stream.getvalue() == "\r" + (
      "refine: 4/10 ( 40.0%) 2.00 img/s ETA 0m03s".ljust(100))
  clock[0] = 105.0
  bar.set(10, "done")
  assert stream.getvalue().split("\r")[-1] == (
      "refine: 10/10 (100.0%) 2.00 img/s ETA 0m00s done".ljust(100) + "\n")


def test_rate_counts_from_the_start_value(clock):
  bar = progress.Progress(5000, "train", "units", stream=None, start=1000)
  assert bar.line() == ("train: 1000/5000 ( 20.0%) 0.00 units/s ETA ?")
  clock[0] = 100.5
  bar.set(7172)  # Past the total too: the line still reads.
  assert bar.line("x") == (
      "train: 7172/5000 (143.4%) 12,344.00 units/s ETA 0m00s x")
  assert bar.done == 7172


def test_long_lines_are_cut_and_no_stream_writes_nothing(clock):
  stream = io.StringIO()
  bar = progress.Progress(3, "a" * 300, stream=stream)
  bar.update()
  assert len(stream.getvalue()) == 1 + 200
  silent = progress.Progress(3, "quiet", stream=None)
  silent.update(3)
  assert silent.done == 3


def test_an_open_line_is_ended_before_what_follows(clock):
  stream = io.StringIO()
  bar = progress.Progress(10, "train", stream=stream)
  progress.end_open_line(stream)  # Nothing open yet: nothing written.
  assert stream.getvalue() == ""
  bar.set(3)
  progress.end_open_line(stream)
  progress.end_open_line(stream)  # Once only.
  assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1
  bar.set(10)  # A finished line ends itself.
  progress.end_open_line(stream)
  assert stream.getvalue().count("\n") == 2
