"""The counter-based hashing RNG of the embedded worlds.

Every generated image is a pure function of ``(seed, domain, split, index)``:
a (seed, domain, split) stream has a 64-bit key, and counter ``i`` of the
stream (an image, a frame or a (frame, view) pair) gets the ``i``-th output
of a SplitMix64 sequence started at the key. Its parameter ``j`` is a hash
of that output and ``j``. So a value depends neither on which other counters
are drawn with it nor on which other parameters are asked for, any subset of
a source reads identically in any batch, and the labels of every image exist
without rendering anything. Two streams (random 64-bit keys) would have to
start within a stream's length of each other to share a counter.

A parameter table is a tuple of ``(name, low, high)`` rows, each drawn
uniformly in ``[low, high)``; tables are append-only, since the hash column
of a name is its row.
"""

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, SplitMix64's increment
MASK64 = (1 << 64) - 1

Table = Tuple[Tuple[str, float, float], ...]


def splitmix64(x: np.ndarray) -> np.ndarray:
  """SplitMix64 finaliser on uint64 arrays (wraps modulo 2**64)."""
  x = x + np.uint64(GOLDEN)
  x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
  x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
  return x ^ (x >> np.uint64(31))


def unit_uniform(bits: np.ndarray) -> np.ndarray:
  """uint64 hashes -> float64 uniforms in [0, 1) (their top 53 bits)."""
  return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def stream_key(seed: int, stream_id: int) -> int:
  """The 64-bit key of stream `stream_id` under `seed`."""
  seed_hash = splitmix64(np.array([int(seed) & MASK64], np.uint64))
  mixed = splitmix64(seed_hash ^ np.uint64(stream_id))
  return int(mixed[0])


def counter_hashes(key: int, counters: np.ndarray) -> np.ndarray:
  """The uint64 hash of each counter of stream `key`, shape (n,)."""
  counters = np.asarray(counters, np.int64).reshape(-1).astype(np.uint64)
  return splitmix64(np.uint64(key) + counters * np.uint64(GOLDEN))


def draw(key: int, counters: np.ndarray, table: Table,
         names: Optional[Sequence[str]] = None,
         first_column: int = 0) -> Dict[str, np.ndarray]:
  """Uniform parameters of `table` for each counter (float64, (n,) each).

  Args:
    key: the stream's key.
    counters: (n,) non-negative counters (images, frames, ...).
    table: the parameter table.
    names: the parameters to draw (default: all of `table`, in its order).
    first_column: the hash column of the table's first row (a world's
      tables keep the columns they were defined with).

  Returns:
    name -> values.
  """
  base = counter_hashes(key, counters)
  rows = {name: j for j, (name, _, _) in enumerate(table)}
  out = {}
  for name in (rows if names is None else names):
    j = rows[name]
    _, low, high = table[j]
    column = np.uint64(((j + first_column) * GOLDEN) & MASK64)
    out[name] = low + (high - low) * unit_uniform(splitmix64(base + column))
  return out
