"""What the estimator binaries share: the schedule flags, the evaluate main.

gaze.train and handpose.train train with one `Schedule` (core/estimator.py)
and define its flags, with the data and workdir flags, through `TrainFlags`
(same names and help; each adds only its task's notes and flags) and run
`train_main`. gaze.evaluate and handpose.evaluate are `EvaluateFlags` and
`evaluate_main` around their task's `evaluate`. Only binaries call this
module. It imports no other package of the project (core's rule), so the
task's evaluate function and the source opener (data.specs.open_source) are
passed in.
"""

import dataclasses
import os
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

from absl import flags
import keras

from core import cli
from core import estimator

# The help of each schedule flag; a task's note (the paper's value, why its
# default differs) is appended to it.
SCHEDULE_HELP = {
    "batch_size": "Images per step.",
    "learning_rate": "Starting learning rate (constant unless --lr_drops).",
    "optimizer": "Optimizer.",
    "momentum": "SGD momentum (the paper states none).",
    "max_steps": "Most training steps.",
    "eval_every": "Steps between validation evaluations and checkpoints.",
    "patience": "Evaluations without a new best validation error before "
                "stopping (the paper: 'until the validation error "
                "converges').",
    "lr_drops": "Times the learning rate drops by --lr_drop_factor when the "
                "validation error plateaus (--patience evaluations without "
                "a new best), before the plateau that stops training.",
    "lr_drop_factor": "Factor of each learning-rate drop.",
    "validation_fraction": "Share of the training source held out for "
                           "validation (never the test set).",
    "max_validation": "Most validation images (held in memory).",
    "subset_fraction": "Share of the remaining training images used "
                       "(nested: a smaller share's images are part of a "
                       "larger's).",
    "seed": "Random seed of the split, batch order, augmentation and initial "
            "weights.",
    "precision": "Compute precision (weights stay float32).",
}


def define_schedule_flags(
    defaults: estimator.Schedule,
    optimizers: Sequence[str],
    help_notes: Optional[Mapping[str, str]] = None,
    flag_values: flags.FlagValues = flags.FLAGS
) -> Callable[[], estimator.Schedule]:
  """Defines the schedule flags; returns () -> the Schedule they give.

  Defines --batch_size, --learning_rate, --optimizer (one of `optimizers`),
  --momentum (only where 'sgd' is one of them: no other optimizer uses it),
  --max_steps, --eval_every, --patience, --lr_drops, --lr_drop_factor,
  --validation_fraction, --max_validation, --subset_fraction, --seed and
  --precision, with the values of `defaults` as defaults.

  Args:
    defaults: the task's default schedule.
    optimizers: the optimizers the task accepts.
    help_notes: flag name -> text appended to its help (SCHEDULE_HELP).
    flag_values: where to define the flags (absl's global FLAGS).

  Returns:
    A function to call in main, after flag parsing: the Schedule of the flag
    values. It raises ValueError (Schedule's validation) for a bad value.

  Raises:
    ValueError: a note for a flag that is not a schedule flag, or a default
      optimizer that is not one of `optimizers`.
  """
  notes = dict(help_notes or {})
  unknown = sorted(set(notes) - set(SCHEDULE_HELP))
  if unknown:
    raise ValueError(f"help notes for unknown schedule flags: {unknown}")
  if defaults.optimizer not in optimizers:
    raise ValueError(f"default optimizer {defaults.optimizer!r} is not one "
                     f"of {list(optimizers)}")

  def text(name):
    return " ".join(filter(None, (SCHEDULE_HELP[name], notes.get(name))))

  def integer(name):
    return flags.DEFINE_integer(name, getattr(defaults, name), text(name),
                                flag_values=flag_values)

  def real(name):
    return flags.DEFINE_float(name, getattr(defaults, name), text(name),
                              flag_values=flag_values)

  holders = {
      "batch_size": integer("batch_size"),
      "learning_rate": real("learning_rate"),
      "optimizer": flags.DEFINE_enum(
          "optimizer", defaults.optimizer, list(optimizers),
          text("optimizer"), flag_values=flag_values),
      "max_steps": integer("max_steps"),
      "eval_every": integer("eval_every"),
      "patience": integer("patience"),
      "lr_drops": integer("lr_drops"),
      "lr_drop_factor": real("lr_drop_factor"),
      "validation_fraction": real("validation_fraction"),
      "max_validation": integer("max_validation"),
      "subset_fraction": real("subset_fraction"),
      "seed": integer("seed"),
      "precision": flags.DEFINE_enum(
          "precision", defaults.precision, list(estimator.PRECISIONS),
          text("precision"), flag_values=flag_values),
  }
  if "sgd" in optimizers:
    holders["momentum"] = real("momentum")

  def schedule() -> estimator.Schedule:
    # A field without a flag (momentum) keeps its default.
    return dataclasses.replace(
        defaults, **{name: holder.value for name, holder in holders.items()})

  return schedule


