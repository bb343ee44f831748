"""Bad data at the data binaries: one line naming the file or flag, exit 1.

Each case runs a binary as a user does (tests.helpers.run_module) on input
damaged in one way, and checks the one error exit of core/cli.py
(helpers.one_error_line: status 1, no traceback, one 'error:' line), the
line itself, and that nothing was written to the output folder.
"""

import os
import textwrap

import cv2
import h5py
import numpy as np
import pytest

from data import cache
from data import source as source_lib
from tests import helpers
from tests.data import test_input_files
from tests.data import test_mpiigaze
from tests.data import test_nyu_hand
from tests.data import test_unityeyes

CAP = ("over the cap of 40,000,000 (40 megapixels; --max_image_megapixels "
       "raises it)")


def _refused(module, args, line, output_folder):
  """`python -m MODULE ARGS` takes the one error exit with `line` and
  leaves `output_folder` empty (or absent)."""
  helpers.assert_one_error_line(
      helpers.run_module(module, *args, timeout=300), line)
  assert not os.path.exists(output_folder) or os.listdir(output_folder) == []


def _prepare_refuses(tmp_path, source, line, *flags):
  out = tmp_path / "out"
  _refused("data.prepare", [f"--source={source}", f"--output={out / 'x.h5'}",
                            *flags], line, out)


@pytest.fixture
def nyu(tmp_path):
  folder = tmp_path / "nyu"
  test_nyu_hand.write_split(str(folder), 1)
  return folder


def test_nyu_joint_file_v73_and_unreadable(tmp_path, nyu):
  joints = nyu / "joint_data.mat"
  test_input_files.write_mat_v73(str(joints), joint_uvd=np.zeros((3, 1, 36,
                                                                   3)))
  _prepare_refuses(
      tmp_path, f"nyu:{nyu}", f"error: {joints}: is a MATLAB v7.3 (HDF5) "
      "file, which this reader does not read; re-save it as v7 in MATLAB: "
      "load it, then save(FILE, '-v7')")
  joints.write_bytes(b"not a MATLAB file" * 20)
  _prepare_refuses(
      tmp_path, f"nyu:{nyu}", f"error: {joints}: is not a readable MATLAB "
      "file (ValueError: Unknown mat file type, version 32, 77)")


def test_decompression_bomb_met_mid_stream(tmp_path, nyu):
  # The depth PNGs are decoded lazily, while the cache is written.
  depth = nyu / "depth_1_0000001.png"
  depth.write_bytes(test_input_files.png_claiming(100000, 100000))
  line = f"error: {depth}: is 100000x100000 = 10,000,000,000 pixels, {CAP}"
  _prepare_refuses(tmp_path, f"nyu:{nyu}?domain=real", line)
  _refused("data.show", [f"--source=nyu:{nyu}?domain=real",
                         f"--output={tmp_path / 'grid' / 'g.png'}"], line,
           tmp_path / "grid")


def test_mpiigaze_day_file_v73(tmp_path):
  root = tmp_path / "MPIIGaze"
  day = os.path.join(test_mpiigaze.normalized(str(root), "p10"), "day01.mat")
  os.makedirs(os.path.dirname(day))
  test_input_files.write_mat_v73(day, filenames=np.zeros(2))
  _prepare_refuses(
      tmp_path, f"mpiigaze:{root}?split=real&persons=p10",
      f"error: {day}: is a MATLAB v7.3 (HDF5) file, which this reader does "
      "not read; re-save it as v7 in MATLAB: load it, then save(FILE, '-v7')")


@pytest.fixture
def unityeyes(tmp_path):
  imgs = tmp_path / "UnityEyes" / "imgs"
  test_unityeyes.write_render(imgs, "1")
  test_unityeyes.write_render(imgs, "2")
  return imgs


