"""Tests of benchmarks/data_speed (no timing asserts: speeds are benchmarks)."""

import json
import math

import pytest

from benchmarks import data_speed_lib
from benchmarks import throughput_lib


def test_read_speed_record_and_table(tmp_path):
  records = data_speed_lib.run(["embedded-eyes-real?n=40"], images=24,
                               repeats=2, warmup=8, image_size=(35, 55),
                               log=lambda line: None)
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
  assert len(lines) == 2 and lines[1].startswith("embedded-eyes-real?n=40")
  path = tmp_path / "speed.json"
  throughput_lib.write_json({"results": records}, str(path))
  assert json.loads(path.read_text())["results"][0]["images"] == 24


def test_too_small_source_is_refused():
  with pytest.raises(ValueError, match="holds 10 images"):
    data_speed_lib.read_speed("embedded-eyes-sim?n=10", images=8, warmup=4)


def test_read_speed_at_another_size():
  record = data_speed_lib.read_speed("embedded-hands-sim?n=6", images=4,
                                     repeats=1, warmup=2, image_size=(32, 32))
  assert record["image_shape"] == [32, 32, 1]
