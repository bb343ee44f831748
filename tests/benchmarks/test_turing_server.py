"""The visual Turing test's server and report, over HTTP, as a user runs
them: ``python -m benchmarks.turing_test serve|report --results=DIR``
(benchmarks/turing_test.py, benchmarks/turing/).

The server runs as a subprocess on a free port (``--port=0``; the address
is read from its first stdout line) and is SIGKILLed at teardown. Requests
go through the standard library (http.client), so status codes and
redirects are seen as sent. The answers are read back from the results
folder's turing.sqlite.

The module also holds what tests/benchmarks/test_turing_browser.py shares:
``serving``, ``request``, ``expected_blocks``.
"""

import collections
import contextlib
import http.client
import json
import os
import re
import socket
import sqlite3
import statistics
import struct
import time
import urllib.parse

import cv2
import numpy as np
import pytest

from benchmarks.turing import pool as pool_lib
from benchmarks.turing import protocol
from benchmarks.turing import store as store_lib
from tests import helpers

MODULE = "benchmarks.turing_test"
# 90 images of each kind: 20 examples, then 50 + 10 real and 50 refined /
# 10 synthetic trials: 120 trials a subject.
POOL_SIZE = 90
IMAGE_SHAPE = (35, 55, 1)
TRIALS = 120
SEED = 0  # The server's --seed (its default).
TRIAL_FACTOR = 6    # ceil(TRIAL_WIDTH 330 / 55)
EXAMPLE_FACTOR = 2  # ceil(EXAMPLE_WIDTH 110 / 55)
ADDRESS = re.compile(r"open (http://(127\.0\.0\.1):([0-9]+))/ ")

Response = collections.namedtuple("Response", "status headers body")


# ---------------------------------------------------------------- helpers


def random_pool(seed=0):
  """A pool of POOL_SIZE random images of each kind (eye-sized)."""
  rng = np.random.default_rng(seed)
  images = [rng.integers(0, 256, (POOL_SIZE, *IMAGE_SHAPE), dtype=np.uint8)
            for _ in pool_lib.KINDS]
  return pool_lib.Pool(*images, task="eye")


def write_pool(results, pool):
  """RESULTS/turing_pool.npz holding `pool`; returns `pool`."""
  os.makedirs(results, exist_ok=True)
  pool_lib.write_pool(os.path.join(results, pool_lib.POOL_FILE), pool)
  return pool


def wait_for_address(process, timeout=120):
  """The base URL (http://127.0.0.1:PORT) the server binary prints first;
  fails if it exits or prints none within `timeout` seconds."""
  deadline = time.monotonic() + timeout
  while True:
    first = process.stdout().partition("\n")[0]
    match = ADDRESS.search(first)
    if match:
      return match.group(1)
    if not process.running():
      pytest.fail(f"the server exited with {process.process.returncode}: "
                  f"{process.stderr()[-3000:]}")
    if time.monotonic() > deadline:
      pytest.fail(f"no address within {timeout} s: {first!r}")
    time.sleep(0.02)


@contextlib.contextmanager
def serving(results, log):
  """`serve --results=RESULTS --port=0` in the background: yields (the
  helpers.Background process, its base URL); SIGKILLed at exit."""
  with helpers.start_module(MODULE, "serve", f"--results={results}",
                            "--port=0", log=log) as process:
    yield process, wait_for_address(process)


def request(base, method, path, body=None):
  """One request on a fresh connection: a Response (status, headers as a
  dict with lower-case names, body bytes). `body`, a dict or str, is sent
  as a form."""
  if isinstance(body, dict):
    body = urllib.parse.urlencode(body)
  headers = ({"Content-Type": "application/x-www-form-urlencoded"}
             if body is not None else {})
  url = urllib.parse.urlsplit(base)
  connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
  try:
    connection.request(method, path,
                       body.encode() if body is not None else None, headers)
    response = connection.getresponse()
    return Response(response.status,
                    {k.lower(): v for k, v in response.getheaders()},
                    response.read())
  finally:
    connection.close()


