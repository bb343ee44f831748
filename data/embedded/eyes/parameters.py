"""The eye world's domains, dimensions and per-image parameters.

Each (domain, split) is its own hash stream of :mod:`data.embedded.streams`,
so splits and domains never share an image even with the same seed. Every
image's parameters are uniform draws from `PARAMETERS`; its gaze label is
the unit vector of its (pitch, yaw) in :mod:`data.gaze_vectors`'
convention.
"""

from typing import Dict, Sequence

import numpy as np

from data import gaze_vectors
from data.embedded import streams

SIM = "embedded-eyes-sim"
REAL = "embedded-eyes-real"
SPLITS = {SIM: ("train", "test"), REAL: ("train", "test", "labelled")}
DEFAULT_N = {
    (SIM, "train"): 20000,
    (SIM, "test"): 5000,
    (REAL, "train"): 20000,
    (REAL, "test"): 5000,
    (REAL, "labelled"): 20000,
}
STREAM_IDS = {
    (SIM, "train"): 1,
    (SIM, "test"): 2,
    (REAL, "train"): 3,
    (REAL, "test"): 4,
    (REAL, "labelled"): 5,
}

# The paper's eye crops are 35x55 (§3.2); the scene is defined on this
# canvas, in canonical pixels, and drawn at any resolution.
CANONICAL_SHAPE = (35, 55)
PITCH_RANGE_DEG = (-25.0, 10.0)
YAW_RANGE_DEG = (-30.0, 30.0)
# Eyeball radius, eye half-width (corner to centre) and lid-plane depth in
# front of the eyeball centre, in canonical pixels (at scale 1): a 55-pixel
# wide crop spans 1.7 eye widths, as GazeML-style crops do.
EYEBALL_RADIUS = 13.0
EYE_HALF_WIDTH = 16.0
LID_DEPTH = 0.85 * EYEBALL_RADIUS

# Per-image parameters: (name, low, high), each drawn uniformly from its own
# hash column. Append only: the column of a name is its position here.
PARAMETERS = (
    # Gaze and head (degrees), placement (canonical pixels), scale.
    ("pitch", PITCH_RANGE_DEG[0], PITCH_RANGE_DEG[1]),
    ("yaw", YAW_RANGE_DEG[0], YAW_RANGE_DEG[1]),
    ("head_pitch", -8.0, 8.0),
    ("head_yaw", -12.0, 12.0),
    ("head_roll", -7.0, 7.0),
    ("scale", 0.9, 1.1),
    ("shift_x", -2.0, 2.0),
    ("shift_y", -1.5, 1.5),
    ("openness", -0.8, 0.8),
    # Anatomy and albedo (gray levels in [0, 1]).
    ("iris_angle", 27.0, 32.0),
    ("pupil_fraction", 0.3, 0.45),
    ("skin_tone", 0.5, 0.72),
    ("iris_tone", 0.17, 0.42),
    ("sclera_tone", 0.78, 0.9),
    ("iris_phase", 0.0, 1.0),
    ("texture", 0.0, 1.0),
    ("texture_x", 0.0, 1.0),
    ("texture_y", 0.0, 1.0),
    # The real camera and the things a renderer misses.
    ("lash_phase", 0.0, 1.0),
    ("lash_strength", 0.55, 0.85),
    ("reflection_x", -2.0, 2.0),
    ("reflection_y", -2.5, 0.5),
    ("reflection_width", 1.8, 3.5),
    ("reflection_height", 1.0, 2.2),
    ("reflection_gain", 0.2, 0.45),
    ("exposure", 0.92, 1.1),
    ("light_angle", 0.0, 2.0 * np.pi),
    ("light_gradient", 0.0, 0.1),
    ("gamma", 0.85, 1.2),
    ("blur", 0.35, 0.85),
    ("read_noise", 0.008, 0.022),
    ("shot_noise", 0.01, 0.03),
    ("jpeg_quality", 40.0, 85.0),
    ("noise_offset", 0.0, 1.0),
)
PARAMETER_NAMES = tuple(name for name, _, _ in PARAMETERS)


def stream_key(seed: int, domain: str, split: str) -> int:
  """The 64-bit key of one (seed, domain, split) stream."""
  return streams.stream_key(seed, STREAM_IDS[domain, split])


def sample_parameters(key: int, indices: np.ndarray,
                      names: Sequence[str] = PARAMETER_NAMES
                     ) -> Dict[str, np.ndarray]:
  """Per-image parameters of images `indices` of stream `key` (float64, (n,)).

  Image i is counter i of the stream; `names` (default all) picks the
  parameters, each independent of which others are asked for.
  """
  return streams.draw(key, indices, PARAMETERS, names)


def gaze_labels(pitch_deg: np.ndarray, yaw_deg: np.ndarray) -> np.ndarray:
  """(pitch, yaw) in degrees -> unit gaze vectors (n, 3), float64."""
  angles = np.stack([np.asarray(pitch_deg, np.float64),
                     np.asarray(yaw_deg, np.float64)], axis=-1)
  return gaze_vectors.pitch_yaw_to_vector(np.radians(angles))
