"""Tests of the NYU hand reader on fixture files in the real NYU layout."""

import os

import cv2
import numpy as np
import pytest
import scipy.io

from data import nyu_hand
from data import source as source_lib
from data import specs

HAND_MM = 800        # depth of the synthetic hand blob
MARKER_MM = 777      # a distinctive real depth at one joint
CENTRE = (300, 250)  # (u, v) of the blob centre in frame 1
AXES = (40, 60)      # half-axes of the ellipse and of the joint ring


def _write_png(path, depth_mm):
  assert cv2.imwrite(str(path), nyu_hand.encode_depth(depth_mm))


def _joints(cu, cv):
  """36 joints on an ellipse around (cu, cv); joint 32 at the centre."""
  angles = 2 * np.pi * np.arange(nyu_hand.NUM_JOINTS) / nyu_hand.NUM_JOINTS
  uvd = np.stack([cu + AXES[0] * np.cos(angles), cv + AXES[1] * np.sin(angles),
                  np.full(nyu_hand.NUM_JOINTS, float(HAND_MM))], axis=-1)
  uvd[32, :2] = cu, cv
  return uvd


def write_split(folder, num_frames=2, joint_uvd=None, skip=()):
  """A tiny NYU split folder: frame i's hand is shifted 10 px right per i."""
  os.makedirs(folder, exist_ok=True)
  rng = np.random.default_rng(0)
  uvd = np.zeros((3, num_frames, 36, 3))
  for i in range(num_frames):
    cu, cv = CENTRE[0] + 10 * i, CENTRE[1]
    for kinect in (1, 2, 3):
      uvd[kinect - 1, i] = _joints(cu, cv)
      synth = np.zeros((480, 640), np.uint16)
      cv2.ellipse(synth, (cu, cv), AXES, 0, 0, 360, HAND_MM, -1)
      # Real capture: noisy hand, a wall at 2500 mm, a hole, a marker.
      real = np.full((480, 640), 2500, np.uint16)
      cv2.ellipse(real, (cu, cv), (AXES[0] + 5, AXES[1] + 5), 0, 0, 360,
                  HAND_MM, -1)
      real = (real + rng.integers(-5, 6, real.shape)).astype(np.uint16)
      real[cv + 10, cu - 10] = 0
      real[cv, cu + AXES[0] - 1] = MARKER_MM
      number = f"{kinect}_{i + 1:07d}.png"
      if ("synthdepth", kinect, i + 1) not in skip:
        _write_png(os.path.join(folder, "synthdepth_" + number), synth)
      _write_png(os.path.join(folder, "depth_" + number), real)
  names = np.empty((1, 36), dtype=object)
  names[0] = [f"J{j}" for j in range(36)]
  scipy.io.savemat(os.path.join(folder, "joint_data.mat"), {
      "joint_uvd": uvd if joint_uvd is None else joint_uvd,
      "joint_names": names})
  return uvd


@pytest.fixture(scope="module")
def split(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp("nyu") / "train")
  write_split(folder)
  return folder


def test_depth_png_round_trip_is_exact(tmp_path):
  depth = np.random.default_rng(1).integers(0, 65536, (480, 640)).astype(
      np.uint16)
  _write_png(tmp_path / "d.png", depth)
  bgr = cv2.imread(str(tmp_path / "d.png"), cv2.IMREAD_UNCHANGED)
  assert np.array_equal(bgr[..., 1].astype(int) * 256 + bgr[..., 0], depth)
  assert np.array_equal(nyu_hand.read_depth_png(str(tmp_path / "d.png")),
                        depth)


def test_unit_mapping_round_trip_and_range():
  value = np.arange(-2000, 1, dtype=np.float32)
  unit = nyu_hand.to_unit(value)
  assert unit.min() == -1.0 and unit.max() == 1.0
  assert nyu_hand.to_unit(np.float32(0.0)) == 1.0        # background
  assert nyu_hand.to_unit(np.float32(-1200.0)) == pytest.approx(-0.2)
  assert np.array_equal(np.rint(nyu_hand.from_unit(unit)), value)
  assert nyu_hand.from_unit(np.float32(1.0)) == 0.0


