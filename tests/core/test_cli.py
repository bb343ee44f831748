"""What every binary's main shares (core/cli.py), run as a user runs it."""

import re
import textwrap

from absl import flags
import pytest

from core import cli
from core import limits
from tests import helpers

# A tiny binary: each --mode is one way a main can end.
_BINARY = textwrap.dedent("""\
    from absl import flags
    from absl import logging
    from core import cli

    _MODE = flags.DEFINE_string("mode", "ok", "How main ends.")
    _DIR = flags.DEFINE_string("dir", None, "Where flags.txt goes.")


    def main(argv):
      cli.start(argv)
      if _MODE.value == "value":
        raise ValueError("bad\\n   value")
      if _MODE.value == "oserror":
        open("/nonexistent-folder/x.txt")
      if _MODE.value == "bug":
        raise KeyError("a bug")
      if _MODE.value == "tf":
        import tensorflow as tf
        tf.constant(1.0) + 1.0
        tf.get_logger().warning("a TensorFlow warning")
        logging.info("an absl INFO line")
      if _DIR.value:
        cli.write_flags_file(_DIR.value)
      print("ok", _MODE.value)


    if __name__ == "__main__":
      cli.run(main)
    """)


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
  path = tmp_path_factory.mktemp("bin") / "tiny.py"
  path.write_text(_BINARY)

  def run(*args, env=None):
    return helpers.run_python(str(path), *args, timeout=120, env=env)
  return run


@pytest.mark.parametrize("args,line", [
    (["--mode=value"], "error: bad value"),
    (["--mode=oserror"],
     "error: /nonexistent-folder/x.txt: No such file or directory"),
    (["stray", "more"], "error: unexpected arguments: stray more"),
])
def test_bad_input_is_one_line_and_exit_1(binary, args, line):
  proc = binary(*args)
  assert proc.returncode == 1
  assert proc.stderr.splitlines() == [line]
  assert proc.stdout == ""


def test_a_bug_keeps_its_traceback(binary):
  proc = binary("--mode=bug")
  assert proc.returncode == 1
  assert "Traceback" in proc.stderr
  assert proc.stderr.strip().splitlines()[-1] == "KeyError: 'a bug'"


def test_flags_file_reruns_the_same_command(binary, tmp_path):
  run_dir = tmp_path / "run"
  proc = binary("--mode=first", f"--dir={run_dir}")
  assert (proc.returncode, proc.stdout) == (0, "ok first\n")
  text = (run_dir / "flags.txt").read_text()
  assert "--mode=first\n" in text and f"--dir={run_dir}\n" in text
  again = binary(f"--flagfile={run_dir / 'flags.txt'}")
  assert (again.returncode, again.stdout) == (0, "ok first\n")


def test_start_checks_arguments_and_threads():
  cli.start(["prog"])
  cli.start(["prog"], "tf")  # TensorFlow's own pools: nothing to set.
  with pytest.raises(ValueError, match="^unexpected arguments: a$"):
    cli.start(["prog", "a"], "tf")
  with pytest.raises(ValueError,
                     match="expected auto, tf or INTRA,INTER"):
    cli.start(["prog"], "many")


def test_error_line():
  assert cli.error_line(ValueError("a\n  b")) == "error: a b"
  assert cli.error_line(FileNotFoundError(2, "No such file", "/x")) == (
      "error: /x: No such file")
  assert cli.error_line(OSError("disk full")) == "error: disk full"


def test_input_limit_flags_set_the_readers_caps():
  flag_values = flags.FlagValues()
  megapixels, mib = cli.define_input_limits(flag_values)
  flag_values(["prog"])
  assert (megapixels.value, mib.value) == (40, 64)
  flag_values(["prog", "--max_image_megapixels=2", "--max_file_mib=3"])
  try:
    cli.apply_input_limits(megapixels.value, mib.value)
    assert limits.limits() == limits.Limits(
        max_file_bytes=3 << 20, max_pixels=2_000_000)
  finally:
    limits.set_limits(limits.Limits())
  for flag in ("--max_image_megapixels=0", "--max_file_mib=0"):
    with pytest.raises(flags.IllegalFlagValueError,
                       match=f"{flag}: 0 is not a positive integer"):
      flag_values(["prog", flag])



def _cpp_severities(stderr):
  """The severities (I, W, E, F) of TensorFlow's C++ log lines in stderr
  (absl's format, from a .cc file: not the Python absl lines)."""
  return set(re.findall(r"^([IWEF])\d{4} [\d:. ]+ \S+\.cc:\d+\] ", stderr,
                        re.MULTILINE))


