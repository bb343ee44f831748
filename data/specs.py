"""Source specifications: the SPEC strings every binary accepts.

A SPEC is ``KIND:PATH`` or a bare embedded name, optionally followed by
``?key=value&key=value`` options:

    folder:/data/eyes                      a folder of PNG/JPEG (+ labels.csv)
    unityeyes:/data/UnityEyes              UnityEyes imgs/<n>.jpg + <n>.json
    mpiigaze:/data/MPIIGaze?split=test     MPIIGaze (split=real|test)
    nyu:/data/nyu/train?domain=real        NYU hands (domain, views)
    h5:/cache/unityeyes.h5                 a cache written by data.prepare
    embedded-eyes-sim?n=20000&seed=0       the generated eye world

Each kind lives in its own module, which defines
``from_spec(path, options, image_size) -> ImageSource``; modules are imported
lazily so that a missing optional reader never breaks the others.
"""

import importlib
from typing import Dict, Optional, Sequence, Tuple
import urllib.parse

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
    "embedded-eyes-sim": "data.embedded_eyes",
    "embedded-eyes-real": "data.embedded_eyes",
    "embedded-hands-sim": "data.embedded_hands",
    "embedded-hands-real": "data.embedded_hands",
}


def parse_image_size(text: Optional[str]) -> Optional[Tuple[int, int]]:
  """'35x55' -> (35, 55) (height x width); None or '' -> None."""
  if not text:
    return None
  try:
    height, width = (int(v) for v in text.lower().split("x"))
  except ValueError:
    raise ValueError(f"image size {text!r} is not HEIGHTxWIDTH, e.g. 35x55")
  if height <= 0 or width <= 0:
    raise ValueError(f"image size {text!r} must be positive")
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


# -- options of the embedded worlds (data/embedded_eyes.py, embedded_hands.py)


def int_option(kind: str, options: Dict[str, str], name: str, default: int,
               minimum: int) -> int:
  """Integer option `name` (default when absent), at least `minimum`."""
  text = options.get(name)
  if text is None or text == "":
    return default
  try:
    value = int(text)
  except ValueError:
    raise source_lib.DataError(
        kind, f"option {name}={text!r} is not an integer") from None
  if value < minimum:
    raise source_lib.DataError(kind,
                               f"option {name}={value} is below {minimum}")
  return value


def embedded_options(kind: str, options: Dict[str, str],
                     known: Sequence[str], splits: Sequence[str],
                     default_n: Dict[Tuple[str, str], int]
                    ) -> Tuple[str, int, int]:
  """(split, n, seed) of an embedded world's SPEC options, checked.

  Args:
    kind: the embedded kind (names it in errors).
    options: the SPEC's options.
    known: every option the kind accepts (others are an error).
    splits: the kind's splits; ``split`` defaults to ``train``.
    default_n: (kind, split) -> the number of items when ``n`` is absent.

  Raises:
    DataError: an unknown option, split or a bad ``n`` / ``seed``.
  """
  unknown = sorted(set(options) - set(known))
  if unknown:
    raise source_lib.DataError(
        kind, f"unknown option(s) {unknown}; expected {list(known)}")
  split = options.get("split") or "train"
  if split not in splits:
    raise source_lib.DataError(
        kind, f"split={split!r} is not one of {list(splits)}")
  n = int_option(kind, options, "n", default_n[kind, split], 1)
  seed = int_option(kind, options, "seed", 0, 0)
  return split, n, seed


def embedded_image_shape(kind: str, image_size: Optional[Tuple[int, int]],
                         default: Tuple[int, int]) -> Tuple[int, int]:
  """The (H, W) an embedded world renders at: `image_size` or `default`."""
  image_shape = tuple(int(s) for s in image_size or default)
  if len(image_shape) != 2 or min(image_shape) < 1:
    raise source_lib.DataError(kind, f"image size {image_size} is not a "
                               f"positive (height, width)")
  return image_shape
