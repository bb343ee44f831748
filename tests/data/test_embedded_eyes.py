"""Tests of the embedded eye world (data/embedded/eyes)."""

import cv2
import numpy as np
import pytest

from data import gaze_vectors
from data import source as source_lib
from data import specs
from data.embedded.eyes import parameters
from data.embedded.eyes import render
from data.embedded.eyes import source as eye_source
from tests import helpers

SIM = eye_source.SIM
REAL = eye_source.REAL


def _open(kind, image_size=None, **options):
  return eye_source.from_spec(kind, {k: str(v) for k, v in options.items()},
                              image_size)


def _pitch_yaw_degrees(vectors):
  return np.degrees(gaze_vectors.vector_to_pitch_yaw(vectors)).T


def _neutral_parameters(**overrides):
  """One image's parameters with the head frontal and centred."""
  params = parameters.sample_parameters(
      parameters.stream_key(0, SIM, "train"), np.arange(1))
  for name in ("head_pitch", "head_yaw", "head_roll", "shift_x", "shift_y",
               "openness"):
    params[name] = np.zeros(1)
  params["scale"] = np.ones(1)
  for name, value in overrides.items():
    params[name] = np.array([value], np.float64)
  return params


def _pupil_centroid(image):
  """(row, col) centroid of the darkest pixels (the pupil) of a uint8 image."""
  rows, cols = np.nonzero(image <= np.percentile(image, 1.5))
  return rows.mean(), cols.mean()


@pytest.mark.parametrize("kind", [SIM, REAL])
def test_same_seed_gives_identical_pixels_in_any_batch(kind):
  first = _open(kind, n=6, seed=3).read_all()
  second = _open(kind, n=6, seed=3).read(np.arange(6))
  np.testing.assert_array_equal(first, second)
  # An image does not depend on the batch it is rendered in.
  np.testing.assert_array_equal(
      _open(kind, n=6, seed=3).read(np.array([4, 1])), first[[4, 1]])


@pytest.mark.parametrize("kind", [SIM, REAL])
def test_different_seed_gives_different_images(kind):
  a = _open(kind, n=4, seed=0).read_all()
  b = _open(kind, n=4, seed=1).read_all()
  assert np.abs(a - b).mean() > 0.05


@pytest.mark.parametrize("kind", [SIM, REAL])
def test_shapes_dtype_and_range(kind):
  images = _open(kind, n=3).read_all()
  assert images.shape == (3, 35, 55, 1)
  assert images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  # 8-bit levels mapped as x / 127.5 - 1, spanning dark pupil to bright skin.
  np.testing.assert_allclose((images + 1.0) * 127.5,
                             np.rint((images + 1.0) * 127.5), atol=1e-3)
  assert images.max() - images.min() > 1.0


def test_custom_image_size_renders_the_same_scene():
  small = _open(SIM, n=2).read_all()
  large = _open(SIM, image_size=(70, 110), n=2).read_all()
  assert large.shape == (2, 70, 110, 1)
  assert _open(REAL, image_size=(36, 60), n=2).read_all().shape == (2, 36, 60,
                                                                     1)
  # Resolution-independent geometry: the large image, halved, is the small.
  halved = cv2.resize(large[0, ..., 0], (55, 35), interpolation=cv2.INTER_AREA)
  assert np.abs(halved - small[0, ..., 0]).mean() < 0.04


def test_sim_labels_are_unit_vectors_in_the_documented_ranges():
  source = _open(SIM, n=3000)
  labels = source.labels()
  assert labels.shape == (3000, 3)
  np.testing.assert_allclose(np.linalg.norm(labels, axis=1), 1.0, atol=1e-6)
  assert (labels[:, 2] < 0).all()  # gaze points from the eye to the camera side
  pitch, yaw = _pitch_yaw_degrees(labels)
  assert -25.0 - 1e-3 <= pitch.min() < -24.0 and 9.0 < pitch.max() <= 10.0
  assert -30.0 - 1e-3 <= yaw.min() < -29.0 and 29.0 < yaw.max() <= 30.0


