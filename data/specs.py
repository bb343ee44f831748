"""Source specifications: the SPEC strings every binary accepts.

A SPEC is ``KIND:PATH`` or a bare embedded name, optionally followed by
``?key=value&key=value`` options:

    folder:/data/eyes                      a folder of PNG/JPEG (+ labels.csv)
    unityeyes:/data/UnityEyes              UnityEyes imgs/<n>.jpg + <n>.json
    mpiigaze:/data/MPIIGaze?split=test     MPIIGaze (split=real|test)
    nyu:/data/nyu/train?domain=real        NYU hands (domain, views)
    h5:/cache/unityeyes.h5                 a cache written by data.prepare
    embedded-eyes-sim?n=20000&seed=0       the generated eye world
                                           (also -real, -oracle)

Each kind lives in its own module, which defines
``from_spec(path, options, image_size) -> ImageSource`` (embedded kinds get
their kind instead of a path) and reads its options with
:mod:`data.spec_options`. Modules are looked up by name and imported only
when a SPEC names them, so a missing optional reader never breaks the others
and this module imports none of them.
"""

import importlib
from typing import Dict, Optional, Tuple
import urllib.parse

from data import input_files
from data import source as source_lib

# KIND -> module that implements it. Embedded names are bare (no PATH).
_KINDS = {
    "folder": "data.folders",
    "unityeyes": "data.unityeyes",
    "mpiigaze": "data.mpiigaze",
    "nyu": "data.nyu_hand",
    "h5": "data.cache",
}
_EMBEDDED = {
    "embedded-eyes-sim": "data.embedded.eyes.source",
    "embedded-eyes-real": "data.embedded.eyes.source",
    "embedded-eyes-oracle": "data.embedded.eyes.source",
    "embedded-hands-sim": "data.embedded.hands.source",
    "embedded-hands-real": "data.embedded.hands.source",
}


def parse_image_size(text: Optional[str]) -> Optional[Tuple[int, int]]:
  """'35x55' -> (35, 55) (height x width); None or '' -> None.

  Raises:
    ValueError: not HEIGHTxWIDTH, not positive, or over the pixel cap
      (data.input_files; every image is made at this size).
  """
  if not text:
    return None
  try:
    height, width = (int(v) for v in text.lower().split("x"))
  except ValueError:
    raise ValueError(f"image size {text!r} is not HEIGHTxWIDTH, e.g. 35x55")
  if height <= 0 or width <= 0:
    raise ValueError(f"image size {text!r} must be positive")
  input_files.check_pixels(f"image size {text!r}", height, width)
  return height, width


def parse_spec(spec: str) -> Tuple[str, str, Dict[str, str]]:
  """Splits a SPEC into (kind, path, options). Embedded kinds have path ''."""
  spec = spec.strip()
  body, _, query = spec.partition("?")
  options = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
  if body in _EMBEDDED:
    return body, "", options
  kind, sep, path = body.partition(":")
  if not sep or kind not in _KINDS:
    known = ", ".join(sorted(_KINDS)) + ", " + ", ".join(sorted(_EMBEDDED))
    raise ValueError(f"unknown source {spec!r}: expected KIND:PATH with KIND "
                     f"one of {known}")
  if not path:
    raise ValueError(f"source {spec!r} names no path")
  return kind, path, options


def open_source(spec: str,
                image_size: Optional[Tuple[int, int]] = None
               ) -> source_lib.ImageSource:
  """Opens the source a SPEC names (raises DataError on bad data)."""
  kind, path, options = parse_spec(spec)
  module = importlib.import_module({**_KINDS, **_EMBEDDED}[kind])
  if kind in _EMBEDDED:
    return module.from_spec(kind, options, image_size)
  return module.from_spec(path, options, image_size)

