"""The reproduction template: one stage pipeline for Tables 2 and 4.

Both experiments of the paper (gaze, Table 2; hand pose, Table 4) train a
refiner with SimGAN (Algorithm 1), refine the synthetic training set with it
and compare estimators trained on synthetic, refined and labelled real
images on the real test set. `Reproduction.run` is that pipeline; a table
defines what differs through the hooks below (its rows, estimator, feature
space of the selection, batch size, baselines, label-shift statistics and
later stages). Stages, in this order (each skips what an earlier,
interrupted run already finished):

1. ``estimator FEATURE_ROW`` then ``simgan``: the estimator whose
   features judge refiners (`feature_row`), then the refiner, trained on
   synthetic + unlabelled real images, saving snapshots of its weights and
   stopping when the label-free criterion (Fréchet distance to real images
   in those features) has not improved for `refiner_patience` snapshots.
2. ``selection``: the snapshot whose refined images lie closest to the real
   ones, without real labels (Fréchet distance; refiner/selection.py).
3. ``refine``: the synthetic training set refined once with it (refined.h5).
4. ``estimator KEY`` of the refined rows, each as soon as refined.h5
   exists, and of the other rows, which need no refiner, from the start:
   stages 1-4 share one pool of `jobs` workers with no barrier between
   them (stages.StagedRun.run_stages; stages 1-3 are one worker's chain).
5. ``evaluation``: every row and baseline on the real test set, the
   domain-gap check on held-out synthetic images and the label-preservation
   check (how far refinement moves the labels an estimator sees).
6. ``turing test`` (Table 1, paper §3.1): a machine observer, a fresh
   classifier cross-validated on real vs refined and, as the control, real
   vs unrefined synthetic images, and the images a person's test shows
   (turing_pool.npz; benchmarks/turing_test.py serves them); table1.md.
7. The table's later stages (Table 2: the per-snapshot study).

Every stage is named and may run in a worker process (`worker_spec`); its
output lives in files of the results folder, from which `run` collects
results.json. Its rows are every row finished in the folder
(`finished_rows`): runs of one folder share a configuration, whatever rows
each ran, so a run of one row adds it to the tables of the others.

    preset, seed, image_shape    what ran
    preset_overrides             {dotted field: value} where the preset
                                 differs from the table's preset of its
                                 name (--set)
    refiner_training             units run, cap, converged, the criterion
                                 per snapshot (when a refined row ran)
    selection                    selection.json (when a refined row ran)
    evaluations                  {row or baseline: metrics of the test set,
                                  ROW@synthetic_test: the domain-gap check}
    training                     {row: steps, best step, how it stopped,
                                  best validation error}
    label_preservation           label_preservation.json
    turing_test                  the machine observer's accuracy and p per
                                 test (when a refined row ran)
    <later stage>                one entry per later stage
    timings                      {stage: wall and CPU seconds, over resumes}
    end_to_end_wall_seconds      the run's own clock, over resumes
"""

import abc
import dataclasses
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np

from benchmarks import stages
from benchmarks.turing import observer as turing_observer
from benchmarks.turing import pool as turing_pool
from benchmarks.turing import report as turing_report
from core import estimator as core_estimator
from core import files
from core import provenance
from core import runtime
from data import pictures
from data import source as source_lib
from data import specs
from refiner import losses
from refiner import networks
from refiner import refine_lib
from refiner import selection
from refiner import simgan
from refiner import train_lib as refiner_lib
from refiner import workdir as workdir_lib

SIMGAN_DIR = "simgan"
REFINED_FILE = "refined.h5"
SELECTION_FILE = "selection.json"
LABEL_PRESERVATION_FILE = "label_preservation.json"
RESULTS_FILE = "results.json"
METRICS_FILE = "metrics.json"
TURING_STAGE = "turing test"
# Images per class the machine observer judges (cross-validated), and of
# each kind a person's test may show (the first of the same draw).
OBSERVER_IMAGES = 1000
POOL_IMAGES = 200
EXAMPLES_FILE = "refined_examples.png"
EXAMPLE_ROWS = 8


