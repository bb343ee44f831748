"""`python -m data.prepare` as a user runs it."""

import os

import numpy as np
import pandas as pd

from data import specs
from tests import helpers


def test_converts_a_source_into_a_cache_with_the_same_images(tmp_path):
  output = tmp_path / "c" / "sim.h5"
  spec = "embedded-eyes-sim?n=7"
  result = helpers.run_module("data.prepare", f"--source={spec}",
                              f"--output={output}", "--image_size=20x30",
                              "--chunk=3", timeout=300)
  assert result.returncode == 0, result.stderr
  assert os.listdir(output.parent) == ["sim.h5"]
  cached = specs.open_source(f"h5:{output}")
  original = specs.open_source(spec, (20, 30))
  assert (len(cached), cached.image_shape) == (7, (20, 30))
  np.testing.assert_allclose(cached.read(np.arange(7)),
                             original.read(np.arange(7)), atol=1e-3)
  pd.testing.assert_frame_equal(cached.frame, original.frame,
                                check_exact=False)


def test_bad_input_is_one_error_line(tmp_path):
  output = tmp_path / "x.h5"
  for args, line in [
      ([f"--source=folder:{tmp_path / 'none'}", f"--output={output}"],
       f"error: {tmp_path / 'none'}: "),
      (["--source=embedded-eyes-sim?n=2", f"--output={output}", "stray"],
       "error: unexpected arguments: stray")]:
    result = helpers.run_module("data.prepare", *args, timeout=300)
    assert helpers.one_error_line(result).startswith(line)
  assert os.listdir(tmp_path) == []
