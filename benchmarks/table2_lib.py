"""Reproduction of the gaze experiment: Tables 2 and 3 and Fig. 7.

Stages (each skips what an earlier, interrupted run already finished):

1. SimGAN: train a refiner on synthetic + unlabelled real images, saving
   snapshots of its (weight-averaged) weights.
2. Estimators trained on synthetic data (Table 2's synthetic rows).
3. Refiner choice without real labels: the snapshot whose refined images lie
   closest to the real ones (Fréchet distance in the feature space of the
   synthetic-trained estimator; refiner/selection.py).
4. Refine the synthetic training set once with that snapshot (an HDF5 cache).
5. Estimators trained on refined data, on augmented data, on labelled real
   data (the upper bound, where such labels exist) and a k-NN baseline.
6. Evaluation on the real test set, the label-preservation check, tables,
   figure and provenance.

Rows (Table 2): 1x = 25 % of the synthetic training set, 4x = 100 %
("4x refers to 100% of the training dataset"); refined rows use the very
same images passed through the refiner.
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
from gaze import knn
from gaze import metrics
from gaze import train_lib as gaze_lib
from refiner import refine_lib
from refiner import selection
from refiner import simgan
from refiner import train_lib as refiner_lib


@dataclasses.dataclass(frozen=True)
class Preset:
  """Sizes and budgets of one reproduction run."""
  name: str
  n_synthetic: int            # embedded world: synthetic training images (4x)
  n_real: int                 # embedded world: unlabelled real images
  n_test: int                 # embedded world: labelled real test images
  simgan: Dict                # overrides of refiner.simgan.HParams
  snapshot_every: int
  estimator: Dict             # overrides of gaze.train_lib.HParams
  selection_images: int = 1000
  knn_k: int = 5
  description: str = ""


PRESETS = {
    "smoke": Preset(
        name="smoke", n_synthetic=192, n_real=192, n_test=64,
        simgan=dict(batch_size=4, refiner_pretrain_steps=2,
                    discriminator_pretrain_steps=1, steps=4,
                    history_batches=4),
        snapshot_every=2,
        estimator=dict(batch_size=16, max_steps=6, eval_every=3,
                       patience=1, max_validation=32),
        selection_images=32,
        description="about a minute; wiring check for the test suite"),
    "quick": Preset(
        name="quick", n_synthetic=6000, n_real=6000, n_test=2000,
        # Sized for <= 30 min on the idle 2-core AVX2 VM: the R step runs
        # at ~15-18 img/s there, so 250 adversarial units of Kg=2 R steps at
        # batch 16 take ~10 min, and each of the 7 estimators ~2-3 min.
        simgan=dict(batch_size=16, refiner_pretrain_steps=100,
                    discriminator_pretrain_steps=50, steps=250,
                    history_batches=100),
        snapshot_every=50,
        selection_images=500,
        estimator=dict(batch_size=64, max_steps=150, eval_every=50,
                       patience=2, max_validation=500),
        description="the default on the embedded world: about 30 min on 2 "
                    "CPU cores"),
    "paper": Preset(
        name="paper", n_synthetic=1_200_000, n_real=214_000, n_test=45_000,
        simgan=dict(batch_size=512, refiner_pretrain_steps=1000,
                    discriminator_pretrain_steps=200, steps=10000, k_g=50,
                    k_d=1, optimizer="sgd", refiner_learning_rate=1e-3,
                    discriminator_learning_rate=1e-3, reduction="sum",
                    lam=0.065, history_batches=50),
        snapshot_every=500,
        estimator=dict(batch_size=512, max_steps=100000, eval_every=1000,
                       patience=10),
        selection_images=5000,
        description="the paper's batch 512, Kg=50, SGD at 0.001, summed "
                    "losses; for a GPU and real data"),
}


@dataclasses.dataclass(frozen=True)
class Row:
  key: str
  label: str
  data: str                   # 'synthetic' | 'refined' | 'real_labelled'
  fraction: float = 1.0
  augment: bool = False


ROWS = [
    Row("synthetic_1x", "Synthetic Data", "synthetic", 0.25),
    Row("synthetic_4x", "Synthetic Data 4x", "synthetic", 1.0),
    Row("refined_1x", "Refined Synthetic Data", "refined", 0.25),
    Row("refined_4x", "Refined Synthetic Data 4x", "refined", 1.0),
    Row("synthetic_4x_aug", "Synthetic Data 4x + photometric augmentation",
        "synthetic", 1.0, augment=True),
    Row("refined_4x_aug", "Refined Synthetic Data 4x + photometric "
        "augmentation", "refined", 1.0, augment=True),
    Row("real_labelled", "Real Data, labelled (upper bound)",
        "real_labelled", 1.0),
]
ROW_BY_KEY = {r.key: r for r in ROWS}


@dataclasses.dataclass(frozen=True)
class Sources:
  """SPECs of the data of one run."""
  synthetic: str
  real: str
  test: str
  real_labelled: Optional[str] = None     # upper-bound row, if labels exist
  synthetic_test: Optional[str] = None    # held-out synthetic (domain gap)
  embedded: bool = True


def embedded_sources(preset: Preset, seed: int = 0) -> Sources:
  """The embedded eye world at the preset's sizes."""
  n_syn, n_real, n_test = preset.n_synthetic, preset.n_real, preset.n_test
  return Sources(
      synthetic=f"embedded-eyes-sim?split=train&n={n_syn}&seed={seed}",
      real=f"embedded-eyes-real?split=train&n={n_real}&seed={seed}",
      test=f"embedded-eyes-real?split=test&n={n_test}&seed={seed}",
      real_labelled=(f"embedded-eyes-real?split=labelled&n={n_syn}"
                     f"&seed={seed}"),
      synthetic_test=f"embedded-eyes-sim?split=test&n={n_test}&seed={seed}",
      embedded=True)


