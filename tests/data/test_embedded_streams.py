"""Tests of the embedded worlds' hashing RNG (data/embedded/streams.py)."""

import numpy as np
import pytest

from data.embedded import streams
from data.embedded.eyes import parameters as eye_parameters
from data.embedded.hands import parameters as hand_parameters

_TABLE = (("a", 0.0, 1.0), ("b", -5.0, 5.0), ("c", 10.0, 20.0))


def test_splitmix64_is_the_reference_sequence():
  # SplitMix64 (Steele, Lea and Flood 2014) started at state 0 yields
  # 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F: the
  # finaliser of states GOLDEN, 2 GOLDEN, 3 GOLDEN.
  states = np.array([0, streams.GOLDEN, 2 * streams.GOLDEN & streams.MASK64],
                    np.uint64)
  assert [int(v) for v in streams.splitmix64(states)] == [
      0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_unit_uniform_uses_the_top_53_bits():
  bits = np.array([0, (1 << 11) - 1, 1 << 11, 1 << 63, streams.MASK64],
                  np.uint64)
  np.testing.assert_array_equal(
      streams.unit_uniform(bits),
      [0.0, 0.0, 2.0**-53, 0.5, 1.0 - 2.0**-53])


def test_stream_keys_are_pinned_and_masked_to_64_bits():
  assert streams.stream_key(0, 1) == 0x08B4FDA8C892B50E
  assert streams.stream_key(0, 11) == 0x60D2E2569B814657
  assert streams.stream_key(7, 3) == 0x6BAA78681A99F995
  assert streams.stream_key(-1, 1) == streams.stream_key(2**64 - 1, 1)
  keys = {streams.stream_key(seed, stream)
          for seed in range(4) for stream in range(1, 16)}
  assert len(keys) == 60


def test_draw_is_independent_of_the_batch_and_of_other_names():
  key = streams.stream_key(5, 2)
  everything = streams.draw(key, np.arange(8), _TABLE)
  assert list(everything) == ["a", "b", "c"]
  some = streams.draw(key, np.array([6, 1]), _TABLE, names=("c",))
  assert list(some) == ["c"]
  np.testing.assert_array_equal(some["c"], everything["c"][[6, 1]])
  for name, low, high in _TABLE:
    values = streams.draw(key, np.arange(2000), _TABLE)[name]
    assert values.dtype == np.float64 and values.shape == (2000,)
    assert low <= values.min() < low + 0.01 * (high - low)
    assert high - 0.01 * (high - low) < values.max() < high


def test_first_column_shifts_the_hash_columns():
  key = streams.stream_key(0, 9)
  shifted = streams.draw(key, np.arange(4), _TABLE, first_column=1)
  padded = streams.draw(key, np.arange(4), (("unused", 0.0, 1.0),) + _TABLE)
  for name, _, _ in _TABLE:
    np.testing.assert_array_equal(shifted[name], padded[name])
  assert not np.array_equal(
      shifted["a"], streams.draw(key, np.arange(4), _TABLE)["a"])


def test_counter_hashes_are_the_sequence_of_the_key():
  key = streams.stream_key(3, 4)
  hashes = streams.counter_hashes(key, np.array([0, 2]))
  state = np.array([key, key + 2 * streams.GOLDEN & streams.MASK64],
                   np.uint64)
  np.testing.assert_array_equal(hashes, streams.splitmix64(state))


def test_the_worlds_parameters_are_pinned():
  # Every image of a world follows from these draws; a change to the RNG
  # would change every image and label.
  key = eye_parameters.stream_key(0, eye_parameters.SIM, "train")
  assert key == streams.stream_key(0, 1)
  eye = eye_parameters.sample_parameters(key, np.arange(2), ("pitch", "yaw"))
  assert eye["pitch"].tolist() == [3.676839226050852, -23.818712274642362]
  assert eye["yaw"].tolist() == [-14.80341512820859, -13.594478859233941]
  hand_key = hand_parameters.stream_key(0, hand_parameters.SIM, "test")
  hand = hand_parameters.sample_parameters(hand_key, np.array([0]))
  assert hand["yaw"][0] == 108.37662347105248
  assert hand["pose"][0] == 0.09997270441817419
  kinect = hand_parameters.sample_view_parameters(
      hand_parameters.stream_key(0, hand_parameters.REAL, "test"),
      np.array([0]), np.array([2]))
  assert kinect["erosion"][0] == 0.5587207972879582
  assert int(kinect["noise_key"][0]) == 0x42601209990BB591


def test_unknown_parameter_name_raises():
  with pytest.raises(KeyError):
    streams.draw(1, np.arange(2), _TABLE, names=("d",))
