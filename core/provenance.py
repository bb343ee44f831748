"""What made an output folder, and one writer at a time.

A folder that a later run may resume or reuse (a refiner or estimator
workdir, a reproduction's results folder) records in provenance.json the
fields that determine its contents: resolved hyper-parameters, the SPECs of
its data and what made that data, the preset and seed. `claim` opens such a
folder for one run:

- it takes the folder's lock (an OS file lock, released when its holder
  exits or dies), so a second run on the same folder stops at once with a
  line naming the holder instead of racing on its files;
- a folder with the same fields resumes or skips (its stages decide); one
  made with other fields, or holding files of unknown origin, stops with one
  line naming the first field that differs and the ways out (another folder,
  or --overwrite, which empties a folder this project made and starts it
  afresh).

So results are never reused under another configuration, and a resumed run
never mixes two.
"""

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
from typing import Any, Dict, Iterator, Optional, Tuple

import filelock
import numpy as np

from core import files

PROVENANCE_FILE = "provenance.json"
LOCK_FILE = ".lock"
HOLDER_FILE = ".lock.json"
_BOOKKEEPING = (LOCK_FILE, HOLDER_FILE)
_held = set()  # Real paths of the folders this process holds.


class ProvenanceError(ValueError):
  """An output folder made by another configuration or in use by another
  run (one line, naming the folder)."""


def canonical(fields: Any) -> Any:
  """`fields` as JSON gives them back (tuples become lists, keys strings)."""
  return json.loads(json.dumps(fields, sort_keys=True))


def digest(fields: Any) -> str:
  """A short stable hash of `fields` (their canonical JSON)."""
  text = json.dumps(canonical(fields), sort_keys=True)
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def arrays_digest(arrays) -> str:
  """A short hash of arrays' shapes, dtypes and values (e.g. a model's
  weights: what a refined data set was made by)."""
  h = hashlib.sha256()
  for a in arrays:
    a = np.ascontiguousarray(a)
    h.update(f"{a.shape}{a.dtype}".encode())
    h.update(a.tobytes())
  return h.hexdigest()[:16]


def first_difference(old: Any, new: Any, prefix: str = ""
                    ) -> Optional[Tuple[str, Any, Any]]:
  """(dotted field, old value, new value) of the first field that differs,
  in sorted key order; None when equal. A missing field reads as '(absent)'.
  """
  if isinstance(old, dict) and isinstance(new, dict):
    for key in sorted(set(old) | set(new)):
      name = f"{prefix}.{key}" if prefix else key
      if key not in old or key not in new:
        return (name, old.get(key, "(absent)"), new.get(key, "(absent)"))
      found = first_difference(old[key], new[key], name)
      if found:
        return found
    return None
  return None if old == new else (prefix or "(all)", old, new)


def read(folder: str) -> Optional[Dict]:
  """The provenance record of `folder`, or None if it has none."""
  path = os.path.join(folder, PROVENANCE_FILE)
  if not os.path.exists(path):
    return None
  try:
    record = files.read_json(path)
  except (OSError, ValueError) as e:
    record = e
  if not isinstance(record, dict) or "fields" not in record:
    raise ProvenanceError(f"{path}: is not a readable provenance record; "
                          "use another folder, or --overwrite")
  return record


def _contents(folder: str):
  return [name for name in os.listdir(folder) if name not in _BOOKKEEPING]


def _empty(folder: str) -> None:
  """Removes what `folder` holds (not its lock)."""
  for name in _contents(folder):
    path = os.path.join(folder, name)
    if os.path.isdir(path) and not os.path.islink(path):
      shutil.rmtree(path)
    else:
      os.remove(path)


def _check(folder: str, fields: Dict, overwrite: bool) -> None:
  """Records `fields` in a new folder, accepts equal ones, refuses others."""
  made_here = os.path.exists(os.path.join(folder, PROVENANCE_FILE))
  if not _contents(folder) or (overwrite and made_here):
    _empty(folder)
    files.write_json(os.path.join(folder, PROVENANCE_FILE),
                     {"fields": fields, "digest": digest(fields)})
    return
  if not made_here:
    # Not made by this project (or by a version before provenance): its
    # files cannot be vouched for, and --overwrite must not delete them.
    raise ProvenanceError(
        f"{folder}: holds files but no {PROVENANCE_FILE} (not made by this "
        "version of the project); choose another folder, or empty it first")
  found = first_difference(read(folder).get("fields"), fields)
  if found is None:
    return
  name, old, new = found
  raise ProvenanceError(
      f"{folder}: was made with {name}={json.dumps(old)}, this run has "
      f"{name}={json.dumps(new)}; use another folder, or --overwrite to "
      "start it afresh")


@contextlib.contextmanager
def claim(folder: str, fields: Dict, overwrite: bool = False
         ) -> Iterator[str]:
  """Holds `folder` for this run; yields the digest of `fields`.

  Creates the folder if needed, takes its lock without waiting, then checks
  provenance.json against `fields` (see the module doc). With `overwrite`
  a folder this project made is emptied first, whatever its fields. A
  folder this process already holds is only checked (a binary claims its
  output before writing flags.txt there, then its library claims it again).

  Raises:
    ProvenanceError: another run holds the folder, or it was made with other
      fields (without `overwrite`), or it holds files of unknown origin.
  """
  fields = canonical(fields)
  os.makedirs(folder, exist_ok=True)
  key = os.path.realpath(folder)
  if key in _held:  # A binary's claim, then its library's: one holder.
    _check(folder, fields, overwrite=False)
    yield digest(fields)
    return
  if (not os.path.exists(os.path.join(folder, PROVENANCE_FILE)) and
      _contents(folder)):
    _check(folder, fields, overwrite)  # Refuses before adding a lock file.
  lock = filelock.FileLock(os.path.join(folder, LOCK_FILE))
  holder_path = os.path.join(folder, HOLDER_FILE)
  try:
    lock.acquire(timeout=0)
  except filelock.Timeout:
    holder = "another run"
    with contextlib.suppress(OSError, ValueError, KeyError):
      h = files.read_json(holder_path)
      holder = f"process {h['pid']} on {h['host']} since {h['since']}"
    raise ProvenanceError(
        f"{folder}: is in use by {holder}; wait for it to end, or use "
        "another folder") from None
  try:
    files.write_json(holder_path, {
        "pid": os.getpid(), "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S")})
    _check(folder, fields, overwrite)
    _held.add(key)
    yield digest(fields)
  finally:
    _held.discard(key)
    with contextlib.suppress(OSError):
      os.remove(holder_path)
    lock.release()
