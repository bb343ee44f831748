r"""Draws a labelled grid of the first images of any source, to look at data.

    python -m data.show --source=embedded-eyes-sim --output=/tmp/sim.png
    python -m data.show --source='embedded-eyes-real?split=test' \
        --output=/tmp/real.png --rows=4 --cols=8 --scale=3
    python -m data.show --source=h5:/cache/refined.h5 --output=refined.png

Each cell is one image, upscaled by ``--scale`` with nearest neighbours (so
pixels stay visible), with its index (and pitch/yaw) in a caption below it.
Where the source has gaze labels (``gaze_x, gaze_y, gaze_z``) the gaze is
drawn as a green arrow from the image centre: the projection of the 3-D
vector on the image plane, (x, y) with y down, one image height long for a
unit vector in the image plane. Where it has hand joints (``j00_u`` ...
``j13_v``, pixel centres at integers) they are drawn as orange dots. The
title names the source.
"""

import os
from typing import Sequence

from absl import flags
import cv2
import numpy as np

from core import cli
from core import files
from data import input_files
from data import source as source_lib
from data import specs

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


def write_png(image: np.ndarray, path: str) -> None:
  """Writes a PNG atomically (folders created)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  ok, encoded = cv2.imencode(".png", image)
  if not ok:
    raise RuntimeError(f"{path}: OpenCV could not encode the grid as PNG")
  files.write_atomic(path, encoded.tobytes())


FLAGS = flags.FLAGS
flags.DEFINE_string("source", None, "SPEC of the source to show.")
flags.DEFINE_string("output", None, "PNG file to write.")
flags.DEFINE_integer("rows", 4, "Rows of the grid.", lower_bound=1)
flags.DEFINE_integer("cols", 8, "Columns of the grid.", lower_bound=1)
flags.DEFINE_integer("scale", 3, "Integer upscaling of each image.",
                     lower_bound=1)
flags.DEFINE_string("image_size", None,
                    "HEIGHTxWIDTH to open the source at (default: its own).")
flags.mark_flags_as_required(["source", "output"])
_INPUT_LIMITS = cli.define_input_limits()


def main(argv):
  cli.start(argv, input_limits=_INPUT_LIMITS)
  source = specs.open_source(FLAGS.source,
                             specs.parse_image_size(FLAGS.image_size))
  grid = draw_grid(source, FLAGS.rows, FLAGS.cols, FLAGS.scale, FLAGS.source)
  write_png(grid, FLAGS.output)
  print(f"wrote {FLAGS.output} ({grid.shape[1]}x{grid.shape[0]} px, "
        f"{min(len(source), FLAGS.rows * FLAGS.cols)} of {len(source)} images "
        f"of {source.description})")


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
