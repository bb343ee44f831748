"""A results folder of resumable stages: the plumbing of every reproduction.

A reproduction (Table 2, Table 4) is a sequence of stages that each write
their output into one results folder and skip themselves when that output
already exists, so an interrupted run resumes by running the same command
again. This module holds what such a folder needs whatever the stages do:
paths, per-stage timings accumulated over resumes, the end-to-end clock, the
provenance files (versions of everything used, the run's configuration) and
a process pool that runs independent stages side by side. The stages of the
reproductions themselves are in benchmarks/template.py.
"""

import abc
import contextlib
from concurrent import futures
import multiprocessing
import os
import platform
import subprocess
import sys
import threading
import time
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from absl import logging as absl_logging
import filelock

from core import cli
from core import files
from core import limits as limits_lib
from core import progress
from core import runtime

TIMINGS_FILE = "timings.json"
ELAPSED_FILE = "elapsed.json"
_VERSIONED_MODULES = ("tensorflow", "keras", "numpy", "scipy", "cv2", "pandas",
                      "h5py", "matplotlib")


def log(message: str) -> None:
  progress.end_open_line()  # A live progress line of this process ends.
  print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


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


Job = Union[str, Tuple[str, ...]]  # A stage, or stages run in this order.


def _chain(job: Job) -> Tuple[str, ...]:
  return (job,) if isinstance(job, str) else tuple(job)


def _waits(jobs_list: Sequence[Job], after: Mapping[str, Sequence[str]]
          ) -> Dict[int, Set[str]]:
  """{job index: the stages of `jobs_list` it waits for} (see run_stages)."""
  firsts = {_chain(job)[0]: i for i, job in enumerate(jobs_list)}
  unknown = sorted(set(after) - set(firsts))
  if unknown:
    raise ValueError(f"after names jobs that are not run: {unknown}")
  names = {name for job in jobs_list for name in _chain(job)}
  # A stage outside this call (done by an earlier call) is no wait.
  return {i: set(after.get(_chain(job)[0], ())) & names
          for i, job in enumerate(jobs_list)}


def _serial_order(jobs_list: Sequence[Job], waits: Dict[int, Set[str]]
                 ) -> List[int]:
  """The job indices in the order one process runs them: always the first
  listed job whose waits are met (run_stages' rule with one job at a time).
  """
  order, done, left = [], set(), list(range(len(jobs_list)))
  while left:
    index = next((i for i in left if waits[i] <= done), None)
    if index is None:
      raise ValueError(
          "stages wait for each other in a cycle or on a later stage of "
          "their own chain: " + ", ".join(
              f"{_chain(jobs_list[i])[0]} after {sorted(waits[i] - done)}"
              for i in left))
    left.remove(index)
    order.append(index)
    done.update(_chain(jobs_list[index]))
  return order


def _alone(jobs_list: Sequence[Job], waits: Dict[int, Set[str]]
          ) -> List[bool]:
  """For each job: whether no other job can ever run beside it.

  True when, by the waits alone, every other job ends before it starts or
  starts after it ends. Decided from the plan, not from what happens to be
  running: a job's thread count changes its numbers' last bits, so it must
  not depend on timing or on which stages an earlier run already did.
  """
  job_of = {name: i for i, job in enumerate(jobs_list)
            for name in _chain(job)}
  ends_before: Dict[int, Set[int]] = {}  # i -> the jobs that end before it.

  def before(i: int) -> Set[int]:
    if i not in ends_before:
      found = set()
      for stage in waits[i]:
        k = job_of[stage]
        if stage == _chain(jobs_list[k])[-1]:
          found.add(k)  # k's last stage: k has ended.
        found |= before(k)  # k has started, so what precedes it has ended.
      ends_before[i] = found
    return ends_before[i]

  indices = range(len(jobs_list))
  return [all(j == i or j in before(i) or i in before(j) for j in indices)
          for i in indices]


def _run_numbered(run: "StagedRun", name: str, number: int, total: int
                 ) -> None:
  """Runs stage `name`, timed, between two log lines that say which of the
  run's `total` stages it is and, at its end, how long it took."""
  log(f"stage {number}/{total} {name}")
  tic = time.monotonic()
  with run.timed(name):
    run.run_stage(name)
  log(f"stage {number}/{total} {name} finished in "
      f"{progress.format_duration(time.monotonic() - tic)}")


