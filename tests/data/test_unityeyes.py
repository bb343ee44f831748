"""Tests of the UnityEyes reader on synthetic renders in the app's format."""

import json
import os

import cv2
import numpy as np
import pytest

from data import gaze_vectors
from data import source as source_lib
from data import specs
from data import unityeyes

IRIS_LEVEL = 20      # Gray level of the drawn iris (darkest thing drawn).


def _tuple(values):
  return "(" + ", ".join(f"{v:.4f}" for v in values) + ")"


def write_render(folder, stem, height=480, width=640, eye_centre=(320, 240),
                 iris_offset=(0, 0), look_vec=(0.3404, 0.3879, -0.8566),
                 head_pose=(355.0770, 203.8451, 0.0), half_width=110,
                 half_height=40):
  """Writes <stem>.jpg and <stem>.json like the UnityEyes app does.

  The eye is an ellipse of sclera with a dark iris; the JSON landmarks trace
  the same ellipse in Unity screen coordinates (y measured from the bottom).
  `eye_centre` is in image coordinates (y down). Returns the JSON dict.
  """
  os.makedirs(folder, exist_ok=True)
  ex, ey = eye_centre
  image = np.full((height, width, 3), (60, 90, 130), np.uint8)  # skin, BGR
  cv2.ellipse(image, (ex, ey), (half_width, half_height), 0, 0, 360,
              (230, 230, 235), -1)
  iris = (ex + iris_offset[0], ey + iris_offset[1])
  cv2.circle(image, iris, 28, (IRIS_LEVEL,) * 3, -1)
  cv2.circle(image, iris, 10, (5, 5, 5), -1)
  cv2.imwrite(os.path.join(folder, f"{stem}.jpg"), image,
              [cv2.IMWRITE_JPEG_QUALITY, 95])

  def unity(x, y, depth=8.8595):  # image (y down) -> Unity screen (y up)
    return _tuple((x, height - y, depth))
  # Index 0 next to the caruncle (left), index 8 the outer corner (right).
  angles = np.pi + 2 * np.pi * np.arange(16) / 16
  margin = [unity(ex + half_width * np.cos(t), ey - half_height * np.sin(t))
            for t in angles]
  caruncle = [unity(ex - half_width - 12 + 3 * i, ey + (i - 3) * 2)
              for i in range(7)]
  iris_points = [unity(iris[0] + 28 * np.cos(t), iris[1] + 28 * np.sin(t))
                 for t in 2 * np.pi * np.arange(32) / 32]
  data = {
      "interior_margin_2d": margin,
      "caruncle_2d": caruncle,
      "iris_2d": iris_points,
      "eye_details": {
          "look_vec": _tuple(tuple(look_vec) + (0.0,)),
          "pupil_size": "0.1020631",
          "iris_size": "0.9349335",
          "iris_texture": "eyeball_brown",
      },
      "lighting_details": {
          "skybox_texture": "bergen_2k",
          "skybox_exposure": "1.191213",
          "skybox_rotation": "231",
          "ambient_intensity": "1.15163",
          "light_rotation": "(30.0, 248.5, 0.0)",
          "light_intensity": "0.8451564",
      },
      "eye_region_details": {
          "pca_shape_coeffs": [f"{v:.7f}" for v in np.linspace(-1, 1, 20)],
          "primary_skin_texture": "f02_color",
      },
      "head_pose": _tuple(head_pose),
  }
  with open(os.path.join(folder, f"{stem}.json"), "w") as f:
    json.dump(data, f, indent=2)
  return data


def _dark_centroid(image):
  """(row, col) centroid of the iris pixels of one (H, W) image in [-1, 1]."""
  level = IRIS_LEVEL / 127.5 - 1.0
  rows, cols = np.nonzero(image <= level + 0.15)
  assert len(rows) > 4
  return rows.mean(), cols.mean()


@pytest.fixture
def renders(tmp_path):
  imgs = tmp_path / "UnityEyes" / "imgs"
  write_render(imgs, "1")
  # Another resolution, the eye off the image centre and above it, so a
  # y-flip with the wrong height or none at all misses the eye.
  write_render(imgs, "2", height=600, width=800, eye_centre=(300, 200),
               look_vec=(-0.2, -0.1, -0.9747), head_pose=(12.0, 170.0, 0.0))
  write_render(imgs, "10", eye_centre=(400, 300),
               look_vec=(0.0, 0.0, -1.0), head_pose=(30.0, 180.0, 0.0))
  return tmp_path / "UnityEyes"


