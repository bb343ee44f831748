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
  bar = progress.Progress(10, "refine", "img", stream, live=True)
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
  bar = progress.Progress(3, "a" * 300, stream=stream, live=True)
  bar.update()
  assert len(stream.getvalue()) == 1 + 200
  silent = progress.Progress(3, "quiet", stream=None)
  silent.update(3)
  assert silent.done == 3


def test_an_open_line_is_ended_before_what_follows(clock):
  stream = io.StringIO()
  bar = progress.Progress(10, "train", stream=stream, live=True)
  progress.end_open_line(stream)  # Nothing open yet: nothing written.
  assert stream.getvalue() == ""
  bar.set(3)
  progress.end_open_line(stream)
  progress.end_open_line(stream)  # Once only.
  assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1
  bar.set(10)  # A finished line ends itself.
  progress.end_open_line(stream)
  assert stream.getvalue().count("\n") == 2


def test_live_redraws_are_spaced_but_the_last_is_not(clock):
  stream = io.StringIO()
  bar = progress.Progress(10, "train", stream=stream, live=True)
  bar.set(1)
  bar.set(2)  # Same instant: not redrawn.
  clock[0] += 0.2
  bar.set(3)
  bar.set(10)  # The end always is.
  assert [part.split()[1] for part in stream.getvalue().split("\r")[1:]] == [
      "1/10", "3/10", "10/10"]


class _Terminal(io.StringIO):

  def isatty(self):
    return True


def test_live_on_a_terminal_whole_lines_elsewhere(monkeypatch):
  assert progress.Progress(3, "a", stream=_Terminal()).live
  assert not progress.Progress(3, "a", stream=io.StringIO()).live
  assert not progress.Progress(3, "a", stream=None).live
  # A stage worker shares its terminal: whole lines there too.
  monkeypatch.setattr(progress, "_whole_lines_only", False)
  progress.use_whole_lines()
  assert not progress.Progress(3, "a", stream=_Terminal()).live


def test_a_log_gets_whole_lines_at_each_tenth_every_interval_and_the_end(
    clock):
  stream = io.StringIO()
  bar = progress.Progress(1000, "train", "steps", stream, every_seconds=30)
  for step in range(1, 251):  # 25 %: the 10 % and 20 % marks.
    clock[0] += 0.01
    bar.set(step, "x")
  clock[0] += 29.6  # 30.1 s after the 20 % line: the next update writes.
  bar.set(251)
  bar.set(252)
  clock[0] += 30.0
  bar.set(253)
  bar.set(1000, "end")
  lines = stream.getvalue().split("\n")
  assert "\r" not in stream.getvalue() and lines[-1] == ""
  assert lines[:-1] == [
      "train: 100/1000 ( 10.0%) 100.00 steps/s ETA 0m09s x",
      "train: 200/1000 ( 20.0%) 100.00 steps/s ETA 0m08s x",
      "train: 251/1000 ( 25.1%) 7.82 steps/s ETA 1m35s",
      "train: 253/1000 ( 25.3%) 4.07 steps/s ETA 3m03s",
      "train: 1000/1000 (100.0%) 16.10 steps/s ETA 0m00s end"]
  progress.end_open_line(stream)  # Whole lines leave nothing open.
  assert stream.getvalue().endswith("end\n")


def test_a_resumed_count_writes_from_the_next_tenth(clock):
  stream = io.StringIO()
  bar = progress.Progress(10, "train", stream=stream, start=4)
  bar.set(4)  # Still in the tenth it started in.
  bar.set(5)
  assert [line.split()[1] for line in stream.getvalue().splitlines()] == [
      "5/10"]


def test_nothing_is_written_before_the_delay(clock):
  stream = io.StringIO()
  quick = progress.Progress(4, "knn", stream=stream, delay_seconds=2)
  quick.set(2)
  clock[0] += 1.0
  quick.set(4)  # Finished within the delay: no line at all.
  assert stream.getvalue() == ""
  slow = progress.Progress(4, "knn", stream=stream, delay_seconds=2)
  clock[0] += 2.5
  slow.set(1)
  slow.set(4)
  assert [line.split()[1] for line in stream.getvalue().splitlines()] == [
      "1/4", "4/4"]


def test_finish_ends_the_line_short_of_the_total(clock):
  live, log = io.StringIO(), io.StringIO()
  for stream, is_live in ((live, True), (log, False)):
    bar = progress.Progress(100, "train", stream=stream, live=is_live)
    clock[0] += 1.0
    bar.set(5)
    bar.finish("converged")
  assert live.getvalue().split("\r")[-1] == (
      "train: 5/100 (  5.0%) 5.00 items/s ETA 0m19s converged".ljust(100) +
      "\n")
  assert log.getvalue() == (
      "train: 5/100 (  5.0%) 5.00 items/s ETA 0m19s converged\n")
  progress.end_open_line(live)  # Nothing left open.
  assert live.getvalue().count("\n") == 1
  # A line that ended at its total is not written again.
  bar = progress.Progress(4, "train", stream=log)
  bar.set(4, "x")
  bar.finish("x")
  assert log.getvalue().count("4/4") == 1
