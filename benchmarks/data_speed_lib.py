"""How fast a data source serves images: read (render/decode) speed.

The embedded worlds render every image on read, so their speed decides
whether data can ever be the trainers' bottleneck (the eye worlds are meant
to serve at least 5,000 images/s on 2 cores). CPU seconds are reported
beside the wall clock: on a shared machine the wall clock is what the run
saw, the CPU seconds what the work cost.
"""

import os
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from core import files
from data import specs


def read_speed(spec: str, images: int, repeats: int = 3,
               warmup: int = 1000,
               image_size: Optional[Tuple[int, int]] = None) -> Dict:
  """Times `repeats` reads of `images` consecutive images of one SPEC.

  Args:
    spec: any SPEC (see data/specs.py); the source must hold at least
      `warmup + images` images.
    images: images per timed read (one `read` call, as a trainer's loader
      or the refine binary would issue in chunks).
    repeats: timed reads; each reads the same indices.
    warmup: images read once first, untimed (lazy tables, thread pools).
    image_size: (H, W) to read at, where the source supports it (the
      embedded worlds render at any size); None: the source's own.

  Returns:
    A JSON-able record: best and median images/s (wall) and images per CPU
    second (process time of all threads), and the 1-minute load average
    before and after.
  """
  source = specs.open_source(spec, image_size)
  if len(source) < warmup + images:
    raise ValueError(f"{spec}: holds {len(source)} images, fewer than "
                     f"warm-up {warmup} + timed {images}")
  load_before = os.getloadavg()[0]
  source.read(np.arange(warmup))
  indices = np.arange(warmup, warmup + images)
  wall, cpu = [], []
  for _ in range(repeats):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    batch = source.read(indices)
    wall.append(time.perf_counter() - start_wall)
    cpu.append(time.process_time() - start_cpu)
  rates = [images / w for w in wall]
  return {
      "spec": spec,
      "image_shape": list(batch.shape[1:]),
      "images": images,
      "repeats": repeats,
      "images_per_second_best": max(rates),
      "images_per_second_median": float(np.median(rates)),
      "images_per_cpu_second_median": float(np.median(
          [images / c for c in cpu])),
      "load_average": [load_before, os.getloadavg()[0]],
  }


def table(records: List[Dict]) -> str:
  """The records as a plain-text table."""
  lines = [f"{'source':48s} {'shape':>10s} {'best img/s':>11s} "
           f"{'median':>8s} {'per CPU-s':>10s} {'load':>9s}"]
  for r in records:
    shape = "x".join(str(s) for s in r["image_shape"][:2])
    load = "/".join(f"{v:.1f}" for v in r["load_average"])
    lines.append(f"{r['spec'][:48]:48s} {shape:>10s} "
                 f"{r['images_per_second_best']:11.0f} "
                 f"{r['images_per_second_median']:8.0f} "
                 f"{r['images_per_cpu_second_median']:10.0f} {load:>9s}")
  return "\n".join(lines)


def run(spec_list: List[str], images: int, repeats: int, warmup: int,
        image_size: Optional[Tuple[int, int]] = None,
        log: Callable[[str], None] = print) -> List[Dict]:
  """`read_speed` of each SPEC, logging each record's table row."""
  records = []
  for spec in spec_list:
    records.append(read_speed(spec, images, repeats, warmup, image_size))
    log(table(records[-1:]).splitlines()[-1])
  return records


def write_report(records: List[Dict], path: str) -> None:
  """Writes ``{'results': records}`` as JSON to `path` (atomically; folders
  created)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  files.write_json(path, {"results": records})
