"""The eye world's domains, dimensions and per-image parameters.

Each (domain, split) is its own hash stream of :mod:`data.embedded.streams`,
so the simulator's and the real stand-in's splits never share an image even
with the same seed (the oracle reads the simulator's streams on purpose).
Every image's parameters are uniform draws from its domain's table
(`TABLES`); its gaze label is the unit vector of its (pitch, yaw) in
:mod:`data.gaze_vectors`' convention.

**What differs between the domains besides rendering.** In the paper's
gaze experiment (§3.2) the simulator is UnityEyes, rendered in one generic
environment not targeted at any data set, and the real eyes are MPIIGaze:
other people (eye shape and size, iris and skin), laptop users with their
own head poses, gaze confined to a screen below the webcam, crops cut
around detected landmarks. A UnityEyes image rarely has a real near-twin:
pixel k-NN on UnityEyes gets 9.9 degrees on MPIIGaze, a CNN on refined
images 7.8 (Table 3). So here the simulator draws every parameter
from `PARAMETERS`, and the real stand-in replaces the ranges of its
*population* parameters with `REAL_POPULATION`: a smaller gaze cone shifted
down, other head poses, larger and less well centred eyes, narrower
openings and eye widths, other canthal tilts, larger and darker irises, a
wider range of skin. Each range overlaps the simulator's; several reach
beyond it (shapes the simulator never draws). The hash columns stay the
same, only the ranges change; the appearance parameters (texture, lashes,
reflection, light, camera) keep their ranges, and the simulator draws them
too without using them.

Measured (k = 5 pixel k-NN of :mod:`gaze.knn` trained on 6,000 simulator
images, on 2,000 real test images, seed 0): 4.7 degrees when both domains
shared one population, 9.2 degrees with `REAL_POPULATION`; 9.1 from 6,000
oracle images, 7.3 from 6,000 labelled real images; predicting the
simulator's mean gaze: 13.6 (18.4 before).

**The oracle** (``embedded-eyes-oracle``) is the simulator's own images
(stream, parameters, labels, order) rendered with the real stand-in's
appearance (textures, lashes, light, webcam) from the appearance columns
the simulator's stream draws anyway: what a perfect label-preserving
refiner would output. It keeps the simulator's population, so the gap
between it and the real stand-in is the population gap alone.
"""

from typing import Dict, Sequence

import numpy as np

from data import gaze_vectors
from data.embedded import streams

SIM = "embedded-eyes-sim"
REAL = "embedded-eyes-real"
ORACLE = "embedded-eyes-oracle"
SPLITS = {SIM: ("train", "test"), REAL: ("train", "test", "labelled"),
          ORACLE: ("train", "test")}
DEFAULT_N = {
    (SIM, "train"): 20000,
    (SIM, "test"): 5000,
    (REAL, "train"): 20000,
    (REAL, "test"): 5000,
    (REAL, "labelled"): 20000,
    (ORACLE, "train"): 20000,
    (ORACLE, "test"): 5000,
}
STREAM_IDS = {
    (SIM, "train"): 1,
    (SIM, "test"): 2,
    (REAL, "train"): 3,
    (REAL, "test"): 4,
    (REAL, "labelled"): 5,
    # The oracle is the simulator's images: the simulator's streams.
    (ORACLE, "train"): 1,
    (ORACLE, "test"): 2,
}
# Domains rendered with the webcam-like appearance (render_eyes(real=True)).
REAL_APPEARANCE = frozenset((REAL, ORACLE))

# The paper's eye crops are 35x55 (§3.2); the scene is defined on this
# canvas, in canonical pixels, and drawn at any resolution.
CANONICAL_SHAPE = (35, 55)
# The simulator's gaze ranges (degrees); the real stand-in's are in
# REAL_POPULATION.
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
    # Eye shape beyond scale and openness (appended later: the simulator's
    # are constant and neutral, so its images did not change). Eye width:
    # the corner-to-centre half width as a fraction of EYE_HALF_WIDTH *
    # scale. Canthal tilt: how far the outer corner (image right) sits above
    # the inner one, in canonical pixels at scale 1.
    ("eye_width", 1.0, 1.0),
    ("canthal_tilt", 1.0, 1.0),
)
PARAMETER_NAMES = tuple(name for name, _, _ in PARAMETERS)

