"""Atomic file writes: a file either has its old content or its new one.

Every writer goes through a temporary sibling named after the target, this
process and the target's suffix (Keras and matplotlib pick the format from
the suffix), then `os.replace`, which is atomic on one file system. The
process id in the name keeps two writers of one folder from sharing a
temporary file. The temporary file is synced before the rename and the
folder after it, so that after a crash of the machine (not only of the
process) a file is whole, and a marker written last vouches for files
that reached the disk before it.
"""

import csv
import io
import json
import os
from typing import Any, Callable, Iterable, Sequence, Union


def temporary_sibling(path: str) -> str:
  """A temporary name beside `path` that keeps its suffix (a.b.png ->
  a.b.tmp1234.png), unique to this process."""
  folder, name = os.path.split(path)
  stem, suffix = name, ""
  for known in (".weights.h5", ".keras", ".json", ".csv", ".png", ".pdf",
                ".h5", ".md", ".txt"):
    if name.endswith(known):
      stem, suffix = name[:-len(known)], known
      break
  return os.path.join(folder, f"{stem}.tmp{os.getpid()}{suffix}")


def write_with(path: str, write: Callable[[str], Any],
               sync: bool = True) -> None:
  """Calls `write(tmp)` on a temporary sibling of `path`, then renames it.

  For writers that take a path (a model's save, a figure's savefig, a
  frame's to_csv). A failing `write` (or sync) leaves `path` as it was and
  removes the temporary file.

  Args:
    path: the file to write.
    write: writes the temporary file at the path it is given.
    sync: fsync the file before the rename and its folder after (two disk
      flushes, some milliseconds). Only many files written in a row (a
      folder of images) pass False, and call `sync_all` once before the
      marker that vouches for them.
  """
  tmp = temporary_sibling(path)
  try:
    write(tmp)
    if sync:
      _sync(tmp)  # Without it a crash can leave the new name on no data.
    os.replace(tmp, path)
  except BaseException as e:
    if os.path.exists(tmp) and not os.path.isdir(tmp):
      os.remove(tmp)
    if isinstance(e, OSError) and e.filename == tmp:
      e.filename = path  # The user named `path`, never its temporary.
    raise
  if sync:
    _sync_folder(os.path.dirname(path))


def sync_all() -> None:
  """Flushes every file system's buffers to disk (os.sync, where the OS has
  it): one call that makes many unsynced writes durable."""
  if hasattr(os, "sync"):
    os.sync()


def remove(path: str) -> None:
  """Removes `path` if it exists, durably.

  For a marker (labels.csv, metrics.json) that is withdrawn before the files
  it vouches for are rewritten, so that an interrupted rewrite never leaves
  an old marker beside new files.
  """
  try:
    os.remove(path)
  except FileNotFoundError:
    return
  _sync_folder(os.path.dirname(path))


def _sync(path: str) -> None:
  """fsync of a file or folder (POSIX: a read-only descriptor suffices)."""
  fd = os.open(path, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def _sync_folder(folder: str) -> None:
  """Makes a rename or removal in `folder` durable, where the OS allows.

  Best effort: Windows cannot open a folder and some file systems refuse to
  sync one; the file itself is already in place either way.
  """
  try:
    _sync(folder or ".")
  except OSError:
    pass


def write_atomic(path: str, data: Union[str, bytes],
                 sync: bool = True) -> None:
  """Writes text or bytes to `path` atomically (`sync`: see write_with)."""

  def write(tmp):
    with open(tmp, "wb" if isinstance(data, bytes) else "w",
              encoding=None if isinstance(data, bytes) else "utf-8") as f:
      f.write(data)

  write_with(path, write, sync)


def write_json(path: str, data: Any) -> None:
  """`data` as indented JSON (one trailing newline), atomically."""
  write_atomic(path, json.dumps(data, indent=2) + "\n")


def read_json(path: str) -> Any:
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
  """A CSV document: one header line, then the rows ('\\n' line ends)."""
  out = io.StringIO()
  writer = csv.writer(out, lineterminator="\n")
  writer.writerow(header)
  writer.writerows(rows)
  return out.getvalue()


def save_model(model, path: str) -> None:
  """Saves a Keras model (`.keras`) atomically."""
  write_with(path, model.save)
