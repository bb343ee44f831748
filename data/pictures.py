"""Pictures of images: labelled grids of a source, and rows that compare a
refiner's input, output and the real images (paper Fig. 5, 11).

Images are upscaled with nearest neighbours, so pixels stay visible. Used by
the `data.show` and `refiner.show` binaries and the reproductions.
"""

import os
from typing import Sequence, Tuple

import cv2
import numpy as np

from core import files
from data import input_files
from data import source as source_lib

# Layout in output pixels.
PAD = 2
TITLE_HEIGHT = 20
CAPTION_HEIGHT = 14
# BGR colours, saturated so that they cannot occur in a gray image.
ARROW_COLOUR = (0, 255, 0)
JOINT_COLOUR = (0, 165, 255)
_BACKGROUND = (40, 40, 40)
_TEXT_COLOUR = (235, 235, 235)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
JOINT_COLUMNS = tuple(f"j{i:02d}_{axis}" for i in range(14) for axis in "uv")


def grid_size(rows: int, cols: int, image_shape: Sequence[int],
              scale: int) -> tuple:
  """(height, width) in pixels of the grid `draw_grid` draws."""
  height, width = image_shape
  return (TITLE_HEIGHT + rows * (height * scale + CAPTION_HEIGHT + PAD) + PAD,
          cols * (width * scale + PAD) + PAD)


def _put_text(canvas, text, origin, max_width, font_scale=0.4):
  """Writes `text` at `origin` (bottom-left), shortened until it fits."""
  while text:
    (text_width, _), _ = cv2.getTextSize(text, _FONT, font_scale, 1)
    if text_width <= max_width:
      cv2.putText(canvas, text, origin, _FONT, font_scale, _TEXT_COLOUR, 1,
                  cv2.LINE_AA)
      return
    text = text[:-1]