def exit_with_parent(parent_pid: int, poll_seconds: float = 1.0) -> None:
  """Ends this process soon after process `parent_pid` is gone.

  A killed reproduction must not leave its stage workers training on,
  holding their workdirs' locks: a worker whose parent died is re-parented,
  which a watcher thread notices.
  """

  def watch():
    while os.getppid() == parent_pid:
      time.sleep(poll_seconds)
    os._exit(1)  # pylint: disable=protected-access

  threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _run_job_in_worker(spec: Tuple[type, Dict], job: Job,
                       numbers: Tuple[int, ...], total: int, intra_op: int,
                       parent_pid: int, limits: limits_lib.Limits) -> None:
  """A job's stages in a fresh worker process: rebuild the run, run them.

  The worker ends with its parent and reads under the parent's input caps;
  a reader's error met inside a pipeline reaches the parent as that
  DataError (pipeline failures do not cross processes otherwise). Each
  stage's seconds reach timings.json as it ends, so a killed run keeps the
  time of the stages it finished. The worker writes to the parent's
  terminal directly (cli.configure_worker made its progress whole lines).
  """
  exit_with_parent(parent_pid)
  limits_lib.set_limits(limits)
  runtime.configure_threads(intra_op, 1)  # Before this process's first op.
  runtime.make_deterministic()
  from data import pipeline  # pylint: disable=g-import-not-at-top
  factory, kwargs = spec
  run = factory(**kwargs)
  for name, number in zip(_chain(job), numbers):
    with pipeline.reader_errors():
      _run_numbered(run, name, number, total)


