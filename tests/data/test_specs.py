"""Tests of SPEC strings (data/specs.py) and options (data/spec_options.py)."""

import pytest

from data import source as source_lib
from data import spec_options
from data import specs
from data.embedded.eyes import source as eye_source
from data.embedded.hands import source as hand_source
from tests import helpers

_VIEWS_FAULT = ("must be distinct cameras from 1,2,3 (e.g. views=1, "
                "views=1,2,3 or views=all)")


def _options(**options):
  return spec_options.SpecOptions("kind:/p", options, tuple(options))


def _fault(call):
  with pytest.raises(source_lib.DataError) as error:
    call()
  return str(error.value)


# -- SpecOptions ------------------------------------------------------------


def test_unknown_options_are_named_with_the_known_ones():
  assert _fault(lambda: spec_options.SpecOptions(
      "kind:/p", {"b": "1", "a": "2", "n": "3"}, ("n", "m"))) == (
          "kind:/p: unknown option(s) ['a', 'b']; expected ['m', 'n']")
  assert _fault(lambda: spec_options.SpecOptions(
      "folder:/d", {"k": ""}, ())) == "folder:/d: takes no options, got ['k']"
  assert spec_options.SpecOptions("folder:/d", {}, ()).where == "folder:/d"


@pytest.mark.parametrize("text,default,minimum,value", [
    ("12", 3, None, 12), (" 7", 3, 0, 7), ("-4", 3, None, -4), ("1", 3, 1, 1),
    ("", 3, 1, 3), (None, 3, 1, 3), (None, None, 1, None)])
def test_integer(text, default, minimum, value):
  options = {} if text is None else {"n": text}
  parsed = spec_options.SpecOptions("kind:/p", options, ("n",))
  assert parsed.integer("n", default, minimum) == value


@pytest.mark.parametrize("text,fault", [
    ("x", "option n='x' is not an integer"),
    ("1.5", "option n='1.5' is not an integer"),
    (" ", "option n=' ' is not an integer"),
    ("0", "option n=0 is below 1"),
    ("-3", "option n=-3 is below 1")])
def test_integer_faults(text, fault):
  assert _fault(lambda: _options(n=text).integer("n", 5, 1)) == (
      f"kind:/p: {fault}")


def test_number():
  assert _options(a="2.5").number("a", 0.0) == 2.5
  assert _options(a="-1").number("a", 0.0) == -1.0
  assert _options(a="").number("a", 7.0) == 7.0
  assert _fault(lambda: _options(a="far").number("a", 0.0)) == (
      "kind:/p: option a='far' is not a number")


def test_choice():
  assert _options(split="real").choice("split", ("test", "real"),
                                       "test") == "real"
  assert _options(split="").choice("split", ("test", "real"), "test") == "test"
  assert _options().choice("split", ("test", "real"), "test") == "test"
  # Spelt exactly: no case folding, no stripping.
  for text in ("Test", " test"):
    assert _fault(lambda t=text: _options(split=t).choice(
        "split", ("test", "real"), "test")) == (
            f"kind:/p: option split={text!r} is not one of ['test', 'real']")


@pytest.mark.parametrize("text,value", [
    ("1", True), ("true", True), ("Yes", True), (" ON ", True), ("0", False),
    ("false", False), ("NO", False), ("off", False), ("", None), (None, None)])
def test_boolean(text, value):
  options = {} if text is None else {"b": text}
  parsed = spec_options.SpecOptions("kind:/p", options, ("b",))
  assert parsed.boolean("b", None) is value


def test_boolean_fault():
  assert _fault(lambda: _options(b="maybe").boolean("b", False)) == (
      "kind:/p: option b='maybe' is not true or false")


@pytest.mark.parametrize("text,views", [
    ("1", (1,)), ("3,1", (3, 1)), ("1, 2", (1, 2)), ("all", (1, 2, 3)),
    (" All ", (1, 2, 3)), ("2,3,1", (2, 3, 1)), ("", (1,)), (None, (1,))])
def test_views(text, views):
  options = {} if text is None else {"views": text}
  assert spec_options.SpecOptions("kind:/p", options,
                                  ("views",)).views() == views


@pytest.mark.parametrize("text", ["0", "4", "1,1", "1,,2", "front", "1;2"])
def test_views_faults(text):
  assert _fault(lambda: _options(views=text).views()) == (
      f"kind:/p: option views={text!r} {_VIEWS_FAULT}")


