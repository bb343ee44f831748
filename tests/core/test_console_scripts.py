"""Every console script of setup.cfg runs its binary, and --help shows the
binary's docstring and its flags (core.cli.run): absl alone listed none
for a console script, whose main module is a wrapper."""

import ast
import configparser
import os
import subprocess
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _scripts():
  config = configparser.ConfigParser()
  config.read(os.path.join(_ROOT, "setup.cfg"))
  lines = config["options.entry_points"]["console_scripts"].strip()
  return dict(tuple(part.strip() for part in line.split("="))
              for line in lines.splitlines())


def test_every_script_has_the_prefix_and_a_binary():
  scripts = _scripts()
  assert len(scripts) == 16
  for name, target in scripts.items():
    assert name.startswith("simgan-"), name
    module, function = target.split(":")
    assert function == "run" and module.split(".")[0] in (
        "refiner", "data", "gaze", "handpose", "benchmarks")


def test_help_lists_the_docstring_and_flags_of_every_script():
  bin_dir = os.path.dirname(sys.executable)
  runs = {}
  for name, target in _scripts().items():
    path = os.path.join(bin_dir, name)
    assert os.path.exists(path), f"{path} missing: reinstall (make venv)"
    runs[name] = (target.split(":")[0], subprocess.Popen(
        [path, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}))
  for name, (module, proc) in runs.items():
    out, err = proc.communicate(timeout=300)
    # absl's --help exits with status 1 after printing the help.
    assert proc.returncode in (0, 1), (name, err[-2000:])
    # Read, not imported: importing a binary here would define its flags.
    with open(os.path.join(_ROOT, *module.split(".")) + ".py") as f:
      doc = ast.get_docstring(ast.parse(f.read())).splitlines()[0]
    assert out.lstrip().startswith(doc), (name, out[:300])
    flag_lines = [line for line in out.splitlines()
                  if line.startswith("  --")]
    assert flag_lines, (name, out[-1500:])
  # Flags shared through helper modules are listed too.
  out = subprocess.run([os.path.join(bin_dir, "simgan-reproduce-table2"),
                        "--help"], capture_output=True, text=True).stdout
  for flag in ("--preset", "--threads", "--max_file_mib", "--unityeyes"):
    assert f"  {flag}" in out, flag
