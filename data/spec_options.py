"""Typed access to a SPEC's ``?key=value`` options, one fault per line.

Every kind of source (see :mod:`data.specs`) reads its options through
:class:`SpecOptions`, so all kinds reject a misspelt option and read an
integer, a choice, a yes/no, a number or a list of NYU cameras the same way,
and report a bad value in the same one-line :class:`data.source.DataError`,
``WHERE: option NAME=VALUE ...``, where WHERE names the source: the embedded
kind (``embedded-eyes-sim``) or ``KIND:PATH`` (``nyu:/data/nyu/train``).

An option given with an empty value (``n=``) takes its default, as an absent
one does.

This module imports nothing of the readers, so every reader (and the
embedded worlds) can use it without an import cycle through
:mod:`data.specs`.
"""

from typing import Mapping, Optional, Sequence, Tuple

from data import source as source_lib

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
# NYU's three Kinects (front, top, side); the paper's "1x" is one view and
# "3x" all three (§3.3).
CAMERAS = (1, 2, 3)


class SpecOptions:
  """The options of one SPEC, checked against the names its kind accepts.

  Each accessor returns the option's value, or `default` when the option is
  absent or empty, and raises :class:`data.source.DataError` naming the
  source, the option and its value when the value is bad.
  """

  def __init__(self, where: str, options: Mapping[str, str],
               known: Sequence[str]):
    """Keeps `options` of the source `where`.

    Raises:
      DataError: an option not in `known` (a misspelling would otherwise be
        ignored silently).
    """
    self.where = str(where)
    self._options = dict(options)
    unknown = sorted(set(self._options) - set(known))
    if unknown and not known:
      raise source_lib.DataError(self.where,
                                 f"takes no options, got {unknown}")
    if unknown:
      raise source_lib.DataError(
          self.where, f"unknown option(s) {unknown}; expected {sorted(known)}")

  def _fault(self, name: str, text: str, fault: str) -> source_lib.DataError:
    return source_lib.DataError(self.where,
                                f"option {name}={text!r} {fault}")

  def text(self, name: str, default: Optional[str] = None) -> Optional[str]:
    """The option's text as given."""
    text = self._options.get(name)
    return default if text is None or text == "" else text

  def integer(self, name: str, default: Optional[int],
              minimum: Optional[int] = None) -> Optional[int]:
    """A decimal integer, at least `minimum` when one is given."""
    text = self.text(name)
    if text is None:
      return default
    try:
      value = int(text)
    except ValueError:
      raise self._fault(name, text, "is not an integer") from None
    if minimum is not None and value < minimum:
      raise source_lib.DataError(
          self.where, f"option {name}={value} is below {minimum}")
    return value

  def number(self, name: str, default: float) -> float:
    """A real number."""
    text = self.text(name)
    if text is None:
      return default
    try:
      return float(text)
    except ValueError:
      raise self._fault(name, text, "is not a number") from None

  def choice(self, name: str, choices: Sequence[str], default: str) -> str:
    """One of `choices`, spelt exactly."""
    text = self.text(name, default)
    if text not in choices:
      raise self._fault(name, text, f"is not one of {list(choices)}")
    return text

  def boolean(self, name: str, default: bool) -> bool:
    """true/false, 1/0, yes/no or on/off (any case)."""
    text = self.text(name)
    if text is None:
      return default
    value = text.strip().lower()
    if value in TRUE:
      return True
    if value in FALSE:
      return False
    raise self._fault(name, text, "is not true or false")

  def views(self, name: str = "views",
            default: Tuple[int, ...] = (1,)) -> Tuple[int, ...]:
    """Distinct cameras, in the order given: ``1``, ``3,1`` or ``all``."""
    text = self.text(name)
    if text is None:
      return default
    if text.strip().lower() == "all":
      return CAMERAS
    try:
      views = tuple(int(v) for v in text.split(","))
    except ValueError:
      views = ()
    if not views or any(v not in CAMERAS for v in views) or len(
        set(views)) != len(views):
      raise self._fault(
          name, text, "must be distinct cameras from 1,2,3 (e.g. views=1, "
          "views=1,2,3 or views=all)")
    return views