class StagedRun(abc.ABC):
  """A results folder whose named stages resume and may run side by side.

  A subclass defines run_stage(name), which runs one stage (and skips the
  work already done), and worker_spec(), which says how to rebuild the run
  in a worker process.
  """

  def __init__(self, results: str):
    self.results = results
    os.makedirs(results, exist_ok=True)
    self._planned = None  # plan_stages' total, and the stages numbered.
    self._numbered = 0

  @abc.abstractmethod
  def run_stage(self, name: str) -> None:
    """Runs stage `name`; a stage whose output exists does (almost) nothing."""

  @abc.abstractmethod
  def worker_spec(self) -> Tuple[type, Dict]:
    """(class, keyword arguments) that rebuild this run in a worker process
    (both picklable)."""

  def path(self, *parts) -> str:
    return os.path.join(self.results, *parts)

  @contextlib.contextmanager
  def timed(self, stage: str):
    """Adds a stage's wall and CPU seconds to timings.json.

    Accumulated over invocations, so an interrupted-then-resumed run reports
    the work it did in total; a stage that finds its output already done
    adds (almost) nothing. CPU seconds count all threads: on a shared
    machine they say what the work cost, the wall clock what the run saw.
    The peak RSS is the stage's own: the count restarts with the stage (on
    Linux; elsewhere it is the process's peak so far, an upper bound).
    """
    cli.reset_peak_rss()
    wall, cpu = time.monotonic(), time.process_time()
    try:
      yield
    finally:
      self.add_timing(stage, time.monotonic() - wall,
                      time.process_time() - cpu, cli.peak_rss_bytes())

  def add_timing(self, stage: str, wall_seconds: float,
                 cpu_seconds: float, peak_rss: int = 0) -> None:
    """Adds seconds to a stage's entry of timings.json (and keeps the
    largest peak RSS, bytes, seen for it).

    The one writer of that file, called by every process of the run (the
    stages' workers too) under a lock, so no addition is lost.
    """
    with filelock.FileLock(self.path(TIMINGS_FILE + ".lock")):
      timings = self.timings()
      entry = timings.setdefault(stage, {"wall_seconds": 0.0,
                                         "cpu_seconds": 0.0})
      entry["wall_seconds"] += wall_seconds
      entry["cpu_seconds"] += cpu_seconds
      entry["peak_rss_bytes"] = max(entry.get("peak_rss_bytes", 0),
                                    peak_rss)
      files.write_json(self.path(TIMINGS_FILE), timings)

  def plan_stages(self, *jobs_lists: Sequence[Job]) -> None:
    """Announces the jobs of the run_stages calls to come, so that their
    log lines count the stages of the whole run ('stage 3/7'); without a
    plan each call counts its own."""
    self._planned = sum(len(_chain(job)) for jobs_list in jobs_lists
                        for job in jobs_list)
    self._numbered = 0

  def _numbers(self, jobs_list: Sequence[Job]
              ) -> Tuple[List[Tuple[int, ...]], int]:
    """(the numbers of each job's stages, the total they count to)."""
    first = self._numbered + 1 if self._planned is not None else 1
    numbers, count = [], first
    for job in jobs_list:
      numbers.append(tuple(range(count, count + len(_chain(job)))))
      count += len(_chain(job))
    if self._planned is None:
      return numbers, count - 1
    self._numbered = count - 1
    return numbers, max(self._planned, count - 1)

  def run_stages(self, jobs_list: Sequence[Job], jobs: int = 1,
                 after: Optional[Mapping[str, Sequence[str]]] = None) -> None:
    """Runs jobs, `jobs` at a time, each once the stages it needs are done.

    A job is a stage name, or a tuple of names: stages that depend on each
    other, run in that order by the same worker (e.g. the estimator whose
    features judge the refiner, then the refiner). `after` maps a job (by
    its first stage) to the stages of this call it waits for; a job starts
    as soon as they have ended, beside whatever else runs, so no core waits
    at a barrier between groups of stages. Among the jobs ready to start,
    the one listed first starts first: list the jobs of the longest chain
    first.

    With jobs <= 1 (or one job) everything runs one after the other in this
    process, in that same order. With jobs > 1 each job runs in its own
    spawned process (a fresh TensorFlow runtime, so its thread pools can be
    sized): an equal share of the cores, or all of them for a job that by
    the waits can never run beside another (`_alone`). The small networks
    of the CPU presets gain little from a second intra-op thread, so two
    jobs side by side nearly halve the wall clock. The first
    failure cancels the jobs not yet started; those running finish (and
    keep their timings), then it is raised here. Workers log at this
    process's verbosity (cli.configure_worker).

    Raises:
      ValueError: `after` names a job that is not in `jobs_list`, or the
        waits cannot all be met (a cycle, or a job waiting on a later stage
        of its own chain).
    """
    waits = _waits(jobs_list, after or {})
    order = _serial_order(jobs_list, waits)  # Raises before anything runs.
    numbers, total = self._numbers(jobs_list)
    if jobs <= 1 or len(jobs_list) <= 1:
      for index in order:
        for name, number in zip(_chain(jobs_list[index]), numbers[index]):
          _run_numbered(self, name, number, total)
      return
    jobs = min(jobs, len(jobs_list))
    alone = _alone(jobs_list, waits)
    cores = os.cpu_count() or 1
    share = max(1, cores // jobs)
    waited = [f"{_chain(jobs_list[i])[0]} after {'/'.join(sorted(w))}"
              for i, w in waits.items() if w]
    log(f"running {', '.join(' -> '.join(_chain(j)) for j in jobs_list)}: "
        f"{jobs} at a time, {share} thread(s) each"
        + (f" (all {cores} for one that cannot run beside another); "
           + ", ".join(waited) if waited else ""))
    # configure_worker runs before a task's unpickling imports TensorFlow.
    with futures.ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("spawn"),
        max_tasks_per_child=1, initializer=cli.configure_worker,
        initargs=(absl_logging.get_verbosity(),)) as pool:
      waiting = list(range(len(jobs_list)))  # Not yet submitted, in order.
      running: Dict[futures.Future, int] = {}
      done, error = set(), None
      while waiting or running:
        ready = [i for i in waiting if waits[i] <= done]
        if error is None:
          while ready and len(running) < jobs:
            index = ready.pop(0)
            waiting.remove(index)
            running[pool.submit(
                _run_job_in_worker, self.worker_spec(), jobs_list[index],
                numbers[index], total, cores if alone[index] else share,
                os.getpid(), limits_lib.limits())] = index
        if not running:  # After a failure: what waits is not started.
          break
        finished, _ = futures.wait(running,
                                   return_when=futures.FIRST_COMPLETED)
        for future in finished:
          index = running.pop(future)
          try:
            future.result()
          except Exception as e:  # pylint: disable=broad-except
            if error is None:  # Start nothing more; let the rest end.
              error = e
            continue
          done.update(_chain(jobs_list[index]))
    if error is not None:
      raise error

  def add_elapsed(self, wall_seconds: float) -> float:
    """Adds one invocation's wall seconds to elapsed.json; returns the sum.

    The end-to-end clock of the run over all its invocations: with stages
    side by side (run_stages, jobs > 1) it is less than the sum of the
    stages' wall seconds.
    """
    path = self.path(ELAPSED_FILE)
    total = (files.read_json(path)["wall_seconds"] if os.path.exists(path)
             else 0.0) + wall_seconds
    files.write_json(path, {"wall_seconds": total})
    return total

  def timings(self) -> Dict:
    """{stage: {"wall_seconds", "cpu_seconds", "peak_rss_bytes"}} of
    timings.json ({} if none)."""
    path = self.path(TIMINGS_FILE)
    return files.read_json(path) if os.path.exists(path) else {}

  def write_provenance(self, config: Dict) -> None:
    """versions.json and config.json of this run."""
    files.write_json(self.path("versions.json"), versions())
    files.write_json(self.path("config.json"), config)
