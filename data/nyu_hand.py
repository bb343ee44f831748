"""`nyu:PATH` — depth crops of the NYU hand pose data set (Tompson et al.).

PATH is a split folder (``dataset/train`` or ``dataset/test``) holding
``joint_data.mat`` and, per frame ``NNNNNNN`` (7 digits, 1-based) and Kinect
``k`` (1 = front, 2 = top, 3 = side), ``depth_k_NNNNNNN.png`` (the real
capture) and ``synthdepth_k_NNNNNNN.png`` (a render of the LibHand model
fitted to that frame). Options:

* ``domain=synthetic|real`` (default synthetic): which image is returned.
* ``views=1``, ``views=1,2,3`` or ``views=all`` (default 1): the Kinects
  used. The paper's "1x" is one view (the front view here) and "3x" all
  three views.
* ``limit=N``: only the first N frames (of each view).

Preprocessing follows the paper's hand section: "We pre-process the data by
cropping the pixels from real images using the synthetic images. The images
are resized to 224 × 224 ... The background depth values are set to zero and
the foreground values are set to original depth value minus 2000 (assuming
that the background is at 2000 millimeters)." Concretely, per image:

1. Both PNGs are decoded to millimetres, ``depth = (G << 8) | B``.
2. The hand mask is ``synthdepth > 0``. A pixel is foreground when it is
   under the mask and its depth (the real one, or the render's for the
   synthetic domain) lies in (0, 2000) mm; its value is ``depth - 2000``
   (negative). Everything else (off the mask, Kinect holes reading 0, the
   invalid code 32001, anything behind the assumed 2000 mm background) is 0.
3. The crop is a square around the hand computed from the frame's 36
   annotated joints (see :func:`crop_box`), resampled to ``image_size``
   (default 224x224) by nearest neighbour, so no depth is ever blended
   across the hand boundary; parts of the square outside the 640x480 frame
   are background.
4. The network sees :func:`to_unit` of the value (``1 + value / 1000``);
   :func:`from_unit` is its inverse.

The crop is built from the joints rather than from the bounding box of the
synthetic mask so that a source can be opened without decoding every render
(72,757 frames x 3 views): the labels below depend on the crop, and the frame
of labels must exist when the source is opened. The joints come from the same
fitted model as the render, and the box adds a metric margin around them
that covers the finger surface beyond the joint centres.

Labels: the 14 evaluation joints of Tompson et al. (``EVAL_JOINTS``) in the
crop's pixel coordinates (``j00_u, j00_v, ..., j13_u, j13_v``, column index
and row index of the output image, pixel centres at integers), their depth in
the image's value units (``j00_d ... j13_d`` = joint depth - 2000 mm, so
``to_unit`` applies), the crop box in the 640x480 frame (``crop_x0,
crop_y0, crop_side``, continuous coordinates) and ``kinect``, ``frame_number``.
"""

import concurrent.futures
import os
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import pandas as pd

from data import input_files
from data import source as source_lib
from data import spec_options

FRAME_HEIGHT, FRAME_WIDTH = 480, 640
DEFAULT_IMAGE_SIZE = (224, 224)
# The paper's assumed background plane (mm); foreground = depth - 2000.
BACKGROUND_MM = 2000.0
# Focal length in x of the NYU Kinects (px), from deep-prior-pp's NYUImporter.
FX = 588.03
# Margin around the joints' bounding box, in mm at the hand's depth: finger
# surfaces and fingertips extend about 10-15 mm beyond the joint centres.
CROP_MARGIN_MM = 30.0
NUM_JOINTS = 36
# Bound on joint_uvd values: 150 frame widths (px) or 100 m (mm), far beyond
# any real annotation; a larger one is a damaged file, and would overflow
# the crop's arithmetic.
MAX_JOINT_VALUE = 1e5
# Tompson et al.'s 14 evaluation joints (deep-prior-pp restrictedJointsEval):
# 4 fingers x (tip, middle), thumb tip and two thumb joints, 3 palm points.
EVAL_JOINTS = (0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32)
JOINT_UV_COLUMNS = tuple(
    f"j{i:02d}_{axis}" for i in range(len(EVAL_JOINTS)) for axis in "uv")
