"""Tests of the shared file reading of the readers (data/input_files.py)."""

import os
import struct
import zlib

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from data import input_files
from data import source as source_lib
from tests import helpers

DataError = source_lib.DataError
CAP_TEXT = ("over the cap of 40,000,000 (40 megapixels; "
            "--max_image_megapixels raises it)")


@pytest.fixture
def limits():
  """Caps a test sets, back to the defaults afterwards."""
  yield input_files.set_limits
  input_files.set_limits(input_files.Limits())


def encode(ext, image, params=()):
  ok, data = cv2.imencode(ext, image, list(params))
  assert ok
  return data.tobytes()


def png_claiming(height, width):
  """A PNG whose header (CRC included) says HEIGHTxWIDTH, with the pixel
  data of a 1x1 image: what a decompression bomb looks like to a header."""
  data = bytearray(encode(".png", np.zeros((1, 1), np.uint8)))
  data[16:24] = struct.pack(">II", width, height)
  data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
  return bytes(data)


def write_mat_v73(path, **arrays):
  """A MATLAB v7.3 file (HDF5 behind MATLAB's 512-byte header)."""
  with h5py.File(path, "w", userblock_size=512) as f:
    for name, value in arrays.items():
      f[name] = np.asarray(value).T  # MATLAB stores column-major
  header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 ."
  with open(path, "r+b") as f:
    f.write(header.ljust(116) + bytes(8) + b"\x00\x02IM")