def test_crop_matches_cv2_exact_nearest_for_an_integer_box():
  frame = np.arange(480 * 640, dtype=np.float32).reshape(480, 640)
  box = (100.0, 50.0, 150.0)
  expected = cv2.resize(frame[50:200, 100:250], (224, 224),
                        interpolation=cv2.INTER_NEAREST_EXACT)
  assert np.array_equal(nyu_hand.crop_image(frame, box, (224, 224)), expected)
  # Parts of the box outside the frame are background.
  out = nyu_hand.crop_image(frame + 1, (-20.0, -20.0, 100.0), (100, 100))
  assert (out[:20] == 0).all() and (out[:, :20] == 0).all()
  assert out[20, 20] == 1.0  # frame pixel (0, 0) + 1


def test_synthetic_crop_shape_background_and_values(split):
  source = specs.open_source(f"nyu:{split}")
  assert len(source) == 2 and source.image_shape == (224, 224)
  images = source.read([0, 1])
  assert images.shape == (2, 224, 224, 1) and images.dtype == np.float32
  value = nyu_hand.from_unit(images[0, ..., 0])
  # Hand pixels are exactly 800 - 2000, the rest background.
  assert set(np.unique(np.rint(value))) == {HAND_MM - 2000.0, 0.0}
  assert list(source.frame.columns[:3]) == ["filename", "j00_u", "j00_v"]
  assert source.frame["filename"].tolist() == ["depth_1_0000001.png",
                                               "depth_1_0000002.png"]


def test_real_crop_keeps_only_pixels_under_the_synthetic_mask(split):
  source = specs.open_source(f"nyu:{split}?domain=real")
  row = source.frame.iloc[0]
  box = (row.crop_x0, row.crop_y0, row.crop_side)
  synth = nyu_hand.read_depth_png(
      os.path.join(split, "synthdepth_1_0000001.png"))
  real = nyu_hand.read_depth_png(os.path.join(split, "depth_1_0000001.png"))
  mask = nyu_hand.crop_image(synth, box, (224, 224)) > 0
  real_crop = nyu_hand.crop_image(real, box, (224, 224)).astype(np.float32)
  value = nyu_hand.from_unit(source.read([0])[0, ..., 0])
  # Background where the render is empty (the real wall at 2500 mm is gone).
  assert (value[~mask] == 0).all()
  # Foreground is real depth - 2000, except the hole (real 0) -> background.
  fg = mask & (real_crop > 0)
  assert np.array_equal(np.rint(value[fg]), real_crop[fg] - 2000)
  assert (value[mask & (real_crop == 0)] == 0).all()
  assert fg.sum() > 5000


def test_joints_map_into_the_crop(split):
  source = specs.open_source(f"nyu:{split}?domain=real")
  row = source.frame.iloc[0]
  # Joint 32 (index 13) is at the centre of the joints' box -> crop centre.
  assert row.j13_u == pytest.approx(111.5) and row.j13_v == pytest.approx(111.5)
  # Joint 0 (index 0) sits at the right end of the ring; side = 120 px (the
  # joints' height) + 2 x 30 mm at 800 mm.
  side = 2 * AXES[1] + 2 * 30.0 * nyu_hand.FX / HAND_MM
  assert row.crop_side == pytest.approx(side)
  assert row.j00_u == pytest.approx(111.5 + AXES[0] * 224 / side)
  assert row.j00_v == pytest.approx(111.5)
  assert row.j00_d == pytest.approx(HAND_MM - 2000)
  # The marker written one pixel inside joint 0's position shows up there.
  image = nyu_hand.from_unit(source.read([0])[0, ..., 0])
  u = 111.5 + (AXES[0] - 1) * 224 / side
  assert np.rint(image[int(np.rint(row.j00_v)), int(np.rint(u))]) == (
      MARKER_MM - 2000)
  # Frame 2 is shifted 10 px right; the crop follows it, so labels agree.
  assert source.frame.iloc[1].j13_u == pytest.approx(111.5)
  assert source.frame.iloc[1].crop_x0 == pytest.approx(row.crop_x0 + 10)


