"""The visual Turing test served to a person in a browser (paper §3.1).

A standard-library HTTP server (no framework: a handful of routes and one
form per trial need none) bound to 127.0.0.1. Routes:

  GET  /                          the start page: a subject id
  POST /start                     subject=ID -> the subject's trials
  GET  /s/ID                      the next trial (or the thank-you page)
  POST /s/ID/answer               trial=N&answer=real|synthetic
  GET  /s/ID/image/N.png          trial N's image (its kind is not in the
                                  address)
  GET  /examples/KIND/I.png       example I of KIND on screen

Images are upscaled with nearest neighbours, trial and example images
alike, to a fixed width. Every answer is committed to the store before the
next page is sent. A bad request (unknown subject, replayed or out-of-range
trial, a non-numeric id, a body over MAX_BODY bytes) gets a 4xx status and
changes nothing.
"""

import html
import http.server
import re
import sys
import threading
import urllib.parse
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from benchmarks.turing import pool as pool_lib
from benchmarks.turing import protocol
from benchmarks.turing import store as store_lib

HOST = "127.0.0.1"
MAX_BODY = 1024
TRIAL_WIDTH = 330      # pixels of a trial image on screen, at least
EXAMPLE_WIDTH = 110    # ... of an example

_STYLE = """
body{font-family:sans-serif;margin:1em;background:#f4f4f4;color:#222}
.examples{display:flex;gap:2em}.examples section{flex:1}
.examples img{margin:2px}.trial{text-align:center;margin:1em}
.trial img{border:4px solid #888}
button{font-size:1.3em;padding:.4em 1.4em;margin:.5em}
progress{width:20em}
"""
_KEYS = """
<script>
document.addEventListener('keydown', function (e) {
  var key = e.key.toLowerCase();
  var button = document.getElementById(
      key === 'r' || key === 'arrowleft' ? 'real' :
      key === 's' || key === 'arrowright' ? 'synthetic' : '');
  if (button) { e.preventDefault(); button.click(); }
});
</script>
"""