def real_sources(unityeyes: str, mpiigaze: str,
                 overlap: bool = False) -> Sources:
  """UnityEyes (or its h5: cache) + MPIIGaze (refiner real split + test)."""
  synthetic = unityeyes if ":" in unityeyes else f"unityeyes:{unityeyes}"
  suffix = "&overlap=true" if overlap else ""
  return Sources(synthetic=synthetic,
                 real=f"mpiigaze:{mpiigaze}?split=real{suffix}",
                 test=f"mpiigaze:{mpiigaze}?split=test{suffix}",
                 embedded=False)


class Reproduction(stages.RefinerStages):
  """One run of the gaze reproduction into `results` (see module doc)."""

  estimator_lib = gaze_lib

  def __init__(self, preset: Preset, sources: Sources, results: str,
               seed: int = 0, rows: Optional[List[str]] = None,
               snapshot_study: bool = False):
    super().__init__(results)
    self.preset = preset
    self.sources = sources
    self.seed = seed
    self.snapshot_study_enabled = snapshot_study
    self.rows = [ROW_BY_KEY[k] for k in (rows or [r.key for r in ROWS])]
    if not sources.real_labelled:
      self.rows = [r for r in self.rows if r.data != "real_labelled"]
    self._opened = {}

  # -- data ----------------------------------------------------------------

  def source(self, name: str) -> source_lib.ImageSource:
    if name not in self._opened:
      if name == "refined":
        self._opened[name] = specs.open_source(
            f"h5:{self.path('refined.h5')}")
      else:
        self._opened[name] = specs.open_source(getattr(self.sources, name))
    return self._opened[name]

  # -- stages --------------------------------------------------------------

  def simgan_hparams(self) -> simgan.HParams:
    overrides = dict(self.preset.simgan)
    return simgan.HParams(image_shape=self.source("synthetic").image_shape,
                          seed=self.seed, **overrides)

  def estimator_hparams(self, row: Row) -> gaze_lib.HParams:
    return gaze_lib.HParams(subset_fraction=row.fraction,
                            augment=row.augment, seed=self.seed,
                            **self.preset.estimator)

  def train_estimator(self, row: Row):
    workdir = self.path("estimators", row.key)
    done = os.path.exists(os.path.join(workdir, gaze_lib.DONE))
    stages.log(f"estimator {row.key}: " + ("already trained" if done else
                                      "training"))
    return gaze_lib.train(self.estimator_hparams(row), self.source(row.data),
                          workdir)

  def selection_features(self) -> keras.Model:
    """fc1000 features of the synthetic_1x estimator: the selection's space."""
    estimator = keras.models.load_model(self.estimator_path("synthetic_1x"))
    return keras.Model(estimator.inputs, estimator.get_layer("fc1000").output)

  def evaluate_knn(self):
    out = self.path("evaluations", "knn_synthetic")
    metrics_path = os.path.join(out, "metrics.json")
    if os.path.exists(metrics_path):
      return stages.read_json(metrics_path)
    stages.log("k-NN on synthetic images")
    model = knn.KNNGaze(self.source("synthetic"), self.preset.knn_k)
    test = self.source("test")
    return gaze_lib.write_evaluation(
        model.predict(test.read_all()), test.labels(source_lib.GAZE_COLUMNS),
        test.filenames, out)

  def label_shift(self, snapshot: str, judge: str):
    """How far refinement moves the gaze an estimator sees (degrees).

    `judge` names the estimator that looks at synthetic images and at their
    refined versions: the one trained on labelled real images where such
    labels exist, else the one trained on synthetic images.
    """
    path = self.path("label_preservation.json")
    if os.path.exists(path):
      return stages.read_json(path)
    estimator, n, images, refined = self.judge_sample(snapshot, judge, 256)
    before = estimator.predict(images, batch_size=256, verbose=0)
    after = estimator.predict(refined, batch_size=256, verbose=0)
    synthetic = self.source("synthetic")
    labels = synthetic.labels(source_lib.GAZE_COLUMNS)[:n]
    shift = metrics.angular_error(before, after)
    result = {
        "judge": judge, "n": n,
        "mean_shift_deg": float(shift.mean()),
        "median_shift_deg": float(np.median(shift)),
        "judge_error_on_synthetic_deg": float(
            metrics.angular_error(before, labels).mean()),
        "judge_error_on_refined_deg": float(
            metrics.angular_error(after, labels).mean()),
    }
    stages.write_json(path, result)
    return result

  def snapshot_study(self, chosen: str):
    """Downstream error of every refiner snapshot (optional stage).

    The refined_1x row is retrained on each snapshot's refined images (same
    hyper-parameters, subset and validation split; images refined once, on
    first read) and evaluated on the real test set, so a reader sees how
    much the result depends on which checkpoint is used and whether the
    label-free criterion picks a good one. The chosen snapshot reuses the
    refined_1x row itself.
    """
    path = self.path("snapshot_study.json")
    if os.path.exists(path):
      return stages.read_json(path)
    workdir = self.path("simgan")
    selection_scores = {s["name"]: s["frechet_distance"] for s in
                        stages.read_json(self.path("selection.json"))["snapshots"]}
    row = ROW_BY_KEY["refined_1x"]
    refiner = refine_lib.load_refiner(workdir)
    entries = []
    for unit, name in refine_lib.list_snapshots(workdir):
      if name == chosen:
        key = "refined_1x"
      else:
        key = f"snapshot_study/{unit:06d}"
        done = os.path.exists(self.path("estimators", key, gaze_lib.DONE))
        stages.log(f"snapshot study: unit {unit} " +
             ("already trained" if done else "training refined_1x"))
        refiner.load_weights(os.path.join(
            workdir, refiner_lib.SNAPSHOT_DIR, name))
        gaze_lib.train(self.estimator_hparams(row),
                       refine_lib.RefinedSource(self.source("synthetic"),
                                                refiner, memoize=True),
                       self.path("estimators", key))
      ev = self.evaluate(key)
      entries.append({"unit": unit, "name": name, "chosen": name == chosen,
                      "frechet_distance": selection_scores.get(name),
                      "mean_deg": ev["mean_deg"],
                      "median_deg": ev["median_deg"],
                      "pct_within": ev["pct_within"]})
    errors = np.array([e["mean_deg"] for e in entries])
    distances = np.array([e["frechet_distance"] for e in entries])
    chosen_error = next(e["mean_deg"] for e in entries if e["chosen"])
    result = {
        "row": row.key, "entries": entries,
        "unrefined_mean_deg": self.evaluate("synthetic_1x")["mean_deg"],
        "mean_deg": {"min": float(errors.min()), "max": float(errors.max()),
                     "median": float(np.median(errors)),
                     "std": float(errors.std())},
        "chosen_rank": int((errors < chosen_error).sum()) + 1,
        "spearman_distance_vs_error": selection.spearman(distances, errors),
    }
    stages.write_json(path, result)
    return result

  def run(self):
    """All stages; returns the collected results (also results.json)."""
    started = time.monotonic()
    self.write_provenance({
        "preset": dataclasses.asdict(self.preset),
        "sources": dataclasses.asdict(self.sources), "seed": self.seed,
        "rows": [r.key for r in self.rows]})
    keys = [r.key for r in self.rows]
    refined = any(r.data == "refined" for r in self.rows)
    if refined:
      with self.timed("simgan"):
        self.train_simgan(self.simgan_hparams())
    # synthetic_1x is also the feature extractor of the refiner selection.
    for key in ("synthetic_1x", "synthetic_4x", "synthetic_4x_aug",
                "real_labelled"):
      if key in keys or (key == "synthetic_1x" and refined):
        with self.timed(f"estimator {key}"):
          self.train_estimator(ROW_BY_KEY[key])
    results = {"preset": self.preset.name, "seed": self.seed}
    if refined:
      with self.timed("selection"):
        chosen = self.select_refiner(
            self.selection_features, "Fréchet distance between refined and "
            "real features (fc1000 of the synthetic_1x estimator)",
            batch_size=256)["chosen"]["name"]
      with self.timed("refine"):
        self.refine_training_set(chosen, batch_size=256)
      for row in self.rows:
        if row.data == "refined":
          with self.timed(f"estimator {row.key}"):
            self.train_estimator(row)
      results["selection"] = stages.read_json(self.path("selection.json"))
    with self.timed("evaluation"):
      evaluations = {row.key: self.evaluate(row.key) for row in self.rows}
      evaluations["knn_synthetic"] = self.evaluate_knn()
      if self.sources.synthetic_test and "synthetic_4x" in keys:
        evaluations["synthetic_4x@synthetic_test"] = self.evaluate(
            "synthetic_4x", "synthetic_test")
      results["evaluations"] = evaluations
      judge = next((k for k in ("real_labelled", "synthetic_4x")
                    if k in keys), None)
      if refined and judge:
        results["label_preservation"] = self.label_shift(chosen, judge)
    if (refined and self.snapshot_study_enabled and
        {"refined_1x", "synthetic_1x"} <= set(keys)):
      with self.timed("snapshot study"):
        results["snapshot_study"] = self.snapshot_study(chosen)
    results["wall_seconds_this_run"] = time.monotonic() - started
    results["timings"] = self.timings()
    stages.write_json(self.path("results.json"), results)
    return results