@dataclasses.dataclass(frozen=True)
class Sources:
  """SPECs of the data of one run."""
  synthetic: str                          # labelled synthetic training images
  real: str                               # unlabelled real images (refiner)
  test: str                               # labelled real test images
  real_labelled: Optional[str] = None     # upper-bound row, if labels exist
  synthetic_test: Optional[str] = None    # held-out synthetic (domain gap)
  # The synthetic training images rendered as real ones (same scenes, same
  # labels): what a perfect label-preserving refiner would output. Only a
  # generated world has it.
  oracle: Optional[str] = None
  embedded: bool = True


PRECISIONS = ("float32", "mixed_bfloat16")


def summed_lambda(arch: str, image_shape: Tuple[int, int],
                  lam_mean: float = 1.0, channels: int = 1) -> float:
  """λ of a 'sum'-reduced preset (the paper's eq. 4 sums over patches and
  pixels) equivalent to `lam_mean` under 'mean', for D's patch grid of
  `arch` at `image_shape` (refiner/losses.py: λ_sum = λ_mean · P / (H·W·C))."""
  grid_h, grid_w = networks.patch_grid(arch, image_shape)
  return losses.summed_lambda(lam_mean, grid_h * grid_w,
                              image_shape[0] * image_shape[1] * channels)


def default_jobs() -> int:
  """Stages side by side when none is asked: one on a GPU (each process
  would claim its memory), else min(2, cores)."""
  if runtime.device_kind() == "gpu":
    return 1
  return min(2, os.cpu_count() or 1)


