"""Tests of the embedded hand world (data/embedded/hands)."""

import numpy as np
import pytest

from data import nyu_hand
from data import source as source_lib
from data import specs
from data.embedded.hands import kinematics
from data.embedded.hands import parameters
from data.embedded.hands import render
from data.embedded.hands import source as hand_source
from tests import helpers

SIM = hand_source.SIM
REAL = hand_source.REAL
SIZE = (64, 64)


def _open(kind, image_size=SIZE, **options):
  return hand_source.from_spec(kind, {k: str(v) for k, v in options.items()},
                               image_size)


def _frontal_parameters():
  """Frame 0 of the sim test stream, turned to face camera 1 at the rig
  centre (700 mm), at scale 1."""
  params = parameters.sample_parameters(
      parameters.stream_key(0, SIM, "test"), np.arange(1))
  for name in ("yaw", "pitch", "roll", "offset_x", "offset_y", "offset_z"):
    params[name] = np.zeros(1)
  params["scale"] = np.ones(1)
  return params


def _hand_pixels(images):
  return images[images < 1.0]


@pytest.mark.parametrize("kind", [SIM, REAL])
def test_shapes_dtype_and_value_range(kind):
  source = _open(kind, n=3, views="all", split="test")
  images = source.read_all()
  assert len(source) == 9
  assert images.shape == (9, 64, 64, 1)
  assert images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  # Background is exactly +1; every image shows a hand of a plausible size.
  assert (images == 1.0).any(axis=(1, 2, 3)).all()
  hand_fraction = (images < 1.0).mean(axis=(1, 2, 3))
  assert (hand_fraction > 0.08).all() and (hand_fraction < 0.7).all()
  # Hands 450-950 mm away: unit = (depth - 1000) / 1000. Real flying pixels
  # may lie farther back, toward the 2000 mm background.
  hand = _hand_pixels(images)
  assert hand.min() >= -0.56
  assert -0.45 < np.median(hand) < -0.15
  if kind == SIM:
    assert hand.max() <= -0.04
  # Depth is in whole millimetres, as NYU's PNGs.
  millimetres = (images - 1.0) * 1000.0
  np.testing.assert_allclose(millimetres, np.rint(millimetres), atol=0.02)


def test_default_image_size_is_nyu_224():
  source = hand_source.from_spec(SIM, {"n": "2"}, None)
  assert hand_source.DEFAULT_IMAGE_SIZE == (224, 224)
  assert source.image_shape == (224, 224)
  assert source.read([1]).shape == (1, 224, 224, 1)
  # Other sizes render the same scene: the same crop box.
  small = _open(SIM, (32, 48), n=2)
  assert small.read_all().shape == (2, 32, 48, 1)
  np.testing.assert_allclose(small.frame["crop_side"],
                             source.frame["crop_side"])


def test_frontal_hand_has_known_depth_and_label():
  params = _frontal_parameters()
  labels = kinematics.labels_of(params, np.array([1]), SIZE)
  # The palm centre (joint 13, NYU's crop-centre joint) is the rig centre.
  assert labels["d"][0, 13] == pytest.approx(700.0 - 2000.0)
  image = render.render_hands(params, np.array([1]), SIZE, False)[0]
  u, v = np.rint(labels["uv"][0, 13]).astype(int)
  # The palm's front surface: 700 mm minus the palm's half thickness
  # (13-15 mm between its capsules).
  assert -0.3155 <= image[v, u] <= -0.3125
  # The palm centre projects to the principal point (320, 240).
  x0, y0, side = labels["box"][0]
  np.testing.assert_allclose(
      labels["uv"][0, 13],
      [(320.5 - x0) * 64 / side - 0.5, (240.5 - y0) * 64 / side - 0.5],
      atol=1e-6)


@pytest.mark.parametrize("kind", [SIM, REAL])
def test_same_seed_gives_identical_pixels_in_any_batch(kind, monkeypatch):
  first = _open(kind, n=4, seed=3, views="all").read_all()
  again = _open(kind, n=4, seed=3, views="all").read(np.arange(12))
  np.testing.assert_array_equal(first, again)
  # An image does not depend on the batch it is rendered in, nor on the
  # chunking of the batch (window sizes are per chunk).
  source = _open(kind, n=4, seed=3, views="all")
  np.testing.assert_array_equal(source.read([7, 2, 11]), first[[7, 2, 11]])
  monkeypatch.setattr(hand_source, "_CHUNK_PIXELS", 2 * 64 * 64)
  np.testing.assert_array_equal(source.read(np.arange(12)), first)
  subset = source.subset(np.array([5, 0]))
  np.testing.assert_array_equal(subset.read_all(), first[[5, 0]])