def test_text():
  assert _options(persons="p00,p01").text("persons") == "p00,p01"
  assert _options(persons="").text("persons") is None
  assert _options().text("persons", "all") == "all"


# -- SPEC strings -----------------------------------------------------------


def test_parse_spec():
  assert specs.parse_spec("embedded-eyes-sim?n=5&seed=") == (
      "embedded-eyes-sim", "", {"n": "5", "seed": ""})
  assert specs.parse_spec(" nyu:/d/train?views=1,2 ") == (
      "nyu", "/d/train", {"views": "1,2"})
  assert specs.parse_spec("h5:/c/x.h5") == ("h5", "/c/x.h5", {})


def test_parse_image_size():
  assert specs.parse_image_size("35x55") == (35, 55)
  assert specs.parse_image_size("") is None
  with pytest.raises(ValueError, match="must be positive"):
    specs.parse_image_size("0x55")


@pytest.mark.parametrize("spec,kind", [
    ("embedded-eyes-sim?n=2", eye_source.EmbeddedEyeSource),
    ("embedded-eyes-real?n=2", eye_source.EmbeddedEyeSource),
    ("embedded-eyes-oracle?n=2", eye_source.EmbeddedEyeSource),
    ("embedded-hands-sim?n=2", hand_source.EmbeddedHandSource),
    ("embedded-hands-real?n=2", hand_source.EmbeddedHandSource)])
def test_open_source_opens_the_embedded_kinds(spec, kind):
  source = specs.open_source(spec, (16, 16))
  assert isinstance(source, kind)
  assert source.domain == spec.partition("?")[0]


def test_specs_imports_no_reader():
  # Kinds are imported when a SPEC names them, so specs imports none (only
  # what readers share: the caps that --image_size is checked against).
  code = ("import sys, data.specs; print(sorted(m for m in sys.modules if "
          "m.startswith('data.')))")
  proc = helpers.run_python("-c", code)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.strip() == (
      "['data.input_files', 'data.source', 'data.specs']")


# -- the readers' options, through open_source ------------------------------


@pytest.mark.parametrize("spec,message", [
    ("folder:/no/such?x=1", "folder:/no/such: takes no options, got ['x']"),
    ("h5:/no/such.h5?x=1", "h5:/no/such.h5: takes no options, got ['x']"),
    ("unityeyes:/no/such?equalise=1", "unityeyes:/no/such: unknown option(s) "
     "['equalise']; expected ['equalize', 'max_head_angle']"),
    ("unityeyes:/no/such?max_head_angle=far",
     "unityeyes:/no/such: option max_head_angle='far' is not a number"),
    ("unityeyes:/no/such?equalize=maybe",
     "unityeyes:/no/such: option equalize='maybe' is not true or false"),
    ("mpiigaze:/no/such?split=train",
     "mpiigaze:/no/such: option split='train' is not one of ['test', 'real']"),
    ("mpiigaze:/no/such?overlap=2",
     "mpiigaze:/no/such: option overlap='2' is not true or false"),
    ("mpiigaze:/no/such?person=p00", "mpiigaze:/no/such: unknown option(s) "
     "['person']; expected ['overlap', 'persons', 'split']"),
    ("nyu:/no/such?views=4", f"nyu:/no/such: option views='4' {_VIEWS_FAULT}"),
    ("nyu:/no/such?domain=refined", "nyu:/no/such: option domain='refined' "
     "is not one of ['synthetic', 'real']"),
    ("nyu:/no/such?limit=0", "nyu:/no/such: option limit=0 is below 1"),
    ("nyu:/no/such?limit=x", "nyu:/no/such: option limit='x' is not an "
     "integer"),
    ("nyu:/no/such?frames=1", "nyu:/no/such: unknown option(s) ['frames']; "
     "expected ['domain', 'limit', 'views']"),
])
def test_readers_reject_bad_options_in_one_line(spec, message):
  assert _fault(lambda: specs.open_source(spec)) == message


@pytest.mark.parametrize("spec", [
    "unityeyes:/no/such?equalize=Yes&max_head_angle=20",
    "mpiigaze:/no/such?split=real&overlap=on&persons=p10",
    "nyu:/no/such?views=all&limit=2&domain=real", "folder:/no/such",
    "h5:/no/such.h5"])
def test_readers_accept_good_options(spec):
  # The options pass; the missing folder is what fails.
  assert _fault(lambda: specs.open_source(spec)).startswith("/no/such")
