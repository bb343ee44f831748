"""The stacked hourglass hand-pose estimator of SimGAN's hand experiment.

The paper (section 4.3): "We train a fully convolutional hand pose estimator
CNN similar to Stacked Hourglass Net [22] ... we use the Stacked Hourglass
Net of [22] 2 hourglass blocks, and an output heatmap size 64 x 64." [22] is
Newell, Yang and Deng, "Stacked Hourglass Networks for Human Pose
Estimation", ECCV 2016. This module follows that network:

* Residual modules are pre-activation bottlenecks: BN-ReLU-Conv1x1(f/2),
  BN-ReLU-Conv3x3(f/2), BN-ReLU-Conv1x1(f), plus the input (through a 1x1
  convolution where the channel count changes).
* An hourglass of depth 4 recursively keeps a residual branch at the current
  resolution and a max-pool / residual / inner hourglass / residual /
  nearest-upsampling branch, and adds the two: 64 -> 32 -> 16 -> 8 -> 4 and
  back for 64 x 64 heatmaps.
* Every stack ends in a residual, a Conv1x1-BN-ReLU and a linear 1x1
  heatmap head (intermediate supervision: the loss sees every stack's
  heatmaps). Between stacks, the stack's features and its heatmaps (each
  mapped back by a 1x1 convolution) are added to the stack's input.

Choices the paper leaves open, made here:

* **Stem and input size.** Newell's stem (Conv7x7/2 -> residual -> max-pool
  -> residual -> residual) takes a 256 x 256 input to 64 x 64. SimGAN's hand
  input is 224 x 224, and the CPU benchmark wants small inputs. The stem
  stride is therefore chosen from the input: the power of two in {1, 2, 4}
  nearest to ``max(H, W) / heatmap_size`` (ties up), and the input is
  bilinearly resized inside the model (half-pixel centres) to ``stride *
  heatmap_size`` when it is not already that size. So 224 x 224 is resized to
  256 x 256 and gets Newell's stride-4 stem, exactly his 256 -> 64 geometry;
  a 64 x 64 input gets a stride-1 stem (no pooling, no resize); 128 x 128 a
  stride-2 stem. Image and heatmap grids stay linearly related per axis with
  pixel centres aligned (handpose/heatmaps.py), whatever the input size.
* **Widths.** ``filters`` is the hourglass width (Newell: 256); the stem's
  first convolution has ``filters // 4`` and its first residuals
  ``filters // 2`` channels, Newell's 64 and 128 at 256.
* **Batch norm momentum 0.9** (Torch's 0.1, Newell's framework) rather than
  Keras' 0.99, so the moving statistics used for validation follow the
  weights within a few dozen steps of short CPU runs.
* Heatmap heads are linear and compute in float32 under mixed precision.

Only built-in Keras layers are used, so ``model.save('x.keras')`` and
``keras.models.load_model`` need no custom objects.
"""

from typing import List, Tuple

import keras
from keras import layers

# The paper's hand input (224 x 224 depth crop) and heatmap size.
PAPER_INPUT_SHAPE = (224, 224, 1)
PAPER_HEATMAP_SIZE = 64
BN_MOMENTUM = 0.9


def stem_stride(image_shape: Tuple[int, ...], heatmap_size: int) -> int:
  """The stem stride (1, 2 or 4) used for an (H, W[, C]) input.

  The power of two in {1, 2, 4} nearest to ``max(H, W) / heatmap_size`` on a
  log scale, ties going up (224 / 64 = 3.5 -> 4; 64 / 64 -> 1).
  """
  ratio = max(image_shape[:2]) / heatmap_size
  for stride in (1, 2):
    # Geometric midpoint between stride and 2 * stride.
    if ratio < stride * 2 ** 0.5:
      return stride
  return 4


def _bn(x, name, dtype):
  return layers.BatchNormalization(momentum=BN_MOMENTUM, dtype=dtype,
                                   name=name)(x)


