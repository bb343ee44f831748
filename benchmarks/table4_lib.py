"""Reproduction of the hand-pose experiment: Table 4 and Fig. 12.

The stages are the template's (benchmarks/template.py). What is the hand
experiment's:

* Rows (Table 4): "1x" = the frontal view (Kinect 1) of every training
  frame, "3x" = all three views of the same frames ("Synthetic Data 3x");
  refined rows use the very same images passed through the refiner. The
  SimGAN trains on all views, with the paper's hand schedule.
* The estimator is the stacked hourglass (handpose/train_lib.py); the
  selection compares the pooled last-stack features of the 'synthetic'
  estimator.
* Baseline: the mean synthetic training pose predicted for every test image
  (the floor a row must clear); domain-gap check: the synthetic_3x estimator
  on held-out synthetic images. The test set is the frontal view, as NYU's.
"""

import dataclasses
from typing import Callable, Dict

import keras
import numpy as np

from benchmarks import template
from data import source as source_lib
from handpose import metrics
from handpose import train_lib as hand_lib


@dataclasses.dataclass(frozen=True)
class Preset:
  """Sizes and budgets of one hand reproduction run."""
  name: str
  image_size: int             # side of the square depth crops
  n_frames: int               # embedded world: synthetic training frames
  n_real: int                 # embedded world: unlabelled real frames
  n_test: int                 # embedded world: labelled real test frames
  simgan: Dict                # overrides of refiner.simgan.HParams
  snapshot_every: int
  schedule: Dict              # overrides of core.estimator.Schedule
  estimator: Dict             # overrides of handpose.train_lib.HParams'
                              # other fields
  selection_images: int = 500
  refiner_patience: int = 0   # snapshots without a better criterion: stop
  description: str = ""


# The paper's hand schedule (hand-pose implementation details): R first
# trained for 500 steps on self-regularisation only, D for 200, then Kg = 2
# R updates per Kd = 1 D update.
PAPER_HAND_SCHEDULE = dict(k_g=2, k_d=1, refiner_pretrain_steps=500,
                           discriminator_pretrain_steps=200)

PRESETS = {
    "smoke": Preset(
        name="smoke", image_size=32, n_frames=24, n_real=24, n_test=12,
        simgan=dict(arch="hand-lite", batch_size=4, k_g=2, k_d=1,
                    refiner_pretrain_steps=2, discriminator_pretrain_steps=1,
                    steps=4, history_batches=4),
        snapshot_every=2,
        refiner_patience=1,
        schedule=dict(batch_size=4, max_steps=4, eval_every=2, patience=1,
                      max_validation=8),
        estimator=dict(filters=8, heatmap_size=16, depth=2, num_stacks=1),
        selection_images=12,
        description="about a minute; wiring check for the test suite"),
    "quick": Preset(
        name="quick", image_size=64, n_frames=1500, n_real=1500, n_test=500,
        # Unit and step counts are caps; every model stops by its
        # criterion (the table flags a row that hits its cap).
        simgan=dict(arch="hand-lite", batch_size=8, steps=1500,
                    history_batches=50, **PAPER_HAND_SCHEDULE),
        snapshot_every=50,
        refiner_patience=4,
        # Patience 4: validation noise must not stop one row early. 15,000
        # steps is a cap the criterion does not reach (README).
        schedule=dict(batch_size=16, learning_rate=2e-3, max_steps=15000,
                      eval_every=250, patience=4, min_improvement=0.01,
                      max_validation=300),
        # Foreground-weighted loss: plain MSE stalls on all-zero heatmaps.
        estimator=dict(foreground_weight=10.0, filters=32, heatmap_size=32,
                       depth=3, sigma=2.0),
        selection_images=300,
        description="the default on the embedded world: 64x64 crops (not "
                    "the paper's 224x224), the CPU-sized 'hand-lite' refiner "
                    "and a 32-wide hourglass with a foreground-weighted "
                    "heatmap loss; about 40 min on 2 CPU cores (2 jobs)"),
    "paper": Preset(
        name="paper", image_size=224, n_frames=72_757, n_real=72_757,
        n_test=8_252,
        simgan=dict(arch="hand", batch_size=32, steps=20000,
                    history_batches=50, optimizer="sgd",
                    refiner_learning_rate=2e-4,
                    discriminator_learning_rate=2e-4, reduction="sum",
                    # λ = 1 under mean reductions (the quick preset's),
                    # converted to the sum: 7x7 patches over 224x224 pixels.
                    lam=template.summed_lambda("hand", (224, 224)),
                    **PAPER_HAND_SCHEDULE),
        snapshot_every=1000,
        refiner_patience=6,
        schedule=dict(batch_size=16, max_steps=200000, eval_every=2000,
                      patience=10),
        estimator=dict(filters=256),
        selection_images=2000,
        description="224x224 crops, the paper's hand refiner (7x7, 10 "
                    "blocks) and a 256-wide hourglass; for a GPU and NYU"),
}


@dataclasses.dataclass(frozen=True)
class Row:
  key: str
  label: str
  data: str                   # 'synthetic' | 'refined' | 'real_labelled'
  views: str                  # '1x' (frontal view) | '3x' (all views)


ROWS = [
    Row("synthetic", "Synthetic Data", "synthetic", "1x"),
    Row("refined", "Refined Synthetic Data", "refined", "1x"),
    Row("real", "Real Data", "real_labelled", "1x"),
    Row("synthetic_3x", "Synthetic Data 3x", "synthetic", "3x"),
    Row("refined_3x", "Refined Synthetic Data 3x", "refined", "3x"),
]
ROW_BY_KEY = {r.key: r for r in ROWS}


