"""Library of the SimGAN throughput benchmark (see benchmarks/throughput.py)."""

import os
import re
import statistics
import time
import traceback
from typing import List, Sequence

from core import files


MEASUREMENTS = ("refiner_step", "discriminator_step", "refine")
HISTORY_BATCHES = 2  # Small: the buffer's size does not change step cost.
ARCHS = ("gaze", "hand")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def check_settings(archs: Sequence[str], precisions: Sequence[str],
                   xla: Sequence[str]) -> List[bool]:
  """Validates the grid a user asked for; returns the XLA settings as bools.

  Raises:
    ValueError: an unknown architecture or precision, or an XLA value that
      is not true/false.
  """
  from core import runtime  # pylint: disable=g-import-not-at-top
  for arch in archs:
    if arch not in ARCHS:
      raise ValueError(f"--archs: unknown architecture {arch!r}; expected "
                       f"{', '.join(ARCHS)}")
  for precision in precisions:
    if precision not in runtime.PRECISIONS:
      raise ValueError(f"--precisions: unknown precision {precision!r}; "
                       f"expected {', '.join(runtime.PRECISIONS)}")
  settings = []
  for text in xla:
    lowered = text.strip().lower()
    if lowered not in _TRUE + _FALSE:
      raise ValueError(f"--xla: expected true/false, got {text!r}")
    settings.append(lowered in _TRUE)
  return settings


def _error_string(e: BaseException) -> str:
  """One line: the exception's type and the gist of its message.

  Errors raised while tracing a tf.function start with 'in user code:' and
  a stack; their gist is the last message line before Keras' argument dump.
  """
  text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # Keras' bold markers.
  lines = [line.strip() for line in text.splitlines() if line.strip()]
  gist = lines[0] if lines else ""
  if gist == "in user code:":
    cut = [i for i, line in enumerate(lines)
           if line.startswith("Arguments received")]
    gist = lines[(cut[0] if cut else len(lines)) - 1]
  return f"{type(e).__name__}: {gist[:300]}"


def _time_steps(step, images_per_step: int, warmup: int, steps: int,
                repeats: int, max_seconds: float) -> dict:
  """Times `step()` (which returns a tensor or a dict of tensors).

  Warm-up stops early once it has taken `max_seconds` (its first step always
  runs: it traces and compiles), and so does each repeat after at least one
  step, so that a very slow configuration (bfloat16 emulated on a CPU
  without bf16 hardware) still finishes. The last step's result is fetched
  to the host so that the clock stops only when the device has finished.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def sync(out):
    for t in tf.nest.flatten(out):
      t.numpy()

  start = time.perf_counter()
  for _ in range(warmup):
    sync(step())
    if time.perf_counter() - start > max_seconds:
      break
  rates, counts = [], []
  for _ in range(repeats):
    start = time.perf_counter()
    done = 0
    while done < steps:
      out = step()
      done += 1
      if time.perf_counter() - start > max_seconds:
        break
    sync(out)
    rates.append(images_per_step * done / (time.perf_counter() - start))
    counts.append(done)
  return {"images_per_second": statistics.median(rates),
          "repeats": rates, "steps_timed": counts, "error": None}


def benchmark_config(arch: str, precision: str, xla: bool, batch_size: int,
                     steps: int, warmup: int = 2, repeats: int = 3,
                     max_seconds: float = 60.0, seed: int = 0) -> dict:
  """Times the three measurements of one configuration.

  Args:
    arch: 'gaze' or 'hand'; images have the architecture's default size.
    precision: 'float32', 'mixed_bfloat16' or 'mixed_float16'.
    xla: compile the steps (and refinement) with XLA.
    batch_size: images per step (refine too).
    steps: timed steps per repeat.
    warmup: untimed steps first (tracing and compilation).
    repeats: timed repeats.
    max_seconds: time after which warm-up and each repeat stop early.
    seed: seed of weights and images.

  Returns:
    A dict with the configuration (``arch``, ``precision``, ``xla``,
    ``batch_size``, ``image_shape``), ``build_seconds``, ``load_average``
    (the 1-minute load before and after) and, per name in
    ``MEASUREMENTS``, ``{'images_per_second', 'repeats', 'error'}``: a
    failing measurement has ``images_per_second`` None and its error string.
    ``error`` is set (and the measurements absent) if SimGAN did not build.
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from refiner import networks  # pylint: disable=g-import-not-at-top
  from refiner import simgan  # pylint: disable=g-import-not-at-top

  image_shape = tuple(networks.get_architecture(arch).image_shape)
  # Other processes may share the cores: the load says how much to trust.
  record = {"arch": arch, "precision": precision, "xla": bool(xla),
            "batch_size": batch_size, "image_shape": list(image_shape),
            "steps": steps, "warmup": warmup, "error": None,
            "load_average": [os.getloadavg()[0]]}
  previous_policy = keras.mixed_precision.global_policy().name
  try:
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    try:
      gan = simgan.SimGAN(simgan.HParams(
          arch=arch, image_shape=image_shape, batch_size=batch_size,
          precision=precision, jit_compile=bool(xla),
          history_batches=HISTORY_BATCHES, seed=seed))
    except Exception as e:  # pylint: disable=broad-except
      record["error"] = _error_string(e)
      return record
    record["build_seconds"] = time.perf_counter() - start
    shape = (batch_size, *image_shape, 1)
    synthetic = tf.random.stateless_uniform(shape, (seed, 1), -1.0, 1.0)
    real = tf.random.stateless_uniform(shape, (seed, 2), -1.0, 1.0)
    refine = tf.function(
        lambda x: gan.export_refiner(x, training=False),
        jit_compile=bool(xla) or None)
    steps_by_name = {
        "refiner_step": lambda: gan.refiner_step(synthetic, adversarial=True),
        "discriminator_step": lambda: gan.discriminator_step(synthetic, real),
        "refine": lambda: refine(synthetic),
    }
    for name in MEASUREMENTS:
      try:
        record[name] = _time_steps(steps_by_name[name], batch_size, warmup,
                                   steps, repeats, max_seconds)
      except Exception as e:  # pylint: disable=broad-except
        record[name] = {"images_per_second": None, "repeats": [],
                        "steps_timed": [], "error": _error_string(e)}
        record[name]["traceback"] = traceback.format_exc(limit=-3)
  finally:
    # Free this configuration's networks and traced graphs before the next:
    # a long grid in one process otherwise keeps them all.
    gan = refine = steps_by_name = None
    keras.backend.clear_session(free_memory=True)
    keras.mixed_precision.set_global_policy(previous_policy)
    record["load_average"].append(os.getloadavg()[0])
  return record


