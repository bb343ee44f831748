"""What every reproduction run shares: a results folder of resumable stages.

A reproduction (Table 2, Table 4) is a sequence of stages that each write
their output into one results folder and skip themselves when that output
already exists, so an interrupted run resumes by running the same command
again. This module holds the plumbing: paths, JSON files written atomically,
per-stage timings accumulated over resumes, and the provenance files
(versions of everything used, the run's configuration); and the SimGAN
stages both reproductions run (RefinerStages).
"""

import contextlib
from concurrent import futures
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from typing import Callable, Dict, Sequence, Tuple

import keras
import numpy as np

from data import source as source_lib
from refiner import refine_lib
from refiner import runtime
from refiner import selection
from refiner import simgan
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


def _run_stage_in_worker(spec: Tuple[type, Dict], name: str,
                         intra_op: int) -> Tuple[float, float]:
  """One stage in a fresh worker process: rebuild the run, run the stage.

  Returns:
    The stage's wall and CPU seconds, for the parent's timings.json.
  """
  runtime.configure_threads(intra_op, 1)  # Before this process's first op.
  factory, kwargs = spec
  run = factory(**kwargs)
  wall, cpu = time.monotonic(), time.process_time()
  run.run_stage(name)
  return time.monotonic() - wall, time.process_time() - cpu


class StagedRun:
  """A results folder whose stages resume; subclasses define the stages.

  A subclass that uses run_stages defines run_stage(name), which runs one
  stage, and, for jobs > 1, worker_spec(): (class, keyword arguments) that
  rebuild the run in a worker process.
  """

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
    wall, cpu = time.monotonic(), time.process_time()
    try:
      yield
    finally:
      self.add_timing(stage, time.monotonic() - wall,
                      time.process_time() - cpu)

  def add_timing(self, stage: str, wall_seconds: float,
                 cpu_seconds: float) -> None:
    """Adds seconds to a stage's entry of timings.json.

    The one writer of that file: a stage run in a worker process returns
    its seconds, and the parent adds them here.
    """
    path = self.path("timings.json")
    timings = read_json(path) if os.path.exists(path) else {}
    entry = timings.setdefault(stage, {"wall_seconds": 0.0,
                                       "cpu_seconds": 0.0})
    entry["wall_seconds"] += wall_seconds
    entry["cpu_seconds"] += cpu_seconds
    write_json(path, timings)

  def run_stages(self, names: Sequence[str], jobs: int = 1) -> None:
    """Runs independent stages, `jobs` at a time.

    With jobs > 1 each stage runs in its own spawned process (a fresh
    TensorFlow runtime, so its thread pools can be sized) with an equal
    share of the cores. Small networks on a CPU gain little from a second
    intra-op thread: measured on the 2-core machine, one hourglass training
    with 2 threads took 0.27 s per step, and two side by side with 1 thread
    each took 0.26 s per step each, so two stages at a time nearly halve the
    wall clock. Stages are submitted in the order given (put the longest
    first). The first failure cancels the stages not yet started; those
    running finish (and keep their timings), then it is raised here.
    """
    if jobs <= 1 or len(names) <= 1:
      for name in names:
        with self.timed(name):
          self.run_stage(name)
      return
    jobs = min(jobs, len(names))
    intra_op = max(1, (os.cpu_count() or 1) // jobs)
    log(f"running {', '.join(names)}: {jobs} at a time, {intra_op} "
        f"thread(s) each")
    with futures.ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("spawn"),
        max_tasks_per_child=1) as pool:
      pending = {pool.submit(_run_stage_in_worker, self.worker_spec(), name,
                             intra_op): name for name in names}
      error = None
      for future in futures.as_completed(pending):
        if future.cancelled():
          continue
        try:
          wall, cpu = future.result()
        except Exception as e:  # pylint: disable=broad-except
          if error is None:  # Stop what has not started; let the rest end.
            error = e
            for other in pending:
              other.cancel()
          continue
        self.add_timing(pending[future], wall, cpu)
    if error is not None:
      raise error

  def add_elapsed(self, wall_seconds: float) -> float:
    """Adds one invocation's wall seconds to elapsed.json; returns the sum.

    The end-to-end clock of the run over all its invocations: with stages
    side by side (run_stages, jobs > 1) it is less than the sum of the
    stages' wall seconds.
    """
    path = self.path("elapsed.json")
    total = (read_json(path)["wall_seconds"] if os.path.exists(path)
             else 0.0) + wall_seconds
    write_json(path, {"wall_seconds": total})
    return total

  def timings(self) -> Dict:
    path = self.path("timings.json")
    return read_json(path) if os.path.exists(path) else {}

  def write_provenance(self, config: Dict) -> None:
    """versions.json and config.json of this run."""
    write_json(self.path("versions.json"), versions())
    write_json(self.path("config.json"), config)


