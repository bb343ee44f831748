"""Small in-place profiles on float32 arrays, shared by the eye's shading.

Each overwrites its argument (the shading allocates few temporaries). NumPy's
clip is vectorised where maximum/minimum against a scalar are not, hence
clip with the finite bound `BIG` instead of an infinite one.
"""

import numpy as np

BIG = 3e38


def coverage(distance: np.ndarray) -> np.ndarray:
  """Coverage of a pixel by the inside of an edge `distance` pixels away."""
  distance += 0.5
  return np.clip(distance, 0.0, 1.0, out=distance)


def bump(z: np.ndarray) -> np.ndarray:
  """(1 - z^2)^2 for |z| < 1, else 0: a cheap, smooth, Gaussian-like bump."""
  np.square(z, out=z)
  np.subtract(1.0, z, out=z)
  np.clip(z, 0.0, 1.0, out=z)
  return np.square(z, out=z)


def decay(distance: np.ndarray) -> np.ndarray:
  """1 / (1 + |d|)^2: a cheap falloff with distance, 1 at d = 0."""
  np.abs(distance, out=distance)
  distance += 1.0
  np.reciprocal(distance, out=distance)
  return np.square(distance, out=distance)