class Reproduction(stages.StagedRun):
  """One run of a table's reproduction into `results` (see module doc).

  A row is any object with `key`, `label` and `data` ('synthetic', 'refined'
  or another field of Sources: the source it trains on). A preset has
  `name`, `simgan` (refiner.simgan.HParams overrides; its units are a cap),
  `snapshot_every`, `refiner_patience` (snapshots without a better
  label-free criterion that stop the SimGAN; 0: run every unit),
  `selection_images`, `schedule` (core.estimator.Schedule overrides) and
  `estimator` (overrides of the task's other HParams fields).
  """

  def __init__(self, preset, sources: Sources, results: str, seed: int = 0,
               rows: Optional[Sequence[str]] = None, jobs: int = 1,
               precision: str = "float32"):
    """Raises ValueError for an unknown row or precision, or a negative
    `jobs`.

    `precision` is the Keras dtype policy of every model trained (SimGAN
    and estimators): 'float32' or 'mixed_bfloat16' (bf16 compute, float32
    weights; fast only where the hardware computes bf16).
    """
    by_key = {row.key: row for row in self.all_rows}
    unknown = sorted(set(rows or ()) - set(by_key))
    if unknown:
      raise ValueError(f"unknown rows {unknown}; expected {list(by_key)}")
    if jobs < 0:
      raise ValueError(f"jobs must be >= 0, got {jobs}")
    if precision not in PRECISIONS:
      raise ValueError(f"precision must be one of {list(PRECISIONS)}, got "
                       f"{precision!r}")
    super().__init__(results)
    self.preset = preset
    self.sources = sources
    self.seed = seed
    self.jobs = jobs
    self.precision = precision
    # Rows whose data the sources lack (labelled real, oracle) drop out.
    self.rows = [by_key[k] for k in (rows or list(by_key))
                 if by_key[k].data in ("synthetic", "refined") or
                 getattr(sources, by_key[k].data)]
    self._opened = {}

  # -- hooks: what a table defines ------------------------------------------

  @property
  @abc.abstractmethod
  def all_rows(self) -> Sequence:
    """Every row of the table, in the table's order."""

  @property
  @abc.abstractmethod
  def presets(self) -> Dict:
    """The table's presets by name (what `preset_overrides` compares to)."""

  # Fields of the preset's `schedule` and `estimator` overrides that each
  # row sets itself (Table 2: its subset and augmentation).
  row_fields: Dict[str, Tuple[str, ...]] = {}

  @property
  @abc.abstractmethod
  def rows_before_selection(self) -> Sequence[str]:
    """Keys of the rows that need no refiner, in training order (stage 4)."""

  @property
  @abc.abstractmethod
  def feature_row(self) -> str:
    """The row whose estimator's features choose the snapshot (stages 1-2)."""

  @property
  @abc.abstractmethod
  def estimator_lib(self):
    """The estimator's train_lib module: ESTIMATOR, DONE, HParams (with a
    `schedule`), train(hparams, source, workdir), evaluate(path, source,
    output_dir)."""

  @abc.abstractmethod
  def estimator_hparams(self, row):
    """The estimator_lib.HParams that train `row` (see `schedule`)."""

  @abc.abstractmethod
  def training_source(self, row) -> source_lib.ImageSource:
    """The images `row` trains on."""

  @property
  @abc.abstractmethod
  def image_size(self) -> Optional[Tuple[int, int]]:
    """The (h, w) every source is read at; None: the sources' own size."""

  @property
  @abc.abstractmethod
  def batch_size(self) -> int:
    """Images per refiner, feature-model or judge pass."""

  @abc.abstractmethod
  def selection_features(self) -> keras.Model:
    """The model whose features the selection's Fréchet distance compares
    (called only while the selection is not done)."""

  @property
  @abc.abstractmethod
  def selection_criterion(self) -> str:
    """selection.json's description of that distance."""

  @abc.abstractmethod
  def baselines(self) -> Dict[str, Dict]:
    """Estimators without a row, scored on the test set like the rows:
    {key: metrics}, computed on first call, read back after."""

  @property
  @abc.abstractmethod
  def image_subject(self) -> str:
    """What the images show, for a person's Turing test ('eye', ...)."""

  @property
  @abc.abstractmethod
  def domain_gap_row(self) -> str:
    """The row also scored on held-out synthetic images (synthetic_test)."""

  @property
  @abc.abstractmethod
  def judges(self) -> Sequence[str]:
    """Rows that may judge the label shift, best first: the first one run."""

  @abc.abstractmethod
  def label_shift(self, estimator: keras.Model, images: np.ndarray,
                  refined: np.ndarray, n: int) -> Dict:
    """Statistics of how far refinement moves what `estimator` sees from the
    first n synthetic `images` to their `refined` versions."""

  @abc.abstractmethod
  def later_stages(self) -> Dict[str, Callable[[], Dict]]:
    """Stages after the evaluation, by name: each returns its results.json
    entry (the name with '_' for ' '), computed once and read back after."""

  # -- data -------------------------------------------------------------------

  @property
  def keys(self) -> List[str]:
    return [row.key for row in self.rows]

  @property
  def refined(self) -> bool:
    """Whether a refined row runs (then the SimGAN stages run too)."""
    return any(row.data == "refined" for row in self.rows)

  def finished_rows(self) -> List:
    """Every row whose estimator has finished in the results folder, this
    run's or an earlier run's with other rows (the rows run are not part of
    the provenance: all share this configuration), in the table's order:
    the rows the tables show."""
    return [row for row in self.all_rows if os.path.exists(
        self.path("estimators", row.key, self.estimator_lib.DONE))]

  @classmethod
  def preset_targets(cls) -> Dict[str, Tuple[type, Tuple[str, ...]]]:
    """The dict fields of a preset: {name: (the dataclass whose fields its
    keys override, the fields of it that the run sets itself from the data,
    the seed, the precision or the row, which a preset may not)}."""
    fixed = {"simgan": ("image_shape", "seed", "precision"),
             "schedule": ("seed", "precision"), "estimator": ("schedule",)}
    return {name: (target, fixed[name] + tuple(cls.row_fields.get(name, ())))
            for name, target in (("simgan", simgan.HParams),
                                 ("schedule", core_estimator.Schedule),
                                 ("estimator", cls.estimator_lib.HParams))}

  def preset_overrides(self) -> Dict:
    """The fields where the preset differs from the table's preset of its
    name (what --set changed), as dotted keys: {'simgan.steps': 2000}."""
    base = self.presets.get(self.preset.name)
    if base is None:  # A preset of the caller's own: nothing to compare.
      return {}
    old, new = dataclasses.asdict(base), dataclasses.asdict(self.preset)
    changes = {}
    for name, value in new.items():
      if isinstance(value, dict):
        changes.update({f"{name}.{key}": v for key, v in value.items()
                        if key not in old[name] or old[name][key] != v})
      elif value != old[name]:
        changes[name] = value
    return changes

  def row(self, key: str):
    return next(row for row in self.all_rows if row.key == key)

  def source(self, name: str) -> source_lib.ImageSource:
    """A source of the run: a field of Sources, or 'refined' (stage 3)."""
    if name not in self._opened:
      if name == "refined":
        self._opened[name] = specs.open_source(
            f"h5:{self.path(REFINED_FILE)}")
      else:
        self._opened[name] = specs.open_source(getattr(self.sources, name),
                                               self.image_size)
    return self._opened[name]

  @property
  def image_shape(self) -> Tuple[int, int]:
    return tuple(self.source("synthetic").image_shape)

  def estimator_path(self, key: str) -> str:
    return self.path("estimators", key, self.estimator_lib.ESTIMATOR)

  def schedule(self, **fields):
    """The task's default Schedule with the seed, `fields` and the preset's
    schedule overrides."""
    return dataclasses.replace(self.estimator_lib.HParams().schedule,
                               seed=self.seed, precision=self.precision,
                               **fields, **self.preset.schedule)

  def training_record(self, key: str) -> Dict:
    """How estimator `key` stopped (its DONE): steps, best_step,
    stopped_early, hit_cap, patience, the learning-rate drops (planned,
    factor, steps) and the best validation error."""
    done = core_estimator.read_done(self.path("estimators", key))
    error_key = next(k for k in done if k.startswith("best_val_error"))
    schedule = done["hparams"]["schedule"]
    return {"steps": done["steps"], "best_step": done["best_step"],
            "stopped_early": done["stopped_early"],
            "hit_cap": done.get("hit_cap", False),
            "patience": schedule["patience"],
            "lr_drops": schedule.get("lr_drops", 0),
            "lr_drop_factor": schedule.get("lr_drop_factor"),
            "lr_drop_steps": done.get("lr_drop_steps", []),
            "validation_error": done[error_key]}

  def selection_samples(self) -> Tuple[np.ndarray, np.ndarray]:
    """The fixed synthetic and real images the label-free criterion
    compares (preset.selection_images of each, drawn by the seed)."""
    n = self.preset.selection_images
    rng = np.random.default_rng(self.seed + 17)
    synthetic, real = self.source("synthetic"), self.source("real")
    return (synthetic.read(np.sort(rng.choice(
        len(synthetic), min(n, len(synthetic)), replace=False))),
            real.read(np.sort(rng.choice(
                len(real), min(n, len(real)), replace=False))))

  def scorer(self) -> selection.FrechetScorer:
    """The label-free criterion (needs the feature row's estimator)."""
    return selection.FrechetScorer(*self.selection_samples(),
                                   self.selection_features(), self.batch_size)

  def chosen_snapshot(self) -> str:
    """The snapshot the selection chose (stage 2 must have run)."""
    return files.read_json(self.path(SELECTION_FILE))["chosen"]["name"]

  # -- the pipeline -----------------------------------------------------------

  def provenance_fields(self) -> Dict:
    """What determines every output of the results folder: preset, data,
    seed and precision (not the rows run, nor how many jobs at a time)."""
    return {"reproduction": type(self).__module__,
            "preset": dataclasses.asdict(self.preset),
            "sources": dataclasses.asdict(self.sources), "seed": self.seed,
            "precision": self.precision}

  def claim(self, overwrite: bool = False):
    """Holds the results folder for this run (core/provenance.py): a folder
    of another configuration is refused (or emptied, with `overwrite`)."""
    return provenance.claim(self.results, self.provenance_fields(),
                            overwrite)

  def run(self) -> Dict:
    """All stages; returns the collected results (also results.json).

    Raises:
      ProvenanceError: the results folder holds another configuration's
        results or is in use by another run.
    """
    with self.claim():
      return self._run()

  def _run(self) -> Dict:
    tic = time.monotonic()
    self.write_provenance({
        "preset": dataclasses.asdict(self.preset),
        "sources": dataclasses.asdict(self.sources), "seed": self.seed,
        "rows": self.keys, "precision": self.precision})
    refined = self.refined
    # One pool for everything that trains: the estimators of unrefined data
    # from the start; the SimGAN after the estimator whose features judge
    # it, then the refiner choice and the refined set, in the same worker
    # (the longest chain, so listed first); the refined rows' estimators as
    # soon as the refined set exists, ahead of unrefined ones still waiting.
    estimators = [f"estimator {key}" for key in self.rows_before_selection
                  if key in self.keys or (key == self.feature_row and refined)]
    refined_estimators = [f"estimator {row.key}" for row in self.rows
                          if row.data == "refined"]
    jobs_list, after = list(estimators), {}
    if refined:
      feature = f"estimator {self.feature_row}"
      jobs_list = [(feature, "simgan", "selection", "refine"),
                   *refined_estimators,
                   *[e for e in estimators if e != feature]]
      after = {name: ["refine"] for name in refined_estimators}
    later = self.later_stages()
    last = ["evaluation", *([TURING_STAGE] if refined else []), *later]
    self.plan_stages(jobs_list, last)
    self.run_stages(jobs_list, self.jobs, after)
    self.run_stages(last)
    # The rows of earlier runs into this folder too (finished_rows), and
    # the refiner's results wherever a refined row among them used it.
    shown = self.finished_rows()
    shown_refined = any(row.data == "refined" for row in shown)
    results = {"preset": self.preset.name,
               "preset_overrides": self.preset_overrides(), "seed": self.seed,
               "image_shape": list(self.image_shape)}
    if shown_refined:
      results["refiner_training"] = self.refiner_training()
      results["selection"] = files.read_json(self.path(SELECTION_FILE))
    results["evaluations"] = self.evaluations()
    results["training"] = {row.key: self.training_record(row.key)
                           for row in shown}
    judge = self.judge()
    if judge:
      results["label_preservation"] = self.label_preservation(judge)
    if shown_refined:
      results["turing_test"] = self.turing_test()
    for name, stage in later.items():
      results[name.replace(" ", "_")] = stage()
    results["timings"] = self.timings()
    results["end_to_end_wall_seconds"] = self.add_elapsed(
        time.monotonic() - tic)
    files.write_json(self.path(RESULTS_FILE), results)
    return results

  def run_stage(self, name: str) -> None:
    """Runs stage `name` of the module doc (here or in a worker process)."""
    if name == "simgan":
      self.train_simgan()
    elif name.startswith("estimator "):
      self.train_estimator(self.row(name[len("estimator "):]))
    elif name == "selection":
      self.select_refiner()
    elif name == "refine":
      self.refine_training_set()
    elif name == "evaluation":
      self.evaluations()
      judge = self.judge()
      if judge:
        self.label_preservation(judge)
    elif name == TURING_STAGE:
      self.turing_test()
    else:
      later = self.later_stages()
      if name not in later:
        raise ValueError(f"unknown stage {name!r}")
      later[name]()

  # -- the stages -------------------------------------------------------------

  def simgan_hparams(self) -> simgan.HParams:
    return simgan.HParams(image_shape=self.image_shape, seed=self.seed,
                          precision=self.precision, **self.preset.simgan)

  def train_simgan(self) -> None:
    """Stage 1: trains the refiner (Algorithm 1), saving snapshots."""
    workdir = self.path(SIMGAN_DIR)
    if os.path.exists(os.path.join(workdir, workdir_lib.REFINER_FILE)):
      stages.log("SimGAN: already trained")
      return
    stages.log("SimGAN: training the refiner (Algorithm 1)")
    every = self.preset.snapshot_every
    patience = self.preset.refiner_patience
    refiner_lib.run_training(  # Seeded by the hyper-parameters' seed.
        self.simgan_hparams(), self.source("synthetic"), self.source("real"),
        workdir, checkpoint_every=every, snapshot_every=every,
        image_every=every, criterion=self.scorer() if patience else None,
        patience=patience)

  def refiner_training(self) -> Dict:
    """How the SimGAN stopped: units run, the cap, whether the label-free
    criterion converged, and its value per snapshot (the curve units ->
    Fréchet distance)."""
    record = workdir_lib.read_convergence(self.path(SIMGAN_DIR))
    scores = record.get("scores", [])
    cap = self.simgan_hparams().total_units
    units = scores[-1]["unit"] if record.get("converged") else cap
    return {"units": units, "cap": cap,
            "converged": bool(record.get("converged")),
            "patience": self.preset.refiner_patience,
            "scores": scores}

  def train_estimator(self, row) -> Dict:
    """Stages 1 and 4: the estimator of one row (resumes; skips if done)."""
    workdir = self.path("estimators", row.key)
    done = os.path.exists(os.path.join(workdir, self.estimator_lib.DONE))
    stages.log(f"estimator {row.key}: " + ("already trained" if done else
                                            "training"))
    return self.estimator_lib.train(self.estimator_hparams(row),
                                    self.training_source(row), workdir)

  def select_refiner(self) -> Dict:
    """Stage 2: ranks the snapshots by the label-free criterion.

    Returns:
      The contents of selection.json.
    """
    path = self.path(SELECTION_FILE)
    if os.path.exists(path):
      return files.read_json(path)
    stages.log("selecting the refiner snapshot (label-free)")
    workdir = self.path(SIMGAN_DIR)
    # The SimGAN scored its snapshots with this very criterion as it
    # trained: those scores are reused, not recomputed.
    known = {s["unit"]: s["score"]
             for s in workdir_lib.read_convergence(workdir).get("scores", [])}
    ranking = selection.choose_snapshot(
        workdir, *self.selection_samples(), self.selection_features(),
        self.batch_size, known=known)
    result = {"criterion": self.selection_criterion, **ranking}
    files.write_json(path, result)
    best = result["chosen"]
    stages.log(f"chose snapshot {best['name']} (distance "
               f"{best['frechet_distance']:.3f}; unrefined "
               f"{result['unrefined_frechet_distance']:.3f})")
    return result

  def refine_training_set(self) -> None:
    """Stage 3: the synthetic training set refined once, into refined.h5."""
    path = self.path(REFINED_FILE)
    if os.path.exists(path):
      return
    snapshot = self.chosen_snapshot()
    stages.log(f"refining the synthetic training set with {snapshot}")
    refiner = workdir_lib.load_refiner(self.path(SIMGAN_DIR), snapshot)
    refine_lib.refine_source(refiner, self.source("synthetic"), path,
                             batch_size=self.batch_size)

  def evaluation_once(self, name: str,
                      compute: Callable[[str], Dict]) -> Dict:
    """The metrics in evaluations/NAME: read back if there, else
    `compute(folder)`, which writes them."""
    out = self.path("evaluations", name)
    metrics_path = os.path.join(out, METRICS_FILE)
    if os.path.exists(metrics_path):
      return files.read_json(metrics_path)
    return compute(out)

  def evaluate(self, key: str, test: str = "test") -> Dict:
    """Metrics of estimator `key` on source `test` (evaluations/...)."""
    return self.evaluation_once(
        key if test == "test" else f"{key}@{test}",
        lambda out: self.estimator_lib.evaluate(
            self.estimator_path(key), self.source(test), out))

  def evaluations(self) -> Dict[str, Dict]:
    """Stage 5: the finished rows (earlier runs' read back, each evaluated
    once), the baselines, then the domain-gap check."""
    finished = [row.key for row in self.finished_rows()]
    out = {key: self.evaluate(key) for key in finished}
    out.update(self.baselines())
    key = self.domain_gap_row
    if self.sources.synthetic_test and key in finished:
      out[f"{key}@synthetic_test"] = self.evaluate(key, "synthetic_test")
    return out

  def judge(self) -> Optional[str]:
    """The row that judges the label shift, or None where neither this run
    nor an earlier one into the folder has a refined row and a judge."""
    rows = [*self.rows, *self.finished_rows()]
    if not any(row.data == "refined" for row in rows):
      return None
    keys = {row.key for row in rows}
    return next((key for key in self.judges if key in keys), None)

  def label_preservation(self, judge: str) -> Dict:
    """Stage 5: what estimator `judge` sees move when images are refined.

    It looks at the first n = min(selection_images, synthetic images)
    synthetic images and at their versions refined by the chosen snapshot.
    """
    path = self.path(LABEL_PRESERVATION_FILE)
    if os.path.exists(path):
      return files.read_json(path)
    estimator = keras.models.load_model(self.estimator_path(judge))
    refiner = workdir_lib.load_refiner(self.path(SIMGAN_DIR),
                                       self.chosen_snapshot())
    synthetic = self.source("synthetic")
    n = min(self.preset.selection_images, len(synthetic))
    images = synthetic.read(np.arange(n))
    refined = refiner.predict(images, batch_size=self.batch_size, verbose=0)
    result = {"judge": judge, "n": n,
              **self.label_shift(estimator, images, refined, n)}
    files.write_json(path, result)
    return result

  def turing_images(self) -> Tuple[np.ndarray, ...]:
    """Real, refined and unrefined synthetic images of the Turing test,
    drawn by the seed: up to OBSERVER_IMAGES of each, the refined and the
    synthetic ones of different scenes where the training set is large
    enough; and the oracle's images of the refined scenes (None without an
    oracle)."""
    rng = np.random.default_rng(self.seed + 29)
    real, refined = self.source("real"), self.source("refined")
    synthetic = self.source("synthetic")
    n = min(OBSERVER_IMAGES, len(real), len(refined))
    scenes = rng.permutation(min(len(refined), len(synthetic)))
    unrefined = scenes[n:2 * n] if len(scenes) >= 2 * n else scenes[-n:]

    def read(source, indices):
      # Read in file order, then back in the drawn (random) order.
      order = np.argsort(indices)
      images = source.read(np.asarray(indices)[order])
      return images[np.argsort(order)]

    oracle = (read(self.source("oracle"), scenes[:n])
              if self.sources.oracle else None)
    return (read(real, rng.choice(len(real), n, replace=False)),
            read(refined, scenes[:n]), read(synthetic, unrefined), oracle)

  def turing_test(self) -> Dict:
    """Stage 6 (Table 1): the machine observer and the pool of a person's
    test, computed once; table1.md is rewritten from them and any human
    answers (turing.sqlite) each time.

    Returns:
      {test: accuracy, correct, trials and both p-values}, for 'refined'
      (real vs refined), 'synthetic' (the control) and, where the world has
      an oracle, 'oracle' (real vs the refined scenes rendered as real).
    """
    path = self.path(turing_report.OBSERVER_FILE)
    if not os.path.exists(path):
      stages.log("Turing test: the machine observer (Table 1)")
      real, refined, synthetic, oracle = self.turing_images()
      turing_pool.write_pool(
          self.path(turing_pool.POOL_FILE),
          turing_pool.from_unit(real[:POOL_IMAGES], refined[:POOL_IMAGES],
                                synthetic[:POOL_IMAGES], self.image_subject))
      observed = {}
      tests = [("refined", refined), ("synthetic", synthetic)]
      if oracle is not None:
        tests.append(("oracle", oracle))
      for test, other in tests:
        result = turing_observer.observe(real, other, self.seed)
        confusion = result.pop("confusion")  # Flat, as the human study's.
        observed[test] = {**result, **confusion, **turing_report.summary(
            result["correct"], result["trials"])}
      files.write_json(path, observed)
    self.write_refined_examples()
    turing_report.write_table1(self.results)
    return {test: {key: result[key] for key in (
        "correct", "trials", "accuracy", "p_two_sided", "p_one_sided")}
            for test, result in files.read_json(path).items()}

  def write_refined_examples(self) -> None:
    """refined_examples.png: EXAMPLE_ROWS synthetic training images drawn by
    the seed, refined, their difference and the nearest of up to
    OBSERVER_IMAGES real images (data/pictures.py)."""
    path = self.path(EXAMPLES_FILE)
    if os.path.exists(path):
      return
    synthetic, refined = self.source("synthetic"), self.source("refined")
    real = self.source("real")
    rows = np.sort(np.random.default_rng(self.seed + 31).choice(
        len(refined), min(EXAMPLE_ROWS, len(refined)), replace=False))
    width = self.image_shape[1]
    pictures.write_png(pictures.draw_refined_examples(
        synthetic.read(rows), refined.read(rows),
        real.read(np.arange(min(OBSERVER_IMAGES, len(real)))),
        max(1, 200 // width), f"{self.chosen_snapshot()} on "
        f"{synthetic.description}"), path)
