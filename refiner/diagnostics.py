"""Diagnostics of a trained SimGAN: does D separate by saturated pixels?

Real images hold exactly -1 or +1 wherever they saturate (the depth
background, dark pupils, clipped highlights), and a tanh-ended refiner
outputs ±1 only where float32 rounds tanh to ±1 (issue 13;
refiner/networks.py, ClippedTanh). A local D may then
tell refined patches from real ones by that cue alone. `saturation_accuracy`
measures D's per-patch accuracy separately on patches that hold saturated
pixels and on the others: a D far more accurate on the saturated patches
uses the cue.

Patch regions. Patch (i, j) of D's (h, w) output map is taken to cover the
input rows [⌊i·H/h⌋, ⌊(i+1)·H/h⌋) and columns [⌊j·W/w⌋, ⌊(j+1)·W/w⌋): the
proportional division of the image among the patches: the patch's stride
cell, an approximation of the centre of its receptive field (hand-lite, 64x64,
'same': the cell of patch j is [4j, 4j+4) and its receptive field is centred
on pixel 4j+3, 1.5 pixels off the cell's centre). The true receptive field is
wider (hand-lite: 25 pixels for a 4-pixel cell, see
`receptive_field`); ``margin`` widens every region by that many pixels on
each side (clamped to the image) to approximate it. The centre-region split
is the sharper one: with the full receptive field, nearly every hand patch
touches the background.
"""

from typing import Dict, Optional, Tuple

import numpy as np

from core import inference
from refiner import losses
from refiner import networks

# Half an 8-bit level of an image scaled to [-1, 1] (a level is 2/255):
# a pixel stored as 0 or 255 counts as saturated despite rounding in the
# scaling, one stored as 1 or 254 does not.
SATURATION_TOLERANCE = 1.0 / 255.0


def receptive_field(arch: str) -> Tuple[int, int]:
  """(size, stride) in input pixels of one patch of D's local output.

  E.g. 'hand-lite': (25, 4); 'gaze': (23, 4); 'hand': (71, 32).
  ``(size - stride) // 2`` is the `margin` that widens a patch's centre
  region to its receptive field.
  """
  a = networks.get_architecture(arch)
  specs = [(k, s) for _, k, s in a.d_convs_before_pool]
  specs.append(a.d_pool)
  specs += [(k, s) for _, k, s in a.d_convs_after_pool]
  specs.append((1, 1))  # The 1x1 logits conv.
  size, jump = 1, 1
  for kernel, stride in specs:
    size += (kernel - 1) * jump
    jump *= stride
  return size, jump


def saturated_pixels(images, tolerance: float = SATURATION_TOLERANCE):
  """(n, H, W) bool: pixels within `tolerance` of -1 or +1 in any channel."""
  images = np.asarray(images, np.float32)
  return np.any(np.abs(np.abs(images) - 1.0) <= tolerance, axis=-1)