def test_gaze_labels_match_the_mpiigaze_convention_anchor():
  # A real UnityEyes sample's look_vec (0.3404, 0.3879, -0.8566) is
  # (0.3404, -0.3879, -0.8566) in the MPIIGaze frame: pitch 22.824 and yaw
  # -21.672 degrees, as GazeML reports.
  vector = parameters.gaze_labels(np.array([22.824]), np.array([-21.672]))
  np.testing.assert_allclose(vector[0], [0.3404, -0.3879, -0.8566], atol=2e-4)
  pitch, yaw = _pitch_yaw_degrees(vector)
  np.testing.assert_allclose([pitch[0], yaw[0]], [22.824, -21.672], atol=1e-6)


def test_labels_are_those_the_images_are_rendered_with():
  source = _open(SIM, n=5, seed=7)
  params = parameters.sample_parameters(source.key, np.arange(5))
  np.testing.assert_allclose(
      source.labels(),
      parameters.gaze_labels(params["pitch"], params["yaw"]), atol=1e-6)
  rendered = render.render_eyes(params, (35, 55), real=False)
  np.testing.assert_array_equal(source_lib.uint8_to_unit(rendered)[..., None],
                                source.read_all())


def test_real_train_is_unlabelled_and_test_and_labelled_are_labelled():
  train = _open(REAL, n=4)
  assert list(train.frame.columns) == ["filename"]
  assert not train.has_labels
  for split in ("test", "labelled"):
    source = _open(REAL, n=4, split=split)
    assert list(source.frame.columns) == ["filename", "gaze_x", "gaze_y",
                                          "gaze_z"]
  assert list(_open(SIM, n=4, split="test").frame.columns)[1:] == list(
      source_lib.GAZE_COLUMNS)


def test_filenames_name_domain_and_split():
  assert _open(SIM, n=3).filenames == [
      "sim_train/000000.png", "sim_train/000001.png", "sim_train/000002.png"]
  assert _open(REAL, n=200).filenames[123] == "real_train/000123.png"
  assert _open(REAL, n=2, split="test").filenames[1] == "real_test/000001.png"
  assert _open(SIM, n=2, split="test").filenames[0] == "sim_test/000000.png"


def test_splits_and_domains_are_disjoint():
  n = 500
  test = _open(REAL, n=n, split="test").labels()
  labelled = _open(REAL, n=n, split="labelled").labels()
  sim_train = _open(SIM, n=n).labels()
  sim_test = _open(SIM, n=n, split="test").labels()
  for a, b in [(test, labelled), (test, sim_train), (sim_train, sim_test)]:
    distances = np.abs(a[:, None, :] - b[None, :, :]).sum(-1)
    assert distances.min() > 1e-6
  # The unlabelled train split holds other images than the test split.
  train_images = _open(REAL, n=8).read_all()
  test_images = _open(REAL, n=8, split="test").read_all()
  differences = np.abs(train_images[:, None] - test_images[None]).mean(
      axis=(2, 3, 4))
  assert differences.min() > 0.01


def test_pupil_moves_as_the_gaze_label_says():
  # x right, y down in the image; the gaze points from the eye toward the
  # camera side, so the pupil is displaced by (x, y) of the label:
  # yaw = +20 gives x = -sin(20) < 0 (pupil left), yaw = -20 pupil right;
  # pitch = +8 gives y = -sin(8) < 0 (pupil up), pitch = -15 pupil down.
  labels = {}
  centroids = {}
  for name, pitch, yaw in [("left", 0, 20), ("right", 0, -20), ("up", 8, 0),
                           ("down", -15, 0)]:
    params = _neutral_parameters(pitch=pitch, yaw=yaw)
    labels[name] = parameters.gaze_labels(params["pitch"], params["yaw"])[0]
    image = render.render_eyes(params, (35, 55), real=False)[0]
    centroids[name] = _pupil_centroid(image)
  assert labels["left"][0] < 0 < labels["right"][0]
  assert labels["up"][1] < 0 < labels["down"][1]
  # Pupil offset = R * (x, y) with R = 13 px at scale 1 (the pupil sits on
  # the sphere): yaw +-20 -> 13 * 2 sin(20) = 8.9 px apart.
  shift_x = centroids["right"][1] - centroids["left"][1]
  assert 7.0 < shift_x < 11.0
  shift_y = centroids["down"][0] - centroids["up"][0]
  expected_y = 13.0 * (np.sin(np.radians(15)) + np.sin(np.radians(8)))
  assert 0.6 * expected_y < shift_y < 1.3 * expected_y
  # The same holds in the real domain's rendering.
  left = render.render_eyes(_neutral_parameters(pitch=0, yaw=20), (35, 55),
                            real=True)[0]
  right = render.render_eyes(_neutral_parameters(pitch=0, yaw=-20), (35, 55),
                             real=True)[0]
  assert _pupil_centroid(right)[1] - _pupil_centroid(left)[1] > 5.0


