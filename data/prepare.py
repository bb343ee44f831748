r"""Converts any image source into an HDF5 cache (`h5:FILE` afterwards).

  python -m data.prepare --source=unityeyes:/data/UnityEyes \
      --output=/cache/unityeyes.h5 --image_size=35x55

Streams the source `--chunk` images at a time (a 1.2 M-image source never
has to fit in memory), prints a progress line per chunk on stderr and writes
FILE.tmp first, renaming it to FILE only when complete. See data/cache.py for
the file layout.
"""

from absl import flags

from core import cli
from data import cache
from data import specs

_SOURCE = flags.DEFINE_string("source", None, "Source SPEC to convert, e.g. "
                              "unityeyes:/data/UnityEyes or "
                              "nyu:/data/nyu/train?domain=real.")
_OUTPUT = flags.DEFINE_string("output", None, "HDF5 cache file to write.")
_IMAGE_SIZE = flags.DEFINE_string("image_size", None, "HEIGHTxWIDTH to read "
                                  "the source at (default: its own size).")
_CHUNK = flags.DEFINE_integer("chunk", 4096, "Images read and written per "
                              "step (bounds the memory used).", lower_bound=1)
flags.mark_flags_as_required(["source", "output"])
_INPUT_LIMITS = cli.define_input_limits()


def main(argv):
  cli.start(argv, input_limits=_INPUT_LIMITS)
  source = specs.open_source(_SOURCE.value,
                             specs.parse_image_size(_IMAGE_SIZE.value))
  cache.write_cache(source, _OUTPUT.value, chunk=_CHUNK.value,
                    spec=_SOURCE.value)


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
