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
"""

from typing import Optional

import numpy as np
import tensorflow as tf

from data import source as source_lib

DEFAULT_IN_MEMORY_BYTES = 4 << 30


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

  def read(idx):
    out = tf.numpy_function(
        lambda i: source.read(np.asarray(i)).astype(np.float32), [idx],
        tf.float32, stateful=False)
    return tf.ensure_shape(out, [None, height, width, 1])
  return read


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
  height, width = source.image_shape

  def load(start):
    idx = tf.range(start, tf.minimum(start + batch_size, n))
    images = tf.numpy_function(
        lambda i: source.read(np.asarray(i)).astype(np.float32), [idx],
        tf.float32, stateful=False)
    images = tf.ensure_shape(images, [None, height, width, 1])
    if not label_columns:
      return images
    return images, tf.gather(tf.constant(source.labels(label_columns)), idx)
  ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return ds.prefetch(tf.data.AUTOTUNE)
