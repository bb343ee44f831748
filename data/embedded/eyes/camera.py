"""The webcam of the real eye stand-in: blur, sensor noise, gamma, JPEG.

What a renderer misses and a webcam adds after the light reaches the
sensor; the optics are set in canonical pixels, so they are the same at
every output resolution.
"""

from typing import Dict

import cv2
import numpy as np

from data.embedded.eyes import profiles
from data.embedded.eyes import textures


def camera(image: np.ndarray, p: Dict[str, np.ndarray],
           step_x: float) -> np.ndarray:
  """What the webcam does to the light: blur, noise, tone curve, 8 bits, JPEG.

  Args:
    image: float32 (n, H, W) scene radiance in about [0, 1].
    p: per-image parameters, float32 (n, 1, 1).
    step_x: canonical pixels per output pixel (blur is set in canonical
      pixels: the same optics at every resolution).

  Returns:
    uint8 (n, H, W).
  """
  n, height, width = image.shape
  # Defocus and the lens: OpenCV's Gaussian (its kernel size follows sigma,
  # so each image blurs the same in any batch).
  sigmas = p["blur"].reshape(-1) / step_x
  for i in range(n):
    cv2.GaussianBlur(image[i], (0, 0), float(sigmas[i]), dst=image[i])
  np.clip(image, 0.0, profiles.BIG, out=image)
  # Read noise and shot noise (std grows with the square root of the
  # signal), windows of the fixed bank at per-image offsets.
  size = height * width
  start = (p["noise_offset"].reshape(-1).astype(np.float64) *
           (textures.NOISE_BANK - 2 * size)).astype(np.int64)
  bank = textures.banks()["noise"]
  windows = np.lib.stride_tricks.as_strided(
      bank, (len(bank) - 2 * size + 1, 2 * size), bank.strides * 2,
      writeable=False)
  noise = windows[start]
  read = noise[:, :size].reshape(n, height, width)
  shot = noise[:, size:].reshape(n, height, width)
  shot *= np.sqrt(image)
  shot *= p["shot_noise"]
  read *= p["read_noise"]
  image += read
  image += shot
  # The camera's tone curve: a per-image gamma.
  np.clip(image, 1e-4, 1.0, out=image)
  np.log(image, out=image)
  image *= p["gamma"]
  np.exp(image, out=image)
  image *= 255.0
  np.rint(image, out=image)
  image = image.astype(np.uint8)
  # JPEG compression (libjpeg through OpenCV): block and ringing artefacts.
  quality = np.rint(p["jpeg_quality"].reshape(-1)).astype(int)
  for i in range(n):
    ok, encoded = cv2.imencode(".jpg", image[i],
                               [cv2.IMWRITE_JPEG_QUALITY, int(quality[i])])
    if not ok:
      raise RuntimeError("OpenCV could not encode a JPEG image")
    image[i] = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
  return image
