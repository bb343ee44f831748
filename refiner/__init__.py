"""SimGAN's refiner (Shrivastava et al., CVPR 2017): ``Refiner`` and ``train``.

    from refiner import Refiner
    refined = Refiner.load("runs/eyes").refine(images_uint8)

Both names are loaded on first use (PEP 562), so ``import refiner`` and the
binaries' ``--help`` stay free of TensorFlow. Reaching either registers the
custom layers of refiner/networks.py with Keras: after ``from refiner
import Refiner``, a plain ``keras.models.load_model`` reads an exported
refiner.keras too. (``python -m refiner.train`` is the training binary;
``refiner.train`` the function is the same run from Python, refiner/api.py.)
"""

__all__ = ["Refiner", "train"]


def __getattr__(name):
  if name in __all__:
    from refiner import api  # pylint: disable=g-import-not-at-top
    return getattr(api, name)
  raise AttributeError(f"module 'refiner' has no attribute {name!r}")
