"""The visual Turing test end to end in a real browser: a subject answers
all 120 trials in Chromium (driven by playwright), through a server killed
and restarted midway, and `report` counts every answer.

Debian's chromium (/usr/bin/chromium) runs headless, with the switches that
stop its background connections (the test machine has no network). Without
it (or without playwright) the test is skipped, unless
SIMGAN_BROWSER=required (as `make test` sets it, after installing
chromium): then it fails. SIMGAN_SCREENSHOT=PATH also saves the screenshot
of a trial page there (the README's picture).
"""

import json
import os
import re
import shutil

import pytest

from benchmarks.turing import pool as pool_lib
from benchmarks.turing import protocol
from data.embedded.eyes import parameters as eye_parameters
from data.embedded.eyes import source as eye_source
from tests import helpers
from tests.benchmarks import test_turing_server as turing_http

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1200, "height": 900}
SUBJECT = "walker"
KILLED_AFTER = 40   # answers given before the server is SIGKILLed
SCREENSHOT_AT = 3   # the trial (1-based, as shown) whose page is saved
TIMEOUT_MS = 20000


def _browser_or_skip():
  """playwright's sync_playwright, or a skip (a failure when
  SIMGAN_BROWSER=required) naming what is missing."""
  missing = None
  try:
    from playwright import sync_api  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    missing = f"playwright does not import ({e})"
  if missing is None and not os.access(CHROMIUM, os.X_OK):
    missing = f"no browser at {CHROMIUM} (apt-get install chromium)"
  if missing is None:
    return sync_api.sync_playwright
  if os.environ.get("SIMGAN_BROWSER") == "required":
    pytest.fail(f"SIMGAN_BROWSER=required, but {missing}")
  pytest.skip(missing)


def eye_pool(n=turing_http.POOL_SIZE):
  """A pool of the embedded eye world's test images (rendered in NumPy in a
  fraction of a second): its real stand-in, its oracle (what a perfect
  refiner makes of the simulator's images) as 'refined', and the simulator
  as 'synthetic'."""
  unit = [eye_source.EmbeddedEyeSource(domain, "test", n, 0).read_all()
          for domain in (eye_parameters.REAL, eye_parameters.ORACLE,
                         eye_parameters.SIM)]
  return pool_lib.from_unit(*unit, task="eye")


def scripted_answer(trial_number):
  """The scripted subject: 'real' when the trial number is a multiple of
  3, else 'synthetic' (blind to the image)."""
  return "real" if trial_number % 3 == 0 else "synthetic"


def _answer(page, shown):
  """Answers the trial page on screen (the `shown`-th, 1-based) by the
  scripted rule, alternately by keyboard (R / S) and by clicking the
  button; waits for the next page. Returns the trial number answered."""
  number, progress = page.evaluate(
      "() => [document.querySelector('input[name=trial]').value, "
      "document.getElementById('progress').innerText]")
  assert " ".join(progress.split()) == f"trial {shown} of {turing_http.TRIALS}"
  number = int(number)
  answer = scripted_answer(number)
  # The next page's DOM (its form and key handler) is enough to answer it;
  # its images may still be loading, as for a quick subject.
  with page.expect_navigation(wait_until="domcontentloaded"):
    if shown % 2:
      page.keyboard.press("r" if answer == "real" else "s")
    else:
      page.click(f"#{answer}")
  return number


def _screenshot(page, path):
  """Saves the page once every image on it (the trial image and the 40
  examples) has loaded and decoded."""
  page.wait_for_load_state("load")
  assert page.evaluate("Array.from(document.images).map(i => i.complete && "
                       "i.naturalWidth)") == [330] + [110] * 40
  page.screenshot(path=str(path))
  target = os.environ.get("SIMGAN_SCREENSHOT")
  if target:
    shutil.copyfile(path, target)