def test_upper_lid_drops_when_looking_down():
  def opening_rows(pitch):
    params = _neutral_parameters(pitch=pitch, yaw=0)
    image = render.render_eyes(params, (35, 55), real=False)[0]
    # The sclera and iris column under the eye centre, brighter or darker
    # than the skin: count rows that differ from the skin above.
    column = image[:, 27].astype(float)
    return np.count_nonzero(np.abs(column - column[1]) > 25)

  assert opening_rows(-25) < opening_rows(8)


def test_real_domain_has_more_local_detail_with_similar_global_statistics():
  sim = _open(SIM, n=64).read_all()[..., 0]
  real = _open(REAL, n=64, split="test").read_all()[..., 0]

  def laplacian(images):
    return np.mean(
        [np.abs(cv2.Laplacian(i, cv2.CV_32F)).mean() for i in images])

  # At n=2000 the mean |Laplacian| is 0.069 (sim) and 0.134 (real).
  assert laplacian(real) > 1.4 * laplacian(sim)
  # Global brightness and contrast stay comparable (at n=2000: means
  # 0.16 / 0.12, standard deviations 0.18 / 0.22).
  assert abs(sim.mean() - real.mean()) < 0.12
  assert abs(sim.std(axis=(1, 2)).mean() - real.std(axis=(1, 2)).mean()) < 0.08


def test_open_source_parses_embedded_specs():
  source = specs.open_source("embedded-eyes-real?split=test&n=5&seed=2",
                             (36, 60))
  assert isinstance(source, eye_source.EmbeddedEyeSource)
  assert source.description == "embedded-eyes-real?split=test&n=5&seed=2"
  assert len(source) == 5 and source.image_shape == (36, 60)
  assert source.has_labels
  assert len(specs.open_source("embedded-eyes-sim?n=7")) == 7


def test_default_sizes():
  assert len(_open(SIM)) == 20000
  assert len(_open(REAL)) == 20000
  assert len(_open(REAL, split="test")) == 5000
  assert len(_open(SIM, split="test")) == 5000


@pytest.mark.parametrize("kind,options,fault", [
    (SIM, {"split": "labelled"},
     "option split='labelled' is not one of ['train', 'test']"),
    (REAL, {"split": "val"},
     "option split='val' is not one of ['train', 'test', 'labelled']"),
    (SIM, {"n": "many"}, "option n='many' is not an integer"),
    (SIM, {"n": "0"}, "option n=0 is below 1"),
    (REAL, {"seed": "-1"}, "option seed=-1 is below 0"),
    (REAL, {"size": "3"},
     "unknown option(s) ['size']; expected ['n', 'seed', 'split']"),
    (SIM, {"views": "1"},
     "unknown option(s) ['views']; expected ['n', 'seed', 'split']"),
    ("embedded-eyes-other", {},
     "not an embedded eye domain (expected embedded-eyes-sim or "
     "embedded-eyes-real)"),
])
def test_bad_options_raise_one_line_data_errors(kind, options, fault):
  with helpers.raises_exactly(source_lib.DataError, f"{kind}: {fault}"):
    eye_source.from_spec(kind, options, None)


def test_empty_options_take_their_defaults():
  source = eye_source.from_spec(SIM, {"n": "", "seed": "", "split": ""}, None)
  assert source.description == "embedded-eyes-sim?split=train&n=20000&seed=0"


@pytest.mark.parametrize("size", [(0, 55), (35,), (3, 4, 5)])
def test_bad_image_size_raises(size):
  with helpers.raises_exactly(
      source_lib.DataError, f"embedded-eyes-sim: image size {size} is not "
      "a positive (height, width)"):
    eye_source.from_spec(SIM, {"n": "1"}, size)


def test_read_rejects_out_of_range_indices():
  with pytest.raises(IndexError):
    _open(SIM, n=3).read(np.array([3]))
