"""The gaze-estimation CNN of SimGAN (Shrivastava et al. 2017, section 3.1).

The paper's layer list, verbatim: "(1) Conv3x3, feature maps=32, (2) Conv3x3,
feature maps=32, (3) Conv3x3, feature maps=64, (4) MaxPool3x3, stride=2,
(5) Conv3x3, feature maps=80, (6) Conv3x3, feature maps=192, (7) MaxPool2x2,
stride=2, (8) FC9600, (9) FC1000, (10) FC3, (11) Euclidean loss", on a
35 x 55 grayscale input.

Choices the paper leaves open, made here:

* Padding is 'valid' (unpadded) everywhere. Then a 35 x 55 input shrinks to
  33x53, 31x51, 29x49, pool 14x24, 12x22, 10x20, pool 5x10, and the flattened
  feature vector has exactly 5 * 10 * 192 = 9600 entries. With 'same' padding
  it would be 24,192, so "FC9600" is read as this 9600-d flattened layer that
  feeds FC1000 (the model names it ``fc9600``), not as an extra dense layer.
* ReLU after every convolution and after FC1000 (the paper names no
  activation). FC3 is linear: it regresses the 3-D gaze vector, which the L2
  loss compares with the unit label as is; only the metrics normalise it.
* No batch norm or dropout (none in the paper).
"""

from typing import Tuple

import keras

# The paper's input: 35 high x 55 wide, one gray channel.
PAPER_INPUT_SHAPE = (35, 55, 1)


def _output_side(side: int) -> int:
  """Height (or width) of the last pooled map for an input side length."""
  side -= 3 * 2  # three unpadded 3x3 convolutions
  side = (side - 3) // 2 + 1  # max-pool 3x3, stride 2, unpadded
  side -= 2 * 2  # two unpadded 3x3 convolutions
  return side // 2  # max-pool 2x2, stride 2


def flattened_size(input_shape: Tuple[int, int, int] = PAPER_INPUT_SHAPE
                  ) -> int:
  """Length of the ``fc9600`` layer for an input shape (H, W, C); 0 if none."""
  height, width = (_output_side(s) for s in input_shape[:2])
  return max(height, 0) * max(width, 0) * 192


def gaze_estimator(input_shape: Tuple[int, int, int] = PAPER_INPUT_SHAPE,
                   dtype: str = "float32",
                   name: str = "gaze_estimator") -> keras.Model:
  """The paper's gaze CNN as a Keras functional model.

  Args:
    input_shape: (H, W, 1) of the [-1, 1] grayscale input; the paper uses
      (35, 55, 1), which gives the 9600-d flattened layer.
    dtype: a Keras dtype policy name, "float32" or "mixed_bfloat16" (bf16
      compute, float32 weights). The output layer always computes in float32
      so the loss and the metrics never see bf16 rounding.
    name: the model name.

  Returns:
    A model mapping (n, H, W, 1) images to (n, 3) gaze vectors (unnormalised).
  """
  if flattened_size(input_shape) <= 0:
    raise ValueError(f"input shape {input_shape} is too small for the gaze "
                     "CNN (needs at least 19 x 19)")
  conv = lambda filters, name: keras.layers.Conv2D(
      filters, 3, padding="valid", activation="relu", dtype=dtype, name=name)
  inputs = keras.Input(shape=input_shape, name="image")
  x = conv(32, "conv1")(inputs)
  x = conv(32, "conv2")(x)
  x = conv(64, "conv3")(x)
  x = keras.layers.MaxPooling2D(3, strides=2, padding="valid", dtype=dtype,
                                name="pool1")(x)
  x = conv(80, "conv4")(x)
  x = conv(192, "conv5")(x)
  x = keras.layers.MaxPooling2D(2, strides=2, padding="valid", dtype=dtype,
                                name="pool2")(x)
  x = keras.layers.Flatten(dtype=dtype, name="fc9600")(x)
  x = keras.layers.Dense(1000, activation="relu", dtype=dtype,
                         name="fc1000")(x)
  outputs = keras.layers.Dense(3, dtype="float32", name="fc3")(x)
  return keras.Model(inputs, outputs, name=name)
