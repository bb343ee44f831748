"""What every binary's main shares (core/cli.py), run as a user runs it."""

import textwrap

from absl import flags
import pytest

from core import cli
from core import limits
from tests import helpers

# A tiny binary: each --mode is one way a main can end.
_BINARY = textwrap.dedent("""\
    from absl import flags
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

  def run(*args):
    return helpers.run_python(str(path), *args, timeout=120)
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