def text(response):
  """A page's HTML with runs of white space as one space (as shown)."""
  return " ".join(response.body.decode().split())


def hidden_trial(response):
  """The value of a trial page's hidden `trial` input, as an int."""
  return int(re.search(r'name="trial" value="([0-9]+)"',
                       response.body.decode()).group(1))


def answers(results):
  """Every stored answer of the study in RESULTS (the store's rows)."""
  store = store_lib.Store(os.path.join(results, store_lib.DB_FILE))
  try:
    return store.answers()
  finally:
    store.close()


def subjects(results):
  """The ids of the subjects registered in RESULTS/turing.sqlite."""
  with contextlib.closing(sqlite3.connect(
      os.path.join(results, store_lib.DB_FILE))) as db:
    return [row[0] for row in
            db.execute("SELECT subject FROM subjects ORDER BY subject")]


def upscaled(image, factor):
  """`image` (h, w, 1) enlarged by nearest neighbours, as (h*f, w*f)."""
  return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)[..., 0]


def decoded(response):
  assert response.status == 200
  assert response.headers["content-type"] == "image/png"
  return cv2.imdecode(np.frombuffer(response.body, np.uint8),
                      cv2.IMREAD_UNCHANGED)


def expected_blocks(answered):
  """{block: confusion cells} over `answered`, (Trial, answer) pairs."""
  blocks = {block: dict.fromkeys(("real_as_real", "real_as_synthetic",
                                  "synthetic_as_real",
                                  "synthetic_as_synthetic"), 0)
            for block in protocol.BLOCKS}
  for trial, answer in answered:
    blocks[trial.block][f"{trial.truth}_as_{answer}"] += 1
  return blocks


# --------------------------------------------------------------- fixtures


Served = collections.namedtuple("Served", "results pool base process")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
  """The server binary on a fresh random pool; SIGKILLed after the
  module's tests (each test uses subjects of its own)."""
  folder = tmp_path_factory.mktemp("turing_server")
  results = str(folder / "results")
  pool = write_pool(results, random_pool())
  with serving(results, folder / "serve") as (process, base):
    yield Served(results, pool, base, process)


@pytest.fixture(scope="module")
def bob(served):
  """Subject 'bob', started, with trial 0 answered: the next trial is 1."""
  started = request(served.base, "POST", "/start", {"subject": "bob"})
  assert started.status == 303
  assert request(served.base, "POST", "/s/bob/answer",
                 {"trial": 0, "answer": "real"}).status == 303
  assert [a["number"] for a in answers(served.results)
          if a["subject"] == "bob"] == [0]
  return "bob"


# ------------------------------------------------------------------ tests


def test_a_subject_starts_answers_and_moves_on(served):
  """POST /start subject=alice redirects (303) to /s/alice, which shows
  trial 1 of 120 (trial number 0); answering it redirects back to the page
  of trial 2 (number 1), and the database then holds exactly that answer,
  of the image the subject's plan puts first, with its response time.
  Starting again with the same id resumes, without a new plan."""
  base = served.base
  started = request(base, "POST", "/start", {"subject": "alice"})
  assert (started.status, started.headers["location"]) == (303, "/s/alice")
  page = request(base, "GET", "/s/alice")
  assert page.status == 200
  assert page.headers["content-type"] == "text/html; charset=utf-8"
  assert "<title>Trial 1 of 120</title>" in text(page)
  assert "trial 1 of 120" in text(page)
  assert hidden_trial(page) == 0
  assert not [a for a in answers(served.results) if a["subject"] == "alice"]

  answered = request(base, "POST", "/s/alice/answer",
                     {"trial": 0, "answer": "synthetic"})
  assert (answered.status, answered.headers["location"]) == (303,
                                                             "/s/alice")
  page = request(base, "GET", "/s/alice")
  assert "trial 2 of 120" in text(page)
  assert hidden_trial(page) == 1

  first = protocol.plan("alice", SEED, served.pool.sizes)[0]
  stored = [a for a in answers(served.results) if a["subject"] == "alice"]
  assert len(stored) == 1
  response_seconds = stored[0].pop("response_seconds")
  assert stored == [{"subject": "alice", "number": 0, "block": first.block,
                     "kind": first.kind, "image": first.image,
                     "answer": "synthetic"}]
  assert 0 <= response_seconds < 60

  again = request(base, "POST", "/start", {"subject": "alice"})
  assert (again.status, again.headers["location"]) == (303, "/s/alice")
  assert "trial 2 of 120" in text(request(base, "GET", "/s/alice"))
  assert len([a for a in answers(served.results)
              if a["subject"] == "alice"]) == 1


