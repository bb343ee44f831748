"""Reproduction of the gaze experiment: Tables 2 and 3 and Fig. 7.

The stages are the template's (benchmarks/template.py). What is the gaze
experiment's:

* Rows (Table 2): 1x = 25 % of the synthetic training set, 4x = 100 % ("4x
  refers to 100% of the training dataset"); refined rows use the very same
  images passed through the refiner; the photometric-augmentation,
  labelled-real and oracle rows are our additions (the oracle: the same
  synthetic eyes rendered as real ones, embedded world only).
* The estimator is the gaze CNN (gaze/train_lib.py); the selection compares
  its fc1000 features (synthetic_1x estimator).
* Baseline: k-NN on the synthetic images (Table 3); domain-gap check: the
  synthetic_4x estimator on held-out synthetic images.
* Optional later stage: the snapshot study (the refined_1x row retrained on
  refiner snapshots spread over its run).
"""

import dataclasses
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np

from benchmarks import stages
from benchmarks import template
from core import files
from data import source as source_lib
from gaze import knn
from gaze import metrics
from gaze import train_lib as gaze_lib
from refiner import refine_lib
from refiner import selection
from refiner import workdir as workdir_lib


@dataclasses.dataclass(frozen=True)
class Preset:
  """Sizes and budgets of one reproduction run."""
  name: str
  n_synthetic: int            # embedded world: synthetic training images (4x)
  n_real: int                 # embedded world: unlabelled real images
  n_test: int                 # embedded world: labelled real test images
  simgan: Dict                # overrides of refiner.simgan.HParams
  snapshot_every: int
  schedule: Dict              # overrides of core.estimator.Schedule
  refiner_patience: int = 0   # snapshots without a better criterion: stop
  estimator: Dict = dataclasses.field(default_factory=dict)
  # ^ overrides of gaze.train_lib.HParams' other fields
  selection_images: int = 1000
  # Snapshots the snapshot study retrains the refined_1x row on: that many,
  # spread evenly over the run, the chosen one among them (0: every one).
  study_snapshots: int = 0
  knn_k: int = 5
  description: str = ""


