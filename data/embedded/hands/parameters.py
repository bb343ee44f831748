"""The hand world's domains, splits and per-frame / per-view parameters.

Each (domain, split) is its own hash stream of :mod:`data.embedded.streams`,
so splits and domains never share a frame even with the same seed. A frame's
pose, placement and size are uniform draws from `FRAME_PARAMETERS` (counter:
the frame index); the real Kinect's per-(frame, view) parameters come from
`VIEW_PARAMETERS` on a second stream derived from the first (counter:
``4 frame + view``).
"""

from typing import Dict

import numpy as np

from data.embedded import streams

SIM = "embedded-hands-sim"
REAL = "embedded-hands-real"
SPLITS = {SIM: ("train", "test"), REAL: ("train", "test", "labelled")}
# Frames (not images) per split by default.
DEFAULT_N = {
    (SIM, "train"): 20000,
    (SIM, "test"): 2000,
    (REAL, "train"): 20000,
    (REAL, "test"): 2000,
    (REAL, "labelled"): 20000,
}
STREAM_IDS = {
    (SIM, "train"): 11,
    (SIM, "test"): 12,
    (REAL, "train"): 13,
    (REAL, "test"): 14,
    (REAL, "labelled"): 15,
}

# Per-frame parameters: (name, low, high), each uniform from its own hash
# column. Append only: the column of a name is its position here.
FRAME_PARAMETERS = (
    ("pose", 0.0, 1.0),  # picks the pose class (see kinematics)
    ("yaw", -180.0, 180.0),  # degrees; 0 = palm toward camera 1
    ("pitch", -35.0, 35.0),
    ("roll", -60.0, 60.0),
    ("scale", 0.9, 1.1),
    ("offset_x", -80.0, 80.0),  # mm from the rig centre
    ("offset_y", -60.0, 60.0),
    ("offset_z", -150.0, 150.0),
    ("spread", -1.0, 1.0),  # fingers together (-1) to spread (+1)
) + tuple(
    # Curl of each chain for the random pose class, its noise for the others.
    (f"{kind}_{chain}", -1.0, 1.0) if kind == "curl_noise" else
    (f"{kind}_{chain}", 0.0, 1.0)
    for kind in ("curl", "curl_noise")
    for chain in ("pinky", "ring", "middle", "index", "thumb")
) + tuple(
    # Independent noise of each joint angle, in [-1, 1].
    (f"noise_{chain}_{joint}", -1.0, 1.0)
    for chain in ("pinky", "ring", "middle", "index", "thumb")
    for joint in range(4)
)
# Per-(frame, view) parameters of the real Kinect.
VIEW_PARAMETERS = (
    ("erosion", -0.5, 1.0),  # frame px the edge moves in (< 0: out)
    ("jag", 0.5, 1.1),  # std (frame px) of the edge's jags
    ("drop_rate", 0.2, 0.5),  # dropout at the edge
    ("fly_rate", 0.2, 0.5),  # flying pixels at the edge
    ("gap", 150.0, 900.0),  # mm from the hand to what is behind it
    ("ripple", 1.0, 3.5),  # mm, low-frequency ripple amplitude
    ("ripple_angle", 0.0, 2.0 * np.pi),
    ("ripple_wavelength", 40.0, 120.0),  # frame px
    ("ripple_phase", 0.0, 2.0 * np.pi),
    ("holes", 0.0, 2.99),  # floor: number of holes
    ("hole_radius", 1.0, 3.5),  # frame px
    ("hole_joint_0", 0.0, 1.0),
    ("hole_joint_1", 0.0, 1.0),
    ("hole_dx", -6.0, 6.0),  # frame px from the joint
    ("hole_dy", -6.0, 6.0),
)
# The tables' hash columns start at 1 (column 0 is left unused).
_FIRST_COLUMN = 1


def stream_key(seed: int, domain: str, split: str) -> int:
  """The 64-bit key of one (seed, domain, split) stream."""
  return streams.stream_key(seed, STREAM_IDS[domain, split])


def sample_parameters(key: int, frames: np.ndarray) -> Dict[str, np.ndarray]:
  """Per-frame parameters of frames `frames` of stream `key` ((n,) each)."""
  return streams.draw(key, frames, FRAME_PARAMETERS,
                      first_column=_FIRST_COLUMN)


def sample_view_parameters(key: int, frames: np.ndarray,
                           views: np.ndarray) -> Dict[str, np.ndarray]:
  """Per-(frame, view) parameters of the real Kinect, and its noise key."""
  counters = (np.asarray(frames, np.int64).reshape(-1) * 4 +
              np.asarray(views, np.int64).reshape(-1))
  view_key = int(streams.splitmix64(np.array([key ^ 0x5EED], np.uint64))[0])
  out = streams.draw(view_key, counters, VIEW_PARAMETERS,
                     first_column=_FIRST_COLUMN)
  # The key of the (frame, view)'s sensor noise (offsets into the Kinect's
  # fixed noise tiles).
  out["noise_key"] = streams.counter_hashes(view_key ^ 0xA11CE, counters)
  return out
