"""Answers of the visual Turing test, kept in SQLite as they are given.

One row per trial: the subject's plan is written when the subject starts,
each answer is committed before the page moves on, so a closed tab or a
killed server loses nothing and the subject resumes at the first trial not
answered. The database lives in the results folder (``turing.sqlite``).
"""

import sqlite3
import threading
import time
from typing import Dict, List, Optional

from benchmarks.turing import protocol

DB_FILE = "turing.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
  subject TEXT PRIMARY KEY, seed INTEGER NOT NULL, started REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  subject TEXT NOT NULL REFERENCES subjects(subject),
  number INTEGER NOT NULL, block TEXT NOT NULL, kind TEXT NOT NULL,
  image INTEGER NOT NULL, shown_at REAL, answered_at REAL, answer TEXT,
  PRIMARY KEY (subject, number));
"""


class AnswerError(ValueError):
  """An answer the store refuses; `status` is the HTTP status it maps to."""

  def __init__(self, status: int, message: str):
    super().__init__(message)
    self.status = status


class Store:
  """The answers of every subject. Safe to share between threads."""

  def __init__(self, path: str):
    """Opens (or creates) the database at `path`.

    Raises:
      ValueError: `path` is not an SQLite database (one line naming it).
    """
    self._db = sqlite3.connect(path, check_same_thread=False,
                               isolation_level=None)
    try:
      self._db.execute("PRAGMA synchronous=FULL")
      self._db.executescript(_SCHEMA)
    except sqlite3.DatabaseError as e:
      self._db.close()
      raise ValueError(f"{path}: not a Turing-test database: {e}") from e
    self._lock = threading.Lock()

  def close(self) -> None:
    self._db.close()

  def _transaction(self, sql_and_args):
    with self._lock:
      self._db.execute("BEGIN IMMEDIATE")
      try:
        out = [self._db.execute(sql, args).fetchall()
               for sql, args in sql_and_args]
        self._db.execute("COMMIT")
      except BaseException:
        self._db.execute("ROLLBACK")
        raise
      return out

  def _query(self, sql: str, *args) -> list:
    with self._lock:
      return self._db.execute(sql, args).fetchall()

  def start(self, subject: str, seed: int,
            trials: List[protocol.Trial]) -> None:
    """Registers `subject` with its plan; a known subject keeps its own."""
    if self.known(subject):
      return
    self._transaction(
        [("INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
          (subject, seed, time.time()))] +
        [("INSERT OR IGNORE INTO trials (subject, number, block, kind, image)"
          " VALUES (?, ?, ?, ?, ?)",
          (subject, t.number, t.block, t.kind, t.image)) for t in trials])

  def known(self, subject: str) -> bool:
    return bool(self._query("SELECT 1 FROM subjects WHERE subject = ?",
                            subject))

  def trial(self, subject: str, number: int) -> Optional[protocol.Trial]:
    rows = self._query("SELECT number, block, kind, image FROM trials "
                       "WHERE subject = ? AND number = ?", subject, number)
    return protocol.Trial(*rows[0]) if rows else None

  def progress(self, subject: str) -> Dict[str, int]:
    """{'answered': n, 'total': n} of `subject`."""
    (total, answered), = self._query(
        "SELECT COUNT(*), COUNT(answer) FROM trials WHERE subject = ?",
        subject)
    return {"answered": answered, "total": total}

  def next_trial(self, subject: str) -> Optional[protocol.Trial]:
    """The first trial `subject` has not answered; None when done."""
    rows = self._query("SELECT number, block, kind, image FROM trials "
                       "WHERE subject = ? AND answer IS NULL "
                       "ORDER BY number LIMIT 1", subject)
    return protocol.Trial(*rows[0]) if rows else None

  def shown(self, subject: str, number: int) -> None:
    """Records when trial `number` was (last) put on screen."""
    self._transaction([("UPDATE trials SET shown_at = ? WHERE subject = ? "
                        "AND number = ? AND answer IS NULL",
                        (time.time(), subject, number))])

  def answer(self, subject: str, number: int, answer: str) -> None:
    """Stores `answer` to trial `number` of `subject`.

    Raises:
      AnswerError: 404 for an unknown subject or trial, 400 for an answer
        other than 'real' or 'synthetic', 409 for a trial already answered
        or not the next one. Nothing is stored then.
    """
    if answer not in protocol.ANSWERS:
      raise AnswerError(400, f"answer must be one of {protocol.ANSWERS}")
    if not self.known(subject):
      raise AnswerError(404, f"unknown subject {subject!r}")
    if self.trial(subject, number) is None:
      raise AnswerError(404, f"subject {subject!r} has no trial {number}")
    with self._lock:
      self._db.execute("BEGIN IMMEDIATE")
      try:
        first = self._db.execute(
            "SELECT MIN(number) FROM trials WHERE subject = ? AND "
            "answer IS NULL", (subject,)).fetchone()[0]
        if first != number:
          raise AnswerError(409, f"trial {number} is not the next one of "
                            f"subject {subject!r} (next: {first})")
        self._db.execute(
            "UPDATE trials SET answer = ?, answered_at = ? WHERE "
            "subject = ? AND number = ?", (answer, time.time(), subject,
                                           number))
        self._db.execute("COMMIT")
      except BaseException:
        self._db.execute("ROLLBACK")
        raise

  def answers(self) -> List[Dict]:
    """Every answered trial: subject, number, block, kind, image, answer and
    response_seconds (None where the show time was not recorded)."""
    rows = self._query(
        "SELECT subject, number, block, kind, image, answer, "
        "answered_at - shown_at FROM trials WHERE answer IS NOT NULL "
        "ORDER BY subject, number")
    keys = ("subject", "number", "block", "kind", "image", "answer",
            "response_seconds")
    return [dict(zip(keys, row)) for row in rows]
