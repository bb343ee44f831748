"""The data-source read benchmark (no timing asserts: speeds vary)."""

import json
import math

import pytest

from benchmarks import data_speed_lib
from tests import helpers


def test_read_speed_record_and_table(tmp_path):
  logged = []
  records = data_speed_lib.run(["embedded-eyes-real?n=40"], images=24,
                               repeats=2, warmup=8, image_size=(35, 55),
                               log=logged.append)
  (record,) = records
  assert record["spec"] == "embedded-eyes-real?n=40"
  assert record["image_shape"] == [35, 55, 1]
  assert record["images"] == 24 and record["repeats"] == 2
  for key in ("images_per_second_best", "images_per_second_median",
              "images_per_cpu_second_median"):
    assert math.isfinite(record[key]) and record[key] > 0
  assert record["images_per_second_best"] >= record[
      "images_per_second_median"]
  assert len(record["load_average"]) == 2
  lines = data_speed_lib.table(records).splitlines()
  assert lines[0].split() == ["source", "shape", "best", "img/s", "median",
                              "per", "CPU-s", "load"]
  assert len(lines) == 2 and lines[1].split()[:2] == [
      "embedded-eyes-real?n=40", "35x55"]
  assert logged == [lines[1]]
  path = tmp_path / "out" / "speed.json"
  data_speed_lib.write_report(records, str(path))
  assert json.loads(path.read_text()) == {"results": records}


def test_too_small_source_is_refused():
  with pytest.raises(ValueError, match="^embedded-eyes-sim\\?n=10: holds 10 "
                     "images, fewer than warm-up 4 \\+ timed 8$"):
    data_speed_lib.read_speed("embedded-eyes-sim?n=10", images=8, warmup=4)


def test_read_speed_at_another_size():
  record = data_speed_lib.read_speed("embedded-hands-sim?n=6", images=4,
                                     repeats=1, warmup=2, image_size=(32, 32))
  assert record["image_shape"] == [32, 32, 1]


def test_binary_runs_and_reports_bad_input_in_one_line(tmp_path):
  output = tmp_path / "speed.json"
  proc = helpers.run_module("benchmarks.data_speed",
                            "--sources=embedded-eyes-sim?n=30", "--images=20",
                            "--warmup=5", "--repeats=1", f"--output={output}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  # The row as it comes, then the whole table.
  row, header, again = proc.stdout.splitlines()
  assert row.startswith("embedded-eyes-sim?n=30 ")
  assert header.startswith("source ") and again == row
  assert json.loads(output.read_text())["results"][0]["images"] == 20
  bad = helpers.run_module("benchmarks.data_speed",
                           "--sources=embedded-eyes-sim?n=10", "--images=8",
                           "--warmup=4", "--output=")
  helpers.assert_one_error_line(
      bad, "error: embedded-eyes-sim?n=10: holds 10 images, fewer than "
      "warm-up 4 + timed 8")