JOINT_D_COLUMNS = tuple(f"j{i:02d}_d" for i in range(len(EVAL_JOINTS)))
JOINT_FILE = "joint_data.mat"
_READ_THREADS = 4


def to_unit(value: np.ndarray) -> np.ndarray:
  """Paper-preprocessed depth (depth - 2000 mm, background 0) -> [-1, 1].

  ``unit = 1 + value / 1000``, i.e. ``(depth - 1000) / 1000``: linear in the
  depth, so the refiner's output converts back to millimetres with no
  distortion. Hands (500-1200 mm from the Kinect) land in about [-0.5, 0.2];
  the background (value 0, "at 2000 mm") is +1, well apart from the hand;
  values are clipped to [-1, 1] (depth 0..2000 mm).
  """
  return np.clip(1.0 + np.asarray(value, np.float32) / 1000.0, -1.0,
                 1.0).astype(np.float32)


def from_unit(unit: np.ndarray) -> np.ndarray:
  """Inverse of :func:`to_unit`: [-1, 1] -> depth - 2000 mm (float32).

  The background (+1) maps to 0. Add 2000 (where the value is below 0) to get
  the Kinect depth in millimetres, e.g. to write 16-bit depth PNGs.
  """
  unit = np.clip(np.asarray(unit, np.float32), -1.0, 1.0)
  return ((unit - 1.0) * 1000.0).astype(np.float32)


def decode_depth(bgr: np.ndarray) -> np.ndarray:
  """NYU depth PNG pixels (cv2's BGR order) -> uint16 millimetres, (G<<8)|B."""
  return (bgr[..., 1].astype(np.uint16) << 8) | bgr[..., 0].astype(np.uint16)


def encode_depth(depth_mm: np.ndarray) -> np.ndarray:
  """uint16 millimetres -> NYU-layout BGR pixels (inverse of decode_depth)."""
  depth_mm = np.asarray(depth_mm, np.uint16)
  bgr = np.zeros(depth_mm.shape + (3,), np.uint8)
  bgr[..., 0] = depth_mm & 0xFF
  bgr[..., 1] = depth_mm >> 8
  return bgr


def read_depth_png(path: str) -> np.ndarray:
  """Reads one NYU depth/synthdepth PNG as uint16 mm (480, 640)."""
  bgr = input_files.read_image(path, cv2.IMREAD_UNCHANGED)
  if bgr.shape != (FRAME_HEIGHT, FRAME_WIDTH, 3) or bgr.dtype != np.uint8:
    raise source_lib.DataError(
        path, f"is {'x'.join(map(str, bgr.shape))} {bgr.dtype}; NYU depth "
        f"PNGs are {FRAME_HEIGHT}x{FRAME_WIDTH}x3 uint8")
  return decode_depth(bgr)


def crop_box(joints_uvd: np.ndarray):
  """The square crop (x0, y0, side) around a frame's joints.

  Centre: the centre of the bounding box of the joints' (u, v); side: the
  longer side of that box plus ``CROP_MARGIN_MM`` on each side, projected at
  the joints' median depth. (x0, y0) is the crop's top-left corner in
  continuous frame coordinates (pixel p spans [p, p + 1)).

  Args:
    joints_uvd: (..., 36, 3) joints (u px, v px, d mm), one set per frame.

  Returns:
    x0, y0, side: arrays of shape (...) (0-d for a single frame).
  """
  u, v, d = joints_uvd[..., 0], joints_uvd[..., 1], joints_uvd[..., 2]
  depth = np.maximum(np.median(d, axis=-1), 100.0)  # guards bad annotations
  side = (np.maximum(np.ptp(u, axis=-1), np.ptp(v, axis=-1)) +
          2.0 * CROP_MARGIN_MM * FX / depth)
  # + 0.5: pixel-index coordinates -> continuous coordinates.
  centre_u = 0.5 * (u.max(axis=-1) + u.min(axis=-1)) + 0.5
  centre_v = 0.5 * (v.max(axis=-1) + v.min(axis=-1)) + 0.5
  return centre_u - side / 2, centre_v - side / 2, side


