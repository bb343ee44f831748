"""The history of refined images (paper §2.3, Fig. 4).

"Let B be the size of the buffer and b be the mini-batch size used in
Algorithm 1. At each iteration of discriminator training, we compute the
discriminator loss function by sampling b/2 images from the current refiner
network, and sampling an additional b/2 images from the buffer to update
parameters φ. We keep the size of the buffer, B, fixed. After each training
iteration, we randomly replace b/2 samples in the buffer with the newly
generated refined images."

Warm-up (unspecified by the paper): the buffer fills from the first refined
batches, in order; until it holds at least b/2 images the discriminator sees
b current refined images instead (as TF-GAN's pool returns its input while
not full). Once full, each update overwrites b/2 uniformly chosen slots.

The buffer is a tf.Module whose variables (images and fill count) are part of
the training checkpoint, so a resumed run sees the same history. Randomness
comes from stateless ops keyed by a seed the caller passes (derived from the
step), which makes sampling reproducible across interruptions.
"""

import tensorflow as tf


class HistoryBuffer(tf.Module):
  """A fixed-capacity pool of past refined images.

  Args:
    capacity: B, the number of images held.
    image_shape: (H, W, C) of one image.
  """

  def __init__(self, capacity: int, image_shape, name="history"):
    super().__init__(name=name)
    if capacity <= 0:
      raise ValueError(f"history capacity must be positive, got {capacity}")
    self.capacity = int(capacity)
    self.images = tf.Variable(
        tf.zeros([self.capacity, *image_shape], tf.float32), trainable=False,
        name="images")
    self.count = tf.Variable(0, dtype=tf.int64, trainable=False, name="count")

  def sample(self, k: int, seed):
    """k images drawn uniformly (with replacement) from the filled slots."""
    count = tf.maximum(self.count, 1)
    idx = tf.random.stateless_uniform([k], seed=seed, minval=0,
                                      maxval=count, dtype=tf.int64)
    return tf.gather(self.images, idx)

  def mix(self, refined, seed):
    """The refined half of a D batch: b/2 current + b/2 history (§2.3).

    Args:
      refined: (b, H, W, C) images from the current refiner.
      seed: stateless seed, shape (2,).

    Returns:
      (b, H, W, C): the first b/2 current images followed by b/2 images
      from the buffer, or `refined` unchanged while the buffer holds fewer
      than b/2 images.
    """
    b = refined.shape[0]
    half = b // 2
    if half == 0:
      return refined

    def with_history():
      return tf.concat([refined[:b - half], self.sample(half, seed)], axis=0)
    return tf.cond(self.count >= half, with_history, lambda: refined)

  def update(self, refined, seed):
    """Puts b/2 of the newly refined images into the buffer.

    While filling, they take the next free slots; once full, they overwrite
    b/2 distinct slots chosen uniformly at random.
    """
    b = refined.shape[0]
    half = max(b // 2, 1)
    new = tf.cast(refined[:half], tf.float32)
    filled = tf.minimum(self.count, self.capacity)
    free = self.capacity - filled
    # Slots for the images: free slots first, then random distinct old ones.
    # b/2 distinct random slots: the top-k of i.i.d. uniform keys (XLA can
    # compile this, unlike a stateless shuffle).
    keys = tf.random.stateless_uniform([self.capacity], seed=seed)
    random_slots = tf.cast(tf.math.top_k(keys, k=min(half, self.capacity))
                           .indices, tf.int64)
    sequential = (filled + tf.range(half, dtype=tf.int64)) % self.capacity
    slots = tf.where(tf.range(half, dtype=tf.int64) < free, sequential,
                     random_slots)
    # If the buffer was nearly full, a random slot may collide with a
    # sequential one; the scatter then keeps one of the two images, which
    # changes nothing but the fill order of that one step.
    self.images.scatter_nd_update(slots[:, None], new)
    self.count.assign(tf.minimum(self.count + half, self.capacity))