def test_frame_labels_and_numeric_order(renders):
  source = unityeyes.from_spec(str(renders), {}, None)
  assert len(source) == 3
  assert list(source.frame.columns) == ["filename", "gaze_x", "gaze_y",
                                        "gaze_z", "head_pitch", "head_yaw"]
  assert source.filenames == ["1.png", "2.png", "10.png"]
  expected = gaze_vectors.unityeyes_look_vec_to_vector(
      np.array([[0.3404, 0.3879, -0.8566], [-0.2, -0.1, -0.9747],
                [0.0, 0.0, -1.0]]))
  np.testing.assert_allclose(source.labels(), expected, atol=1e-6)
  np.testing.assert_allclose(source.labels(["head_pitch", "head_yaw"]),
                             [[-4.923, 23.8451], [12.0, -10.0], [30.0, 0.0]],
                             atol=1e-3)


def test_read_shape_range_and_centred_crop(renders):
  source = unityeyes.from_spec(str(renders), {}, None)
  assert source.image_shape == (35, 55)
  images = source.read(np.array([0, 1, 2]))
  assert images.shape == (3, 35, 55, 1) and images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  for image in images[..., 0]:
    row, col = _dark_centroid(image)
    # The iris is drawn at the centre of the eye: the middle of the crop.
    assert abs(row - 17.0) < 1.5 and abs(col - 27.0) < 1.5, (row, col)
    # Sclera (bright) left and right of the iris, skin (darker) at the top.
    assert image[17, 10] > 0.5 and image[17, 44] > 0.5
    assert image[1, 27] < 0.0


def test_crop_follows_gaze_offset(tmp_path):
  write_render(tmp_path / "imgs", "1", iris_offset=(40, -15))
  image = unityeyes.from_spec(str(tmp_path), {}, None).read([0])[0, ..., 0]
  row, col = _dark_centroid(image)
  # 60 / (1.5 * 225 px) = 0.178 output px per input px, then 55/60 and 35/36.
  assert abs(col - (27.0 + 40 * 0.178 * 55 / 60)) < 1.5
  assert abs(row - (17.0 - 15 * 0.178 * 35 / 36)) < 1.5


def test_crop_equals_gazeml_matrices(renders):
  """The warp equals GazeML's composed translate/scale/re-centre matrices."""
  source = unityeyes.from_spec(str(renders), {}, (36, 60))
  with open(renders / "imgs" / "2.json") as f:
    data = json.load(f)
  full = cv2.imread(str(renders / "imgs" / "2.jpg"), cv2.IMREAD_GRAYSCALE)
  ih, iw = full.shape
  oh, ow = 36, 60

  def coords(key):
    return np.array([(x, ih - y) for x, y, _ in
                     (eval(p) for p in data[key])])  # pylint: disable=eval-used
  margin, caruncle = coords("interior_margin_2d"), coords("caruncle_2d")
  left, right = caruncle.mean(axis=0), margin[8]
  eye_width = 1.5 * abs(left[0] - right[0])
  middle = np.mean([margin.min(axis=0), margin.max(axis=0)], axis=0)
  # GazeML's matrices (np.asmatrix there); the scale matrix's [2, 2] is
  # also ow / eye_width, which scales the re-centring translation.
  translate = np.eye(3)
  translate[:2, 2] = [-iw / 2, -ih / 2]
  scale = np.eye(3)
  np.fill_diagonal(scale, ow / eye_width)
  recentre = np.eye(3)
  recentre[0, 2] = iw / 2 - middle[0] + 0.5 * eye_width
  recentre[1, 2] = ih / 2 - middle[1] + 0.5 * oh / ow * eye_width
  matrix = (recentre @ scale @ translate)[:2]
  expected = cv2.warpAffine(full, matrix, (ow, oh))
  got = source_lib.unit_to_uint8(source.read([1]))[0, ..., 0]
  assert np.abs(got.astype(int) - expected).max() <= 1


def test_image_size_override_and_imgs_path(renders):
  source = unityeyes.from_spec(str(renders / "imgs"), {}, (18, 30))
  assert source.image_shape == (18, 30)
  assert source.read([0, 2]).shape == (2, 18, 30, 1)
  full = unityeyes.from_spec(str(renders), {}, (36, 60)).read([0])
  assert full.shape == (1, 36, 60, 1)


