"""Library of the SimGAN throughput benchmark (see benchmarks/throughput.py).

Each configuration (architecture x precision x XLA) times, interleaved
repeat by repeat so that a drift of the machine's speed hits all alike:

* ``project``: the project's SimGAN (refiner/simgan.py), R padded by the
  default 'reflect' mode; its measurements sit at the record's top level;
* ``zero_padding``: the same SimGAN with ``padding_mode='zero'``, for the
  cost of reflect padding (R step and refine only);
* ``plain_keras``: a plain-Keras baseline of the same networks with none of
  the project's machinery: the layers built directly with keras.layers and
  'same' (zero) padding, bare ``tf.GradientTape`` steps in float32 without
  XLA, no history buffer, no weight average, no distribution strategy;
* ``estimator_step`` (gaze configurations): one training step of the paper's
  gaze CNN (gaze/train_lib.py's step: L2 loss, Adam) in the configuration's
  precision and XLA setting.

The ratios (images/s divided by images/s) of :data:`RATIOS` compare them.
"""

import os
import re
import statistics
import time
import traceback
from typing import Dict, List, Sequence

from benchmarks import throughput_baseline as plain_lib
from core import files


MEASUREMENTS = ("refiner_step", "discriminator_step", "refine")
ESTIMATOR_STEP = "estimator_step"
HISTORY_BATCHES = 2  # Small: the buffer's size does not change step cost.
ARCHS = ("gaze", "hand")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")

# The variants timed in a configuration (see the module docstring).
PROJECT = "project"
ZERO_PADDING = "zero_padding"
PLAIN_KERAS = "plain_keras"
ZERO_PADDING_MEASUREMENTS = ("refiner_step", "refine")
# What the plain-Keras baseline always runs, whatever the configuration.
BASELINE = {"precision": "float32", "xla": False, "padding": "same"}
# Name -> (numerator, denominator), each (variant, measurement): img/s over
# img/s, so > 1 means the numerator is faster.
RATIOS = {
    "refiner_step_vs_plain": ((PROJECT, "refiner_step"),
                              (PLAIN_KERAS, "refiner_step")),
    "discriminator_step_vs_plain": ((PROJECT, "discriminator_step"),
                                    (PLAIN_KERAS, "discriminator_step")),
    "refine_vs_plain": ((PROJECT, "refine"), (PLAIN_KERAS, "refine")),
    "refiner_step_zero_padding_vs_plain": ((ZERO_PADDING, "refiner_step"),
                                           (PLAIN_KERAS, "refiner_step")),
    "refiner_step_reflect_vs_zero": ((PROJECT, "refiner_step"),
                                     (ZERO_PADDING, "refiner_step")),
    "refine_reflect_vs_zero": ((PROJECT, "refine"), (ZERO_PADDING, "refine")),
}
# The speed target of the project's default settings (core/runtime.py
# DEFAULTS) against the plain-Keras float32 R step: on bfloat16 hardware
# (where the default is mixed_bfloat16) and otherwise.
TARGET_BF16 = 2.0
TARGET_FLOAT32 = 0.95

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


def _failed(e: BaseException) -> dict:
  return {"images_per_second": None, "repeats": [], "steps_timed": [],
          "error": _error_string(e),
          "traceback": traceback.format_exc(limit=-3)}


