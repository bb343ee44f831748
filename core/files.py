"""Atomic file writes: a file either has its old content or its new one.

Every writer goes through a temporary sibling named after the target, this
process and the target's suffix (Keras and matplotlib pick the format from
the suffix), then `os.replace`, which is atomic on one file system. The
process id in the name keeps two writers of one folder from sharing a
temporary file.
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


def write_with(path: str, write: Callable[[str], Any]) -> None:
  """Calls `write(tmp)` on a temporary sibling of `path`, then renames it.

  For writers that take a path (a model's save, a figure's savefig, a
  frame's to_csv). A failing `write` leaves `path` as it was and removes the
  temporary file.
  """
  tmp = temporary_sibling(path)
  try:
    write(tmp)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def write_atomic(path: str, data: Union[str, bytes]) -> None:
  """Writes text or bytes to `path` atomically."""

  def write(tmp):
    with open(tmp, "wb" if isinstance(data, bytes) else "w",
              encoding=None if isinstance(data, bytes) else "utf-8") as f:
      f.write(data)

  write_with(path, write)


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