_PADDED = "trial=1&answer=real&pad="
BAD_REQUESTS = {
    # name: (method, path, form body, status)
    "unknown subject answers": ("POST", "/s/nobody/answer",
                                "trial=0&answer=real", 404),
    "unknown subject's page": ("GET", "/s/nobody", None, 404),
    "unknown subject's image": ("GET", "/s/nobody/image/0.png", None, 404),
    "replayed trial": ("POST", "/s/bob/answer", "trial=0&answer=real", 409),
    "replayed trial, other answer": ("POST", "/s/bob/answer",
                                     "trial=0&answer=synthetic", 409),
    "trial not next": ("POST", "/s/bob/answer", "trial=2&answer=real", 409),
    "last trial first": ("POST", "/s/bob/answer", "trial=119&answer=real",
                         409),
    "trial out of range": ("POST", "/s/bob/answer", "trial=120&answer=real",
                           404),
    "image out of range": ("GET", "/s/bob/image/120.png", None, 404),
    "non-numeric trial": ("POST", "/s/bob/answer", "trial=one&answer=real",
                          400),
    "negative trial": ("POST", "/s/bob/answer", "trial=-1&answer=real", 400),
    "decimal trial": ("POST", "/s/bob/answer", "trial=1.0&answer=real", 400),
    "no trial": ("POST", "/s/bob/answer", "answer=real", 400),
    "non-numeric image": ("GET", "/s/bob/image/one.png", None, 400),
    "answer neither": ("POST", "/s/bob/answer", "trial=1&answer=refined",
                       400),
    "answer capitalised": ("POST", "/s/bob/answer", "trial=1&answer=Real",
                           400),
    "no answer": ("POST", "/s/bob/answer", "trial=1", 400),
    "subject with a path": ("POST", "/start", "subject=..%2Fx", 400),
    "subject of 40 characters": ("POST", "/start", "subject=" + "a" * 40,
                                 400),
    "empty subject": ("POST", "/start", "subject=", 400),
    "subject with a space": ("POST", "/start", "subject=a+b", 400),
    "page of a subject with a path": ("GET", "/s/..%2Fx", None, 400),
    "answer over 1024 bytes": ("POST", "/s/bob/answer",
                               _PADDED + "x" * (1025 - len(_PADDED)), 413),
    "start over 1024 bytes": ("POST", "/start", "subject=zed&pad=" +
                              "x" * 1010, 413),
    "unknown page": ("GET", "/nope", None, 404),
    "unknown form": ("POST", "/nope", "subject=zed", 404),
    "answer by GET": ("GET", "/s/bob/answer", None, 404),
    "example 20": ("GET", "/examples/real/20.png", None, 404),
    "example 99 of refined": ("GET", "/examples/refined/99.png", None, 404),
    "example of no kind": ("GET", "/examples/fake/0.png", None, 404),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_a_bad_request_gets_its_status_and_changes_nothing(served, bob,
                                                           name):
  """Each bad request gets its 4xx status with an error page, and the
  stored answers, the registered subjects and bob's next trial (number 1,
  'trial 2 of 120') are as before. The padded answer of 1025 bytes would
  be a valid answer to trial 1 but for its size."""
  method, path, body, status = BAD_REQUESTS[name]
  before = answers(served.results), subjects(served.results)
  response = request(served.base, method, path, body)
  assert response.status == status
  assert f"<h1>{status}</h1>" in text(response)
  assert (answers(served.results), subjects(served.results)) == before
  assert "zed" not in before[1]
  page = request(served.base, "GET", f"/s/{bob}")
  assert "trial 2 of 120" in text(page)
  assert hidden_trial(page) == 1


def test_a_body_of_1024_bytes_is_read(served):
  """The body limit is 1024 bytes: a start of exactly that size (padded)
  registers its subject."""
  body = "subject=dora&pad="
  body += "x" * (1024 - len(body))
  assert len(body) == 1024
  started = request(served.base, "POST", "/start", body)
  assert (started.status, started.headers["location"]) == (303, "/s/dora")
  assert "dora" in subjects(served.results)


def test_a_trial_image_hides_its_kind_and_is_the_pool_image(served):
  """A trial page's image address is /s/SUBJECT/image/NUMBER.png (no
  'real', 'refined' or 'synthetic' in it), for a trial of each kind alike;
  its PNG decodes to the pool image of the subject's plan enlarged 6x by
  nearest neighbours (35x55 -> 210x330). The 20 + 20 examples on screen
  are /examples/real/0..19 and /examples/refined/0..19, enlarged 2x."""
  base, pool = served.base, served.pool
  assert request(base, "POST", "/start", {"subject": "carol"}).status == 303
  page = request(base, "GET", "/s/carol").body.decode()
  source = re.search(r'id="trial-image"\s+src="([^"]+)"', page).group(1)
  assert source == "/s/carol/image/0.png"
  assert not any(kind in source for kind in pool_lib.KINDS)

  plan = protocol.plan("carol", SEED, pool.sizes)
  first_of_kind = {}
  for trial in plan:
    first_of_kind.setdefault(trial.kind, trial)
  assert sorted(first_of_kind) == sorted(pool_lib.KINDS)
  for trial in [plan[0], *first_of_kind.values()]:
    image = decoded(request(base, "GET",
                            f"/s/carol/image/{trial.number}.png"))
    assert image.shape == (35 * TRIAL_FACTOR, 55 * TRIAL_FACTOR) == (210,
                                                                     330)
    np.testing.assert_array_equal(
        image, upscaled(pool.images(trial.kind)[trial.image], TRIAL_FACTOR))

  assert re.findall(r"src='(/examples/[^']+)'", page) == (
      [f"/examples/real/{i}.png" for i in range(20)] +
      [f"/examples/refined/{i}.png" for i in range(20)])
  for kind, index in (("real", 0), ("refined", 19), ("synthetic", 7)):
    image = decoded(request(base, "GET", f"/examples/{kind}/{index}.png"))
    assert image.shape == (70, 110)
    np.testing.assert_array_equal(
        image, upscaled(pool.images(kind)[index], EXAMPLE_FACTOR))


def _listeners(port):
  """The local addresses (hex, as /proc/net/tcp* writes them) listening on
  `port`."""
  found = []
  for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    with open(table) as f:
      for line in f.readlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.rsplit(":", 1)
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN.
          found.append(address)
  return found


def _non_loopback_ip():
  """An IPv4 address of this machine outside 127/8, or None."""
  with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
    try:
      probe.connect(("192.0.2.255", 9))  # No packet is sent.
      address = probe.getsockname()[0]
    except OSError:
      return None
  return None if address.startswith("127.") else address


def _refused(host, port):
  try:
    socket.create_connection((host, port), timeout=5).close()
  except ConnectionRefusedError:
    return True
  return False


def test_the_server_listens_on_127_0_0_1_only(served):
  """The address printed is 127.0.0.1, the only socket listening on its
  port is bound to 127.0.0.1 (not the wildcard: 127.0.0.2 is refused), and
  a connection to the machine's own non-loopback address is refused (where
  it has one)."""
  url = urllib.parse.urlsplit(served.base)
  assert url.hostname == "127.0.0.1"
  if os.path.exists("/proc/net/tcp"):
    assert _listeners(url.port) == ["0100007F"]
  assert _refused("127.0.0.2", url.port)
  address = _non_loopback_ip()
  if address is not None:
    assert _refused(address, url.port), address
  assert request(served.base, "GET", "/").status == 200


def _sockets(pid):
  """How many sockets process `pid` holds open."""
  count = 0
  for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
      count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    except FileNotFoundError:  # Closed meanwhile.
      pass
  return count


def test_a_browser_hanging_up_is_no_error(served):
  """Connections reset by the client (as a browser resets those of a page
  it leaves before its images came), after its reply or right after its
  request (so that the reply's write fails), end quietly: nothing on the
  server's stderr (no 'error:' line, no traceback), and it goes on
  serving."""
  url = urllib.parse.urlsplit(served.base)
  for i in range(5):
    for read_reply in (True, False):
      connection = socket.create_connection((url.hostname, url.port))
      # Closing with unread data, or with SO_LINGER 0, sends a reset.
      connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
      connection.sendall(f"GET /examples/real/{i}.png HTTP/1.1\r\n"
                         "Host: x\r\n\r\n".encode())
      if read_reply:  # Wait for the reply, then reset the idle connection.
        assert connection.recv(12) == b"HTTP/1.1 200"
      connection.close()
  assert request(served.base, "GET", "/").status == 200
  pid = served.process.pid
  if os.path.isdir(f"/proc/{pid}/fd"):
    # A connection's socket is closed after anything its thread reports:
    # once only the listening socket is left, stderr has all it will get.
    deadline = time.monotonic() + 30
    while _sockets(pid) > 1 and time.monotonic() < deadline:
      time.sleep(0.01)
    assert _sockets(pid) == 1
  assert served.process.stderr() == ""


def test_a_kept_alive_connection_answers_without_delay(served):
  """Requests on one kept-alive connection (as a browser loads the 41
  images of a trial page) are answered in well under the 40 ms that
  Nagle's algorithm and a delayed ACK add to each reply sent as two
  writes (headers, body) without TCP_NODELAY."""
  url = urllib.parse.urlsplit(served.base)
  connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
  seconds = []
  try:
    for i in range(21):
      start = time.perf_counter()
      connection.request("GET", f"/examples/refined/{i % 20}.png")
      response = connection.getresponse()
      assert (response.status, len(response.read()) > 0) == (200, True)
      seconds.append(time.perf_counter() - start)
  finally:
    connection.close()
  assert statistics.median(seconds) < 0.02, seconds


def _pool_folder(path):
  write_pool(str(path), random_pool())


def _corrupt_pool(path):
  """A pool file cut in half, as an interrupted copy leaves it."""
  _pool_folder(path)
  pool_file = path / pool_lib.POOL_FILE
  data = pool_file.read_bytes()
  pool_file.write_bytes(data[:len(data) // 2])


def _corrupt_database(path):
  _pool_folder(path)
  (path / store_lib.DB_FILE).write_bytes(b"not SQLite " * 100)


BAD_INVOCATIONS = {
    # name: (set-up of the results folder, command, error line's text after
    # 'error: '; {} is the results folder)
    "no command": (_pool_folder, [],
                   "expected one command, serve or report; got none"),
    "unknown command": (_pool_folder, ["start"],
                        "expected one command, serve or report; got start"),
    "two commands": (_pool_folder, ["serve", "report"],
                     "expected one command, serve or report; got serve "
                     "report"),
    "no pool": (os.makedirs, ["serve"],
                "{}/turing_pool.npz: no Turing-test images; a reproduction "
                "writes them in its 'turing test' stage (make "
                "reproduce-table2)"),
    "corrupt pool": (_corrupt_pool, ["serve"],
                     "{}/turing_pool.npz: not a Turing-test pool: File is "
                     "not a zip file"),
    "corrupt database": (_corrupt_database, ["serve"],
                         "{}/turing.sqlite: not a Turing-test database: "
                         "file is not a database"),
}


def _contents(folder):
  return {name: (folder / name).read_bytes()
          for name in sorted(os.listdir(folder))}


@pytest.mark.parametrize("name", list(BAD_INVOCATIONS))
def test_a_bad_invocation_is_one_error_line(tmp_path, name):
  """Each bad invocation exits 1 with one 'error:' line (no traceback)
  naming the fault, and leaves the results folder as it was (no database
  created beside a missing or corrupt pool)."""
  set_up, command, line = BAD_INVOCATIONS[name]
  results = tmp_path / "results"
  set_up(results)
  before = _contents(results)
  proc = helpers.run_module(MODULE, *command, f"--results={results}",
                            "--port=0", timeout=120)
  helpers.assert_one_error_line(proc, "error: " + line.format(results))
  assert proc.stdout == ""
  assert _contents(results) == before


def test_a_port_in_use_is_one_error_line(tmp_path):
  """`serve --port=N` with N already listened on exits 1 with one line
  naming the port and the reason, and serves nothing."""
  results = tmp_path / "results"
  _pool_folder(results)
  with socket.socket() as taken:
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    proc = helpers.run_module(MODULE, "serve", f"--results={results}",
                              f"--port={port}", timeout=120)
  helpers.assert_one_error_line(
      proc, f"error: --port={port}: cannot listen on 127.0.0.1: Address "
      "already in use")
  assert proc.stdout == ""


def _by_image_parity(trial):
  """The scripted subject: 'real' for an even pool index, whatever the
  truth."""
  return "real" if trial.image % 2 == 0 else "synthetic"


def test_report_counts_the_scripted_answers(tmp_path):
  """`report` on a study where dana answered all 120 trials and eve the
  first 30, each by the image's pool index (even: 'real'), writes
  table1.json with the confusion matrix of each block that the subjects'
  plans and that rule give, per subject the number answered, and no
  machine observer; table1.md holds the same numbers."""
  results = tmp_path / "results"
  pool = write_pool(str(results), random_pool(seed=1))
  store = store_lib.Store(str(results / store_lib.DB_FILE))
  answered = []
  for subject, count in (("dana", TRIALS), ("eve", 30)):
    plan = protocol.plan(subject, SEED, pool.sizes)
    assert len(plan) == TRIALS
    store.start(subject, SEED, plan)
    for trial in plan[:count]:
      store.answer(subject, trial.number, _by_image_parity(trial))
      answered.append((trial, _by_image_parity(trial)))
  store.close()
  expected = expected_blocks(answered)
  assert sum(sum(cells.values()) for cells in expected.values()) == 150

  proc = helpers.run_module(MODULE, "report", f"--results={results}",
                            timeout=120)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.endswith(f"wrote {results}/table1.md\n")
  table = json.loads((results / "table1.json").read_text())
  assert table["machine_observer"] is None
  blocks = table["human"]["blocks"]
  assert sorted(blocks) == ["refined", "synthetic"]
  for block, cells in expected.items():
    correct = cells["real_as_real"] + cells["synthetic_as_synthetic"]
    trials = sum(cells.values())
    assert {c: blocks[block][c] for c in cells} == cells, block
    assert (blocks[block]["correct"], blocks[block]["trials"]) == (
        correct, trials)
    assert blocks[block]["accuracy"] == pytest.approx(correct / trials)
  assert blocks["refined"]["trials"] == 100 + 30
  assert blocks["synthetic"]["trials"] == 20
  assert [(s["subject"], s["answered"]) for s in table["human"]["subjects"]
         ] == [("dana", 120), ("eve", 30)]

  markdown = re.sub(r" +", " ", (results / "table1.md").read_text())
  assert "## Human subjects (subjects: 2, answers: 150)" in markdown
  refined = expected["refined"]
  assert (f"| Ground truth real | {refined['real_as_real']} | "
          f"{refined['real_as_synthetic']} |") in markdown
  assert (f"| Ground truth refined | {refined['synthetic_as_real']} | "
          f"{refined['synthetic_as_synthetic']} |") in markdown
  for block in expected:
    assert (f"| {blocks[block]['correct']} / {blocks[block]['trials']} |"
            in markdown)
