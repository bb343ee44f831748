"""The refiner R and the discriminator D of SimGAN (paper §3, Fig. 6).

Both are fully convolutional, so R accepts any image size. Two architectures:

* ``gaze`` (§3.2): R = Conv3x3@64 -> 4 ResNet blocks (3x3, 64) -> Conv1x1@1;
  D = Conv3x3/2@96, Conv3x3/2@64, MaxPool3x3/1, Conv3x3@32, Conv1x1@32,
  Conv1x1@2.
* ``hand`` (§3.3): R = Conv7x7@64 -> 10 ResNet blocks (7x7, 64) -> Conv1x1@1;
  D = Conv7x7/4@96, Conv5x5/2@64, MaxPool3x3/2, Conv3x3/2@32, Conv1x1@32,
  Conv1x1@2.

Choices the paper leaves open, made here:

* R's output layer (§3 and Fig. 6 say nothing about it; our choice) maps to
  [-1, 1], the range of real and synthetic images alike. ``output='tanh'``
  (the default) ends R in tanh. Real images hold exactly ±1 wherever they
  saturate (the depth background, dark pupils, clipped highlights), and tanh
  gets there only where float32 rounds it to ±1: for |x| ≳ 7.9 on the CPU
  (TensorFlow's tanh clamps there), where its gradient is exactly 0, so R
  reaches ±1 only by overshooting, and a patch discriminator may tell refined
  from real by that cue alone (issue 13). ``output='clipped_tanh'`` ends R in
  clip(s·tanh(x), -1, 1) with s = CLIPPED_TANH_SCALE = 1.05, which is ±1
  exactly for |x| ≥ atanh(1/s) ≈ 1.857 (see ClippedTanh for the choice of s
  and for its straight-through gradient).
* ReLU after R's first conv and between D's layers; never on D's logits, which
  are raw (a 2-way softmax per patch is applied inside the loss).
* R's padding mode is configurable. Zero padding makes every border pixel see
  a black frame, and a refiner then draws frame lines there; reflect padding
  (the default) gives border pixels natural context.
* D's padding ('same' by default) decides the patch grid: 9x14 patches for a
  35x55 gaze image with 'same', 4x9 with 'valid'.
* ``head='global'`` replaces D's per-patch output with one fully connected
  classifier over the whole image: the "global adversarial loss" ablation of
  §3.3 (Fig. 8). Its output keeps the (batch, 1, 1, 2) patch layout, so the
  losses do not care which head produced the logits.
* No batch norm, as in the paper.
"""

import dataclasses
from typing import Tuple

import keras
from keras import layers
from keras import ops


@dataclasses.dataclass(frozen=True)
class Architecture:
  """Sizes of one SimGAN architecture (paper §3.2, §3.3)."""
  name: str
  image_shape: Tuple[int, int]       # default (height, width) of the paper
  refiner_kernel: int
  refiner_blocks: int
  refiner_features: int
  # (filters, kernel, stride) of D's convolutions before/after the max pool.
  d_convs_before_pool: Tuple[Tuple[int, int, int], ...]
  d_pool: Tuple[int, int]            # (pool size, stride)
  d_convs_after_pool: Tuple[Tuple[int, int, int], ...]


ARCHITECTURES = {
    "gaze": Architecture(
        name="gaze", image_shape=(35, 55), refiner_kernel=3,
        refiner_blocks=4, refiner_features=64,
        d_convs_before_pool=((96, 3, 2), (64, 3, 2)), d_pool=(3, 1),
        d_convs_after_pool=((32, 3, 1), (32, 1, 1))),
    "hand": Architecture(
        name="hand", image_shape=(224, 224), refiner_kernel=7,
        refiner_blocks=10, refiner_features=64,
        d_convs_before_pool=((96, 7, 4), (64, 5, 2)), d_pool=(3, 2),
        d_convs_after_pool=((32, 3, 2), (32, 1, 1))),
}

PADDING_MODES = ("reflect", "symmetric", "zero")
REFINER_OUTPUTS = ("tanh", "clipped_tanh")
CLIPPED_TANH_SCALE = 1.05


def get_architecture(name: str) -> Architecture:
  if name not in ARCHITECTURES:
    raise ValueError(f"unknown architecture {name!r}; expected one of "
                     f"{sorted(ARCHITECTURES)}")
  return ARCHITECTURES[name]


@keras.saving.register_keras_serializable(package="simgan")
class SpatialPad(layers.Layer):
  """Pads height and width by `size` on each side with a given mode.

  Args:
    size: pixels added on each side.
    mode: 'reflect', 'symmetric' or 'zero'.
  """

  def __init__(self, size: int, mode: str = "reflect", **kwargs):
    super().__init__(**kwargs)
    if mode not in PADDING_MODES:
      raise ValueError(f"padding mode must be one of {PADDING_MODES}")
    self.size = size
    self.mode = mode

  def call(self, inputs):
    if self.size == 0:
      return inputs
    pad = [[0, 0], [self.size, self.size], [self.size, self.size], [0, 0]]
    mode = "constant" if self.mode == "zero" else self.mode
    return ops.pad(inputs, pad, mode=mode)

  def compute_output_shape(self, input_shape):
    b, h, w, c = input_shape
    grow = lambda d: None if d is None else d + 2 * self.size
    return (b, grow(h), grow(w), c)

  def get_config(self):
    return {**super().get_config(), "size": self.size, "mode": self.mode}