def _sync(out) -> None:
  """Fetches a step's result to the host: the device has finished."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for t in tf.nest.flatten(out):
    t.numpy()


def _time_interleaved(timers: dict, warmup: int, steps: int, repeats: int,
                      max_seconds: float) -> dict:
  """Times several steps, their repeats interleaved: A B C A B C ...

  Args:
    timers: key -> (step, images per step); `step()` returns a tensor or a
      structure of tensors. Keys are timed in this order within a repeat.
    warmup: untimed steps of each first; they stop early once they took
      `max_seconds` (the first always runs: it traces and compiles).
    steps: timed steps per repeat; a repeat stops early, after at least one
      step, once it took `max_seconds` (bfloat16 emulated on a CPU without
      bf16 hardware still finishes).
    repeats: repeats of each key.
    max_seconds: see warmup and steps.

  Returns:
    key -> ``{'images_per_second' (the median over repeats), 'repeats',
    'steps_timed', 'error'}``. A step that raises is recorded with
    ``images_per_second`` None, its error string and traceback, and is
    not run again; the others go on.
  """
  results, live = {}, []
  for key, (step, _) in timers.items():
    try:
      start = time.perf_counter()
      for _ in range(warmup):
        _sync(step())
        if time.perf_counter() - start > max_seconds:
          break
      results[key] = {"images_per_second": None, "repeats": [],
                      "steps_timed": [], "error": None}
      live.append(key)
    except Exception as e:  # pylint: disable=broad-except
      results[key] = _failed(e)
  for _ in range(repeats):
    for key in list(live):
      step, images = timers[key]
      try:
        start = time.perf_counter()
        done = 0
        while done < steps:
          out = step()
          done += 1
          if time.perf_counter() - start > max_seconds:
            break
        _sync(out)
        rate = images * done / (time.perf_counter() - start)
      except Exception as e:  # pylint: disable=broad-except
        results[key] = _failed(e)
        live.remove(key)
        continue
      results[key]["repeats"].append(rate)
      results[key]["steps_timed"].append(done)
  for key in live:
    if results[key]["repeats"]:
      results[key]["images_per_second"] = statistics.median(
          results[key]["repeats"])
  return results


def estimator_step(precision: str, xla: bool, batch_size: int, seed: int = 0):
  """One training step of the paper's gaze CNN, as gaze training runs it.

  gaze/train_lib.py's step (L2 loss, the schedule's Adam, running metrics)
  on random 35x55 images and unit gaze labels; with `xla` the same Python
  step is compiled with jit_compile. Returns a callable running one step.
  """
  # pylint: disable=g-import-not-at-top
  import keras
  import tensorflow as tf
  from core import estimator
  from gaze import metrics
  from gaze import networks as gaze_networks
  from gaze import train_lib
  # pylint: enable=g-import-not-at-top
  model = gaze_networks.gaze_estimator(dtype=precision)
  optimizer = estimator.make_optimizer(train_lib.SCHEDULE)
  step = train_lib.make_train_step(model, optimizer, keras.metrics.Mean(),
                                   metrics.MeanAngularError())
  if xla:
    step = tf.function(step.python_function, jit_compile=True)
  images = tf.random.stateless_uniform(
      (batch_size, *gaze_networks.PAPER_INPUT_SHAPE), (seed, 3), -1.0, 1.0)
  labels = tf.math.l2_normalize(
      tf.random.stateless_normal((batch_size, 3), (seed, 4)), axis=-1)
  return lambda: step(images, labels)


# -- one configuration -------------------------------------------------------


def _build(record: dict, key: str, build):
  """Calls build(); records its time, or its error under record[key]."""
  start = time.perf_counter()
  try:
    built = build()
  except Exception as e:  # pylint: disable=broad-except
    record[key] = {"error": _error_string(e)}
    return None
  record[key] = {"error": None, "build_seconds": time.perf_counter() - start}
  return built


def benchmark_config(arch: str, precision: str, xla: bool, batch_size: int,
                     steps: int, warmup: int = 2, repeats: int = 3,
                     max_seconds: float = 60.0, seed: int = 0,
                     baseline: bool = True, padding_cost: bool = True,
                     estimator_batch_size: int = 0) -> dict:
  """Times the measurements of one configuration and of its comparisons.

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
    baseline: also time the plain-Keras baseline (``plain_keras``).
    padding_cost: also time the SimGAN with zero padding (``zero_padding``).
    estimator_batch_size: if > 0 and arch is 'gaze', also time the gaze
      estimator's training step at this batch size (``estimator_step``).

  Returns:
    A dict with the configuration (``arch``, ``precision``, ``xla``,
    ``batch_size``, ``image_shape``), ``build_seconds``, ``load_average``
    (the 1-minute load before and after), per name in ``MEASUREMENTS`` the
    project's ``{'images_per_second', 'repeats', 'steps_timed', 'error'}``
    (a failing one has ``images_per_second`` None and its error string),
    ``ratios`` (name in ``RATIOS`` -> float or None: the medians' ratio),
    ``paired_ratios`` (name -> the ratios of interleaved repeats) and, when
    timed,
    ``plain_keras`` and ``zero_padding`` (``{'error', 'build_seconds'}``
    and their measurements) and ``estimator_step`` (a measurement with its
    ``batch_size``). ``error`` is set (and all measurements absent) if the
    project's SimGAN did not build.
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
  built = timers = None
  try:
    def make_gan(padding_mode):
      keras.utils.set_random_seed(seed)
      return simgan.SimGAN(simgan.HParams(
          arch=arch, image_shape=image_shape, batch_size=batch_size,
          precision=precision, jit_compile=bool(xla), padding_mode=padding_mode,
          history_batches=HISTORY_BATCHES, seed=seed))

    def gan_steps(gan):
      refine = tf.function(lambda x: gan.export_refiner(x, training=False),
                           jit_compile=bool(xla) or None)
      return {"refiner_step": lambda: gan.refiner_step(synthetic,
                                                       adversarial=True),
              "discriminator_step": lambda: gan.discriminator_step(synthetic,
                                                                   real),
              "refine": lambda: refine(synthetic)}

    start = time.perf_counter()
    try:
      built = {PROJECT: gan_steps(make_gan("reflect"))}
    except Exception as e:  # pylint: disable=broad-except
      record["error"] = _error_string(e)
      return record
    record["build_seconds"] = time.perf_counter() - start
    shape = (batch_size, *image_shape, 1)
    synthetic = tf.random.stateless_uniform(shape, (seed, 1), -1.0, 1.0)
    real = tf.random.stateless_uniform(shape, (seed, 2), -1.0, 1.0)
    if baseline:
      keras.utils.set_random_seed(seed)
      built[PLAIN_KERAS] = _build(record, PLAIN_KERAS, lambda: (
          plain_lib.plain_keras_steps(plain_lib.build_plain_refiner(arch),
                                      plain_lib.build_plain_discriminator(arch),
                                      synthetic, real)))
    if padding_cost:
      built[ZERO_PADDING] = _build(
          record, ZERO_PADDING, lambda: gan_steps(make_gan("zero")))
    estimator = None
    if estimator_batch_size > 0 and arch == "gaze":
      keras.utils.set_random_seed(seed)
      estimator = _build(record, ESTIMATOR_STEP, lambda: estimator_step(
          precision, xla, estimator_batch_size, seed))
      record[ESTIMATOR_STEP]["batch_size"] = estimator_batch_size
    # Interleaved in this order: the variants of one measurement side by
    # side.
    timers = {}
    for name in MEASUREMENTS:
      for variant in (PROJECT, PLAIN_KERAS, ZERO_PADDING):
        if built.get(variant) and name in built[variant] and (
            variant != ZERO_PADDING or name in ZERO_PADDING_MEASUREMENTS):
          timers[(variant, name)] = (built[variant][name], batch_size)
    if estimator:
      timers[(ESTIMATOR_STEP, None)] = (estimator, estimator_batch_size)
    measured = _time_interleaved(timers, warmup, steps, repeats, max_seconds)
    for (variant, name), measurement in measured.items():
      if variant == PROJECT:
        record[name] = measurement
      elif variant == ESTIMATOR_STEP:
        record[ESTIMATOR_STEP].update(measurement)
      else:
        record[variant][name] = measurement
    record["ratios"] = compute_ratios(record)
    record["paired_ratios"] = paired_ratios(record)
  finally:
    # Free this configuration's networks and traced graphs before the next:
    # a long grid in one process otherwise keeps them all.
    built = timers = None
    keras.backend.clear_session(free_memory=True)
    keras.mixed_precision.set_global_policy(previous_policy)
    record["load_average"].append(os.getloadavg()[0])
  return record


def _measurement(record: dict, variant: str, name) -> dict:
  """A measurement of a record ({} if not timed)."""
  if variant == PROJECT:
    return record.get(name) or {}
  if variant == ESTIMATOR_STEP:
    return record.get(ESTIMATOR_STEP) or {}
  return (record.get(variant) or {}).get(name) or {}


def compute_ratios(record: dict) -> Dict[str, float]:
  """Name in RATIOS -> numerator img/s / denominator img/s, or None where
  either was not timed or failed."""
  ratios = {}
  for ratio, (top, bottom) in RATIOS.items():
    a = _measurement(record, *top).get("images_per_second")
    b = _measurement(record, *bottom).get("images_per_second")
    ratios[ratio] = a / b if a and b else None
  return ratios


def paired_ratios(record: dict) -> Dict[str, list]:
  """Name in RATIOS -> the ratio of each repeat to its interleaved partner
  (repeat i over repeat i): how far the drift of the machine moved it."""
  pairs = {}
  for ratio, (top, bottom) in RATIOS.items():
    a = _measurement(record, *top)
    b = _measurement(record, *bottom)
    pairs[ratio] = ([x / y for x, y in zip(a["repeats"], b["repeats"])]
                    if a.get("images_per_second") and
                    b.get("images_per_second") else [])
  return pairs


def speed_target(results: Sequence[dict], defaults) -> dict:
  """The R-step target of the project's default settings.

  Args:
    results: benchmark_config records.
    defaults: the device's core.runtime.Settings (``precision``,
      ``jit_compile``).

  Returns:
    ``{'precision', 'xla', 'minimum', 'ratios'}``: the default precision
    and XLA setting, the least ratio project / plain-Keras float32 R step
    wanted (TARGET_BF16 where the default is mixed_bfloat16, else
    TARGET_FLOAT32) and, per architecture with a record of the default
    settings, its measured ratio (None if either step failed).
  """
  minimum = (TARGET_BF16 if defaults.precision == "mixed_bfloat16"
             else TARGET_FLOAT32)
  ratios = {r["arch"]: (r.get("ratios") or {}).get("refiner_step_vs_plain")
            for r in results
            if r["precision"] == defaults.precision
            and r["xla"] == bool(defaults.jit_compile)}
  return {"precision": defaults.precision, "xla": bool(defaults.jit_compile),
          "minimum": minimum, "ratios": ratios}


def run_benchmark(archs, precisions, xla_settings, batch_sizes: dict,
                  steps: dict, warmup: int, repeats: int,
                  max_seconds: float = 60.0, threads=(0, 0),
                  baseline: bool = True, padding_cost: bool = True,
                  estimator_batch_size: int = 0, log=print) -> dict:
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
    baseline: time the plain-Keras baseline in each configuration.
    padding_cost: time the zero-padded SimGAN in each configuration.
    estimator_batch_size: batch of the gaze estimator step timed in each
      gaze configuration; 0: not timed.
    log: called with a line of progress after each configuration.

  Returns:
    ``{'device', 'settings', 'load_average', 'results', 'target',
    'elapsed_seconds'}``; ``results`` is a list of :func:`benchmark_config`
    records, ``target`` the :func:`speed_target` of this device's defaults.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from core import runtime  # pylint: disable=g-import-not-at-top

  start = time.perf_counter()
  load_before = os.getloadavg()
  device = runtime.describe_device()
  results = []
  for arch in archs:
    for precision in precisions:
      for xla in xla_settings:
        record = benchmark_config(
            arch, precision, xla, batch_sizes[arch], steps[arch], warmup,
            repeats, max_seconds, baseline=baseline,
            padding_cost=padding_cost,
            estimator_batch_size=estimator_batch_size)
        results.append(record)
        log(progress_line(record))
  return {
      "device": device,
      "settings": {
          "archs": list(archs), "precisions": list(precisions),
          "xla": [bool(x) for x in xla_settings],
          "batch_sizes": dict(batch_sizes), "steps": dict(steps),
          "warmup": warmup, "repeats": repeats, "max_seconds": max_seconds,
          "history_batches": HISTORY_BATCHES,
          "baseline": dict(BASELINE, enabled=bool(baseline)),
          "padding_cost": bool(padding_cost),
          "estimator_batch_size": estimator_batch_size,
          "intra_op": threads[0], "inter_op": threads[1],
          "effective_intra_op": tf.config.threading
                                .get_intra_op_parallelism_threads(),
          "effective_inter_op": tf.config.threading
                                .get_inter_op_parallelism_threads(),
      },
      "load_average": {"before": list(load_before),
                       "after": list(os.getloadavg())},
      "results": results,
      "target": speed_target(results, runtime.recommended(
          runtime.device_kind(device))),
      "elapsed_seconds": time.perf_counter() - start,
  }


# -- output ------------------------------------------------------------------


def _cell(measurement) -> str:
  if not measurement:
    return "-"
  if measurement.get("images_per_second") is None:
    return "error: " + (measurement.get("error") or "not timed")[:60]
  return f"{measurement['images_per_second']:.1f}"


def _ratio_cell(value, pairs=()) -> str:
  """The ratio, and the range of its repeats' ratios if several."""
  if value is None:
    return "-"
  if len(pairs) < 2:
    return f"{value:.2f}"
  return f"{value:.2f} ({min(pairs):.2f}-{max(pairs):.2f})"


def _head(record: dict) -> list:
  return [record["arch"], record["precision"],
          "xla" if record["xla"] else "no-xla"]


def _row(record: dict) -> list:
  """The project's row: arch, precision, xla, batch, network, R step, D
  step, refine, estimator step img/s, load."""
  head = _head(record) + [str(record["batch_size"]), "project"]
  load = "-".join(f"{x:.1f}" for x in record["load_average"])
  if record["error"]:
    return head + ["error: " + record["error"][:60], "", "", "", load]
  return head + [_cell(record.get(name)) for name in MEASUREMENTS] + [
      _cell(record.get(ESTIMATOR_STEP)), load]


def _rows(record: dict) -> List[list]:
  """The project's row, then one per comparison variant timed."""
  rows = [_row(record)]
  labels = ((ZERO_PADDING, "project zero-pad"),
            (PLAIN_KERAS, "plain Keras float32"))
  for variant, label in labels:
    if record.get(variant) is None:
      continue
    row = _head(record) + [str(record["batch_size"]), label]
    if record[variant]["error"]:
      row += ["error: " + record[variant]["error"][:60], "", ""]
    else:
      row += [_cell(record[variant].get(name)) for name in MEASUREMENTS]
    rows.append(row + ["", ""])
  return rows


def format_table(report: dict) -> str:
  """The results as a plain-text table of images/s, a row per network."""
  import tabulate  # pylint: disable=g-import-not-at-top
  headers = ["arch", "precision", "xla", "batch", "network", "R step img/s",
             "D step img/s", "refine img/s", "estimator step img/s",
             "load (1 min)"]
  # Cells as formatted here (no re-parsing: 20.0 stays 20.0), numbers right.
  return tabulate.tabulate(
      [row for r in report["results"] for row in _rows(r)], headers=headers,
      disable_numparse=True, colalign=["left"] * 5 + ["right"] * 5)


RATIO_HEADERS = {
    "refiner_step_vs_plain": "R step / plain",
    "discriminator_step_vs_plain": "D step / plain",
    "refine_vs_plain": "refine / plain",
    "refiner_step_zero_padding_vs_plain": "zero-pad R step / plain",
    "refiner_step_reflect_vs_zero": "R step reflect / zero",
    "refine_reflect_vs_zero": "refine reflect / zero",
}


def format_ratio_table(report: dict) -> str:
  """The ratios (img/s over img/s, same run) as a plain-text table; in
  brackets the range of the ratios of interleaved repeats."""
  import tabulate  # pylint: disable=g-import-not-at-top
  rows = [_head(r) + [_ratio_cell((r.get("ratios") or {}).get(name),
                                  (r.get("paired_ratios") or {}).get(name,
                                                                    ()))
                      for name in RATIOS]
          for r in report["results"]]
  return tabulate.tabulate(
      rows, headers=["arch", "precision", "xla"] +
      [RATIO_HEADERS[name] for name in RATIOS], disable_numparse=True,
      colalign=["left"] * 3 + ["right"] * len(RATIOS))


def target_lines(report: dict) -> List[str]:
  """A line per architecture: the default settings' R step against the
  plain-Keras float32 R step, and whether it meets the target."""
  target = report["target"]
  settings = (f"{target['precision']}, "
              f"{'xla' if target['xla'] else 'no-xla'}")
  lines = []
  for arch in report["settings"]["archs"]:
    if arch not in target["ratios"]:
      lines.append(f"target {arch}: the default settings ({settings}) were "
                   "not timed")
      continue
    ratio = target["ratios"][arch]
    verdict = ("not measured" if ratio is None else
               f"{ratio:.2f}, " + ("met" if ratio >= target["minimum"]
                                   else "not met"))
    lines.append(f"target {arch}: project R step ({settings}, this device's "
                 f"default) / plain Keras float32 >= {target['minimum']:.2f}"
                 f": {verdict}")
  return lines


def progress_line(record: dict) -> str:
  """One line of a finished configuration: its img/s and ratios."""
  row = _row(record)
  line = " ".join(row[:4]) + ": " + ", ".join(
      f"{name} {cell}" for name, cell in zip(
          MEASUREMENTS + (ESTIMATOR_STEP,), row[5:9]))
  ratios = record.get("ratios") or {}
  if any(v is not None for v in ratios.values()):
    line += "; " + ", ".join(f"{RATIO_HEADERS[k]} {_ratio_cell(v)}"
                             for k, v in ratios.items() if v is not None)
  return line + f"; load {row[9]}"


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