def test_a_subject_answers_everything_through_a_server_restart(tmp_path):
  """In Chromium: the start page takes the id 'walker' (typed, then Begin);
  40 trials are answered by the scripted rule (trial number % 3 == 0:
  'real'), half by the R / S keys and half by clicks, each page showing
  'trial N of 120'; the server is then SIGKILLed with those 40 answers
  already stored, a new server on the same folder (another port) resumes
  /s/walker at 'trial 41 of 120', the other 80 are answered and the
  thank-you page (#done) appears. `report` then counts all 120 answers in
  the confusion matrices that walker's plan and the rule give, in
  table1.json and table1.md. A trial page is saved as a screenshot."""
  sync_playwright = _browser_or_skip()
  results = str(tmp_path / "results")
  pool = turing_http.write_pool(results, eye_pool())
  plan = protocol.plan(SUBJECT, turing_http.SEED, pool.sizes)
  assert len(plan) == turing_http.TRIALS
  numbers = []

  with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
      page = browser.new_page(viewport=VIEWPORT)
      page.set_default_timeout(TIMEOUT_MS)
      with turing_http.serving(results, tmp_path / "first") as (server,
                                                                 base):
        page.goto(base + "/")
        assert page.title() == "Real or synthetic?"
        page.fill("#subject", SUBJECT)
        with page.expect_navigation(wait_until="load"):
          page.click("#begin")
        assert page.url == f"{base}/s/{SUBJECT}"
        for shown in range(1, KILLED_AFTER + 1):
          if shown == SCREENSHOT_AT:
            _screenshot(page, tmp_path / "trial.png")
          numbers.append(_answer(page, shown))
        assert " ".join(page.inner_text("#progress").split()) == (
            "trial 41 of 120")
        server.kill()
        assert server.stderr() == ""
      assert len(turing_http.answers(results)) == KILLED_AFTER

      with turing_http.serving(results, tmp_path / "second") as (server,
                                                                  base):
        page.goto(f"{base}/s/{SUBJECT}")
        assert page.title() == "Trial 41 of 120"
        for shown in range(KILLED_AFTER + 1, turing_http.TRIALS + 1):
          numbers.append(_answer(page, shown))
        assert page.inner_text("#done") == "Thank you!"
        assert "All 120 answers of subject walker are saved" in " ".join(
            page.inner_text("body").split())
        # Pages left before their images came are no fault of the server.
        assert server.stderr() == ""
    finally:
      browser.close()

  assert numbers == list(range(turing_http.TRIALS))
  assert (tmp_path / "trial.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  stored = turing_http.answers(results)
  assert [(a["subject"], a["number"], a["kind"], a["image"], a["answer"])
          for a in stored] == [
              (SUBJECT, t.number, t.kind, t.image, scripted_answer(t.number))
              for t in plan]

  proc = helpers.run_module(turing_http.MODULE, "report",
                            f"--results={results}", timeout=120)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(os.path.join(results, "table1.json")) as f:
    human = json.load(f)["human"]
  expected = turing_http.expected_blocks(
      (t, scripted_answer(t.number)) for t in plan)
  # 'real' for trials 0, 3, ..., 117: 40 of them, 100 + 20 trials in all.
  assert sum(cells[f"{truth}_as_real"] for cells in expected.values()
             for truth in ("real", "synthetic")) == 40
  assert [sum(expected[block].values()) for block in protocol.BLOCKS] == [
      100, 20]
  for block, cells in expected.items():
    assert {c: human["blocks"][block][c] for c in cells} == cells, block
  assert [(s["subject"], s["answered"]) for s in human["subjects"]] == [
      (SUBJECT, 120)]
  with open(os.path.join(results, "table1.md")) as f:
    markdown = re.sub(r" +", " ", f.read())
  assert "## Human subjects (subjects: 1, answers: 120)" in markdown
  refined = expected["refined"]
  assert (f"| Ground truth real | {refined['real_as_real']} | "
          f"{refined['real_as_synthetic']} |") in markdown
  assert (f"| Ground truth refined | {refined['synthetic_as_real']} | "
          f"{refined['synthetic_as_synthetic']} |") in markdown
  for cells in expected.values():
    correct = cells["real_as_real"] + cells["synthetic_as_synthetic"]
    assert f"| {correct} / {sum(cells.values())} |" in markdown
