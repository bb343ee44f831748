"""The eyeball: sclera, iris, pupil, cornea glint, and the lids' shadows.

The eyeball is a sphere seen orthographically, rotated by the gaze; the iris
and pupil are caps around the gaze direction, so their ellipses move and
foreshorten exactly as the gaze label says. Only the pixels of the lids'
opening are shaded (see :func:`data.embedded.eyes.render.render_eyes`).
"""

import numpy as np

from data.embedded.eyes import parameters
from data.embedded.eyes import profiles
from data.embedded.eyes import textures

# Fixed light of the scene, a unit vector from the surface to the light: a
# little right of and above the camera. Python floats, so that NumPy keeps
# the float32 arrays float32.
LIGHT = tuple(
    float(c) for c in np.array([0.15, -0.35, -0.92]) / np.linalg.norm(
        [0.15, -0.35, -0.92]))
# Halfway between the light and the view (toward the camera, -z): the
# normal of the cornea where the light's glint appears.
HALF = tuple(
    float(c) for c in (np.array(LIGHT) + [0.0, 0.0, -1.0]) / np.linalg.norm(
        np.array(LIGHT) + [0.0, 0.0, -1.0]))
PUPIL = 0.05  # radiance of the pupil

# Lid quantities and parameters that the eyeball's shading reads.
EYE_LID_KEYS = ("t", "t2", "above_upper", "below_lower", "skin_texel")
EYE_PARAMETERS = ("pitch", "yaw", "scale", "shift_x", "shift_y",
                  "iris_angle", "pupil_fraction", "iris_phase", "texture",
                  "iris_tone", "sclera_tone", "skin_tone", "reflection_x",
                  "reflection_y", "reflection_width", "reflection_height",
                  "reflection_gain")


