"""What every reproduction run shares: a results folder of resumable stages.

A reproduction (Table 2, Table 4) is a sequence of stages that each write
their output into one results folder and skip themselves when that output
already exists, so an interrupted run resumes by running the same command
again. This module holds the plumbing: paths, JSON files written atomically,
per-stage timings accumulated over resumes, and the provenance files
(versions of everything used, the run's configuration).
"""

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from typing import Dict

from refiner import train_lib as refiner_lib

_VERSIONED_MODULES = ("tensorflow", "keras", "numpy", "scipy", "cv2", "pandas",
                      "h5py", "matplotlib")


def log(message: str) -> None:
  print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def write_json(path: str, data) -> None:
  refiner_lib.atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def read_json(path: str):
  with open(path) as f:
    return json.load(f)


def versions() -> Dict[str, str]:
  """Python, platform, the libraries used and the project's git commit."""
  out = {"python": sys.version.split()[0], "platform": platform.platform(),
         "processor": platform.processor()}
  for module in _VERSIONED_MODULES:
    try:
      out[module] = __import__(module).__version__
    except ImportError:
      out[module] = None
  try:
    out["git_commit"] = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True,
        cwd=os.path.dirname(os.path.abspath(__file__)),
        check=False).stdout.strip() or None
  except OSError:
    out["git_commit"] = None
  return out


class StagedRun:
  """A results folder whose stages resume; subclasses define the stages."""

  def __init__(self, results: str):
    self.results = results
    os.makedirs(results, exist_ok=True)

  def path(self, *parts) -> str:
    return os.path.join(self.results, *parts)

  @contextlib.contextmanager
  def timed(self, stage: str):
    """Adds a stage's wall and CPU seconds to timings.json.

    Accumulated over invocations, so an interrupted-then-resumed run reports
    the work it did in total; a stage that finds its output already done
    adds (almost) nothing. CPU seconds count all threads: on a shared
    machine they say what the work cost, the wall clock what the run saw.
    """
    path = self.path("timings.json")
    wall, cpu = time.monotonic(), time.process_time()
    try:
      yield
    finally:
      timings = read_json(path) if os.path.exists(path) else {}
      entry = timings.setdefault(stage, {"wall_seconds": 0.0,
                                         "cpu_seconds": 0.0})
      entry["wall_seconds"] += time.monotonic() - wall
      entry["cpu_seconds"] += time.process_time() - cpu
      write_json(path, timings)

  def timings(self) -> Dict:
    path = self.path("timings.json")
    return read_json(path) if os.path.exists(path) else {}

  def write_provenance(self, config: Dict) -> None:
    """versions.json and config.json of this run."""
    write_json(self.path("versions.json"), versions())
    write_json(self.path("config.json"), config)
