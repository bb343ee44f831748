"""Refining data sets with a trained refiner (labels preserved).

A trained refiner is loaded with ``refiner.workdir.load_refiner``.
"""

import os
import sys

import keras
import numpy as np

from core import inference
from core import progress as progress_lib
from core import provenance
from data import folders
from data import source as source_lib


class RefinedSource(source_lib.ImageSource):
  """A source's images passed through a refiner, lazily, with its labels.

  Refined images are computed on `read`, so a benchmark can train on refined
  data without writing it to disk first. With `memoize`, each image is
  refined once and kept in memory: an estimator that reads its training
  images every epoch then pays for refinement once, and only for the images
  it actually reads (e.g. a 1x subset and its validation split).
  """

  def __init__(self, parent: source_lib.ImageSource, refiner: keras.Model,
               batch_size: int = 256, memoize: bool = False):
    super().__init__(f"refined({parent.description})", parent.frame,
                     parent.image_shape)
    self.parent = parent
    self.refiner = refiner
    # Refined by these weights from that input: a refined set written to
    # disk carries it, so what trains on it notices a new refiner.
    if isinstance(refiner, keras.Model):
      self.made_by = provenance.digest({
          "refiner": provenance.arrays_digest(refiner.get_weights()),
          "input": parent.identity})
    self.batch_size = batch_size
    self._forward = None  # traced on first use
    self._memo = None
    self._done = None
    if memoize:
      self._memo = np.zeros((len(parent), *parent.image_shape, 1), np.float32)
      self._done = np.zeros(len(parent), bool)

  def _refine(self, indices):
    images = self.parent.read(indices)
    if self._forward is None:  # A plain function (tests) is called as is.
      self._forward = (inference.forward(self.refiner)
                       if isinstance(self.refiner, keras.Model) else
                       lambda x: self.refiner(x, training=False))
    return inference.predict(self._forward, images, self.batch_size)

  def read(self, indices):
    if self._memo is None:
      return self._refine(indices)
    indices = np.asarray(indices, np.int64).reshape(-1)
    missing = np.unique(indices[~self._done[indices]])
    if len(missing):
      self._memo[missing] = self._refine(missing)
      self._done[missing] = True
    return self._memo[indices]


def refine_source(refiner: keras.Model, source: source_lib.ImageSource,
                  output: str, batch_size: int = 256,
                  show_progress: bool = True) -> int:
  """Refines every image of `source` into `output` (folder or FILE.h5).

  Folder output: images under their source file names (8-bit PNG/JPEG) and
  labels.csv with the source's frame unchanged, written last (an old one is
  removed first), so a folder with labels.csv is a complete refined copy.
  HDF5 output: a data.prepare cache (exact values; written whole, then
  renamed). Returns the number of images written.
  """
  refined = RefinedSource(source, refiner, batch_size)
  stream = sys.stderr if show_progress else None
  if output.endswith(".h5"):
    from data import cache  # pylint: disable=g-import-not-at-top
    cache.write_cache(refined, output, chunk=batch_size * 4, log=stream)
    return len(refined)
  for name in refined.frame["filename"]:  # Every name, before any write.
    source_lib.path_inside(output, name, source.description)
  folders.remove_labels(output)
  os.makedirs(output, exist_ok=True)
  progress = progress_lib.Progress(len(refined), "refine", "img", stream)
  for start in range(0, len(refined), batch_size):
    indices = np.arange(start, min(start + batch_size, len(refined)))
    folders.write_images(output, refined.frame.iloc[indices],
                         refined.read(indices), write_labels=False,
                         origin=source.description)
    progress.update(len(indices))
  # Last: the marker of a complete refined copy.
  folders.write_labels_file(output, refined.frame)
  return len(refined)
