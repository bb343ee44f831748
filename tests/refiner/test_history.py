"""The history buffer of refined images (§2.3)."""

import numpy as np
import tensorflow as tf

from refiner import history as history_lib


def _batch(value, b=4):
  return tf.fill((b, 2, 3, 1), float(value))


def test_fills_in_order_then_stays_full():
  buf = history_lib.HistoryBuffer(6, (2, 3, 1))
  buf.update(_batch(1), [0, 0])      # b/2 = 2 images per update
  assert int(buf.count) == 2
  buf.update(_batch(2), [0, 1])
  buf.update(_batch(3), [0, 2])
  assert int(buf.count) == 6
  np.testing.assert_array_equal(buf.images.numpy()[:, 0, 0, 0],
                                [1, 1, 2, 2, 3, 3])
  buf.update(_batch(9), [0, 3])
  values = buf.images.numpy()[:, 0, 0, 0]
  assert int(buf.count) == 6
  # Exactly b/2 random slots were replaced by the new images.
  assert (values == 9).sum() == 2


def test_mix_uses_current_images_until_half_a_batch_is_stored():
  buf = history_lib.HistoryBuffer(8, (2, 3, 1))
  current = _batch(5)
  np.testing.assert_array_equal(buf.mix(current, [1, 1]), current)
  buf.update(_batch(7), [1, 2])
  mixed = buf.mix(current, [1, 3]).numpy()[:, 0, 0, 0]
  # b/2 current images followed by b/2 images from the history.
  np.testing.assert_array_equal(mixed, [5, 5, 7, 7])


def test_samples_come_only_from_filled_slots():
  buf = history_lib.HistoryBuffer(100, (2, 3, 1))
  buf.update(_batch(4, b=8), [2, 0])
  samples = buf.sample(50, [2, 1]).numpy()
  assert (samples == 4).all()


def test_checkpoint_round_trip(tmp_path):
  buf = history_lib.HistoryBuffer(6, (2, 3, 1))
  buf.update(_batch(3), [0, 0])
  path = tf.train.Checkpoint(history=buf).save(str(tmp_path / "h"))
  other = history_lib.HistoryBuffer(6, (2, 3, 1))
  tf.train.Checkpoint(history=other).restore(path).assert_consumed()
  assert int(other.count) == 2
  np.testing.assert_array_equal(other.images.numpy(), buf.images.numpy())