def run_benchmark(archs, precisions, xla_settings, batch_sizes: dict,
                  steps: dict, warmup: int, repeats: int,
                  max_seconds: float = 60.0, threads=(0, 0),
                  log=print) -> dict:
  """Times every configuration; returns the whole JSON-ready record.

  Args:
    archs: architectures to time.
    precisions: precision policies to time.
    xla_settings: jit_compile settings (bools) to time.
    batch_sizes: arch -> batch size.
    steps: arch -> timed steps per repeat.
    warmup: untimed steps per measurement.
    repeats: timed repeats per measurement.
    max_seconds: time after which warm-up and each repeat stop early.
    threads: the (intra_op, inter_op) asked for, recorded as given (the
      caller applies them with core.runtime.configure_threads).
    log: called with a line of progress after each configuration.

  Returns:
    ``{'device', 'settings', 'load_average', 'results', 'elapsed_seconds'}``;
    ``results`` is a list of :func:`benchmark_config` records.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from core import runtime  # pylint: disable=g-import-not-at-top

  start = time.perf_counter()
  load_before = os.getloadavg()
  results = []
  for arch in archs:
    for precision in precisions:
      for xla in xla_settings:
        record = benchmark_config(arch, precision, xla, batch_sizes[arch],
                                  steps[arch], warmup, repeats, max_seconds)
        results.append(record)
        row = _row(record)
        log(" ".join(row[:4]) + ": " + ", ".join(
            f"{name} {cell}" for name, cell in zip(MEASUREMENTS, row[4:7]))
            + f"; load {row[7]}")
  return {
      "device": runtime.describe_device(),
      "settings": {
          "archs": list(archs), "precisions": list(precisions),
          "xla": [bool(x) for x in xla_settings],
          "batch_sizes": dict(batch_sizes), "steps": dict(steps),
          "warmup": warmup, "repeats": repeats, "max_seconds": max_seconds,
          "history_batches": HISTORY_BATCHES,
          "intra_op": threads[0], "inter_op": threads[1],
          "effective_intra_op": tf.config.threading
                                .get_intra_op_parallelism_threads(),
          "effective_inter_op": tf.config.threading
                                .get_inter_op_parallelism_threads(),
      },
      "load_average": {"before": list(load_before),
                       "after": list(os.getloadavg())},
      "results": results,
      "elapsed_seconds": time.perf_counter() - start,
  }


def _cell(measurement) -> str:
  if measurement is None:
    return "-"
  if measurement["images_per_second"] is None:
    return "error: " + measurement["error"][:60]
  return f"{measurement['images_per_second']:.1f}"


def _row(record: dict) -> list:
  head = [record["arch"], record["precision"],
          "xla" if record["xla"] else "no-xla", str(record["batch_size"])]
  load = "-".join(f"{x:.1f}" for x in record["load_average"])
  if record["error"]:
    return head + ["error: " + record["error"][:60], "", "", load]
  return head + [_cell(record.get(name)) for name in MEASUREMENTS] + [load]


def format_table(report: dict) -> str:
  """The results as a plain-text table of images/s."""
  import tabulate  # pylint: disable=g-import-not-at-top
  headers = ["arch", "precision", "xla", "batch", "R step img/s",
             "D step img/s", "refine img/s", "load (1 min)"]
  return tabulate.tabulate([_row(r) for r in report["results"]],
                           headers=headers)


def summary_line(report: dict) -> str:
  """Device, load before/after and duration of a run, on one line."""
  load = report["load_average"]
  return (f"device: {report['device']['name']} ({report['device']['kind']}); "
          f"load average before/after: {load['before'][0]:.2f}/"
          f"{load['after'][0]:.2f}; {report['elapsed_seconds']:.0f} s")


def write_report(report: dict, path: str) -> None:
  """Writes `report` as JSON to `path` (atomically; folders created)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  files.write_json(path, report)