# The real stand-in's population: (low, high) replacing PARAMETERS' range
# for the parameters that describe the person, the head and the gaze (never
# the rendering). Same columns, other ranges: each overlaps the simulator's
# and differs from it, as MPIIGaze's people differ from UnityEyes'
# generic, untargeted ones.
REAL_POPULATION = {
    # Laptop webcam above the screen: a smaller cone, shifted downward
    # (26 x 44 degrees around pitch -9, vs 35 x 60 around -7.5).
    "pitch": (-22.0, 4.0),
    "yaw": (-22.0, 22.0),
    # Users face a screen below the camera: heads pitched down more, turning
    # more, with little roll (normalisation removes most of it).
    "head_pitch": (-16.0, 4.0),
    "head_yaw": (-20.0, 20.0),
    "head_roll": (-3.0, 3.0),
    # Eyes larger in the crop on average, and less well centred: crops come
    # from detected facial landmarks, not from the renderer's exact ones.
    "scale": (0.95, 1.3),
    "shift_x": (-4.0, 4.0),
    "shift_y": (-3.0, 2.0),
    # Narrower openings on average (looking down at a screen, squinting).
    "openness": (-1.4, 0.5),
    # Larger, darker irises; a wider, partly darker range of skin; a dimmer
    # sclera.
    "iris_angle": (29.0, 35.0),
    "pupil_fraction": (0.3, 0.5),
    "skin_tone": (0.42, 0.8),
    "iris_tone": (0.1, 0.32),
    "sclera_tone": (0.7, 0.86),
    # Eye shapes the simulator never draws: narrower eyes, corners from
    # slightly down-slanted to strongly up-slanted.
    "eye_width": (0.8, 1.02),
    "canthal_tilt": (-0.5, 3.0),
}


def _with_ranges(table: streams.Table,
                 ranges: Dict[str, Sequence[float]]) -> streams.Table:
  """`table` with the (low, high) of the rows `ranges` names replaced."""
  unknown = sorted(set(ranges) - {name for name, _, _ in table})
  if unknown:
    raise KeyError(f"not parameters: {unknown}")
  return tuple((name, *ranges.get(name, (low, high)))
               for name, low, high in table)


# Domain -> its parameter table (same rows and columns, its own ranges).
TABLES = {
    SIM: PARAMETERS,
    REAL: _with_ranges(PARAMETERS, REAL_POPULATION),
    ORACLE: PARAMETERS,
}


def stream_key(seed: int, domain: str, split: str) -> int:
  """The 64-bit key of one (seed, domain, split) stream."""
  return streams.stream_key(seed, STREAM_IDS[domain, split])


def sample_parameters(key: int, indices: np.ndarray,
                      names: Sequence[str] = PARAMETER_NAMES,
                      domain: str = SIM) -> Dict[str, np.ndarray]:
  """Per-image parameters of images `indices` of stream `key` (float64, (n,)).

  Image i is counter i of the stream; `names` (default all) picks the
  parameters, each independent of which others are asked for. `domain`
  picks the table (`TABLES`): the same hash columns, the domain's ranges.
  """
  return streams.draw(key, indices, TABLES[domain], names)


def gaze_labels(pitch_deg: np.ndarray, yaw_deg: np.ndarray) -> np.ndarray:
  """(pitch, yaw) in degrees -> unit gaze vectors (n, 3), float64."""
  angles = np.stack([np.asarray(pitch_deg, np.float64),
                     np.asarray(yaw_deg, np.float64)], axis=-1)
  return gaze_vectors.pitch_yaw_to_vector(np.radians(angles))