def test_max_head_angle_and_equalize(renders):
  source = unityeyes.from_spec(
      str(renders), {"max_head_angle": "25", "equalize": "true"}, (36, 60))
  # Render 10 has head pitch 30 degrees; 1 (yaw 23.85) and 2 are within 25.
  assert source.filenames == ["1.png", "2.png"]
  # At 36x60 (no resize) the equalised crop spans the full 8-bit range.
  image = source_lib.unit_to_uint8(source.read([0]))
  assert image.min() == 0 and image.max() == 255
  plain = unityeyes.from_spec(str(renders), {}, (36, 60))
  assert source_lib.unit_to_uint8(plain.read([0])).max() < 250
  with pytest.raises(source_lib.DataError, match="no render has"):
    unityeyes.from_spec(str(renders), {"max_head_angle": "1"}, None)
  with pytest.raises(ValueError, match="unknown option"):
    unityeyes.from_spec(str(renders), {"max_head": "20"}, None)


def test_open_source_end_to_end(renders):
  source = specs.open_source(f"unityeyes:{renders}?max_head_angle=25",
                             (35, 55))
  assert isinstance(source, unityeyes.UnityEyesSource)
  assert len(source) == 2
  assert source.read_all().shape == (2, 35, 55, 1)


def test_empty_folder(tmp_path):
  (tmp_path / "imgs").mkdir()
  with pytest.raises(source_lib.DataError, match="holds no UnityEyes"):
    unityeyes.from_spec(str(tmp_path), {}, None)
  with pytest.raises(source_lib.DataError, match="is not a folder"):
    unityeyes.from_spec(str(tmp_path / "missing"), {}, None)


def test_unpaired_files(tmp_path):
  write_render(tmp_path / "imgs", "1")
  write_render(tmp_path / "imgs", "2")
  os.remove(tmp_path / "imgs" / "2.json")
  with pytest.raises(source_lib.DataError,
                     match=r"imgs/2\.jpg: has no matching 2\.json"):
    unityeyes.from_spec(str(tmp_path), {}, None)
  write_render(tmp_path / "imgs", "2")
  os.remove(tmp_path / "imgs" / "1.jpg")
  with pytest.raises(source_lib.DataError,
                     match=r"imgs/1\.json: has no matching 1\.jpg"):
    unityeyes.from_spec(str(tmp_path), {}, None)


def test_missing_key_and_bad_json(tmp_path):
  data = write_render(tmp_path / "imgs", "1")
  del data["eye_details"]["look_vec"]
  with open(tmp_path / "imgs" / "1.json", "w") as f:
    json.dump(data, f)
  with pytest.raises(source_lib.DataError,
                     match=r"1\.json: is missing key 'eye_details.look_vec'"):
    unityeyes.from_spec(str(tmp_path), {}, None)
  with open(tmp_path / "imgs" / "1.json", "w") as f:
    f.write('{"interior_margin_2d": [')
  with pytest.raises(source_lib.DataError, match=r"1\.json: is not valid JSON"):
    unityeyes.from_spec(str(tmp_path), {}, None)
  data = write_render(tmp_path / "imgs", "1")
  data["head_pose"] = "(355.0, oops)"
  with open(tmp_path / "imgs" / "1.json", "w") as f:
    json.dump(data, f)
  with pytest.raises(source_lib.DataError, match="head_pose is not a tuple"):
    unityeyes.from_spec(str(tmp_path), {}, None)


