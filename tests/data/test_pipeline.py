"""A reader's DataError through the tf.data pipelines (data/pipeline.py)."""

import numpy as np
import pytest
import tensorflow as tf

from data import pipeline
from data import source as source_lib
from tests import helpers


class BadFrom(source_lib.ImageSource):
  """Images whose value is their index; reading index >= `bad` fails, as a
  reader meeting a truncated file does."""

  def __init__(self, n, bad):
    super().__init__("bad", source_lib.frame_for(
        [f"{i}.jpg" for i in range(n)]), (2, 3))
    self.bad = bad

  def read(self, indices):
    indices = np.asarray(indices)
    if (indices >= self.bad).any():
      raise source_lib.DataError(f"/data/{indices.max()}.jpg",
                                 "is truncated (the JPEG data ends early)")
    return np.broadcast_to(indices[:, None, None, None].astype(np.float32),
                           (len(indices), 2, 3, 1)).copy()


def test_ordered_batches_until_the_bad_file_then_its_data_error():
  batches = []
  with helpers.raises_exactly(
      source_lib.DataError,
      "/data/7.jpg: is truncated (the JPEG data ends early)") as error:
    with pipeline.reader_errors():
      for images in pipeline.ordered(BadFrom(10, 6), 4).map(lambda x: x + 1):
        batches.append(images.numpy()[:, 0, 0, 0].tolist())
  assert batches == [[1.0, 2.0, 3.0, 4.0]]
  assert error.value.path == "/data/7.jpg"
  assert error.value.__cause__ is None and error.value.__suppress_context__


def test_a_stream_read_batch_by_batch_raises_the_data_error():
  source = BadFrom(8, 0)
  with helpers.raises_exactly(
      source_lib.DataError,
      "/data/7.jpg: is truncated (the JPEG data ends early)"):
    with pipeline.reader_errors():
      next(iter(pipeline.stream(source, 8, in_memory_bytes=0)))


def test_without_reader_errors_the_consumer_gets_tensorflow_s_error():
  with pytest.raises(tf.errors.InvalidArgumentError) as error:
    next(iter(pipeline.ordered(BadFrom(4, 0), 4)))
  assert ("/data/3.jpg: is truncated (the JPEG data ends early)" in
          error.value.message)
  assert "Traceback" not in error.value.message


def test_other_errors_pass_unchanged():
  with pytest.raises(tf.errors.InvalidArgumentError, match="x == y did not"):
    with pipeline.reader_errors():
      tf.debugging.assert_equal(1, 2, message="x == y did not hold")
  with helpers.raises_exactly(source_lib.DataError, "/a: is empty"):
    with pipeline.reader_errors():
      raise source_lib.DataError("/a", "is empty")
