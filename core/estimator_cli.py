"""What the estimator binaries share: the schedule flags, the evaluate main.

gaze.train and handpose.train train with one `Schedule` (core/estimator.py)
and define its flags with `define_schedule_flags`, under the same names and
help; each adds only its task's notes. gaze.evaluate and handpose.evaluate
are `evaluate_main` around their task's `evaluate`. Only binaries call this
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
    "learning_rate": "Constant learning rate.",
    "optimizer": "Optimizer.",
    "momentum": "SGD momentum (the paper states none).",
    "max_steps": "Most training steps.",
    "eval_every": "Steps between validation evaluations and checkpoints.",
    "patience": "Evaluations without a new best validation error before "
                "stopping (the paper: 'until the validation error "
                "converges').",
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
  --max_steps, --eval_every, --patience, --validation_fraction,
  --max_validation, --subset_fraction, --seed and --precision, with the
  values of `defaults` as defaults.

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


def evaluate_main(
    evaluate_fn: Callable[[keras.Model, object, str, int], Dict[str, object]],
    open_source: Callable[[str, Tuple[int, int]], object],
    workdir: str,
    test: str,
    output: Optional[str],
    batch_size: int) -> Dict[str, object]:
  """An estimator evaluate binary's main, after `cli.start`.

  Loads WORKDIR/estimator.keras, opens the test source at the model's input
  size, records the flags in OUTPUT/flags.txt and evaluates.

  Args:
    evaluate_fn: the task's evaluate(model, source, output_dir, batch_size).
    open_source: (SPEC, (height, width)) -> the source
      (data.specs.open_source).
    workdir: a training directory.
    test: SPEC of the labelled test source.
    output: where the evaluation goes; None is WORKDIR/eval.
    batch_size: images per forward pass.

  Returns:
    evaluate_fn's result.

  Raises:
    ValueError: no trained estimator in `workdir`, a bad SPEC or bad data
      (DataError is one).
  """
  model_path = os.path.join(workdir, estimator.ESTIMATOR)
  if not os.path.exists(model_path):
    raise ValueError(f"{model_path}: no trained estimator (train one into "
                     f"{workdir} first)")
  model = keras.models.load_model(model_path)
  source = open_source(test, tuple(model.input_shape[1:3]))
  output = output or os.path.join(workdir, "eval")
  cli.write_flags_file(output)
  return evaluate_fn(model, source, output, batch_size)