def test_empty_and_truncated_jpeg(tmp_path):
  write_render(tmp_path / "imgs", "1")
  write_render(tmp_path / "imgs", "2")
  source = unityeyes.from_spec(str(tmp_path), {}, None)
  jpg = tmp_path / "imgs" / "2.jpg"
  data = jpg.read_bytes()
  jpg.write_bytes(data[:len(data) // 2])
  assert source.read([0]).shape == (1, 35, 55, 1)  # The intact one reads.
  with pytest.raises(source_lib.DataError,
                     match=r"imgs/2\.jpg: is truncated"):
    source.read([0, 1])
  jpg.write_bytes(b"")
  with pytest.raises(source_lib.DataError, match=r"imgs/2\.jpg: is empty"):
    source.read([1])
  jpg.write_bytes(b"not a jpeg at all \xff\xd9")
  with pytest.raises(source_lib.DataError, match=r"imgs/2\.jpg: is not a"):
    source.read([1])


def test_many_files_threaded_parse(tmp_path):
  """Past 512 files JSONs parse in a thread pool; errors still name the file."""
  imgs = tmp_path / "imgs"
  write_render(imgs, "1", look_vec=(0.1, 0.2, -0.9747))
  jpg, text = (imgs / "1.jpg").read_bytes(), (imgs / "1.json").read_text()
  for n in range(2, 1101):
    (imgs / f"{n}.jpg").write_bytes(jpg)
    (imgs / f"{n}.json").write_text(text)
  source = unityeyes.from_spec(str(tmp_path), {}, None)
  assert len(source) == 1100 and source.filenames[-1] == "1100.png"
  np.testing.assert_allclose(
      source.labels(),
      np.tile(gaze_vectors.unityeyes_look_vec_to_vector([0.1, 0.2, -0.9747]),
              (1100, 1)), atol=1e-6)
  (imgs / "1029.json").write_text(text.replace("eye_details", "eye"))
  with pytest.raises(source_lib.DataError,
                     match=r"1029\.json: is missing key 'eye_details"):
    unityeyes.from_spec(str(tmp_path), {}, None)


# Landmarks of the real UnityEyes sample (david-wb/gaze-estimation
# test/data/imgs/1.json, an 800x600 render), verbatim.
REAL_MARGIN = [
    "(371.4855, 296.4230, 8.8595)", "(364.8002, 307.1421, 8.8963)",
    "(377.6998, 328.0000, 8.8956)", "(405.9977, 352.2230, 8.9568)",
    "(441.1661, 357.7870, 9.1683)", "(467.5667, 342.2133, 9.4351)",
    "(483.2352, 324.5502, 9.6703)", "(489.5518, 306.1135, 9.8769)",
    "(489.8072, 291.6013, 10.0333)", "(488.4502, 285.3214, 9.8645)",
    "(480.7827, 278.0810, 9.5506)", "(465.4229, 275.8344, 9.2366)",
    "(445.8000, 275.4666, 9.0163)", "(420.2020, 277.2814, 8.8672)",
    "(392.7874, 280.7436, 8.8285)", "(377.1956, 285.5146, 8.8521)"]
REAL_CARUNCLE = [
    "(364.5717, 284.7197, 8.8818)", "(364.8584, 288.3494, 8.8758)",
    "(357.4482, 296.9649, 8.8906)", "(349.9624, 289.0576, 8.8963)",
    "(353.7258, 283.3381, 8.8824)", "(351.5754, 280.2595, 8.8752)",
    "(346.2976, 282.7485, 8.8394)"]


def test_real_sample_values(tmp_path):
  path = tmp_path / "1.json"
  path.write_text(json.dumps({
      "interior_margin_2d": REAL_MARGIN, "caruncle_2d": REAL_CARUNCLE,
      "eye_details": {"look_vec": "(0.3404, 0.3879, -0.8566, 0.0000)"},
      "head_pose": "(355.0770, 203.8451, 0.0000)"}))
  raw = np.array([unityeyes.parse_json(str(path))])
  np.testing.assert_allclose(
      raw[0], [0.3404, 0.3879, -0.8566, 355.077, 203.8451,
               355.4914, 286.4912, 489.8072, 291.6013,
               (364.8002 + 489.8072) / 2, (275.4666 + 357.7870) / 2],
      atol=1e-4)
  # The caruncle lies left of the outer corner in the image: the eye is
  # rendered in the left-eye convention that MPIIGaze's right eyes are
  # mirrored into.
  assert raw[0, 5] < raw[0, 7]
  labels = unityeyes.convert(raw, [str(path)])
  np.testing.assert_allclose(
      np.degrees(gaze_vectors.vector_to_pitch_yaw(labels[0, :3])),
      [22.823, -21.672], atol=1e-3)
  np.testing.assert_allclose(labels[0, 3:5], [-4.923, 23.845], atol=1e-3)


def test_json_nested_too_deep_or_too_big(tmp_path):
  write_render(tmp_path / "imgs", "1")
  (tmp_path / "imgs" / "1.json").write_text("[" * 100000 + "]" * 100000)
  with pytest.raises(source_lib.DataError, match=r"1\.json: is not valid "
                     r"JSON \(maximum recursion depth exceeded"):
    unityeyes.from_spec(str(tmp_path), {}, None)
  (tmp_path / "imgs" / "1.json").write_bytes(b" " * ((64 << 20) + 1))
  with pytest.raises(source_lib.DataError, match=r"1\.json: is 67,108,865 "
                     r"bytes, over the cap of 67,108,864 \(64 MiB; "):
    unityeyes.from_spec(str(tmp_path), {}, None)