def embedded_sources(preset: Preset, seed: int = 0) -> template.Sources:
  """The embedded depth-hand world at the preset's sizes (training sources
  hold all views)."""
  def spec(domain, split, n, views):
    return (f"embedded-hands-{domain}?split={split}&n={n}&seed={seed}"
            f"&views={views}")
  return template.Sources(
      synthetic=spec("sim", "train", preset.n_frames, "all"),
      real=spec("real", "train", preset.n_real, "all"),
      test=spec("real", "test", preset.n_test, "1"),
      real_labelled=spec("real", "labelled", preset.n_frames, "1"),
      synthetic_test=spec("sim", "test", preset.n_test, "1"),
      embedded=True)


def nyu_sources(root: str) -> template.Sources:
  """NYU hands: ROOT/train and ROOT/test as the dataset ships them."""
  return template.Sources(
      synthetic=f"nyu:{root}/train?domain=synthetic&views=1,2,3",
      real=f"nyu:{root}/train?domain=real&views=1,2,3",
      test=f"nyu:{root}/test?domain=real&views=1",
      real_labelled=f"nyu:{root}/train?domain=real&views=1",
      synthetic_test=None, embedded=False)


def frontal_indices(source: source_lib.ImageSource) -> np.ndarray:
  """Indices of the Kinect-1 (frontal) images of a multi-view source."""
  if "kinect" not in source.frame.columns:
    return np.arange(len(source))
  return np.flatnonzero(source.frame["kinect"].to_numpy() == 1)


class Reproduction(template.Reproduction):
  """One run of the hand reproduction into `results` (see module doc)."""

  all_rows = ROWS
  presets = PRESETS
  image_subject = "depth hand"
  # 'synthetic' is also the feature extractor of the refiner selection.
  rows_before_selection = ("synthetic", "synthetic_3x", "real")
  feature_row = "synthetic"
  estimator_lib = hand_lib
  batch_size = 64
  selection_criterion = ("Fréchet distance between refined and real "
                         "features (pooled last-stack features of the "
                         "'synthetic' hourglass)")
  domain_gap_row = "synthetic_3x"
  # The estimator trained on labelled real images where they exist, else the
  # synthetic one.
  judges = ("real", "synthetic")

  @property
  def image_size(self):
    return (self.preset.image_size, self.preset.image_size)

  def worker_spec(self):
    return Reproduction, dict(preset=self.preset, sources=self.sources,
                              results=self.results, seed=self.seed,
                              rows=self.keys, precision=self.precision)

  def estimator_hparams(self, row: Row) -> hand_lib.HParams:
    del row  # Every row trains with the same hyper-parameters.
    return dataclasses.replace(hand_lib.HParams(), schedule=self.schedule(),
                               **self.preset.estimator)

  def training_source(self, row: Row) -> source_lib.ImageSource:
    source = self.source(row.data)
    if row.views == "3x":
      return source
    return source.subset(frontal_indices(source),
                         f"{source.description}[view 1]")

  def selection_features(self) -> keras.Model:
    """Pooled last-stack features of the 'synthetic' estimator."""
    estimator = keras.models.load_model(self.estimator_path("synthetic"))
    last = f"stack{len(estimator.outputs)}_lin_relu"
    pooled = keras.layers.GlobalAveragePooling2D()(
        estimator.get_layer(last).output)
    return keras.Model(estimator.inputs, pooled)

  def baselines(self) -> Dict[str, Dict]:
    return {"mean_pose": self.mean_pose_baseline()}

  def mean_pose_baseline(self) -> Dict:
    """A constant estimator: the mean frontal synthetic training pose.

    Predicted for every test image, it scores what an estimator that has
    learnt nothing from the images scores (evaluations/mean_pose): the line
    a row must clear before its comparison with another row means anything.
    """

    def compute(out):
      train = self.training_source(ROW_BY_KEY["synthetic"])
      mean = np.nanmean(hand_lib.joints_of(
          train.labels(hand_lib.JOINT_COLUMNS)), axis=0)
      test = self.source("test")
      true = hand_lib.joints_of(test.labels(hand_lib.JOINT_COLUMNS))
      return hand_lib.write_evaluation(np.broadcast_to(mean, true.shape),
                                       true, test.filenames, out,
                                       self.image_shape)

    return self.evaluation_once("mean_pose", compute)

  def label_shift(self, estimator, images, refined, n) -> Dict:
    """How far refinement moves the joints the judge sees (heatmap px)."""
    forward = hand_lib.heatmap_forward(estimator)
    before = hand_lib.predict_joints(forward, [images], self.image_shape)
    after = hand_lib.predict_joints(forward, [refined], self.image_shape)
    labels = hand_lib.joints_of(self.source("synthetic").labels(
        hand_lib.JOINT_COLUMNS))[:n]
    shift = metrics.joint_errors(after, before, self.image_shape)
    return {
        "unit": "heatmap px (64x64 grid)",
        "mean_shift_px": float(np.nanmean(shift)),
        "median_shift_px": float(np.nanmedian(shift)),
        "judge_error_on_synthetic_px": float(np.nanmean(
            metrics.joint_errors(before, labels, self.image_shape))),
        "judge_error_on_refined_px": float(np.nanmean(
            metrics.joint_errors(after, labels, self.image_shape))),
    }

  def later_stages(self) -> Dict[str, Callable[[], Dict]]:
    return {}