class RefinerStages(StagedRun):
  """The SimGAN stages both reproductions share (train, select, refine).

  Table 2 (gaze) and Table 4 (hands) differ in the networks and data, not
  in these stages: they pass what differs (hyper-parameters, the feature
  space of the selection, batch sizes, wording). A subclass provides
  `seed`, `preset` (with `snapshot_every` and `selection_images`),
  `source(name)` for "synthetic" and "real", and `estimator_lib`, the
  estimator's train_lib module (gaze or handpose): its ESTIMATOR file name
  and evaluate().
  """

  estimator_lib = None  # Set by the subclass.

  def estimator_path(self, key: str) -> str:
    return self.path("estimators", key, self.estimator_lib.ESTIMATOR)

  def train_simgan(self, hparams: simgan.HParams, what: str = "refiner"):
    """Stage 1: trains the refiner (Algorithm 1), saving snapshots.

    Args:
      hparams: the SimGAN's hyper-parameters.
      what: how the log names the refiner.
    """
    workdir = self.path("simgan")
    if os.path.exists(os.path.join(workdir, refine_lib.REFINER_FILE)):
      log("SimGAN: already trained")
      return
    log(f"SimGAN: training the {what} (Algorithm 1)")
    keras.utils.set_random_seed(self.seed)
    refiner_lib.train(hparams, self.source("synthetic"), self.source("real"),
                      workdir, checkpoint_every=self.preset.snapshot_every,
                      snapshot_every=self.preset.snapshot_every,
                      image_every=self.preset.snapshot_every)

  def select_refiner(self, feature_model: Callable[[], keras.Model],
                     criterion: str, batch_size: int):
    """Stage 3: ranks snapshots by the label-free criterion.

    Args:
      feature_model: () -> the model whose features the Fréchet distance
        compares (called only when the selection is not done yet).
      criterion: selection.json's description of that distance.
      batch_size: images per refiner / feature-model pass.

    Returns:
      The contents of selection.json.
    """
    path = self.path("selection.json")
    if os.path.exists(path):
      return read_json(path)
    log("selecting the refiner snapshot (label-free)")
    workdir = self.path("simgan")
    snapshots = refine_lib.list_snapshots(workdir)
    if not snapshots:
      raise source_lib.DataError(workdir, "holds no refiner snapshots")
    features_of = feature_model()
    n = self.preset.selection_images
    rng = np.random.default_rng(self.seed + 17)
    synthetic, real = self.source("synthetic"), self.source("real")
    syn_images = synthetic.read(np.sort(rng.choice(
        len(synthetic), min(n, len(synthetic)), replace=False)))
    real_images = real.read(np.sort(rng.choice(
        len(real), min(n, len(real)), replace=False)))
    refiner = refine_lib.load_refiner(workdir)

    def refine(name):
      if not name:
        return syn_images
      refiner.load_weights(os.path.join(workdir, refiner_lib.SNAPSHOT_DIR,
                                        name))
      return refiner.predict(syn_images, batch_size=batch_size, verbose=0)

    def features(images):
      return features_of.predict(images, batch_size=batch_size, verbose=0)

    # The unrefined synthetic images are scored like a snapshot: the
    # distance a refiner has to beat.
    scores = selection.rank_snapshots([(0, "")] + snapshots, refine,
                                      features, real_images)
    synthetic_fd = scores.pop(0)["frechet_distance"]
    best = min(scores, key=lambda s: s["frechet_distance"])
    result = {"criterion": criterion,
              "unrefined_frechet_distance": synthetic_fd,
              "snapshots": scores, "chosen": best}
    write_json(path, result)
    log(f"chose snapshot {best['name']} (distance "
        f"{best['frechet_distance']:.3f}; unrefined {synthetic_fd:.3f})")
    return result

  def refine_training_set(self, snapshot: str, batch_size: int):
    """Stage 4: the synthetic training set refined once, into refined.h5."""
    path = self.path("refined.h5")
    if os.path.exists(path):
      return
    log(f"refining the synthetic training set with {snapshot}")
    refiner = refine_lib.load_refiner(self.path("simgan"), snapshot)
    refine_lib.refine_source(refiner, self.source("synthetic"), path,
                             batch_size=batch_size)

  def evaluate(self, key: str, test: str = "test"):
    """Metrics of estimator `key` on source `test` (evaluations/...)."""
    out = self.path("evaluations", key if test == "test" else
                    f"{key}@{test}")
    metrics_path = os.path.join(out, "metrics.json")
    if os.path.exists(metrics_path):
      return read_json(metrics_path)
    return self.estimator_lib.evaluate(self.estimator_path(key),
                                       self.source(test), out)

  def judge_sample(self, snapshot: str, judge: str, batch_size: int):
    """What the label-preservation check looks at.

    Returns:
      (estimator `judge`, n, the first n synthetic images, their refined
      versions by `snapshot`), n = min(selection_images, synthetic images).
    """
    estimator = keras.models.load_model(self.estimator_path(judge))
    refiner = refine_lib.load_refiner(self.path("simgan"), snapshot)
    synthetic = self.source("synthetic")
    n = min(self.preset.selection_images, len(synthetic))
    images = synthetic.read(np.arange(n))
    refined = refiner.predict(images, batch_size=batch_size, verbose=0)
    return estimator, n, images, refined