def crop_image(value: np.ndarray, box: Tuple[float, float, float],
               out_hw: Tuple[int, int]) -> np.ndarray:
  """Crops a square box of a frame and resamples it by nearest neighbour.

  Output pixel (r, c) takes frame pixel
  ``(floor(y0 + (r + .5) * side / H), floor(x0 + (c + .5) * side / W))`` —
  centre-aligned nearest neighbour (cv2.INTER_NEAREST_EXACT on the cropped
  window), done as one gather so that crop, zero padding outside the frame and
  resize happen in a single step with a sub-pixel box. Outside the frame: 0.
  """
  x0, y0, side = box
  height, width = out_hw
  rows = np.floor(y0 + (np.arange(height) + 0.5) * side / height).astype(int)
  cols = np.floor(x0 + (np.arange(width) + 0.5) * side / width).astype(int)
  row_ok = (rows >= 0) & (rows < value.shape[0])
  col_ok = (cols >= 0) & (cols < value.shape[1])
  out = value[np.clip(rows, 0, value.shape[0] - 1)][
      :, np.clip(cols, 0, value.shape[1] - 1)]
  return np.where(row_ok[:, None] & col_ok[None, :], out, 0).astype(value.dtype)


def joints_to_crop(uv: np.ndarray, box: Tuple[float, float, float],
                   out_hw: Tuple[int, int]) -> np.ndarray:
  """Frame pixel coordinates (..., 2) -> crop pixel coordinates (u, v).

  Consistent with :func:`crop_image`: a joint at frame pixel p lands at crop
  coordinate c with the output pixel round(c) sampling frame pixel p when the
  crop is upsampled.
  """
  x0, y0, side = box
  height, width = out_hw
  uv = np.asarray(uv, np.float64)
  u = (uv[..., 0] + 0.5 - x0) * width / side - 0.5
  v = (uv[..., 1] + 0.5 - y0) * height / side - 0.5
  return np.stack([u, v], axis=-1)


def hand_value(depth_mm: np.ndarray, synth_mm: np.ndarray) -> np.ndarray:
  """The paper's preprocessing: depth - 2000 under the synthetic mask, else 0.

  Pixels off the mask, holes (0) and depths at or beyond the assumed
  2000 mm background (including the invalid code 32001) are background.
  """
  depth = depth_mm.astype(np.float32)
  foreground = (synth_mm > 0) & (depth > 0) & (depth < BACKGROUND_MM)
  return np.where(foreground, depth - BACKGROUND_MM, 0.0).astype(np.float32)


def _load_joints(path: str, num_views: int) -> np.ndarray:
  """joint_uvd of joint_data.mat, validated: (3, N, 36, 3) float64."""
  if not os.path.isfile(path):
    raise source_lib.DataError(path, "is missing (every NYU split folder "
                               "holds joint_data.mat)")
  mat = input_files.load_mat(path, variable_names=["joint_uvd"])
  if "joint_uvd" not in mat:
    raise source_lib.DataError(path, "has no joint_uvd variable")
  uvd = np.asarray(mat["joint_uvd"])
  if (uvd.ndim != 4 or uvd.shape[0] < num_views or
      uvd.shape[2:] != (NUM_JOINTS, 3) or not np.issubdtype(
          uvd.dtype, np.number)):
    raise source_lib.DataError(
        path, f"joint_uvd has shape {uvd.shape} ({uvd.dtype}); expected "
        f"(3, frames, {NUM_JOINTS}, 3) numbers (kinect, frame, joint, uvd)")
  return uvd.astype(np.float64)