def patch_regions(image_shape, grid, margin: int = 0):
  """Input rows and columns of each patch: ((r0, r1) per i, (c0, c1) per j).

  Patch i of h covers rows [⌊i·H/h⌋ − margin, ⌊(i+1)·H/h⌋ + margin),
  clamped to [0, H) (module docstring); likewise for columns.
  """
  def spans(size, n):
    return [(max(0, (i * size) // n - margin),
             min(size, ((i + 1) * size) // n + margin)) for i in range(n)]
  (height, width), (h, w) = image_shape, grid
  return spans(height, h), spans(width, w)


def patch_saturation(images, grid, tolerance: float = SATURATION_TOLERANCE,
                     margin: int = 0):
  """(n, h, w) bool: whether patch (i, j)'s region holds a saturated pixel."""
  pixels = saturated_pixels(images, tolerance)
  rows, cols = patch_regions(pixels.shape[1:3], grid, margin)
  out = np.zeros((pixels.shape[0], *grid), bool)
  for i, (r0, r1) in enumerate(rows):
    for j, (c0, c1) in enumerate(cols):
      out[:, i, j] = pixels[:, r0:r1, c0:c1].any(axis=(1, 2))
  return out


def _softmax(logits):
  logits = np.asarray(logits, np.float64)
  e = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def split_accuracy(logits, saturated, label: int, prefix: str
                  ) -> Dict[str, float]:
  """D's accuracy on saturated patches and on the others, from logits.

  Args:
    logits: (n, h, w, 2) raw logits of D; the class of a patch is the
      argmax of their softmax (losses.REFINED = 1, losses.REAL = 0).
    saturated: (n, h, w) bool, from `patch_saturation`.
    label: the true class of every patch.
    prefix: key prefix, e.g. 'real'.

  Returns:
    {PREFIX_saturated_accuracy, PREFIX_saturated_patches,
     PREFIX_saturated_confidence, and the same for PREFIX_other}: the
    fraction of the group's patches classified `label` (NaN for an empty
    group), the group's patch count, and the mean softmax probability of
    `label` (NaN for an empty group).
  """
  probability = _softmax(logits)
  correct = np.argmax(probability, axis=-1) == label
  confidence = probability[..., label]
  saturated = np.asarray(saturated, bool)
  if saturated.shape != correct.shape:
    raise ValueError(f"saturation mask {saturated.shape} does not match "
                     f"D's patches {correct.shape}")
  out = {}
  for group, mask in (("saturated", saturated), ("other", ~saturated)):
    n = int(mask.sum())
    out[f"{prefix}_{group}_patches"] = n
    out[f"{prefix}_{group}_accuracy"] = (
        float(correct[mask].mean()) if n else float("nan"))
    out[f"{prefix}_{group}_confidence"] = (
        float(confidence[mask].mean()) if n else float("nan"))
  return out


def at_limit_fraction(images) -> float:
  """Fraction of pixel values exactly -1 or +1."""
  images = np.asarray(images, np.float32)
  return float(np.mean(np.abs(images) == 1.0))


def saturation_accuracy(discriminator, refined, real,
                        synthetic: Optional[np.ndarray] = None,
                        tolerance: float = SATURATION_TOLERANCE,
                        margin: int = 0,
                        batch_size: int = 64) -> Dict[str, float]:
  """D's per-patch accuracy on saturated vs other patches (issue 13).

  Args:
    discriminator: D, mapping (n, H, W, C) images in [-1, 1] to (n, h, w, 2)
      logits (networks.build_discriminator, local head).
    refined: (n, H, W, C) refined images R(x).
    real: (m, H, W, C) real images y.
    synthetic: (n, H, W, C) the synthetic inputs x of `refined`, in the same
      order. A refined patch is 'saturated' when the synthetic input
      saturates there, i.e. where a refiner that keeps the input's ±1 would
      output ±1. None: use the refined images themselves (with `tolerance`).
    tolerance: a pixel is saturated within this distance of ±1.
    margin: widens each patch's region (module docstring).
    batch_size: images per D call.

  Returns:
    A dict: ``real_{saturated,other}_{accuracy,patches,confidence}`` (real
    patches classified real), ``refined_{saturated,other}_{...}`` (refined
    patches classified refined), and ``real_at_limit_fraction``,
    ``refined_at_limit_fraction``: the fractions of pixels exactly ±1.
  """
  refined = np.asarray(refined, np.float32)
  real = np.asarray(real, np.float32)
  mask_source = refined if synthetic is None else np.asarray(synthetic,
                                                             np.float32)
  if mask_source.shape != refined.shape:
    raise ValueError(f"synthetic {mask_source.shape} and refined "
                     f"{refined.shape} images differ in shape")
  out = {}
  forward = inference.forward(discriminator)  # Traced once, for both sets.
  for prefix, images, mask_images, label in (
      ("real", real, real, losses.REAL),
      ("refined", refined, mask_source, losses.REFINED)):
    logits = inference.predict(forward, images, batch_size)
    saturated = patch_saturation(mask_images, logits.shape[1:3], tolerance,
                                 margin)
    out.update(split_accuracy(logits, saturated, label, prefix))
  out["real_at_limit_fraction"] = at_limit_fraction(real)
  out["refined_at_limit_fraction"] = at_limit_fraction(refined)
  return out
