"""Tests of the pictures (data/pictures.py) and the grid viewer binary
(data/show.py)."""

import os

import cv2
import numpy as np

from data import pictures
from data import source as source_lib
from tests import helpers


def _gray_images(n, height=35, width=55):
  """Smooth gray images in [-1, 1] (no saturated colour anywhere)."""
  ramp = np.linspace(-0.8, 0.8, width, dtype=np.float32)
  return np.broadcast_to(ramp, (n, height, width)).copy()


def _arrow_mask(image):
  """Pixels of the arrow's saturated green (BGR)."""
  blue, green, red = (image[..., c].astype(int) for c in range(3))
  return (green > 200) & (red < 80) & (blue < 80)


def _gaze_source(gaze):
  gaze = np.asarray(gaze, np.float32)
  frame = source_lib.frame_for([f"{i}.png" for i in range(len(gaze))], gaze)
  return source_lib.ArraySource("gaze", _gray_images(len(gaze)), frame)


def test_png_has_the_documented_size_and_shows_gaze_arrows(tmp_path):
  source = _gaze_source([[0.5, 0.0, -0.866], [-0.5, 0.0, -0.866],
                         [0.0, 0.5, -0.866]])
  grid = pictures.draw_grid(source, rows=2, cols=2, scale=2, title="test")
  path = str(tmp_path / "grids" / "grid.png")
  pictures.write_png(grid, path)
  written = cv2.imread(path, cv2.IMREAD_COLOR)
  # 20 (title) + 2 x (35*2 + 14 + 2) + 2 high, 2 x (55*2 + 2) + 2 wide.
  assert written.shape == (194, 226, 3)
  assert pictures.grid_size(2, 2, (35, 55), 2) == (194, 226)
  np.testing.assert_array_equal(written, grid)
  assert os.listdir(tmp_path / "grids") == ["grid.png"]  # no temp file left
  # Arrows: each cell's arrow starts at its centre and points along (x, y).
  arrow = _arrow_mask(written)
  assert arrow.sum() > 30
  top, height, width = pictures.TITLE_HEIGHT, 70, 110
  first = arrow[top:top + height, 2:2 + width]
  second = arrow[top:top + height, 2 + width + 2:2 + 2 * width + 2]
  third = arrow[top + height + 16:top + 2 * height + 16, 2:2 + width]
  assert np.nonzero(first)[1].mean() > width / 2 + 5  # x > 0: right
  assert np.nonzero(second)[1].mean() < width / 2 - 5  # x < 0: left
  assert np.nonzero(third)[0].mean() > height / 2 + 5  # y > 0: down
  # The fourth cell is empty: background only.
  fourth = written[top + height + 16:top + 2 * height + 16,
                   2 + width + 2:2 + 2 * width + 2]
  assert (fourth == 40).all()


def test_no_arrows_without_labels():
  frame = source_lib.frame_for(["a.png", "b.png"])
  source = source_lib.ArraySource("plain", _gray_images(2), frame)
  grid = pictures.draw_grid(source, rows=1, cols=2, scale=3, title="plain")
  assert grid.shape == (20 + 105 + 14 + 2 + 2, 2 * (165 + 2) + 2, 3)
  assert _arrow_mask(grid).sum() == 0


def test_hand_joints_are_drawn_as_dots():
  joints = np.tile(np.array([[10.0, 20.0]] * 7 + [[40.0, 8.0]] * 7).reshape(
      1, 28), (2, 1))
  frame = source_lib.frame_for(["a.png", "b.png"], joints, pictures.JOINT_COLUMNS)
  source = source_lib.ArraySource("hands", _gray_images(2, 48, 48), frame)
  grid = pictures.draw_grid(source, rows=1, cols=2, scale=2, title="hands")
  blue, green, red = (grid[..., c].astype(int) for c in range(3))
  dots = (red > 200) & (blue < 60) & (green > 100) & (green < 220)
  rows, cols = np.nonzero(dots)
  # Joint (u, v) = (10, 20) of the first cell lies at ((10.5, 20.5) * 2).
  assert dots[pictures.TITLE_HEIGHT + 41, 2 + 21]
  assert dots[pictures.TITLE_HEIGHT + 17, 2 + 81]
  assert dots.sum() > 20 and cols.max() > 2 + 96 + 2  # second cell too
  assert _arrow_mask(grid).sum() == 0