@keras.saving.register_keras_serializable(package="simgan")
class ClippedTanh(layers.Layer):
  """y = clip(s·tanh(x), -1, 1), with a straight-through gradient.

  The output reaches -1 and +1 exactly for |x| ≥ atanh(1/s), where tanh
  needs |x| ≳ 7.9 (float32 rounding; module docstring). Inside,
  y = s·tanh(x).

  Why s = 1.05 (CLIPPED_TANH_SCALE). ±1 is reached at |x| = atanh(1/s): 2.65
  for s = 1.01, 1.86 for s = 1.05, 1.52 for s = 1.1. A small s keeps the map
  close to tanh (|s·tanh(x) − tanh(x)| ≤ s − 1 = 5 %, and the slope at 0 is
  s) but makes the ends as hard to reach as under tanh; s = 1.05 keeps the
  slope at the ends s − 1/s ≈ 0.1 of the slope at 0, where tanh's slope at
  the 8-bit level 254/255 (y = 1 − 2/255) is 0.016: the whole 8-bit range is
  within a pre-activation of 1.86 with a usable gradient.

  Gradient. A plain clip has zero gradient wherever it clips, so a pixel
  whose output sits at ±1 would get no push back from its own loss term
  (only indirectly, through weights it shares with other pixels). Here the
  backward pass is that of s·tanh(x) everywhere (a straight-through clip):
  training sees the same gradients as under a tanh output (times s; 0.098 at
  the clipping point, non-zero up to |x| ≈ 7.9 as for tanh), and a clipped
  pixel is pulled back inside as soon as its loss asks for it.

  The forward value is exact: y + stop_gradient(clip(y) − y) rounds to
  exactly ±1, because clip(y) − y is exact in floating point (Sterbenz: the
  operands are within a factor of 2) and so is their sum, ±1.

  Args:
    scale: s, > 1.
  """

  def __init__(self, scale: float = CLIPPED_TANH_SCALE, **kwargs):
    super().__init__(**kwargs)
    if not scale > 1.0:
      raise ValueError(f"scale must be > 1, got {scale}")
    self.scale = float(scale)

  def call(self, inputs):
    y = self.scale * ops.tanh(inputs)
    return y + ops.stop_gradient(ops.clip(y, -1.0, 1.0) - y)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), "scale": self.scale}


def _refiner_conv(x, filters, kernel, padding_mode, name, activation=None):
  """A stride-1 conv whose output has the input's size, padded by mode."""
  x = SpatialPad(kernel // 2, padding_mode, name=f"{name}_pad")(x)
  return layers.Conv2D(filters, kernel, padding="valid",
                       activation=activation, name=name)(x)


def resnet_block(x, features: int, kernel: int, padding_mode: str, name: str):
  """Fig. 6: in -> Conv -> ReLU -> Conv -> (+ in) -> ReLU -> out."""
  y = _refiner_conv(x, features, kernel, padding_mode, f"{name}_conv1",
                    activation="relu")
  y = _refiner_conv(y, features, kernel, padding_mode, f"{name}_conv2")
  y = layers.Add(name=f"{name}_add")([x, y])
  return layers.ReLU(name=f"{name}_relu")(y)


def build_refiner(arch: str = "gaze", padding_mode: str = "reflect",
                  channels: int = 1, name: str = "refiner",
                  output: str = "tanh") -> keras.Model:
  """R_θ: a fully convolutional ResNet without striding or pooling (§3.2).

  Args:
    arch: a name of ARCHITECTURES.
    padding_mode: one of PADDING_MODES.
    channels: image channels.
    name: the model's name.
    output: R's output layer, one of REFINER_OUTPUTS: 'tanh' (outputs in
      (-1, 1), never ±1) or 'clipped_tanh' (ClippedTanh: [-1, 1], ±1
      included). See the module docstring.

  Returns a model mapping (batch, H, W, channels) images in [-1, 1] to refined
  images of the same shape in [-1, 1], for any H and W.
  """
  a = get_architecture(arch)
  if output not in REFINER_OUTPUTS:
    raise ValueError(f"refiner output must be one of {REFINER_OUTPUTS}, "
                     f"got {output!r}")
  inputs = keras.Input((None, None, channels), name="synthetic")
  x = _refiner_conv(inputs, a.refiner_features, a.refiner_kernel,
                    padding_mode, "conv_in", activation="relu")
  for i in range(a.refiner_blocks):
    x = resnet_block(x, a.refiner_features, a.refiner_kernel, padding_mode,
                     f"block{i + 1}")
  # The 1x1 output conv runs in float32 so that refined images (and hence
  # the self-regularisation loss and the history buffer) keep full precision
  # under mixed-precision policies.
  x = layers.Conv2D(channels, 1, name="conv_out", dtype="float32")(x)
  if output == "tanh":
    outputs = layers.Activation("tanh", name="tanh", dtype="float32")(x)
  else:
    outputs = ClippedTanh(name="clipped_tanh", dtype="float32")(x)
  return keras.Model(inputs, outputs, name=name)


def build_discriminator(arch: str = "gaze", head: str = "local",
                        padding: str = "same", channels: int = 1,
                        image_shape=None,
                        name: str = "discriminator") -> keras.Model:
  """D_φ: per-patch real/refined logits (§2.2, Fig. 3), or one global logit.

  Args:
    arch: 'gaze' or 'hand'.
    head: 'local' (the paper's method: a w x h map of 2-way logits) or
      'global' (ablation: a fully connected layer over the whole image).
    padding: 'same' or 'valid' for D's convolutions and pool.
    channels: image channels.
    image_shape: (H, W); needed only by the global head, whose dense layer
      fixes the input size. Defaults to the architecture's size.

  Returns:
    A model mapping images to logits of shape (batch, h, w, 2); channel 1 is
    the 'refined' class (the paper's D(.) is its softmax probability).
  """
  a = get_architecture(arch)
  if head not in ("local", "global"):
    raise ValueError(f"head must be 'local' or 'global', got {head!r}")
  if head == "global":
    image_shape = tuple(image_shape or a.image_shape)
    inputs = keras.Input((*image_shape, channels), name="image")
  else:
    inputs = keras.Input((None, None, channels), name="image")
  x = inputs
  for i, (filters, kernel, stride) in enumerate(a.d_convs_before_pool):
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding,
                      activation="relu", name=f"conv{i + 1}")(x)
  pool, pool_stride = a.d_pool
  x = layers.MaxPooling2D(pool, strides=pool_stride, padding=padding,
                          name="pool")(x)
  for i, (filters, kernel, stride) in enumerate(a.d_convs_after_pool):
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding,
                      activation="relu",
                      name=f"conv{i + 1 + len(a.d_convs_before_pool)}")(x)
  if head == "local":
    # Raw logits: the 2-way softmax of eqs. 2-3 is inside the loss.
    logits = layers.Conv2D(2, 1, name="logits", dtype="float32")(x)
  else:
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(2, name="logits", dtype="float32")(x)
    logits = layers.Reshape((1, 1, 2), name="patch_layout")(x)
  return keras.Model(inputs, logits, name=name)