class NyuHandSource(source_lib.ImageSource):
  """NYU hand depth crops read lazily from the split folder."""

  def __init__(self, folder: str, domain: str, views: Sequence[int],
               limit: Optional[int], image_size: Tuple[int, int]):
    uvd = _load_joints(os.path.join(folder, JOINT_FILE), max(views))
    num_frames = uvd.shape[1] if limit is None else min(limit, uvd.shape[1])
    # View-major order: all frames of the first view, then the next.
    kinect = np.repeat(np.asarray(views), num_frames)
    number = np.tile(np.arange(1, num_frames + 1), len(views))
    stems = [f"{k}_{n:07d}.png" for k, n in zip(kinect, number)]
    present = set(os.listdir(folder))
    for kind in ("synthdepth", "depth") if domain == "real" else (
        "synthdepth",):
      for stem, k, n in zip(stems, kinect, number):
        if f"{kind}_{stem}" not in present:
          raise source_lib.DataError(
              os.path.join(folder, f"{kind}_{stem}"),
              f"is missing ({kind} of frame {n}, Kinect {k})")
    joints = uvd[kinect - 1, number - 1]  # (M, 36, 3)
    with np.errstate(invalid="ignore"):  # NaN compares False: refused too
      bad = ~(np.abs(joints) <= MAX_JOINT_VALUE).all(axis=(1, 2))
    if bad.any():
      i = int(np.argmax(bad))
      raise source_lib.DataError(
          os.path.join(folder, JOINT_FILE), f"joint_uvd of frame "
          f"{number[i]}, Kinect {kinect[i]} holds values that are not "
          f"finite or beyond +-{MAX_JOINT_VALUE:g} (px, mm)")
    boxes = np.stack(crop_box(joints), axis=-1)  # (M, 3)
    uv = joints_to_crop(joints[:, EVAL_JOINTS, :2],
                        tuple(boxes[:, None, i] for i in range(3)),
                        image_size).reshape(len(stems), -1)
    depth = joints[:, EVAL_JOINTS, 2] - BACKGROUND_MM
    frame = pd.DataFrame({
        "filename": [f"depth_{stem}" for stem in stems],
        **{c: uv[:, i] for i, c in enumerate(JOINT_UV_COLUMNS)},
        **{c: depth[:, i] for i, c in enumerate(JOINT_D_COLUMNS)},
        "crop_x0": boxes[:, 0], "crop_y0": boxes[:, 1],
        "crop_side": boxes[:, 2], "kinect": kinect, "frame_number": number,
    })
    view_text = ",".join(map(str, views))
    super().__init__(f"nyu:{folder}?domain={domain}&views={view_text}",
                     frame, image_size)
    self.folder = folder
    self.domain = domain
    self._stems = stems
    self._boxes = boxes

  def read_one(self, index: int) -> np.ndarray:
    """The preprocessed image `index` as float32 (H, W) in [-1, 1]."""
    box = tuple(self._boxes[index])
    depth_path, synth_path = (os.path.join(self.folder, f"{kind}_"
                                           f"{self._stems[index]}")
                              for kind in ("depth", "synthdepth"))
    synth = read_depth_png(synth_path)
    if not (synth > 0).any():
      raise source_lib.DataError(synth_path, "is empty: the synthetic render "
                                 "has no hand pixel to use as a mask")
    # Nearest-neighbour sampling commutes with the per-pixel preprocessing,
    # so crop first and preprocess 224x224 pixels rather than 640x480.
    synth = crop_image(synth, box, self.image_shape)
    depth = (crop_image(read_depth_png(depth_path), box, self.image_shape)
             if self.domain == "real" else synth)
    return to_unit(hand_value(depth, synth))

  def read(self, indices):
    indices = np.asarray(indices, np.int64)
    if len(indices) <= 1:
      images = [self.read_one(int(i)) for i in indices]
    else:
      # PNG decoding releases the GIL: a few threads use the cores.
      with concurrent.futures.ThreadPoolExecutor(_READ_THREADS) as pool:
        images = list(pool.map(self.read_one, indices.tolist()))
    out = np.zeros((len(indices), *self.image_shape, 1), np.float32)
    for i, image in enumerate(images):
      out[i, ..., 0] = image
    return out


def from_spec(path: str, options: Dict[str, str],
              image_size: Optional[Tuple[int, int]]) -> NyuHandSource:
  """Opens `nyu:PATH?domain=..&views=..&limit=..` (see module docstring)."""
  parsed = spec_options.SpecOptions(f"nyu:{path}", options,
                                    ("domain", "views", "limit"))
  domain = parsed.choice("domain", ("synthetic", "real"), "synthetic")
  views = parsed.views()
  limit = parsed.integer("limit", None, minimum=1)
  if not os.path.isdir(path):
    raise source_lib.DataError(path, "is not a directory (expected an NYU "
                               "split folder such as dataset/train)")
  return NyuHandSource(path, domain, views, limit,
                       tuple(image_size or DEFAULT_IMAGE_SIZE))