def test_unityeyes_truncated_render_and_the_file_size_cap(tmp_path,
                                                          unityeyes):
  jpg = unityeyes / "2.jpg"
  jpg.write_bytes(jpg.read_bytes()[:-100])
  _prepare_refuses(tmp_path, f"unityeyes:{unityeyes}",
                   f"error: {jpg}: is truncated (the JPEG data ends early)")
  noise = np.random.default_rng(0).integers(0, 256, (1200, 1600, 3))
  assert cv2.imwrite(str(jpg), noise.astype(np.uint8),
                     [cv2.IMWRITE_JPEG_QUALITY, 100])
  size = os.path.getsize(jpg)
  assert 1 << 20 < size < 8 << 20
  _prepare_refuses(
      tmp_path, f"unityeyes:{unityeyes}", f"error: {jpg}: is {size:,} bytes, "
      "over the cap of 1,048,576 (1 MiB; --max_file_mib raises it)",
      "--max_file_mib=1")
  ok = helpers.run_module("data.prepare", f"--source=unityeyes:{unityeyes}",
                          f"--output={tmp_path / 'ok.h5'}",
                          "--max_file_mib=8", timeout=300)
  assert ok.returncode == 0, ok.stderr


def test_cache_of_oversized_images(tmp_path):
  path = tmp_path / "c.h5"
  cache.write_cache(source_lib.ArraySource(
      "tiny", np.zeros((2, 3, 4)), source_lib.frame_for(["a", "b"])),
                    str(path), log=None)
  with h5py.File(path, "r+") as f:
    f.attrs["image_shape"] = [100000, 100000]
  _refused("data.show", [f"--source=h5:{path}",
                         f"--output={tmp_path / 'grid' / 'g.png'}"],
           f"error: {path}: is 100000x100000 = 10,000,000,000 pixels, {CAP}",
           tmp_path / "grid")


@pytest.mark.parametrize("flag,line", [
    ("--image_size=99999x99999", "error: image size '99999x99999': is "
     f"99999x99999 = 9,999,800,001 pixels, {CAP}"),
    ("--max_image_megapixels=0",
     "error: flag --max_image_megapixels=0: 0 is not a positive integer"),
    ("--max_file_mib=0", "error: flag --max_file_mib=0: 0 is not a positive "
     "integer"),
])
def test_prepare_bad_flags(tmp_path, flag, line):
  _prepare_refuses(tmp_path, "embedded-eyes-sim?n=2", line, flag)


@pytest.mark.parametrize("flags,line", [
    (["--rows=100000", "--cols=100000"], "error: a grid of 100000x100000 "
     "images at scale 3: is 12100022x16700002 = 202,070,391,600,044 pixels, "
     + CAP),
    (["--scale=30", "--max_image_megapixels=1"], "error: a grid of 4x8 "
     "images at scale 30: is 4286x13218 = 56,652,348 pixels, over the cap of "
     "1,000,000 (1 megapixels; --max_image_megapixels raises it)"),
    (["--scale=0"], "error: flag --scale=0: 0 is not a positive integer"),
])
def test_show_bad_flags(tmp_path, flags, line):
  _refused("data.show", ["--source=embedded-eyes-sim?n=2",
                         f"--output={tmp_path / 'grid' / 'g.png'}", *flags],
           line, tmp_path / "grid")


# A binary that consumes a tf.data pipeline, as the trainers do.
_CONSUMER = textwrap.dedent("""\
    from absl import flags
    from core import cli
    from data import pipeline
    from data import specs

    _SOURCE = flags.DEFINE_string("source", None, "SPEC.")


    def main(argv):
      cli.start(argv)
      source = specs.open_source(_SOURCE.value)
      with pipeline.reader_errors():
        for images in pipeline.ordered(source, 1):
          print("batch", images.shape[0])


    if __name__ == "__main__":
      cli.run(main)
    """)


def test_a_bad_file_met_by_a_pipeline_is_one_line(tmp_path, unityeyes):
  jpg = unityeyes / "2.jpg"
  jpg.write_bytes(jpg.read_bytes()[:-100])
  script = tmp_path / "consumer.py"
  script.write_text(_CONSUMER)
  # TensorFlow's own log on: it must not print a traceback either.
  proc = helpers.run_python(str(script), f"--source=unityeyes:{unityeyes}",
                            timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "0"})
  assert helpers.one_error_line(proc) == (
      f"error: {jpg}: is truncated (the JPEG data ends early)")
  assert proc.stdout == "batch 1\n"