def upscaled_png(image: np.ndarray, width: int) -> bytes:
  """`image` (h, w, c uint8) as PNG, enlarged by the integer factor that
  makes it at least `width` wide, with nearest neighbours (pixels stay
  visible; no interpolation hides or adds detail)."""
  factor = max(1, -(-width // image.shape[1]))
  big = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
  ok, data = cv2.imencode(".png", big)
  if not ok:
    raise ValueError("PNG encoding failed")
  return data.tobytes()


def _page(title: str, body: str) -> bytes:
  return (f"<!doctype html><html><head><meta charset='utf-8'>"
          f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
          f"</head><body>{body}</body></html>").encode()


class TuringTest:
  """The study on one pool and one store: what the handler serves."""

  def __init__(self, pool: pool_lib.Pool, store: store_lib.Store, seed: int):
    self.pool = pool
    self.store = store
    self.seed = seed
    self._pngs: Dict[Tuple[str, int, int], bytes] = {}
    self._lock = threading.Lock()

  def png(self, kind: str, index: int, width: int) -> bytes:
    key = (kind, index, width)
    with self._lock:
      if key not in self._pngs:
        self._pngs[key] = upscaled_png(self.pool.images(kind)[index], width)
      return self._pngs[key]

  def start_page(self) -> bytes:
    return _page("Real or synthetic?", f"""
<h1>Real or synthetic?</h1>
<p>You will see {self.pool.task} images one at a time. Some are real
photographs, some were made by a computer. Say which each one is: press
<b>R</b> for real or <b>S</b> for synthetic (or click). Examples of both
stay on screen. Your answers are saved as you go: you can close the page
and come back with the same id.</p>
<form method="post" action="/start">
<label>Your subject id: <input name="subject" id="subject" required
pattern="[A-Za-z0-9_-]{{1,32}}" autofocus></label>
<button type="submit" id="begin">Begin</button></form>""")

  def trial_page(self, subject: str) -> bytes:
    trial = self.store.next_trial(subject)
    progress = self.store.progress(subject)
    if trial is None:
      return _page("Thank you", f"""
<h1 id="done">Thank you!</h1><p>All {progress['total']} answers of
subject {html.escape(subject)} are saved. You may close this page.</p>""")
    self.store.shown(subject, trial.number)
    examples = protocol.reference_images(trial.block)
    columns = "".join(
        f"<section><h3>{'Real' if kind == 'real' else 'Synthetic'} "
        f"examples</h3>" + "".join(
            f"<img src='/examples/{kind}/{i}.png' alt=''>" for i in indices)
        + "</section>" for kind, indices in examples.items())
    done, total = progress["answered"], progress["total"]
    quoted = urllib.parse.quote(subject)
    return _page(f"Trial {done + 1} of {total}", f"""
<p>Subject {html.escape(subject)} — <span id="progress">trial {done + 1}
of {total}</span> <progress value="{done}" max="{total}"></progress></p>
<div class="trial"><img id="trial-image"
src="/s/{quoted}/image/{trial.number}.png" alt="image to judge">
<form method="post" action="/s/{quoted}/answer">
<input type="hidden" name="trial" value="{trial.number}">
<button type="submit" name="answer" value="real" id="real">Real (R)</button>
<button type="submit" name="answer" value="synthetic" id="synthetic">
Synthetic (S)</button></form></div>
<div class="examples">{columns}</div>{_KEYS}""")


class HTTPError(Exception):
  def __init__(self, status: int, message: str):
    super().__init__(message)
    self.status = status


def _number(text: str, what: str) -> int:
  if not re.fullmatch(r"[0-9]{1,9}", text or ""):
    raise HTTPError(400, f"{what} must be a number, got {text!r}")
  return int(text)


def _subject(text: str) -> str:
  try:
    return protocol.check_subject(urllib.parse.unquote(text))
  except ValueError as e:
    raise HTTPError(400, str(e)) from e


class Handler(http.server.BaseHTTPRequestHandler):
  """Routes of the module doc; `server.test` is the TuringTest."""
  server_version = "SimGAN-Turing"
  protocol_version = "HTTP/1.1"
  # Headers and body are two writes: without TCP_NODELAY the body waits
  # for the client's delayed ACK (~40 ms a response on Linux).
  disable_nagle_algorithm = True

  def log_message(self, format, *args):  # pylint: disable=redefined-builtin
    pass  # A subject's clicks are not worth a terminal line each.

  def handle(self) -> None:
    try:
      super().handle()
    except ConnectionError:
      pass  # The browser reset a kept-alive connection: no one to tell.

  def _send(self, status: int, body: bytes, content_type: str,
            location: Optional[str] = None) -> None:
    self.send_response(status)
    self.send_header("Content-Type", content_type)
    self.send_header("Content-Length", str(len(body)))
    self.send_header("Cache-Control", "no-store")
    if location:
      self.send_header("Location", location)
    self.end_headers()
    self.wfile.write(body)

  def _redirect(self, location: str) -> None:
    self._send(303, b"", "text/plain", location)

  def _handle(self, route) -> None:
    try:
      route()
    except ConnectionError:
      # The browser hung up mid-reply (a page left before its images came):
      # no one to answer, nothing wrong to report.
      self.close_connection = True
    except (HTTPError, store_lib.AnswerError) as e:
      self.close_connection = True
      self._send(e.status, _page("Error", f"<h1>{e.status}</h1><p>"
                                 f"{html.escape(str(e))}</p>"),
                 "text/html; charset=utf-8")
    except Exception as e:  # pylint: disable=broad-except
      # The server goes on for the other subjects; the fault gets a line.
      sys.stderr.write(f"error: {self.command} {self.path}: {e}\n")
      self.close_connection = True
      self._send(500, _page("Error", "<h1>500</h1>"),
                 "text/html; charset=utf-8")

  def do_GET(self):  # pylint: disable=invalid-name
    self._handle(self._get)

  def do_POST(self):  # pylint: disable=invalid-name
    self._handle(self._post)

  def _known(self, subject: str) -> str:
    if not self.server.test.store.known(subject):
      raise HTTPError(404, f"unknown subject {subject!r}; start at /")
    return subject

  def _get(self) -> None:
    test = self.server.test
    path = urllib.parse.urlsplit(self.path).path
    parts = path.strip("/").split("/")
    if path == "/":
      self._send(200, test.start_page(), "text/html; charset=utf-8")
    elif len(parts) == 2 and parts[0] == "s":
      self._send(200, test.trial_page(self._known(_subject(parts[1]))),
                 "text/html; charset=utf-8")
    elif (len(parts) == 4 and parts[0] == "s" and parts[2] == "image" and
          parts[3].endswith(".png")):
      subject = self._known(_subject(parts[1]))
      trial = test.store.trial(subject, _number(parts[3][:-4], "trial"))
      if trial is None:
        raise HTTPError(404, f"subject {subject!r} has no such trial")
      self._send(200, test.png(trial.kind, trial.image, TRIAL_WIDTH),
                 "image/png")
    elif (len(parts) == 3 and parts[0] == "examples" and
          parts[1] in pool_lib.KINDS and parts[2].endswith(".png")):
      index = _number(parts[2][:-4], "example")
      if index >= min(protocol.REFERENCES, test.pool.sizes[parts[1]]):
        raise HTTPError(404, f"no example {index} of {parts[1]}")
      self._send(200, test.png(parts[1], index, EXAMPLE_WIDTH), "image/png")
    else:
      raise HTTPError(404, f"no page {path!r}")

  def _form(self) -> Dict[str, str]:
    length = _number(self.headers.get("Content-Length", ""),
                     "Content-Length")
    if length > MAX_BODY:
      raise HTTPError(413, f"a body of {length} bytes; at most {MAX_BODY}")
    body = self.rfile.read(length).decode("utf-8", "replace")
    form = urllib.parse.parse_qs(body, max_num_fields=8)
    return {key: values[0] for key, values in form.items()}

  def _post(self) -> None:
    test = self.server.test
    path = urllib.parse.urlsplit(self.path).path
    parts = path.strip("/").split("/")
    try:
      form = self._form()
    except ValueError as e:  # parse_qs: too many fields.
      raise HTTPError(400, str(e)) from e
    if path == "/start":
      subject = _subject(form.get("subject", ""))
      test.store.start(subject, test.seed, protocol.plan(
          subject, test.seed, test.pool.sizes))
      self._redirect(f"/s/{urllib.parse.quote(subject)}")
    elif len(parts) == 3 and parts[0] == "s" and parts[2] == "answer":
      subject = _subject(parts[1])
      test.store.answer(subject, _number(form.get("trial", ""), "trial"),
                        form.get("answer", ""))
      self._redirect(f"/s/{urllib.parse.quote(subject)}")
    else:
      raise HTTPError(404, f"no form {path!r}")


def make_server(test: TuringTest, port: int
                ) -> http.server.ThreadingHTTPServer:
  """The server of `test` on HOST:`port` (0: a free port), not started."""
  server = http.server.ThreadingHTTPServer((HOST, port), Handler)
  server.daemon_threads = True
  server.test = test
  return server