def draw_grid(source: source_lib.ImageSource, rows: int, cols: int,
              scale: int, title: str) -> np.ndarray:
  """The first rows*cols images of `source` as a BGR uint8 grid.

  Args:
    source: any ImageSource (images in [-1, 1]).
    rows, cols: grid layout; fewer images leave empty cells.
    scale: integer upscaling of each image.
    title: text of the title bar (e.g. the SPEC).

  Returns:
    uint8 (H, W, 3) BGR image of size `grid_size(...)`.
  """
  if rows < 1 or cols < 1 or scale < 1:
    raise ValueError(f"rows, cols and scale must be >= 1, got {rows}, {cols}, "
                     f"{scale}")
  height, width = source.image_shape
  count = min(rows * cols, len(source))
  size = grid_size(rows, cols, source.image_shape, scale)
  # The grid is an image too: a typo such as --scale=300 must not try to
  # allocate terabytes.
  input_files.check_pixels(f"a grid of {rows}x{cols} images at scale "
                           f"{scale}", *size)
  canvas = np.empty(size + (3,), np.uint8)
  canvas[:] = _BACKGROUND
  _put_text(canvas, f"{title}  ({len(source)} images, {height}x{width})",
            (PAD + 2, TITLE_HEIGHT - 6), canvas.shape[1] - 2 * PAD)
  images = source_lib.unit_to_uint8(source.read(np.arange(count)))[..., 0]
  frame = source.frame.iloc[:count]
  has_gaze = all(c in frame.columns for c in source_lib.GAZE_COLUMNS)
  has_joints = all(c in frame.columns for c in JOINT_COLUMNS)
  gaze = frame[list(source_lib.GAZE_COLUMNS)].to_numpy(
      np.float64) if has_gaze else None
  joints = frame[list(JOINT_COLUMNS)].to_numpy(np.float64).reshape(
      count, 14, 2) if has_joints else None
  cell_height = height * scale + CAPTION_HEIGHT + PAD
  cell_width = width * scale + PAD
  for i in range(count):
    top = TITLE_HEIGHT + (i // cols) * cell_height
    left = PAD + (i % cols) * cell_width
    big = cv2.resize(images[i], (width * scale, height * scale),
                     interpolation=cv2.INTER_NEAREST)
    cell = canvas[top:top + height * scale, left:left + width * scale]
    cell[:] = big[..., None]
    caption = f"{i}"
    if has_gaze:
      x, y, z = gaze[i]
      pitch = np.degrees(np.arcsin(np.clip(-y, -1.0, 1.0)))
      yaw = np.degrees(np.arctan2(-x, -z))
      caption += f" p{pitch:+.0f} y{yaw:+.0f}"
      # The arrow is the gaze projected on the image plane (x right, y down).
      centre = np.array([width * scale / 2.0, height * scale / 2.0])
      tip = centre + height * scale * np.array([x, y])
      cv2.arrowedLine(cell, tuple(int(round(v)) for v in centre),
                      tuple(int(round(v)) for v in tip), ARROW_COLOUR,
                      max(1, scale // 2), cv2.LINE_AA, tipLength=0.25)
    if has_joints:
      for u, v in joints[i]:
        if np.isfinite(u) and np.isfinite(v):
          cv2.circle(cell, (int(round((u + 0.5) * scale)),
                            int(round((v + 0.5) * scale))),
                     max(1, scale), JOINT_COLOUR, -1, cv2.LINE_AA)
    _put_text(canvas, caption, (left + 1, top + height * scale + 11),
              width * scale - 2, font_scale=0.35)
  return canvas


def nearest(images: np.ndarray, candidates: np.ndarray) -> np.ndarray:
  """For each of `images`, the index of the closest of `candidates` in
  pixel space (squared L2 over all pixels)."""
  a = images.reshape(len(images), -1).astype(np.float64)
  b = candidates.reshape(len(candidates), -1).astype(np.float64)
  distances = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None]
  return np.argmin(distances, axis=1)


def draw_columns(columns: Sequence[Tuple[str, np.ndarray]], scale: int,
                 title: str) -> np.ndarray:
  """Images side by side, to compare them: one column per (heading, images
  in [-1, 1] of shape (n, h, w, 1)); row i shows image i of every column.

  Returns:
    uint8 (H, W, 3) BGR image.
  """
  if scale < 1 or not columns:
    raise ValueError(f"need columns and a scale >= 1, got {len(columns)} "
                     f"columns, scale {scale}")
  n = min(len(images) for _, images in columns)
  height, width = columns[0][1].shape[1:3]
  size = (2 * TITLE_HEIGHT + n * (height * scale + PAD) + PAD,
          len(columns) * (width * scale + PAD) + PAD)
  input_files.check_pixels(f"a comparison of {n} rows at scale {scale}",
                           *size)
  canvas = np.empty(size + (3,), np.uint8)
  canvas[:] = _BACKGROUND
  _put_text(canvas, title, (PAD + 2, TITLE_HEIGHT - 6), size[1] - 2 * PAD)
  for c, (heading, images) in enumerate(columns):
    left = PAD + c * (width * scale + PAD)
    _put_text(canvas, heading, (left + 1, 2 * TITLE_HEIGHT - 6),
              width * scale - 2, font_scale=0.35)
    gray = source_lib.unit_to_uint8(images[:n])[..., 0]
    for i in range(n):
      top = 2 * TITLE_HEIGHT + i * (height * scale + PAD)
      canvas[top:top + height * scale, left:left + width * scale] = cv2.resize(
          gray[i], (width * scale, height * scale),
          interpolation=cv2.INTER_NEAREST)[..., None]
  return canvas


def draw_refined_examples(synthetic: np.ndarray, refined: np.ndarray,
                          real: np.ndarray, scale: int,
                          title: str) -> np.ndarray:
  """What a refiner did (paper Fig. 5 and 11 show such rows): synthetic |
  refined | |refined − synthetic| | the real image nearest to the refined
  one in pixel space (among `real`). All in [-1, 1], (n, h, w, 1).

  The difference is stretched so that its largest value over the rows is
  white; the heading gives that value (on the [-1, 1] scale).
  """
  difference = np.abs(refined - synthetic)
  top = float(difference.max())
  stretched = difference / max(top, 1e-6) * 2.0 - 1.0
  return draw_columns(
      [("synthetic", synthetic), ("refined", refined),
       (f"|diff|, white={top:.2f}", stretched),
       ("nearest real", real[nearest(refined, real)])], scale, title)


def write_png(image: np.ndarray, path: str) -> None:
  """Writes a PNG atomically (folders created)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  ok, encoded = cv2.imencode(".png", image)
  if not ok:
    raise RuntimeError(f"{path}: OpenCV could not encode the grid as PNG")
  files.write_atomic(path, encoded.tobytes())