def test_binary_writes_a_grid_of_an_embedded_source(tmp_path):
  output = tmp_path / "sim.png"
  result = helpers.run_module("data.show", "--source=embedded-eyes-sim?n=3",
                              f"--output={output}", "--rows=1", "--cols=3",
                              "--scale=1", timeout=300)
  assert result.returncode == 0, result.stderr
  assert result.stdout.startswith(f"wrote {output} (173x73 px, 3 of 3 images")
  assert os.listdir(tmp_path) == ["sim.png"]
  written = cv2.imread(str(output), cv2.IMREAD_COLOR)
  assert written.shape == (20 + 35 + 14 + 2 + 2, 3 * (55 + 2) + 2, 3)
  assert _arrow_mask(written).sum() > 0


def test_binary_bad_input_is_one_error_line(tmp_path):
  for args, line in [
      (["--source=embedded-eyes-sim?n=3", f"--output={tmp_path / 'a.png'}",
        "--rows=0"], "error: flag --rows=0: 0 is not a positive integer"),
      (["--source=embedded-eyes-sim?n=3", f"--output={tmp_path / 'a.png'}",
        "stray"], "error: unexpected arguments: stray")]:
    helpers.assert_one_error_line(
        helpers.run_module("data.show", *args, timeout=300), line)
  assert os.listdir(tmp_path) == []


def test_draw_grid_refuses_bad_layouts():
  source = _gaze_source([[0.0, 0.0, -1.0]])
  with helpers.raises_exactly(
      ValueError, "rows, cols and scale must be >= 1, got 0, 1, 1"):
    pictures.draw_grid(source, rows=0, cols=1, scale=1, title="t")
  # The grid is refused before its canvas is allocated (7.7 GB here).
  with helpers.raises_exactly(
      source_lib.DataError, "a grid of 1x1 images at scale 2000: is "
      "70038x110004 = 7,704,460,152 pixels, over the cap of 40,000,000 (40 "
      "megapixels; --max_image_megapixels raises it)"):
    pictures.draw_grid(source, rows=1, cols=1, scale=2000, title="t")


def test_nearest_finds_the_closest_candidate():
  rng = np.random.default_rng(0)
  candidates = rng.uniform(-1, 1, (20, 4, 6, 1))
  images = candidates[[7, 3]] + 0.01
  np.testing.assert_array_equal(pictures.nearest(images, candidates), [7, 3])


def test_refined_examples_draw_four_columns_of_each_row():
  """Columns synthetic | refined | stretched |diff| | nearest real; a
  difference of 0.5 everywhere is white (the stretch's top), 0 black."""
  synthetic = np.full((3, 4, 6, 1), -0.5, np.float32)
  refined = synthetic + np.array([0.5, 0.5, 0.0]).reshape(3, 1, 1, 1)
  real = np.stack([refined[0], -refined[0]])
  picture = pictures.draw_refined_examples(synthetic, refined, real, 2, "t")
  cell_w, cell_h = 6 * 2 + pictures.PAD, 4 * 2 + pictures.PAD
  assert picture.shape == (2 * pictures.TITLE_HEIGHT + 3 * cell_h +
                           pictures.PAD, 4 * cell_w + pictures.PAD, 3)

  def cell(row, column):
    top = 2 * pictures.TITLE_HEIGHT + row * cell_h
    left = pictures.PAD + column * cell_w
    return picture[top:top + 8, left:left + 12, 0]

  assert (cell(0, 0) == 64).all() and (cell(0, 1) == 128).all()
  assert (cell(0, 2) == 255).all() and (cell(2, 2) == 0).all()
  assert (cell(0, 3) == 128).all()  # real[0] equals refined[0].