def eyeball(p, x, y, pixel, lids, real, banks):
  """Radiance of the eyeball (sclera, iris, pupil, glint), lid shadows included.

  The eyeball is a unit sphere of radius R seen orthographically; the iris
  and pupil are caps around the gaze direction, so their ellipses move and
  foreshorten exactly as the gaze label says. Elementwise on arrays of any
  (broadcastable) shape: parameters, coordinates and `lids` entries per
  pixel or per image.
  """
  f32 = np.float32
  scale = p["scale"]
  # The gaze as in data.gaze_vectors.pitch_yaw_to_vector, but kept here in
  # float32 per pixel (that one works in float64).
  pitch, yaw = np.radians(p["pitch"]), np.radians(p["yaw"])
  gx = -np.cos(pitch) * np.sin(yaw)
  gy = -np.sin(pitch)
  gz = -np.cos(pitch) * np.cos(yaw)
  radius = parameters.EYEBALL_RADIUS * scale
  centre_x, centre_y = p["shift_x"], p["shift_y"]
  sx = (x - centre_x) / radius
  sy = (y - centre_y) / radius
  r2 = sx * sx + sy * sy
  # Beyond the silhouette (the opening reaches past it at the corners) the
  # surface is seen edge-on: unit normal in the image plane.
  sz = np.clip(r2, 0.0, 1.0)
  np.subtract(1.0, sz, out=sz)
  np.sqrt(sz, out=sz)
  np.negative(sz, out=sz)
  np.clip(r2, 1.0, profiles.BIG, out=r2)
  inverse = np.sqrt(r2, out=r2)
  np.divide(1.0, inverse, out=inverse)
  sx = sx * inverse
  sy = sy * inverse
  cos_angle = sx * gx
  cos_angle += sy * gy
  cos_angle += sz * gz
  iris_angle = np.radians(p["iris_angle"])
  pupil_angle = iris_angle * p["pupil_fraction"]
  cos_iris, cos_pupil = np.cos(iris_angle), np.cos(pupil_angle)
  # Edges one output pixel wide: d(cos angle)/d(pixel) at each rim.
  iris_gain = radius / (pixel * np.tan(iris_angle))
  iris_alpha = profiles.coverage(cos_angle * iris_gain - cos_iris * iris_gain)
  pupil_gain = radius / (pixel * np.tan(pupil_angle))
  pupil_alpha = profiles.coverage(cos_angle * pupil_gain -
                                  cos_pupil * pupil_gain)
  # Radial position in the iris, 0 at the centre and 1 at the rim.
  radial = (1.0 - cos_angle) * (1.0 / (1.0 - cos_iris))
  np.clip(radial, 0.0, 1.0, out=radial)
  np.sqrt(radial, out=radial)
  # Iris texture in the iris plane: axes e1, e2 perpendicular to g, turned
  # by the iris phase and scaled so that the rim is IRIS_TEXELS texels out.
  norm = np.sqrt(gx * gx + gz * gz)
  e1x, e1z = -gz / norm, gx / norm
  e2x, e2y, e2z = gy * e1z, gz * e1x - gx * e1z, -gy * e1x  # g x e1
  phase = p["iris_phase"] * f32(2 * np.pi)
  gain = textures.IRIS_TEXELS / np.sin(iris_angle)
  cos_phase, sin_phase = np.cos(phase) * gain, np.sin(phase) * gain
  iris_u = sx * (cos_phase * e1x - sin_phase * e2x)
  iris_u += sy * (-sin_phase * e2y)
  iris_u += sz * (cos_phase * e1z - sin_phase * e2z)
  iris_u += textures.TILE / 2
  iris_v = sx * (sin_phase * e1x + cos_phase * e2x)
  iris_v += sy * (cos_phase * e2y)
  iris_v += sz * (sin_phase * e1z + cos_phase * e2z)
  iris_v += textures.TILE / 2
  tile = (np.floor(p["texture"] * textures.BANK_TILES).astype(np.int32) %
          textures.BANK_TILES)
  iris_texel = textures.texel_index(tile, iris_v, iris_u)
  iris = np.take(banks["iris"], iris_texel)
  iris *= 0.16
  iris += 1.0
  iris *= p["iris_tone"]
  collarette = profiles.bump((radial - 0.55) * 5.5)
  collarette *= 0.25
  collarette += 1.0
  iris *= collarette
  limbus_dark = 0.6 if real else 0.35
  limbus = radial - 0.78
  limbus *= -limbus_dark * 4.5
  limbus += 1.0
  np.clip(limbus, 1.0 - limbus_dark, 1.0, out=limbus)
  iris *= limbus
  if real:
    crypts = np.take(banks["crypts"], iris_texel)
    crypts *= 0.22
    crypts += 1.0
    iris *= crypts
  # Lambert shading under the fixed light.
  lambert = sx * LIGHT[0]
  lambert += sy * LIGHT[1]
  lambert += sz * LIGHT[2]
  np.clip(lambert, 0.0, 1.0, out=lambert)
  eye = lambert * 0.45
  eye += 0.55
  eye *= p["sclera_tone"]
  lambert *= 0.2
  lambert += 0.8
  iris *= lambert
  iris -= eye
  iris *= iris_alpha
  eye += iris
  eye -= PUPIL
  eye *= 1.0 - pupil_alpha
  eye += PUPIL

  # Shadow of the upper lid on the eyeball, a lighter one of the lower lid,
  # darker corners (the sclera turns away from the light there).
  t, t2 = lids["t"], lids["t2"]
  shadow = profiles.decay(np.clip(lids["above_upper"], -profiles.BIG, 0.0) *
                  (pixel / (1.3 * scale)))
  shadow *= -(0.45 if real else 0.3)
  shadow += 1.0
  eye *= shadow
  shadow = profiles.decay(
      np.clip(lids["below_lower"], -profiles.BIG, 0.0) * (pixel / scale))
  shadow *= -0.12
  shadow += 1.0
  eye *= shadow
  corner = np.abs(t)
  corner *= t2
  corner *= -(0.45 if real else 0.2)
  corner += 1.0
  eye *= corner
  if real:
    veins = np.take(banks["veins"], lids["skin_texel"])
    veins *= 1.0 - iris_alpha
    veins *= 0.3 + np.abs(t)
    veins *= -0.35
    veins += 1.0
    eye *= veins
  caruncle = t * (-1.0 / 0.15)
  caruncle -= 0.72 / 0.15
  np.clip(caruncle, 0.0, 1.0, out=caruncle)
  eye += caruncle * (0.8 * p["skin_tone"] - eye)

  # Glint: the fixed light's reflection on the cornea (a sphere in front of
  # the eyeball centre) where the cornea's normal halves light and view.
  cornea = cos_angle - cos_iris
  cornea *= 20.0
  cornea += 1.0
  np.clip(cornea, 0.0, 1.0, out=cornea)
  glint_x = centre_x + radius * (0.5 * gx + 0.45 * HALF[0])
  glint_y = centre_y + radius * (0.5 * gy + 0.45 * HALF[1])
  glint_size = 1.0 / np.clip(1.1 * scale, pixel, profiles.BIG)
  glint = profiles.bump((x - glint_x) * glint_size)
  glint = glint * profiles.bump((y - glint_y) * glint_size)
  glint *= cornea
  eye += glint * (0.7 if real else 0.9)
  if real:
    # A screen reflected on the cornea: a soft bright rectangle.
    reflect_x = centre_x + radius * 0.5 * gx + p["reflection_x"] * scale
    reflect_y = centre_y + radius * 0.5 * gy + p["reflection_y"] * scale
    box_x = profiles.coverage((p["reflection_width"] * scale / 2 -
                       np.abs(x - reflect_x)) * (1.0 / pixel))
    box_y = profiles.coverage((p["reflection_height"] * scale / 2 -
                       np.abs(y - reflect_y)) * (1.0 / pixel))
    cornea *= box_x
    cornea *= box_y
    cornea *= p["reflection_gain"]
    eye += cornea
  return eye