@pytest.mark.parametrize("kind", [SIM, REAL])
def test_different_seeds_give_different_images(kind):
  a = _open(kind, n=3, seed=0).read_all()
  b = _open(kind, n=3, seed=1).read_all()
  assert np.abs(a - b).mean() > 0.05


@pytest.mark.parametrize("kind,split", [(SIM, "test"), (REAL, "labelled")])
def test_one_view_is_the_view_one_images_of_three_views(kind, split):
  one = _open(kind, n=3, split=split)
  three = _open(kind, n=3, split=split, views="1,2,3")
  assert len(one) == 3 and len(three) == 9
  np.testing.assert_array_equal(one.read_all(), three.read_all()[0::3])
  assert one.filenames == three.filenames[0::3]
  np.testing.assert_allclose(
      one.labels(nyu_hand.JOINT_UV_COLUMNS),
      three.labels(nyu_hand.JOINT_UV_COLUMNS)[0::3])
  assert list(three.frame["kinect"]) == [1, 2, 3] * 3
  assert list(three.frame["frame_number"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
  # Another order of views: image k is frame k // 2, view views[k % 2].
  other = _open(kind, n=3, split=split, views="3,1")
  np.testing.assert_array_equal(other.read([0, 1, 5]),
                                three.read([2, 0, 3 * 2 + 0]))
  # The views see the same frame from different directions.
  images = three.read_all()
  assert np.abs(images[0] - images[1]).mean() > 0.05


def test_filenames_and_description():
  source = _open(SIM, n=2, split="test", views="all", seed=5)
  assert source.filenames == [
      "hands-sim/test/0000000_v1.png", "hands-sim/test/0000000_v2.png",
      "hands-sim/test/0000000_v3.png", "hands-sim/test/0000001_v1.png",
      "hands-sim/test/0000001_v2.png", "hands-sim/test/0000001_v3.png"
  ]
  assert source.description == (
      "embedded-hands-sim?split=test&n=2&seed=5&views=1,2,3")
  assert _open(REAL, n=1).filenames == ["hands-real/train/0000000_v1.png"]
  assert parameters.DEFAULT_N[SIM, "train"] == 20000


def test_joint_labels_lie_on_the_hand_in_the_sim_render():
  source = _open(SIM, n=12, split="test", views="all")
  images = source.read_all()[..., 0]
  uv = source.labels(nyu_hand.JOINT_UV_COLUMNS).reshape(-1, 14, 2)
  # Inside the crop, with the 30 mm margin to spare.
  assert uv.min() >= 1.0 and uv.max() <= 62.0
  cols, rows = np.rint(uv[..., 0]).astype(int), np.rint(uv[..., 1]).astype(int)
  values = images[np.arange(len(images))[:, None], rows, cols]
  on_hand = values < 1.0
  assert on_hand.mean() > 0.95
  # Joint centres lie a finger's radius or so behind the visible surface
  # (or behind an occluding part).
  depth = source.labels(nyu_hand.JOINT_D_COLUMNS)
  behind = (depth - nyu_hand.from_unit(values))[on_hand]
  assert np.median(behind) == pytest.approx(8.0, abs=5.0)
  assert (behind > -12.0).mean() > 0.95


def test_real_train_is_unlabelled_and_the_others_are_labelled():
  assert _open(REAL, n=2).frame.columns.tolist() == ["filename"]
  assert not _open(REAL, n=2).has_labels
  for kind, split in ((REAL, "test"), (REAL, "labelled"), (SIM, "train"),
                      (SIM, "test")):
    source = _open(kind, n=2, split=split)
    assert source.label_columns == hand_source.LABEL_COLUMNS
    assert source.labels(nyu_hand.JOINT_UV_COLUMNS).shape == (2, 28)
    assert source.labels(nyu_hand.JOINT_D_COLUMNS).shape == (2, 14)


def test_splits_and_domains_draw_different_frames():
  labels = {}
  for kind, split in ((SIM, "train"), (SIM, "test"), (REAL, "test"),
                      (REAL, "labelled")):
    labels[kind, split] = _open(kind, n=5, split=split).labels(
        nyu_hand.JOINT_UV_COLUMNS)
  keys = list(labels)
  for i, a in enumerate(keys):
    for b in keys[i + 1:]:
      assert np.abs(labels[a] - labels[b]).mean() > 1.0, (a, b)
  # Real train is unlabelled, but its images differ from real test's.
  assert np.abs(_open(REAL, n=3).read_all() -
                _open(REAL, n=3, split="test").read_all()).mean() > 0.05


def test_real_differs_from_sim_mostly_at_the_edges():
  key = parameters.stream_key(0, SIM, "test")
  frames = np.repeat(np.arange(6), 3)
  views = np.tile([1, 2, 3], 6)
  params = parameters.sample_parameters(key, frames)
  kinect = parameters.sample_view_parameters(key, frames, views)
  sim = render.render_hands(params, views, SIZE, False)
  real = render.render_hands(params, views, SIZE, True, kinect)
  hand = sim < 1.0
  # Boundary: hand and background pixels with a 4-neighbour of the other
  # kind; interior: hand pixels 3 pixels from any background.
  padded = np.pad(hand, ((0, 0), (1, 1), (1, 1)), mode="edge")
  mixed = np.zeros_like(hand)
  for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
    mixed |= padded[:, dr:dr + 64, dc:dc + 64] != hand
  interior = hand.copy()
  padded = np.pad(hand, ((0, 0), (3, 3), (3, 3)), mode="edge")
  for dr in range(7):
    for dc in range(7):
      interior &= padded[:, dr:dr + 64, dc:dc + 64]
  difference = np.abs(real - sim)
  edge_gap = difference[mixed].mean()
  interior_gap = difference[interior].mean()
  assert edge_gap > 0.2
  assert edge_gap > 3.0 * interior_gap
  # The interior keeps its depth up to noise (a millimetre or two), except
  # for a few pixels: the projector's shadows beside nearer parts, drop-outs
  # at depth jumps and holes.
  assert 0.0005 < np.median(difference[interior]) < 0.005
  assert ((real >= 1.0) & interior).sum() < 0.1 * interior.sum()


def test_open_source_with_image_size():
  source = specs.open_source("embedded-hands-sim?n=4&views=all", (48, 48))
  assert isinstance(source, hand_source.EmbeddedHandSource)
  assert len(source) == 12
  assert source.read([0, 11]).shape == (2, 48, 48, 1)
  real = specs.open_source("embedded-hands-real?split=test&n=2&seed=1")
  assert real.image_shape == (224, 224) and len(real) == 2


_VIEWS_FAULT = ("must be distinct cameras from 1,2,3 (e.g. views=1, "
                "views=1,2,3 or views=all)")


@pytest.mark.parametrize("kind,options,fault", [
    (SIM, {"bogus": "1"},
     "unknown option(s) ['bogus']; expected ['n', 'seed', 'split', 'views']"),
    (SIM, {"split": "labelled"},
     "option split='labelled' is not one of ['train', 'test']"),
    (REAL, {"split": "val"},
     "option split='val' is not one of ['train', 'test', 'labelled']"),
    (SIM, {"n": "0"}, "option n=0 is below 1"),
    (SIM, {"n": "many"}, "option n='many' is not an integer"),
    (REAL, {"seed": "-1"}, "option seed=-1 is below 0"),
    (SIM, {"views": "4"}, f"option views='4' {_VIEWS_FAULT}"),
    (SIM, {"views": "1,1"}, f"option views='1,1' {_VIEWS_FAULT}"),
    (REAL, {"views": "front"}, f"option views='front' {_VIEWS_FAULT}"),
    ("embedded-hands-other", {},
     "not an embedded hand domain (expected embedded-hands-sim or "
     "embedded-hands-real)"),
])
def test_bad_options_raise_one_line_data_errors(kind, options, fault):
  with helpers.raises_exactly(source_lib.DataError, f"{kind}: {fault}"):
    hand_source.from_spec(kind, options, SIZE)


@pytest.mark.parametrize("text,views", [("", (1,)), ("all", (1, 2, 3)),
                                        (" ALL ", (1, 2, 3)), ("3,1", (3, 1)),
                                        ("1, 2", (1, 2))])
def test_views_option(text, views):
  source = hand_source.from_spec(REAL, {"n": "1", "views": text}, SIZE)
  assert source.views == views and len(source) == len(views)


def test_bad_image_size_raises():
  with helpers.raises_exactly(
      source_lib.DataError, "embedded-hands-sim: image size (0, 64) is not "
      "a positive (height, width)"):
    hand_source.from_spec(SIM, {"n": "1"}, (0, 64))


def test_out_of_range_index_raises():
  with pytest.raises(IndexError):
    _open(SIM, n=2).read([2])
