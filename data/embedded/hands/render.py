"""Preprocessed depth crops of the hand world: ``render_hands``.

As :mod:`data.nyu_hand` preprocesses NYU (§3.3): depth in whole
millimetres, background 0 and the hand ``depth - 2000``, then
:func:`data.nyu_hand.to_unit`.
"""

from typing import Dict, Optional, Tuple

import numpy as np

from data import nyu_hand
from data.embedded.hands import capsules
from data.embedded.hands import kinect
from data.embedded.hands import kinematics

_F32 = np.float32


def render_hands(params: Dict[str, np.ndarray], views: np.ndarray,
                 image_shape: Tuple[int, int], real: bool,
                 view_params: Optional[Dict[str, np.ndarray]] = None
                ) -> np.ndarray:
  """Renders preprocessed depth crops, float32 (n, H, W) in [-1, 1].

  Args:
    params: per-image frame parameters
      (:func:`data.embedded.hands.parameters.sample_parameters` of each
      image's frame; any entry may be overridden).
    views: (n,) camera of each image, from 1, 2, 3.
    image_shape: (height, width) of the output.
    real: False renders the clean simulator, True the Kinect stand-in.
    view_params: per-image Kinect parameters
      (:func:`data.embedded.hands.parameters.sample_view_parameters`),
      required when `real`.

  Returns:
    ``to_unit`` of the paper's preprocessed value: background +1, hand
    ``1 + (depth - 2000) / 1000``.
  """
  views = np.asarray(views, np.int64).reshape(-1)
  height, width = image_shape
  if len(views) == 0:
    return np.zeros((0, height, width), _F32)
  geometry = kinematics.labels_of(params, views, image_shape)
  box = geometry["box"]
  rows, cols = capsules.sampled_pixels(box, image_shape)
  buffers = capsules.render_capsules(geometry["camera"], geometry["capsules"],
                                     box, rows, cols, image_shape, real)
  if real:
    joints = geometry["camera"][:, list(kinematics.EVAL_POINTS)]
    joints_uv = kinematics.project(joints)[..., :2]
    depth = kinect.kinect_depth(buffers, rows, cols, box, joints_uv,
                                view_params)
  else:
    depth = np.rint(buffers["depth"])
  # As crop_image: frame pixels outside the 640x480 frame are background.
  in_frame = (((rows >= 0) & (rows < kinematics.FRAME_HEIGHT))[:, :, None] &
              ((cols >= 0) & (cols < kinematics.FRAME_WIDTH))[:, None, :])
  foreground = in_frame & (depth > 0.0) & (depth < kinematics.BACKGROUND_MM)
  value = np.where(foreground, depth - _F32(kinematics.BACKGROUND_MM),
                   _F32(0.0))
  return nyu_hand.to_unit(value)
