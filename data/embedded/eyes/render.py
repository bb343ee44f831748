"""The eye scene on the pixel grid: ``render_eyes``.

Pixel centres are placed on the canonical 35x55 canvas at any output
resolution; the skin and lids are shaded everywhere, the eyeball only in
the lids' opening, and the real stand-in then goes through the webcam
(:mod:`.camera`).
"""

from typing import Dict, Tuple

import numpy as np

from data.embedded.eyes import camera
from data.embedded.eyes import eyeball
from data.embedded.eyes import face
from data.embedded.eyes import parameters
from data.embedded.eyes import textures


def render_eyes(params: Dict[str, np.ndarray], image_shape: Tuple[int, int],
                real: bool) -> np.ndarray:
  """Renders eyes from per-image parameters as uint8 (n, H, W).

  Every pixel of every image of the batch is computed at once (arrays of
  shape (n, H, W)); per-image quantities broadcast as (n, 1, 1).

  Args:
    params: per-image parameters as returned by
      :func:`data.embedded.eyes.parameters.sample_parameters` (any entry may
      be overridden, e.g. to render a chosen gaze).
    image_shape: (height, width) of the output; the scene is defined on the
      canonical 35x55 canvas and drawn at this resolution.
    real: False renders the clean simulator, True the webcam-like
      appearance (the real stand-in and the oracle).

  Returns:
    uint8 gray images.
  """
  n = len(params["pitch"])
  height, width = image_shape
  if n == 0:
    return np.zeros((0, height, width), np.uint8)
  banks = textures.banks()
  f32 = np.float32
  p = {k: np.asarray(v, f32).reshape(-1, 1, 1) for k, v in params.items()}
  # Canonical coordinates of pixel centres, origin at the canvas centre.
  canonical_height, canonical_width = parameters.CANONICAL_SHAPE
  step_x = canonical_width / width
  step_y = canonical_height / height
  pixel = max(step_x, step_y)  # canonical size of one output pixel
  x = ((np.arange(width, dtype=f32) + 0.5) * f32(step_x) -
       f32(canonical_width / 2)).reshape(1, 1, -1)
  y = ((np.arange(height, dtype=f32) + 0.5) * f32(step_y) -
       f32(canonical_height / 2)).reshape(1, -1, 1)

  lids = face.lid_geometry(p, x, y, pixel)
  if real:
    # Skin texture and sclera veins are fixed to the head: one lookup.
    tile = (np.floor(p["texture"] * textures.BANK_TILES).astype(np.int32) %
            textures.BANK_TILES)
    lids["skin_texel"] = textures.texel_index(
        tile, lids["v"] * 2.0 + p["texture_y"] * textures.TILE,
        lids["u"] * 2.0 + p["texture_x"] * textures.TILE)
  else:
    lids["skin_texel"] = np.zeros(lids["t"].shape, np.int32)
  skin = face.skin_radiance(p, pixel, lids, real, banks)
  # The eyeball shows only through the opening (about an eighth of the
  # canvas): shade it on those pixels alone, as flat arrays. Every step is
  # elementwise, so a pixel's value does not depend on the batch.
  opening = lids["opening"].reshape(-1)
  visible = np.flatnonzero(opening > 0.0)
  image_of = visible // (height * width)
  row = visible // width % height
  col = visible % width
  eye = eyeball.eyeball(
      {k: p[k].reshape(-1)[image_of] for k in eyeball.EYE_PARAMETERS},
      x.reshape(-1)[col], y.reshape(-1)[row], pixel,
      {k: lids[k].reshape(-1)[visible] for k in eyeball.EYE_LID_KEYS}, real,
      banks)
  image = skin
  flat = image.reshape(-1)
  eye -= flat[visible]
  eye *= opening[visible]
  flat[visible] += eye
  if not real:
    image *= 255.0
    np.rint(image, out=image)
    return np.clip(image, 0.0, 255.0, out=image).astype(np.uint8)

  image *= face.lash_transmission(p, pixel, lids)
  # Moderate per-image exposure and directional light.
  direction_x = np.cos(p["light_angle"]) / (canonical_width / 2)
  direction_y = np.sin(p["light_angle"]) / (canonical_height / 2)
  light = direction_x * x + direction_y * y
  light *= p["light_gradient"]
  light += 1.0
  light *= p["exposure"]
  image *= light
  return camera.camera(image, p, step_x)