def test_image_size_overrides_and_scales_labels(split):
  source = specs.open_source(f"nyu:{split}", image_size=(112, 56))
  assert source.read([0]).shape == (1, 112, 56, 1)
  row = source.frame.iloc[0]
  assert row.j13_u == pytest.approx(27.5) and row.j13_v == pytest.approx(55.5)


def test_views_and_limit(split):
  three = specs.open_source(f"nyu:{split}?views=1,2,3")
  assert len(three) == 6
  assert three.frame["filename"].tolist()[2:4] == ["depth_2_0000001.png",
                                                   "depth_2_0000002.png"]
  assert three.frame["kinect"].tolist() == [1, 1, 2, 2, 3, 3]
  assert len(specs.open_source(f"nyu:{split}?views=1,2,3&limit=1")) == 3
  with pytest.raises(ValueError, match="views"):
    specs.open_source(f"nyu:{split}?views=4")
  with pytest.raises(ValueError, match="domain"):
    specs.open_source(f"nyu:{split}?domain=refined")


def test_missing_joint_file(tmp_path):
  with pytest.raises(source_lib.DataError, match="joint_data.mat: is missing"):
    specs.open_source(f"nyu:{tmp_path}")


def test_joint_uvd_of_the_wrong_shape(tmp_path):
  write_split(str(tmp_path), 1, joint_uvd=np.zeros((1, 36, 3)))
  with pytest.raises(source_lib.DataError,
                     match=r"joint_data.mat: joint_uvd has shape \(1, 36, 3\)"):
    specs.open_source(f"nyu:{tmp_path}")


def test_missing_synthdepth(tmp_path):
  write_split(str(tmp_path), 2, skip={("synthdepth", 1, 2)})
  with pytest.raises(source_lib.DataError,
                     match="synthdepth_1_0000002.png: is missing"):
    specs.open_source(f"nyu:{tmp_path}")
  # The first frame alone is complete.
  assert len(specs.open_source(f"nyu:{tmp_path}?limit=1")) == 1


def test_depth_png_of_the_wrong_shape(tmp_path):
  write_split(str(tmp_path), 1)
  cv2.imwrite(str(tmp_path / "depth_1_0000001.png"),
              np.zeros((240, 320, 3), np.uint8))
  source = specs.open_source(f"nyu:{tmp_path}?domain=real")
  with pytest.raises(source_lib.DataError,
                     match=r"depth_1_0000001.png: is 240x320x3 uint8"):
    source.read([0])


def test_empty_synthetic_mask(tmp_path):
  write_split(str(tmp_path), 1)
  _write_png(tmp_path / "synthdepth_1_0000001.png",
             np.zeros((480, 640), np.uint16))
  source = specs.open_source(f"nyu:{tmp_path}")
  with pytest.raises(source_lib.DataError,
                     match="synthdepth_1_0000001.png: is empty"):
    source.read([0])


def test_joints_not_finite_or_far_out(tmp_path):
  uvd = write_split(str(tmp_path), 2)
  for bad in (np.nan, -np.inf, 2e5):
    uvd[0, 1, 5, 2] = bad
    scipy.io.savemat(str(tmp_path / "joint_data.mat"), {"joint_uvd": uvd})
    with pytest.raises(source_lib.DataError,
                       match=r"joint_data.mat: joint_uvd of frame 2, Kinect 1 "
                       r"holds values that are not finite or beyond "
                       r"\+-100000 \(px, mm\)$"):
      specs.open_source(f"nyu:{tmp_path}")
  assert len(specs.open_source(f"nyu:{tmp_path}?limit=1")) == 1


def test_truncated_depth_png(tmp_path):
  write_split(str(tmp_path), 1)
  path = tmp_path / "synthdepth_1_0000001.png"
  path.write_bytes(path.read_bytes()[:-30])
  source = specs.open_source(f"nyu:{tmp_path}")
  with pytest.raises(source_lib.DataError,
                     match=r"synthdepth_1_0000001.png: is truncated \(the PNG "
                     r"data ends early\)$"):
    source.read([0])
