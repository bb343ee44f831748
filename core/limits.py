"""Caps on what one input file may cost: its bytes and its decoded pixels.

The readers (data/input_files.py) refuse a file over these caps as bad
input, so a decompression bomb (a few kilobytes declaring gigapixels) ends
in one error line, not a process killed for memory. They live in core so
that the binaries' flags (core/cli.py) and the stage workers
(benchmarks/stages.py) set them without importing the readers. The caps
hold for this process (tf.data reader threads see them too).
"""

import dataclasses

MIB = 1 << 20
MEGAPIXEL = 1_000_000
DEFAULT_MAX_FILE_MIB = 64
DEFAULT_MAX_IMAGE_MEGAPIXELS = 40


@dataclasses.dataclass(frozen=True)
class Limits:
  """Caps on one input file's bytes and one decoded image's pixels."""
  max_file_bytes: int = DEFAULT_MAX_FILE_MIB * MIB
  max_pixels: int = DEFAULT_MAX_IMAGE_MEGAPIXELS * MEGAPIXEL


_limits = Limits()


def limits() -> Limits:
  """The caps in force."""
  return _limits


def set_limits(new: Limits) -> Limits:
  """Puts `new` caps in force; returns the previous ones.

  Raises:
    ValueError: a cap below 1.
  """
  global _limits
  if new.max_file_bytes < 1 or new.max_pixels < 1:
    raise ValueError(f"input limits must be positive, got {new}")
  previous, _limits = _limits, new
  return previous
