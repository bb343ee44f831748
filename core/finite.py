"""Finite or stop: a diverged training run ends with one line, not a model.

A loss that turns NaN or infinite never comes back; training on would
export NaN weights, write DONE with an infinite error and let the failure
surface later as some unrelated error. Every trainer (the estimators'
early-stopping loop, Algorithm 1's units) checks its losses with
`check_finite` as they come and stops at the first bad one, before it
writes a checkpoint, a model or a marker: the last checkpoint on disk stays
the last good one.
"""

import math
from typing import Mapping


class NonFiniteError(ValueError):
  """A training loss or validation error became NaN or infinite.

  A ValueError, so every binary reports it as its one error line
  (core.cli) and exits 1.
  """


def check_finite(values: Mapping[str, object], run: str, where: str) -> None:
  """Raises NonFiniteError naming the first value that is NaN or infinite.

  Args:
    values: name -> a number or a scalar tensor (fetched here).
    run: the run, for the message (its workdir).
    where: the point of training, e.g. 'step 120' or 'unit 40'.
  """
  for name, value in values.items():
    number = float(value)
    if not math.isfinite(number):
      raise NonFiniteError(
          f"{run}: {name} is {number} at {where}: training diverged and "
          "stopped; the last checkpoint before it is kept and nothing was "
          "exported (try a smaller learning rate)")