class TrainFlags:
  """The flags of an estimator's train binary: data, workdir, threads and
  the schedule (`define_schedule_flags`); the task adds its own."""

  def __init__(self, defaults: estimator.Schedule, optimizers: Sequence[str],
               image_size: str, image_size_note: str,
               help_notes: Optional[Mapping[str, str]] = None,
               flag_values: flags.FlagValues = flags.FLAGS):
    self.train = flags.DEFINE_string(
        "train", None, "SPEC of the labelled training source (synthetic, "
        "refined or real); a validation split of it is held out.",
        required=True, flag_values=flag_values)
    self.workdir = flags.DEFINE_string(
        "workdir", None, "Output directory.", required=True,
        flag_values=flag_values)
    self.overwrite = flags.DEFINE_bool(
        "overwrite", False, "Start afresh: empty the workdir first (only a "
        "workdir this project made). Without it a workdir of another "
        "training (other flags or data) is refused, and the same one "
        "resumes or is reused.", flag_values=flag_values)
    self.image_size = flags.DEFINE_string(
        "image_size", image_size,
        f"HEIGHTxWIDTH the source is read at ({image_size_note}).",
        flag_values=flag_values)
    self.schedule = define_schedule_flags(defaults, optimizers, help_notes,
                                          flag_values)
    self.threads = cli.define_threads(flag_values)
    self.input_limits = cli.define_input_limits(flag_values)


def train_main(
    argv: Sequence[str],
    train_flags: TrainFlags,
    make_hparams: Callable[[estimator.Schedule], object],
    train_fn: Callable[[object, object, str], Dict[str, object]],
    open_source: Callable[[str, Optional[Tuple[int, int]]], object],
    parse_image_size: Callable[[str], Optional[Tuple[int, int]]]
) -> Dict[str, object]:
  """An estimator train binary's main: start, build, record flags, train.

  Args:
    argv: main's argv.
    train_flags: the binary's TrainFlags.
    make_hparams: the flag values' Schedule -> the task's HParams.
    train_fn: the task's train(hparams, source, workdir).
    open_source: (SPEC, (height, width)) -> the source
      (data.specs.open_source).
    parse_image_size: 'HxW' -> (height, width) (data.specs).

  Returns:
    train_fn's statistics without the hyper-parameters (for one JSON line).

  Raises:
    ValueError: a bad flag value, SPEC or data (DataError is one).
  """
  # Before any TensorFlow op.
  cli.start(argv, train_flags.threads.value, train_flags.input_limits)
  hparams = make_hparams(train_flags.schedule())
  source = open_source(train_flags.train.value,
                       parse_image_size(train_flags.image_size.value))
  workdir = train_flags.workdir.value
  # Held before flags.txt is written: a refused run leaves the folder as is.
  with estimator.open_workdir(workdir, hparams, source,
                              train_flags.overwrite.value):
    cli.write_flags_file(workdir)
    stats = train_fn(hparams, source, workdir)
  return {k: v for k, v in stats.items() if k != "hparams"}


class EvaluateFlags:
  """The flags of an estimator's evaluate binary."""

  def __init__(self, batch_size: int,
               flag_values: flags.FlagValues = flags.FLAGS):
    self.workdir = flags.DEFINE_string(
        "workdir", None, "Training directory holding estimator.keras.",
        required=True, flag_values=flag_values)
    self.test = flags.DEFINE_string(
        "test", None, "SPEC of the labelled test source.", required=True,
        flag_values=flag_values)
    self.output = flags.DEFINE_string(
        "output", None, "Output directory (default WORKDIR/eval).",
        flag_values=flag_values)
    self.batch_size = flags.DEFINE_integer(
        "batch_size", batch_size, "Images per forward pass.",
        flag_values=flag_values)
    self.threads = cli.define_threads(flag_values)
    self.input_limits = cli.define_input_limits(flag_values)


def evaluate_main(
    argv: Sequence[str],
    evaluate_flags: EvaluateFlags,
    evaluate_fn: Callable[[keras.Model, object, str, int], Dict[str, object]],
    open_source: Callable[[str, Tuple[int, int]], object]
) -> Dict[str, object]:
  """An estimator evaluate binary's main.

  Loads WORKDIR/estimator.keras, opens the test source at the model's input
  size, records the flags in OUTPUT/flags.txt and evaluates.

  Args:
    argv: main's argv.
    evaluate_flags: the binary's EvaluateFlags.
    evaluate_fn: the task's evaluate(model, source, output_dir, batch_size).
    open_source: (SPEC, (height, width)) -> the source
      (data.specs.open_source).

  Returns:
    evaluate_fn's result.

  Raises:
    ValueError: no trained estimator in WORKDIR, a bad SPEC or bad data
      (DataError is one).
  """
  # Before any TensorFlow op.
  cli.start(argv, evaluate_flags.threads.value,
            evaluate_flags.input_limits)
  workdir = evaluate_flags.workdir.value
  model_path = os.path.join(workdir, estimator.ESTIMATOR)
  if not os.path.exists(model_path):
    raise ValueError(f"{model_path}: no trained estimator (train one into "
                     f"{workdir} first)")
  model = keras.models.load_model(model_path)
  source = open_source(evaluate_flags.test.value,
                       tuple(model.input_shape[1:3]))
  output = evaluate_flags.output.value or os.path.join(workdir, "eval")
  cli.write_flags_file(output)
  return evaluate_fn(model, source, output, evaluate_flags.batch_size.value)
