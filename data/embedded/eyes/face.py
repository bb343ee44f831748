"""What the eye world fixes to the head: the lids, the skin, the lashes.

The lids are drawn in head coordinates (rotated by the head's roll); their
plane sits in front of the eyeball centre, so the head's pitch and yaw move
them against the eyeball while the gaze label stays the eyeball's own
direction. The opening between them is where :mod:`.eyeball` shows.
"""

import numpy as np

from data.embedded.eyes import parameters
from data.embedded.eyes import profiles


def lid_geometry(p, x, y, pixel):
  """Head-fixed lid geometry, in head coordinates rotated by the roll.

  Returns a dict with u (along the eye), v (down), t = u / half width,
  t2 = t^2, q = max(1 - t^2, 0), the corner line, the upper lid height,
  above_upper / below_lower (signed distances in output pixels, > 0 outside
  the opening) and opening (the pixel's coverage by the opening).
  """
  scale = p["scale"]
  head_pitch, head_yaw = np.radians(p["head_pitch"]), np.radians(p["head_yaw"])
  # The lid plane sits in front of the eyeball centre, so head pitch and yaw
  # move the lids against the eyeball along the head's facing direction.
  lid_x = p["shift_x"] - (parameters.LID_DEPTH * np.cos(head_pitch) *
                          np.sin(head_yaw)) * scale
  lid_y = p["shift_y"] - (parameters.LID_DEPTH * np.sin(head_pitch)) * scale
  roll = np.radians(p["head_roll"])
  cos_roll, sin_roll = np.cos(roll), np.sin(roll)
  dx, dy = x - lid_x, y - lid_y
  u = cos_roll * dx + sin_roll * dy
  v = cos_roll * dy - sin_roll * dx
  # (Times eye_width last, so its neutral 1.0 leaves every bit as it was.)
  half_width = parameters.EYE_HALF_WIDTH * scale * np.cos(head_yaw)
  half_width *= p["eye_width"]
  t = u * (1.0 / half_width)
  t2 = t * t
  q = np.subtract(1.0, t2)
  np.clip(q, 0.0, 1.0, out=q)
  # The lids follow the eye's pitch relative to the head: the upper lid
  # drops a lot when looking down, the lower one a little.
  relative_pitch = p["pitch"] - p["head_pitch"]
  upper_height = np.clip(
      scale * (5.8 + 0.13 * relative_pitch + p["openness"]), 1.2, profiles.BIG)
  lower_height = np.clip(
      scale * (5.0 - 0.05 * relative_pitch + 0.5 * p["openness"]), 1.0,
      profiles.BIG)
  # The outer corner (image right) is canthal_tilt higher at scale 1.
  corner_line = t * (p["canthal_tilt"] * -scale)
  upper = t * (0.18 * upper_height)
  upper -= upper_height
  upper *= q
  upper += corner_line
  above_upper = upper - v
  above_upper *= 1.0 / pixel
  lower = t * (0.12 * lower_height)
  lower += lower_height
  lower *= q
  lower += corner_line
  below_lower = v - lower
  below_lower *= 1.0 / pixel
  # Exact coverage of the pixel's vertical extent by the band between the
  # lids: zero where they meet, so no seam runs on past the corners.
  opening = np.clip(above_upper, -0.5, profiles.BIG)
  np.negative(opening, out=opening)
  opening -= np.clip(below_lower, -0.5, profiles.BIG)
  np.clip(opening, 0.0, 1.0, out=opening)
  return dict(u=u, v=v, t=t, t2=t2, q=q, corner_line=corner_line,
              upper_height=upper_height, above_upper=above_upper,
              below_lower=below_lower, opening=opening)


def skin_radiance(p, pixel, lids, real, banks):
  """Radiance of the skin: socket, crease, lid bulge, lid margins, texture."""
  scale = p["scale"]
  u, v, t2 = lids["u"], lids["v"], lids["t2"]
  skin = v * (0.005 / scale)
  skin += 1.0
  skin *= p["skin_tone"]
  # Eye socket: a little darker around the eye.
  socket = profiles.bump(v * (1.0 / (16.0 * scale)))
  socket *= profiles.bump(u * (1.0 / (30.0 * scale)))
  socket *= -0.1
  socket += 1.0
  skin *= socket
  # Lid fold: a crease above the upper lid and a lit lid bulge below it.
  crease_extent = t2 * (-1.0 / 1.25**2)
  crease_extent += 1.0
  np.clip(crease_extent, 0.0, 1.0, out=crease_extent)
  crease = crease_extent * (lids["upper_height"] + 3.2 * scale)
  crease += v
  crease -= lids["corner_line"]  # v minus the height of the crease
  crease = profiles.bump(crease * (1.0 / ((2.2 if real else 1.6) * scale)))
  crease *= np.sqrt(crease_extent)
  crease *= -(0.28 if real else 0.12)
  crease += 1.0
  skin *= crease
  # Lid features fade out just beyond the corners.
  extent = t2 * (-1.0 / 1.1**2)
  extent += 1.0
  np.clip(extent, 0.0, 1.0, out=extent)
  np.sqrt(extent, out=extent)
  bulge = lids["above_upper"] * (pixel / (2.8 * scale))
  bulge -= 1.6 / 2.8
  bulge = profiles.bump(bulge)
  bulge *= extent
  bulge *= 0.06
  bulge += 1.0
  skin *= bulge
  # Lid margins: the lids' thickness seen from the front.
  margin = pixel / ((1.1 if real else 0.5) * scale)
  margins = profiles.decay(lids["above_upper"] * margin)
  margins += 0.6 * profiles.decay(lids["below_lower"] * margin)
  margins *= extent
  margins *= -(0.45 if real else 0.18)
  margins += 1.0
  skin *= margins
  if real:
    texture = np.take(banks["skin"], lids["skin_texel"])
    texture *= 0.07
    texture += 1.0
    skin *= texture
  return skin


def lash_transmission(p, pixel, lids):
  """Transmission (1 = none) of the eyelashes: dark strands rooted along
  the upper margin, fanning outward and hanging a little over the opening;
  shorter, fainter lower lashes."""
  scale = p["scale"]
  u, t, q = lids["u"], lids["t"], lids["q"]
  height = lids["above_upper"] * pixel  # canonical pixels above the margin
  rooted = np.clip(height, 0.0, profiles.BIG)
  # Strands: a triangle wave across u, sheared outward with the height.
  strand = rooted * 0.7
  strand *= t
  strand += u
  strand *= 1.0 / (1.2 * scale)
  strand += p["lash_phase"]
  strand -= np.floor(strand)
  strand -= 0.5
  np.abs(strand, out=strand)
  np.square(strand, out=strand)
  strand *= 4.0  # 1 on a strand, 0 between strands
  length = np.sqrt(q)
  length *= 3.5 * scale
  upper = profiles.decay(rooted * (1.0 / (1.5 * scale)))
  upper *= (height > -1.0 * scale) & (height < length)
  upper *= 0.35 + 0.65 * strand
  lower = lids["below_lower"] * pixel - 0.6 * scale
  lower = profiles.decay(lower * (1.0 / (0.8 * scale)))
  lower *= np.sqrt(q)
  lower *= 0.35 * strand
  upper += lower
  upper *= p["lash_strength"]
  upper *= q > 0.02
  np.clip(upper, 0.0, 0.95, out=upper)
  np.subtract(1.0, upper, out=upper)
  return upper