def test_image_size_reads_png_and_jpeg_headers():
  gray = np.zeros((7, 5), np.uint8)
  assert input_files.image_size(encode(".png", gray)) == ("png", 7, 5)
  assert input_files.image_size(encode(".jpg", gray)) == ("jpeg", 7, 5)
  progressive = encode(".jpg", np.zeros((70, 50, 3), np.uint8),
                       [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
  assert input_files.image_size(progressive) == ("jpeg", 70, 50)
  assert input_files.image_size(png_claiming(100000, 3)) == ("png", 100000, 3)
  for data in (b"", b"GIF89a" + bytes(40), encode(".bmp", gray),
               encode(".jpg", gray)[:20]):
    assert input_files.image_size(data) is None


def test_decode_image_refuses_each_fault(tmp_path):
  gray = (np.arange(35)[:, None] * np.arange(55)).astype(np.uint8)
  png, jpg = encode(".png", gray), encode(".jpg", gray)
  np.testing.assert_array_equal(
      input_files.decode_image("a.png", png, cv2.IMREAD_UNCHANGED), gray)
  assert input_files.decode_image("a.jpg", jpg, cv2.IMREAD_GRAYSCALE).shape == (
      35, 55)
  for data, fault in [
      (b"", "is empty (0 bytes)"),
      (encode(".bmp", gray), "is not a PNG or JPEG image (no readable header)"),
      (png[:-20], "is truncated (the PNG data ends early)"),
      (jpg[:len(jpg) // 2], "is truncated (the JPEG data ends early)"),
      (png[:33] + bytes(len(png) - 45) + png[-12:],
       "cannot be decoded (corrupt PNG data)"),
      (png_claiming(100000, 100000),
       "is 100000x100000 = 10,000,000,000 pixels, " + CAP_TEXT)]:
    with helpers.raises_exactly(DataError, f"x: {fault}"):
      input_files.decode_image("x", data, cv2.IMREAD_UNCHANGED)


def test_the_pixel_cap_is_checked_before_decoding(limits, monkeypatch):
  data = encode(".png", np.zeros((20, 30), np.uint8))
  limits(input_files.Limits(max_pixels=599))

  def not_called(*args):
    raise AssertionError("decoded an image over the cap")
  monkeypatch.setattr(input_files.cv2, "imdecode", not_called)
  with helpers.raises_exactly(
      DataError, "x.png: is 20x30 = 600 pixels, over the cap of 599 "
      "(0.000599 megapixels; --max_image_megapixels raises it)"):
    input_files.decode_image("x.png", data, cv2.IMREAD_UNCHANGED)
  monkeypatch.undo()
  limits(input_files.Limits(max_pixels=600))
  assert input_files.decode_image("x.png", data, 0).shape == (20, 30)


def test_read_bytes_refuses_big_files_and_others(tmp_path, limits):
  path = tmp_path / "a.json"
  path.write_bytes(b"x" * 11)
  assert input_files.read_bytes(str(path)) == b"x" * 11
  assert limits(input_files.Limits(max_file_bytes=10)) == input_files.Limits()
  with helpers.raises_exactly(
      DataError, f"{path}: is 11 bytes, over the cap of 10 (9.53674e-06 MiB; "
      "--max_file_mib raises it)"):
    input_files.read_bytes(str(path))
  # A FIFO would block the read forever: refused before it is opened.
  fifo = tmp_path / "b.jpg"
  os.mkfifo(fifo)
  for name in (fifo, tmp_path):
    with helpers.raises_exactly(DataError, f"{name}: is not a regular file"):
      input_files.read_bytes(str(name))
  with helpers.raises_exactly(
      DataError, f"{tmp_path}/c: cannot be read (No such file or directory)"):
    input_files.read_bytes(str(tmp_path / "c"))


def test_read_image_of_a_file(tmp_path):
  gray = np.full((4, 6), 9, np.uint8)
  assert cv2.imwrite(str(tmp_path / "a.png"), gray)
  np.testing.assert_array_equal(
      input_files.read_image(str(tmp_path / "a.png"), cv2.IMREAD_UNCHANGED),
      gray)
  (tmp_path / "b.png").write_bytes(png_claiming(7000, 7000))
  with helpers.raises_exactly(
      DataError, f"{tmp_path}/b.png: is 7000x7000 = 49,000,000 pixels, "
      + CAP_TEXT):
    input_files.read_image(str(tmp_path / "b.png"), cv2.IMREAD_UNCHANGED)


def test_set_limits_refuses_a_cap_below_one(limits):
  with pytest.raises(ValueError, match="input limits must be positive"):
    limits(input_files.Limits(max_pixels=0))
  assert input_files.limits() == input_files.Limits()


def test_load_mat_faults_are_data_errors(tmp_path):
  path = str(tmp_path / "a.mat")
  scipy.io.savemat(path, {"x": np.arange(3.0)})
  np.testing.assert_array_equal(input_files.load_mat(path)["x"], [[0, 1, 2]])
  write_mat_v73(path, x=np.arange(3.0))
  with helpers.raises_exactly(
      DataError, f"{path}: is a MATLAB v7.3 (HDF5) file, which this reader "
      "does not read; re-save it as v7 in MATLAB: load it, then "
      "save(FILE, '-v7')"):
    input_files.load_mat(path)
  with open(path, "wb") as f:
    f.write(b"")
  with helpers.raises_exactly(
      DataError, f"{path}: is not a readable MATLAB file (MatReadError: "
      "Mat file appears to be truncated)"):
    input_files.load_mat(path)
  with pytest.raises(DataError, match=r"b.mat: is not a readable MATLAB file "
                     r"\(FileNotFoundError: "):
    input_files.load_mat(str(tmp_path / "b.mat"))
  os.mkfifo(tmp_path / "c.mat")  # scipy would wait for a writer forever
  with helpers.raises_exactly(DataError,
                              f"{tmp_path}/c.mat: is not a regular file"):
    input_files.load_mat(str(tmp_path / "c.mat"))


def test_load_mat_refuses_what_would_crash_scipy(tmp_path):
  # scipy 1.17's reader segfaults on the first two (an element's data type
  # indexes a C table unchecked); the other two make it read the next
  # array's tag as data, a segfault too where that array is a cell's or a
  # struct's (here, with no next array, scipy would raise).
  path = str(tmp_path / "a.mat")
  scipy.io.savemat(path, {"x": np.arange(3.0)})
  with open(path, "rb") as f:
    good = f.read()
  # Layout: header (128 bytes), array tag (type 14, 72 bytes), flags,
  # dims, name 'x' (a small element), then the data tag (type 9, 24 bytes).
  assert good[128:136] == struct.pack("<II", 14, 72)
  assert good[176:184] == struct.pack("<II", 9, 24)
  for at, patch, fault in [
      (176, 8, "an array of class 6 holds an element of data type 8"),
      (176, 2057, "an array of class 6 holds an element of data type 2057"),
      (180, 64, "an element runs past the end of the array holding it"),
      (132, 40, "an array lacks its data")]:
    with open(path, "wb") as f:
      f.write(good[:at] + struct.pack("<I", patch) + good[at + 4:])
    with helpers.raises_exactly(
        DataError, f"{path}: is a damaged MATLAB file: {fault}"):
      input_files.load_mat(path)
  scipy.io.savemat(path, {"x": np.arange(3.0)}, do_compression=True)
  with open(path, "r+b") as f:
    f.seek(150)
    f.write(b"\xff" * 8)
  with pytest.raises(DataError, match=r"a.mat: is a damaged MATLAB file: a "
                     r"compressed element does not decompress \(Error -3 "):
    input_files.load_mat(path)


def test_data_error_messages_are_one_line():
  error = DataError("/d/a.h5", "has format '\n', expected\t 1")
  assert str(error) == "/d/a.h5: has format ' ', expected 1"
  assert error.fault == "has format ' ', expected 1"
