"""folder: sources and their one-line errors."""

import os
from unittest import mock

import cv2
import numpy as np
import pandas as pd
import pytest

from core import files
from data import folders
from data import source as source_lib
from data import specs
from tests import helpers


def _write(folder, name, image):
  path = os.path.join(folder, name)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  assert cv2.imwrite(path, image)
  return path


def test_reads_gray_and_colour_with_labels(tmp_path):
  gray = np.full((6, 8), 255, np.uint8)
  colour = np.zeros((6, 8, 3), np.uint8)
  colour[..., 2] = 255                          # pure red (BGR order)
  _write(tmp_path, "a.png", gray)
  _write(tmp_path, "sub/b.png", colour)
  pd.DataFrame({"filename": ["sub/b.png", "a.png"], "gaze_x": [0.5, -0.5],
                "note": ["x", "y"]}).to_csv(tmp_path / "labels.csv",
                                           index=False)
  src = specs.open_source(f"folder:{tmp_path}")
  assert len(src) == 2 and src.image_shape == (6, 8)
  assert src.filenames == ["sub/b.png", "a.png"]   # labels.csv order
  assert src.label_columns == ("gaze_x", "note")
  images = src.read_all()
  assert images.shape == (2, 6, 8, 1)
  # Red -> gray level 76 (OpenCV's 0.299 R weight), then to [-1, 1].
  np.testing.assert_allclose(images[0], 76 / 127.5 - 1, atol=1e-6)
  np.testing.assert_allclose(images[1], 1.0)


def test_image_size_resizes_mixed_sizes(tmp_path):
  _write(tmp_path, "a.png", np.zeros((10, 20), np.uint8))
  _write(tmp_path, "b.jpg", np.zeros((35, 55), np.uint8))
  with pytest.raises(source_lib.DataError, match=r"b.jpg: is 35x55 but the "
                     r"first image is 10x20; pass --image_size"):
    specs.open_source(f"folder:{tmp_path}")
  src = specs.open_source(f"folder:{tmp_path}", (35, 55))
  assert src.read_all().shape == (2, 35, 55, 1)


def test_empty_folder(tmp_path):
  with pytest.raises(source_lib.DataError,
                     match=f"^{tmp_path}: holds no PNG or JPEG images$"):
    specs.open_source(f"folder:{tmp_path}")


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_truncated_image(tmp_path, ext):
  path = _write(tmp_path, "a" + ext,
                np.random.default_rng(0).integers(0, 255, (30, 40), np.uint8))
  data = open(path, "rb").read()
  open(path, "wb").write(data[:len(data) * 2 // 3])
  with pytest.raises(source_lib.DataError, match=f"^{path}: .*truncated"):
    specs.open_source(f"folder:{tmp_path}")


def test_zero_byte_and_garbage_images(tmp_path):
  open(tmp_path / "z.png", "wb").close()
  with pytest.raises(source_lib.DataError,
                     match=r"z.png: is empty \(0 bytes\)"):
    specs.open_source(f"folder:{tmp_path}")
  os.remove(tmp_path / "z.png")
  (tmp_path / "g.jpg").write_bytes(b"not an image at all")
  with pytest.raises(source_lib.DataError,
                     match="g.jpg: is not a PNG or JPEG "
                     r"image \(no readable header\)"):
    specs.open_source(f"folder:{tmp_path}")


def test_labels_naming_missing_files(tmp_path):
  _write(tmp_path, "a.png", np.zeros((4, 4), np.uint8))
  (tmp_path / "labels.csv").write_text("filename,y\na.png,1\nmissing.png,2\n")
  with pytest.raises(source_lib.DataError,
                     match=r"labels.csv: names 1 file\(s\) missing from the "
                     r"folder, e.g. 'missing.png'"):
    specs.open_source(f"folder:{tmp_path}")


def test_labels_without_filename_column(tmp_path):
  _write(tmp_path, "a.png", np.zeros((4, 4), np.uint8))
  (tmp_path / "labels.csv").write_text("name,y\na.png,1\n")
  with pytest.raises(source_lib.DataError, match="has no 'filename' column"):
    specs.open_source(f"folder:{tmp_path}")


def test_write_images_round_trip(tmp_path):
  frame = source_lib.frame_for(["x/1.png", "2.png"], np.eye(2, 3))
  images = np.stack([np.full((5, 7, 1), -1.0), np.full((5, 7, 1), 1.0)])
  folders.write_images(str(tmp_path), frame, images.astype("f4"))
  src = specs.open_source(f"folder:{tmp_path}")
  np.testing.assert_array_equal(src.read_all(), images)
  np.testing.assert_array_equal(src.labels(), np.eye(2, 3))
  assert not any(".tmp" in f for _, _, fs in os.walk(tmp_path) for f in fs)


def test_write_images_withdraws_old_labels_and_writes_them_last(tmp_path):
  # labels.csv marks a complete folder: a write killed at any image leaves
  # none, not the old one beside new images.
  folder = str(tmp_path)
  old = source_lib.frame_for(["1.png", "2.png"], np.zeros((2, 3)))
  new = source_lib.frame_for(["1.png", "2.png"], np.ones((2, 3)))
  images = np.zeros((2, 5, 7, 1), "f4")
  folders.write_images(folder, old, images)
  order = ["1.png", "2.png", "labels.csv"]
  for number, name in enumerate(order, 1):
    assert helpers.killed_at_write(
        number, lambda: folders.write_images(folder, new, images)) == (
            os.path.join(folder, name))
    assert sorted(os.listdir(folder)) == ["1.png", "2.png"]
  folders.write_images(folder, new, images)
  np.testing.assert_array_equal(
      specs.open_source(f"folder:{folder}").labels(), np.ones((2, 3)))


def test_images_reach_the_disk_before_their_labels(tmp_path):
  # Images are written unsynced (a disk flush each would be most of the
  # time); one flush of them all comes before labels.csv, which is synced.
  events = []
  replace, fsync = os.replace, os.fsync

  def record_replace(src, dst):
    events.append(os.path.basename(dst))
    replace(src, dst)

  def record_fsync(fd):
    events.append("fsync")
    fsync(fd)

  frame = source_lib.frame_for(["1.png", "2.png"], np.eye(2, 3))
  with mock.patch.object(files.os, "replace", record_replace), \
      mock.patch.object(files.os, "fsync", record_fsync), \
      mock.patch.object(files.os, "sync",
                        side_effect=lambda: events.append("sync")):
    folders.write_images(str(tmp_path), frame, np.zeros((2, 5, 7, 1), "f4"))
  # The labels' temporary file, then the folder.
  assert events == ["1.png", "2.png", "sync", "fsync", "labels.csv",
                    "fsync"]


def test_spec_errors():
  with pytest.raises(ValueError, match="unknown source 'bogus:x'"):
    specs.open_source("bogus:x")
  with pytest.raises(ValueError, match="names no path"):
    specs.open_source("folder:")
  assert specs.parse_image_size("35x55") == (35, 55)
  with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
    specs.parse_image_size("35,55")
