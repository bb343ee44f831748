"""The eye world's fixed texture and sensor-noise banks.

The banks are part of the world, not of the seed: one fixed generator makes
them once per process. Tiles are periodic (filtered in the Fourier domain)
so lookups wrap without seams, and few and small so that lookups stay in
cache; an image picks a tile and an offset from its parameters.
"""

import functools
from typing import Dict

import cv2
import numpy as np

BANK_TILES = 2
TILE = 128
IRIS_TEXELS = 56.0  # iris rim radius in the iris tile, in texels
NOISE_BANK = 1 << 20


@functools.lru_cache(maxsize=1)
def banks() -> Dict[str, np.ndarray]:
  """The banks, each flat float32 (`BANK_TILES` tiles of TILE x TILE).

  Skin: mottling plus sparse pores; veins: thin random walks; iris: streaks
  along the radius around the tile centre (radius `IRIS_TEXELS` = the iris
  rim); crypts: fine blotches; noise: `NOISE_BANK` standard normal samples
  for the sensor.
  """
  rng = np.random.default_rng(20170101)
  freq_y = np.fft.fftfreq(TILE)[:, None]
  freq_x = np.fft.fftfreq(TILE)[None, :]

  def periodic_noise(sigma_y, sigma_x):
    white = rng.standard_normal((BANK_TILES, TILE, TILE))
    response = np.exp(-2.0 * np.pi**2 *
                      (sigma_y**2 * freq_y**2 + sigma_x**2 * freq_x**2))
    smooth = np.real(np.fft.ifft2(np.fft.fft2(white) * response))
    return smooth / smooth.std(axis=(1, 2), keepdims=True)

  skin = 0.7 * periodic_noise(1.2, 1.2) + 0.5 * periodic_noise(4.0, 4.0)
  pores = (rng.random((BANK_TILES, TILE, TILE)) < 0.03).astype(np.float64)
  pores = np.real(
      np.fft.ifft2(
          np.fft.fft2(pores) * np.exp(-2.0 * np.pi**2 * 0.8**2 *
                                      (freq_y**2 + freq_x**2))))
  skin -= 4.0 * pores
  skin = (skin - skin.mean()) / skin.std()

  veins = np.zeros((BANK_TILES, TILE, TILE), np.float32)
  for tile in veins:
    for _ in range(10):
      point = rng.uniform(0, TILE, 2)
      heading = rng.uniform(0, 2 * np.pi)
      path = []
      for _ in range(40):
        heading += rng.normal(0.0, 0.35)
        point = point + 1.5 * np.array([np.cos(heading), np.sin(heading)])
        path.append(point.copy())
      path = np.round(np.array(path) * 16).astype(np.int32)
      cv2.polylines(tile, [path], False, float(rng.uniform(0.5, 1.0)), 1,
                    cv2.LINE_AA, shift=4)
  veins = np.clip(cv2.GaussianBlur(veins.transpose(1, 2, 0), (0, 0), 0.6),
                  0, 1).transpose(2, 0, 1)

  # Iris streaks: noise long along the radius (rows) and short along the
  # angle (columns, periodic), warped from polar to Cartesian texels.
  polar = periodic_noise(8.0, 2.5)
  offsets = np.arange(TILE) - TILE / 2 + 0.5
  texel_radius = np.hypot(offsets[:, None], offsets[None, :])
  texel_angle = np.arctan2(offsets[:, None], offsets[None, :])
  rows = np.minimum(texel_radius * (TILE / 2 / IRIS_TEXELS),
                    TILE - 1).astype(np.int64)
  cols = np.floor(texel_angle / (2 * np.pi) * TILE).astype(np.int64) % TILE
  iris = polar[:, rows, cols]
  crypts = periodic_noise(3.0, 3.0)
  return {
      "skin": skin.astype(np.float32).reshape(-1),
      "veins": veins.astype(np.float32).reshape(-1),
      "iris": iris.astype(np.float32).reshape(-1),
      "crypts": crypts.astype(np.float32).reshape(-1),
      "noise": rng.standard_normal(NOISE_BANK).astype(np.float32),
  }


def texel_index(tile: np.ndarray, rows: np.ndarray,
                cols: np.ndarray) -> np.ndarray:
  """Flat index of the nearest texel of a bank tile, wrapping around."""
  rows = np.floor(rows).astype(np.int32)
  rows &= TILE - 1
  rows *= TILE
  cols = np.floor(cols).astype(np.int32)
  cols &= TILE - 1
  rows += cols
  rows += tile * (TILE * TILE)
  return rows