PRESETS = {
    "smoke": Preset(
        name="smoke", n_synthetic=192, n_real=192, n_test=64,
        simgan=dict(batch_size=4, refiner_pretrain_steps=2,
                    discriminator_pretrain_steps=1, steps=4,
                    history_batches=4),
        snapshot_every=2,
        refiner_patience=1,
        schedule=dict(batch_size=16, max_steps=6, eval_every=3, patience=1,
                      max_validation=32),
        selection_images=32,
        description="about a minute; wiring check for the test suite"),
    "quick": Preset(
        name="quick", n_synthetic=6000, n_real=6000, n_test=2000,
        # Every model stops by its criterion; the step counts are caps that
        # a converging run does not reach (the tables flag one that does).
        simgan=dict(batch_size=16, refiner_pretrain_steps=100,
                    discriminator_pretrain_steps=50, steps=1500,
                    history_batches=100),
        snapshot_every=50,
        refiner_patience=4,
        selection_images=500,
        study_snapshots=6,
        # Patience 3 evaluations; a new best must beat the old by 1 % (the
        # 600 validation images resolve no finer).
        schedule=dict(batch_size=64, max_steps=4000, eval_every=100,
                      patience=3, min_improvement=0.01, max_validation=1000),
        description="the default on the embedded world: every model "
                    "trained until its criterion stops improving"),
    "paper": Preset(
        name="paper", n_synthetic=1_200_000, n_real=214_000, n_test=45_000,
        simgan=dict(batch_size=512, refiner_pretrain_steps=1000,
                    discriminator_pretrain_steps=200, steps=10000, k_g=50,
                    k_d=1, optimizer="sgd", refiner_learning_rate=1e-3,
                    discriminator_learning_rate=1e-3, reduction="sum",
                    # λ = 1 under mean reductions, converted to the sum.
                    lam=template.summed_lambda("gaze", (35, 55)),
                    history_batches=50),
        snapshot_every=500,
        refiner_patience=6,
        schedule=dict(batch_size=512, max_steps=100000, eval_every=1000,
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
    # Only a generated world has it: the synthetic 4x eyes rendered by the
    # real stand-in's pipeline, i.e. a perfect label-preserving refiner's
    # output; (E_synthetic − E_refined) / (E_synthetic − E_oracle) is the
    # share of the closable gap that refinement closes.
    Row("oracle_4x", "Oracle: Synthetic Data 4x rendered as real",
        "oracle", 1.0),
]
ROW_BY_KEY = {r.key: r for r in ROWS}


def embedded_sources(preset: Preset, seed: int = 0) -> template.Sources:
  """The embedded eye world at the preset's sizes."""
  n_syn, n_real, n_test = preset.n_synthetic, preset.n_real, preset.n_test
  return template.Sources(
      synthetic=f"embedded-eyes-sim?split=train&n={n_syn}&seed={seed}",
      real=f"embedded-eyes-real?split=train&n={n_real}&seed={seed}",
      test=f"embedded-eyes-real?split=test&n={n_test}&seed={seed}",
      real_labelled=(f"embedded-eyes-real?split=labelled&n={n_syn}"
                     f"&seed={seed}"),
      synthetic_test=f"embedded-eyes-sim?split=test&n={n_test}&seed={seed}",
      oracle=f"embedded-eyes-oracle?split=train&n={n_syn}&seed={seed}",
      embedded=True)


def real_sources(unityeyes: str, mpiigaze: str,
                 overlap: bool = False) -> template.Sources:
  """UnityEyes (or its h5: cache) + MPIIGaze (refiner real split + test)."""
  synthetic = unityeyes if ":" in unityeyes else f"unityeyes:{unityeyes}"
  suffix = "&overlap=true" if overlap else ""
  return template.Sources(synthetic=synthetic,
                          real=f"mpiigaze:{mpiigaze}?split=real{suffix}",
                          test=f"mpiigaze:{mpiigaze}?split=test{suffix}",
                          embedded=False)


def study_snapshots(snapshots: Sequence[Tuple[int, str]], chosen: str,
                    count: int) -> List[Tuple[int, str]]:
  """The snapshots the study retrains on: `count` of `snapshots` (by unit)
  spread evenly from the first to the last, with `chosen` in place of the
  nearest one (count 0, or no fewer snapshots: all of them)."""
  if not count or count >= len(snapshots):
    return list(snapshots)
  picked = {int(i) for i in np.round(np.linspace(0, len(snapshots) - 1,
                                                 count))}
  names = [name for _, name in snapshots]
  if chosen in names and names.index(chosen) not in picked:
    at = names.index(chosen)
    picked.remove(min(picked, key=lambda i: (abs(i - at), -i)))
    picked.add(at)
  return [snapshots[i] for i in sorted(picked)]


class Reproduction(template.Reproduction):
  """One run of the gaze reproduction into `results` (see module doc)."""

  all_rows = ROWS
  presets = PRESETS
  # Each row sets its subset (1x, 4x) and whether it is augmented.
  row_fields = {"schedule": ("subset_fraction",), "estimator": ("augment",)}
  image_subject = "eye"
  # synthetic_1x is also the feature extractor of the refiner selection.
  rows_before_selection = ("synthetic_1x", "synthetic_4x", "synthetic_4x_aug",
                           "real_labelled", "oracle_4x")
  feature_row = "synthetic_1x"
  estimator_lib = gaze_lib
  image_size = None  # The eye images' own 35x55.
  batch_size = 256
  selection_criterion = ("Fréchet distance between refined and real "
                         "features (fc1000 of the synthetic_1x estimator)")
  domain_gap_row = "synthetic_4x"
  # The estimator trained on labelled real images where such labels exist,
  # else the one trained on all synthetic images.
  judges = ("real_labelled", "synthetic_4x")

  def __init__(self, preset: Preset, sources: template.Sources, results: str,
               seed: int = 0, rows: Optional[List[str]] = None,
               snapshot_study: bool = False, jobs: int = 1,
               precision: str = "float32"):
    super().__init__(preset, sources, results, seed, rows, jobs, precision)
    self.snapshot_study_enabled = snapshot_study

  def worker_spec(self):
    return Reproduction, dict(preset=self.preset, sources=self.sources,
                              results=self.results, seed=self.seed,
                              rows=self.keys,
                              snapshot_study=self.snapshot_study_enabled,
                              precision=self.precision)

  def estimator_hparams(self, row: Row) -> gaze_lib.HParams:
    return gaze_lib.HParams(
        schedule=self.schedule(subset_fraction=row.fraction),
        augment=row.augment, **self.preset.estimator)

  def training_source(self, row: Row) -> source_lib.ImageSource:
    return self.source(row.data)

  def selection_features(self) -> keras.Model:
    """fc1000 features of the synthetic_1x estimator: the selection's space."""
    estimator = keras.models.load_model(self.estimator_path("synthetic_1x"))
    return keras.Model(estimator.inputs, estimator.get_layer("fc1000").output)

  def baselines(self) -> Dict[str, Dict]:
    return {"knn_synthetic": self.evaluate_knn()}

  def evaluate_knn(self) -> Dict:
    """Table 3's k-NN with synthetic images, on the real test set."""

    def compute(out):
      stages.log("k-NN on synthetic images")
      model = knn.KNNGaze(self.source("synthetic"), self.preset.knn_k)
      test = self.source("test")
      return gaze_lib.write_evaluation(
          model.predict(test.read_all()),
          test.labels(source_lib.GAZE_COLUMNS), test.filenames, out)

    return self.evaluation_once("knn_synthetic", compute)

  def label_shift(self, estimator, images, refined, n) -> Dict:
    """How far refinement moves the gaze the judge sees (degrees).

    With an oracle (the same eyes rendered as real ones, so a true shift of
    0), also how far rendering alone moves what the judge sees: the floor
    that a perfect label-preserving refiner would measure.
    """
    predict = lambda x: estimator.predict(x, batch_size=self.batch_size,
                                          verbose=0)
    before, after = predict(images), predict(refined)
    labels = self.source("synthetic").labels(source_lib.GAZE_COLUMNS)[:n]
    shift = metrics.angular_error(before, after)
    result = {
        "mean_shift_deg": float(shift.mean()),
        "median_shift_deg": float(np.median(shift)),
        "judge_error_on_synthetic_deg": float(
            metrics.angular_error(before, labels).mean()),
        "judge_error_on_refined_deg": float(
            metrics.angular_error(after, labels).mean()),
    }
    if self.sources.oracle:
      oracle = self.source("oracle")
      if np.array_equal(oracle.labels(source_lib.GAZE_COLUMNS)[:n], labels):
        rendered = predict(oracle.read(np.arange(n)))
        floor = metrics.angular_error(before, rendered)
        result.update({
            "oracle_mean_shift_deg": float(floor.mean()),
            "oracle_median_shift_deg": float(np.median(floor)),
            "judge_error_on_oracle_deg": float(
                metrics.angular_error(rendered, labels).mean())})
    return result

  def later_stages(self) -> Dict[str, Callable[[], Dict]]:
    if (self.refined and self.snapshot_study_enabled and
        {"refined_1x", "synthetic_1x"} <= set(self.keys)):
      return {"snapshot study": self.snapshot_study}
    return {}

  def snapshot_study(self) -> Dict:
    """Downstream error of the refiner snapshots (optional stage).

    The refined_1x row is retrained on each studied snapshot's refined
    images (preset.study_snapshots of them; same
    hyper-parameters, subset and validation split; images refined once, on
    first read) and evaluated on the real test set, so a reader sees how
    much the result depends on which checkpoint is used and whether the
    label-free criterion picks a good one. The chosen snapshot reuses the
    refined_1x row itself.
    """
    path = self.path("snapshot_study.json")
    if os.path.exists(path):
      return files.read_json(path)
    chosen = self.chosen_snapshot()
    workdir = self.path(template.SIMGAN_DIR)
    selection_scores = {s["name"]: s["frechet_distance"] for s in
                        files.read_json(self.path(template.SELECTION_FILE))[
                            "snapshots"]}
    row = ROW_BY_KEY["refined_1x"]
    refiner = workdir_lib.load_refiner(workdir)
    entries = []
    for unit, name in study_snapshots(workdir_lib.list_snapshots(workdir),
                                      chosen, self.preset.study_snapshots):
      if name == chosen:
        key = "refined_1x"
      else:
        key = f"snapshot_study/{unit:06d}"
        done = os.path.exists(self.path("estimators", key, gaze_lib.DONE))
        stages.log(f"snapshot study: unit {unit} " +
                   ("already trained" if done else "training refined_1x"))
        workdir_lib.load_snapshot(refiner, workdir, name)
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
    files.write_json(path, result)
    return result
