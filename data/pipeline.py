"""tf.data pipelines over an ImageSource.

Batches are drawn by *stream position*: batch ``t`` of a stream holds the
images at positions ``t*b .. t*b+b-1`` of a sequence of per-epoch random
permutations, computed statelessly from ``(seed, epoch)`` with
``tf.random.experimental.index_shuffle``. A stream can therefore restart at
any batch without saving iterator state, which is what makes a killed
training run resume to exactly the weights of an uninterrupted one.

Sources that fit in memory (``in_memory_bytes``) are read once and gathered
in-graph; larger ones (a 1.2 M-image UnityEyes cache) are read batch by batch
with ``source.read`` in parallel map calls.

Keep iterators over such batch-by-batch streams local to a function: an
endless iterator still alive at interpreter exit can deadlock the teardown
(its in-flight ``numpy_function`` reads wait for the GIL that teardown holds).

A bad file met by such a read raises :class:`data.source.DataError` in a
tf.data thread; the consumer gets a TensorFlow ``OpError`` instead.
Consume a pipeline inside :func:`reader_errors` to get the reader's own
DataError back (one line at a binary's error exit, core/cli.py).
"""

import collections
import contextlib
import itertools
import re
import threading
from typing import Optional

import numpy as np
import tensorflow as tf

from core import cli
from data import source as source_lib

DEFAULT_IN_MEMORY_BYTES = 4 << 30
# DataErrors of reads in tf.data threads, by number, for reader_errors; the
# consumer meets the first failing batch, so the last few suffice.
_ERROR_TAG = "data.source.DataError"
_KEPT_ERRORS = 16
_errors = collections.OrderedDict()
_errors_lock = threading.Lock()
_error_numbers = itertools.count()


def _keep(error: source_lib.DataError) -> int:
  """Keeps `error` for reader_errors; returns its number."""
  number = next(_error_numbers)
  with _errors_lock:
    _errors[number] = (error.path, error.fault)
    while len(_errors) > _KEPT_ERRORS:
      _errors.popitem(last=False)
  return number


def _read_in_graph(source: source_lib.ImageSource, indices):
  """``source.read(indices)`` in a graph: (b, H, W, 1) float32.

  A DataError of the read fails the graph with an assertion naming the
  error's number and message, which :func:`reader_errors` turns back into
  the DataError. (Raised through ``numpy_function`` it would reach the
  consumer, and TensorFlow's log, with its Python traceback.)
  """

  def read(i):
    try:
      return (source.read(np.asarray(i)).astype(np.float32), np.int64(-1),
              b"")
    except source_lib.DataError as e:
      return (np.zeros((0, *source.image_shape, 1), np.float32),
              np.int64(_keep(e)), str(e).encode())

  images, number, message = tf.numpy_function(
      read, [indices], (tf.float32, tf.int64, tf.string), stateful=False)
  check = tf.debugging.Assert(number < 0, [_ERROR_TAG, number, message])
  with tf.control_dependencies([check]):
    images = tf.identity(images)
  return tf.ensure_shape(images, [None, *source.image_shape, 1])


@contextlib.contextmanager
def reader_errors():
  """Raises a reader's DataError that failed a pipeline as that DataError.

  Around the consumption of a pipeline of this module (iterating it, or a
  training loop that does): the ``OpError`` of a read's DataError is
  replaced by a copy of the DataError (without TensorFlow's traceback);
  any other error passes unchanged.
  """
  try:
    yield
  except tf.errors.OpError as e:
    error = data_error_of(e)
    if error is None:
      raise
    raise error from None


def data_error_of(error: BaseException) -> Optional[source_lib.DataError]:
  """The reader's DataError that `error` (a pipeline's failure in this
  process) stands for, or None if it stands for none."""
  if not isinstance(error, tf.errors.OpError):
    return None
  match = re.search(rf"\[{re.escape(_ERROR_TAG)}\] \[(\d+)\]",
                    error.message)
  with _errors_lock:
    kept = _errors.get(int(match.group(1))) if match else None
  return None if kept is None else source_lib.DataError(*kept)


cli.add_error_translation(data_error_of)


def _positions_to_indices(positions, n, seed):
  """Maps stream positions to source indices: one permutation per epoch.

  Each element carries its own (seed, epoch) key, so a batch that straddles
  an epoch boundary draws from both permutations correctly. The raw op is
  used because the public wrapper (TF 2.21) pads batched [n, 2] seeds along
  the wrong axis.
  """
  positions = tf.cast(positions, tf.int64)
  epoch = positions // n
  seeds = tf.stack([tf.fill(tf.shape(epoch), tf.cast(seed, tf.int64)), epoch,
                    tf.zeros_like(epoch)], axis=-1)
  return tf.raw_ops.RandomIndexShuffle(
      index=positions % n, seed=seeds,
      max_index=tf.fill(tf.shape(epoch), tf.cast(n - 1, tf.int64)), rounds=4)


def batch_indices(batch, batch_size: int, n: int, seed: int,
                  shuffle: bool = True):
  """Source indices of stream batch number `batch` (int or scalar tensor)."""
  positions = (tf.cast(batch, tf.int64) * batch_size +
               tf.range(batch_size, dtype=tf.int64))
  if not shuffle:
    return positions % n
  return _positions_to_indices(positions, n, seed)


def _reader(source: source_lib.ImageSource, in_memory_bytes: int):
  """A function indices -> images (float32, (b, H, W, 1)) usable in graph."""
  height, width = source.image_shape
  if len(source) * height * width * 4 <= in_memory_bytes:
    images = tf.constant(source.read_all())
    return lambda idx: tf.gather(images, idx)
  return lambda idx: _read_in_graph(source, idx)


def stream(source: source_lib.ImageSource,
           batch_size: int,
           seed: int = 0,
           start_batch: int = 0,
           num_batches: Optional[int] = None,
           label_columns=None,
           shuffle: bool = True,
           in_memory_bytes: int = DEFAULT_IN_MEMORY_BYTES) -> tf.data.Dataset:
  """An endless (or `num_batches`-long) dataset of shuffled batches.

  Yields ``images`` or ``(images, labels)`` when `label_columns` is given.
  Batches are always full: an epoch boundary falls inside a batch rather than
  leaving a short one (SimGAN and the estimators sample i.i.d. batches).
  """
  if len(source) == 0:
    raise source_lib.DataError(source.description, "holds no images")
  n = len(source)
  read = _reader(source, in_memory_bytes)
  labels = None
  if label_columns:
    labels = tf.constant(source.labels(label_columns))
  stop = (start_batch + num_batches) if num_batches is not None else 2**62
  ds = tf.data.Dataset.range(start_batch, stop)

  def load(batch):
    idx = batch_indices(batch, batch_size, n, seed, shuffle)
    images = read(idx)
    if labels is None:
      return images
    return images, tf.gather(labels, idx)
  ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return ds.prefetch(tf.data.AUTOTUNE)


def ordered(source: source_lib.ImageSource,
            batch_size: int,
            label_columns=None) -> tf.data.Dataset:
  """Every image once, in index order, last batch possibly short."""
  n = len(source)
  ds = tf.data.Dataset.range(0, n, batch_size)

  def load(start):
    idx = tf.range(start, tf.minimum(start + batch_size, n))
    images = _read_in_graph(source, idx)
    if not label_columns:
      return images
    return images, tf.gather(tf.constant(source.labels(label_columns)), idx)
  ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return ds.prefetch(tf.data.AUTOTUNE)