def residual(x, filters: int, name: str, dtype: str = "float32"):
  """Newell's pre-activation bottleneck residual module.

  Args:
    x: a (B, H, W, C) tensor.
    filters: output channels; the bottleneck has ``filters // 2``.
    name: prefix of the layer names.
    dtype: Keras dtype policy of the layers.

  Returns:
    The (B, H, W, filters) output. Parameters, with c = C and h = filters//2:
    4c + (c*h + h) + 4h + (9*h*h + h) + 4h + (h*filters + filters), plus
    (c*filters + filters) for the skip convolution when c != filters (batch
    norms count gamma, beta and the two moving statistics).
  """
  half = max(filters // 2, 1)
  y = _bn(x, f"{name}_bn1", dtype)
  y = layers.ReLU(dtype=dtype, name=f"{name}_relu1")(y)
  y = layers.Conv2D(half, 1, dtype=dtype, name=f"{name}_conv1")(y)
  y = _bn(y, f"{name}_bn2", dtype)
  y = layers.ReLU(dtype=dtype, name=f"{name}_relu2")(y)
  y = layers.Conv2D(half, 3, padding="same", dtype=dtype,
                    name=f"{name}_conv2")(y)
  y = _bn(y, f"{name}_bn3", dtype)
  y = layers.ReLU(dtype=dtype, name=f"{name}_relu3")(y)
  y = layers.Conv2D(filters, 1, dtype=dtype, name=f"{name}_conv3")(y)
  skip = x
  if x.shape[-1] != filters:
    skip = layers.Conv2D(filters, 1, dtype=dtype, name=f"{name}_skip")(x)
  return layers.Add(dtype=dtype, name=f"{name}_add")([skip, y])


def hourglass(x, depth: int, filters: int, name: str,
              dtype: str = "float32"):
  """Newell's recursive hourglass of a given depth (pools `depth` times)."""
  upper = residual(x, filters, f"{name}_up", dtype)
  lower = layers.MaxPooling2D(2, dtype=dtype, name=f"{name}_pool")(x)
  lower = residual(lower, filters, f"{name}_low1", dtype)
  if depth > 1:
    lower = hourglass(lower, depth - 1, filters, f"{name}_inner", dtype)
  else:
    lower = residual(lower, filters, f"{name}_low2", dtype)
  lower = residual(lower, filters, f"{name}_low3", dtype)
  lower = layers.UpSampling2D(2, interpolation="nearest", dtype=dtype,
                              name=f"{name}_upsample")(lower)
  return layers.Add(dtype=dtype, name=f"{name}_add")([upper, lower])


def _stem(x, stride: int, filters: int, dtype: str):
  """Input -> heatmap resolution: Newell's stem with stride 4, 2 or 1."""
  x = layers.Conv2D(max(filters // 4, 1), 7, strides=min(stride, 2),
                    padding="same", dtype=dtype, name="stem_conv")(x)
  x = _bn(x, "stem_bn", dtype)
  x = layers.ReLU(dtype=dtype, name="stem_relu")(x)
  x = residual(x, max(filters // 2, 1), "stem_res1", dtype)
  if stride == 4:
    x = layers.MaxPooling2D(2, dtype=dtype, name="stem_pool")(x)
  x = residual(x, max(filters // 2, 1), "stem_res2", dtype)
  return residual(x, filters, "stem_res3", dtype)


def hourglass_estimator(image_shape: Tuple[int, ...] = PAPER_INPUT_SHAPE,
                        num_joints: int = 14,
                        num_stacks: int = 2,
                        heatmap_size: int = PAPER_HEATMAP_SIZE,
                        filters: int = 256,
                        depth: int = 4,
                        dtype: str = "float32",
                        name: str = "hourglass_estimator") -> keras.Model:
  """The stacked hourglass network as a Keras functional model.

  Args:
    image_shape: (H, W) or (H, W, 1) of the [-1, 1] depth input; the paper's
      is 224 x 224. Any size works: see the module docstring for the stem.
    num_joints: heatmap channels (the paper: Tompson's 14 joints).
    num_stacks: hourglass blocks (the paper: 2).
    heatmap_size: side of the square output heatmaps (the paper: 64); must
      be divisible by 2 ** depth.
    filters: hourglass width (Newell: 256).
    depth: pooling levels of each hourglass (Newell: 4).
    dtype: a Keras dtype policy name, "float32" or "mixed_bfloat16". Heatmap
      heads always compute in float32.
    name: the model name.

  Returns:
    A model mapping (B, H, W, 1) images to a list of `num_stacks` heatmap
    tensors, each (B, heatmap_size, heatmap_size, num_joints) and linear;
    the last one is the prediction.
  """
  image_shape = tuple(image_shape[:2]) + (1,)
  if heatmap_size % (2 ** depth):
    raise ValueError(f"heatmap_size {heatmap_size} is not divisible by "
                     f"2 ** depth = {2 ** depth}")
  if num_stacks < 1 or num_joints < 1 or filters < 2:
    raise ValueError("num_stacks and num_joints must be >= 1, filters >= 2")
  stride = stem_stride(image_shape, heatmap_size)
  inputs = keras.Input(shape=image_shape, name="image")
  x = inputs
  if image_shape[:2] != (stride * heatmap_size,) * 2:
    # Bilinear with half-pixel centres keeps the pixel-centre convention:
    # image pixel u maps to heatmap (u + 0.5) * heatmap_size / W - 0.5.
    x = layers.Resizing(stride * heatmap_size, stride * heatmap_size,
                        interpolation="bilinear", dtype=dtype,
                        name="resize")(x)
  x = _stem(x, stride, filters, dtype)
  outputs: List = []
  for s in range(num_stacks):
    p = f"stack{s + 1}"
    y = hourglass(x, depth, filters, f"{p}_hg", dtype)
    y = residual(y, filters, f"{p}_res", dtype)
    y = layers.Conv2D(filters, 1, dtype=dtype, name=f"{p}_lin")(y)
    y = _bn(y, f"{p}_lin_bn", dtype)
    features = layers.ReLU(dtype=dtype, name=f"{p}_lin_relu")(y)
    heatmaps = layers.Conv2D(num_joints, 1, dtype="float32",
                             name=f"heatmaps{s + 1}")(features)
    outputs.append(heatmaps)
    if s + 1 < num_stacks:
      # Re-inject: the next stack sees this stack's input, features and its
      # heatmaps, so it can refine the estimate (Newell's Fig. 4).
      back_f = layers.Conv2D(filters, 1, dtype=dtype,
                             name=f"{p}_features_back")(features)
      back_h = layers.Conv2D(filters, 1, dtype=dtype,
                             name=f"{p}_heatmaps_back")(heatmaps)
      x = layers.Add(dtype=dtype, name=f"{p}_reinject")([x, back_f, back_h])
  return keras.Model(inputs, outputs, name=name)


def final_heatmaps(outputs):
  """The last stack's heatmaps of a model output (a list or one tensor)."""
  if isinstance(outputs, (list, tuple)):
    return outputs[-1]
  return outputs
