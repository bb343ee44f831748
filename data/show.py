r"""Draws a labelled grid of the first images of any source, to look at data.

    python -m data.show --source=embedded-eyes-sim --output=/tmp/sim.png
    python -m data.show --source='embedded-eyes-real?split=test' \
        --output=/tmp/real.png --rows=4 --cols=8 --scale=3
    python -m data.show --source=h5:/cache/refined.h5 --output=refined.png

Each cell is one image, upscaled by ``--scale`` with nearest neighbours (so
pixels stay visible), with its index (and pitch/yaw) in a caption below it.
Where the source has gaze labels (``gaze_x, gaze_y, gaze_z``) the gaze is
drawn as a green arrow from the image centre: the projection of the 3-D
vector on the image plane, (x, y) with y down, one image height long for a
unit vector in the image plane. Where it has hand joints (``j00_u`` ...
``j13_v``, pixel centres at integers) they are drawn as orange dots. The
title names the source.
"""

from absl import flags

from core import cli
from data import pictures
from data import specs

FLAGS = flags.FLAGS
flags.DEFINE_string("source", None, "SPEC of the source to show.")
flags.DEFINE_string("output", None, "PNG file to write.")
flags.DEFINE_integer("rows", 4, "Rows of the grid.", lower_bound=1)
flags.DEFINE_integer("cols", 8, "Columns of the grid.", lower_bound=1)
flags.DEFINE_integer("scale", 3, "Integer upscaling of each image.",
                     lower_bound=1)
flags.DEFINE_string("image_size", None,
                    "HEIGHTxWIDTH to open the source at (default: its own).")
flags.mark_flags_as_required(["source", "output"])
_INPUT_LIMITS = cli.define_input_limits()


def main(argv):
  cli.start(argv, input_limits=_INPUT_LIMITS)
  source = specs.open_source(FLAGS.source,
                             specs.parse_image_size(FLAGS.image_size))
  grid = pictures.draw_grid(source, FLAGS.rows, FLAGS.cols, FLAGS.scale, FLAGS.source)
  pictures.write_png(grid, FLAGS.output)
  print(f"wrote {FLAGS.output} ({grid.shape[1]}x{grid.shape[0]} px, "
        f"{min(len(source), FLAGS.rows * FLAGS.cols)} of {len(source)} images "
        f"of {source.description})")


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