def conv_output_size(size: int, kernel: int, stride: int, padding: str) -> int:
  """Spatial output size of a conv/pool layer (as TensorFlow computes it)."""
  if padding == "same":
    return -(-size // stride)
  return (size - kernel) // stride + 1


def patch_grid(arch: str, image_shape, padding: str = "same"):
  """(h, w) of D's local output map for an image of `image_shape`."""
  a = get_architecture(arch)
  h, w = image_shape
  layer_specs = [(k, s) for _, k, s in a.d_convs_before_pool]
  layer_specs.append(a.d_pool)
  layer_specs += [(k, s) for _, k, s in a.d_convs_after_pool]
  for kernel, stride in layer_specs:
    h = conv_output_size(h, kernel, stride, padding)
    w = conv_output_size(w, kernel, stride, padding)
  return h, w


# A CPU-sized variant for the hand benchmark's quick preset (not from the
# paper). The paper's hand R (10 blocks of 7x7 convolutions at 64 features)
# costs ~8 MFLOP per pixel: ~100 GFLOP per 64x64 image per training step,
# under 1 image/s on the 2-core CPU. 'hand-lite' keeps R's structure (fully
# convolutional ResNet, no striding) with 3x3 kernels, 4 blocks and 32
# features (~0.17 MFLOP per pixel), and a D whose local patches are 16x16 on
# a 64x64 crop, each seeing a 25-pixel window. Registered here, after the
# paper's architectures, so that `get_architecture('hand-lite')` and every
# binary's --arch accept it.
ARCHITECTURES["hand-lite"] = Architecture(
    name="hand-lite", image_shape=(64, 64), refiner_kernel=3,
    refiner_blocks=4, refiner_features=32,
    d_convs_before_pool=((64, 5, 2), (64, 3, 2)), d_pool=(3, 1),
    d_convs_after_pool=((32, 3, 1), (32, 1, 1)))

# Not from the paper: its gaze R with a D that sees 11-pixel windows (cells
# of 2 pixels) instead of the paper's 23 (cells of 4). The real stand-in
# differs from the simulator in rendering, which is local (lashes, lid
# margins, skin texture, noise, blur, JPEG), and in the eyes it shows (iris
# size and tone, lid shape, gaze), which is not; a D whose window holds a
# whole iris can reward moving it. `--set simgan.arch=gaze-local` measures
# that choice (README, "What limits it").
ARCHITECTURES["gaze-local"] = dataclasses.replace(
    ARCHITECTURES["gaze"], name="gaze-local",
    d_convs_before_pool=((96, 3, 2), (64, 3, 1)), d_pool=(3, 1),
    d_convs_after_pool=((32, 1, 1), (32, 1, 1)))