def test_tensorflow_is_quiet_unless_verbosity_asks(binary, tmp_path):
  unset = {"TF_CPP_MIN_LOG_LEVEL": None}  # As a user runs it.
  quiet = binary("--mode=tf", f"--dir={tmp_path}", env=unset)
  assert (quiet.returncode, quiet.stdout) == (0, "ok tf\n")
  # No oneDNN notice, cpu_feature_guard, cuInit, TensorFlow warning or
  # absl INFO line.
  assert quiet.stderr == ""
  # flags.txt records the quiet default: a --flagfile re-run is as quiet.
  assert "--verbosity=-1\n" in (tmp_path / "flags.txt").read_text()
  loud = binary("--mode=tf", "--verbosity=0", env=unset)
  assert loud.returncode == 0
  assert "I" in _cpp_severities(loud.stderr), loud.stderr  # oneDNN etc.
  assert "a TensorFlow warning" in loud.stderr
  assert "an absl INFO line" in loud.stderr
  # A level the user set stays: TensorFlow's ERROR lines and up.
  chosen = binary("--mode=tf", "--verbosity=0",
                  env={"TF_CPP_MIN_LOG_LEVEL": "2"})
  assert not {"I", "W"} & _cpp_severities(chosen.stderr), chosen.stderr
  assert "a TensorFlow warning" in chosen.stderr


def test_drop_tensorflow_lines_keeps_python_and_what_the_level_allows():
  text = (
      "WARNING: All log messages before absl::InitializeLog() is called are "
      "written to STDERR\n"
      "I0000 00:00:1796092655.693284    4973 port.cc:153] oneDNN custom "
      "operations are on.\n"
      "I0000 00:00:1796092655.746581    4973 cpu_feature_guard.cc:227] This "
      "TensorFlow binary is optimized\n"
      "To enable the following instructions: AVX2 FMA, rebuild TensorFlow\n"
      "/x/y.py:3: UserWarning: a Python warning\n"
      "  warnings.warn('a Python warning')\n"
      "2025-09-17 14:44:05.176998: E external/local_xla/xla/stream_executor/"
      "cuda/cuda_fft.cc:467] Unable to register cuFFT factory\n"
      "F0000 00:00:1796092656.874160    4973 x.cc:1] a fatal line\n")
  lines = text.splitlines(keepends=True)
  kept, dropped = cli.drop_tensorflow_lines(text, 3)
  assert kept == "".join(lines[4:6] + lines[7:])
  assert dropped == "".join(lines[:4] + lines[6:7])
  kept, dropped = cli.drop_tensorflow_lines(text, 2)  # ERROR shows.
  assert kept == "".join(lines[4:])
  kept, dropped = cli.drop_tensorflow_lines(text, 1)  # WARNING too.
  assert kept == "".join(lines[:1] + lines[4:])
  assert cli.drop_tensorflow_lines(text, 0) == (text, "")


def test_summary_gives_time_cpu_memory_and_the_outputs():
  usage = cli.Usage(wall_seconds=3725.0, cpu_seconds=7300.0,
                    peak_rss_bytes=3 * 2**29, children_peak_rss_bytes=2**31)
  assert cli.summary(["wrote r/table2.md, table2.csv"], usage) == (
      "done in 1h02m05s (CPU 2h01m40s, 1.96 cores); peak memory 1.50 GiB, "
      "largest child 2.00 GiB\n"
      "wrote r/table2.md, table2.csv")
  # A child no larger than this process may only have inherited its count
  # (Linux): not named.
  alone = cli.Usage(wall_seconds=12.0, cpu_seconds=6.0,
                    peak_rss_bytes=2**28, children_peak_rss_bytes=2**28)
  assert cli.summary([], alone) == (
      "done in 0m12s (CPU 0m06s, 0.50 cores); peak memory 0.25 GiB")


def test_measure_usage_counts_this_process():
  usage = cli.measure_usage()
  assert usage.wall_seconds > 0 and usage.cpu_seconds > 0
  # A TensorFlow-laden test process holds far more than 50 MB.
  assert usage.peak_rss_bytes >= cli.peak_rss_bytes() > 50 * 2**20


def test_peak_rss_restarts_at_a_reset_but_the_usage_keeps_the_largest():
  block = bytearray(256 * 2**20)  # Touched: resident.
  for i in range(0, len(block), 4096):
    block[i] = 1
  before = cli.peak_rss_bytes()
  del block
  cli.reset_peak_rss()
  after = cli.peak_rss_bytes()
  # The 256 MiB block was freed before the reset: the new count is lower.
  assert after <= before - 200 * 2**20
  # Linux counts resident pages per thread in batches: a few hundred KiB
  # of slack.
  assert cli.measure_usage().peak_rss_bytes >= before - 4 * 2**20


def test_start_makes_ops_deterministic_unless_told_not_to():
  from tensorflow.python.framework import config  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  cli.start(["prog"], "tf", deterministic=False)
  assert not config.is_op_determinism_enabled()
  cli.start(["prog"])  # No --threads: a binary that does not compute.
  assert not config.is_op_determinism_enabled()
  cli.start(["prog"], "tf")
  assert config.is_op_determinism_enabled()
