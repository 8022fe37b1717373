"""The inference log: every answer and every refusal of the service, in SQLite (WAL mode, so the
monitoring job reads while the service writes). Outcomes are recorded when they become known and
joined to the predictions by request id.

    inference/log.sqlite   ($INFERENCE_LOG to put it elsewhere)

    predictions  request_id (key), received_at (ISO 8601 UTC), features (JSON object, the names
                 of schema.yaml), prediction (JSON: the value, or the class), probabilities (JSON
                 object per class, classification only), model, model_version
    rejections   received_at, route, status (4xx), error (the sentence the caller got)
    outcomes     request_id (key), actual (JSON: the true value or class), recorded_at
"""

import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from settings import ROOT

TABLES = """
CREATE TABLE IF NOT EXISTS predictions (request_id TEXT PRIMARY KEY, received_at TEXT NOT NULL,
    features TEXT NOT NULL, prediction TEXT NOT NULL, probabilities TEXT, model TEXT,
    model_version TEXT);
CREATE TABLE IF NOT EXISTS rejections (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL,
    route TEXT, status INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS outcomes (request_id TEXT PRIMARY KEY, actual TEXT NOT NULL,
    recorded_at TEXT NOT NULL);
"""


def path() -> Path:
    return Path(os.environ.get("INFERENCE_LOG") or ROOT / "inference" / "log.sqlite")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Log:
    """One connection, shared by the service's threads behind a lock."""

    def __init__(self, where: Path | None = None):
        self.path = where or path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(TABLES)

    def predictions(self, rows: list[dict]) -> None:
        """Record answered requests (committed before the answer is sent)."""
        with self.lock, self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO predictions VALUES (:request_id, :received_at, :features, "
                ":prediction, :probabilities, :model, :model_version)",
                [{**row, "received_at": now(), "features": json.dumps(row["features"], ensure_ascii=False),
                  "prediction": json.dumps(row["prediction"]),
                  "probabilities": None if row.get("probabilities") is None else json.dumps(row["probabilities"])}
                 for row in rows])

    def rejection(self, route: str, status: int, error: str) -> None:
        with self.lock, self.db:
            self.db.execute("INSERT INTO rejections (received_at, route, status, error) VALUES (?, ?, ?, ?)",
                            (now(), route, status, error[:2_000]))

    def outcomes(self, pairs) -> int:
        """Record true values by request id; returns how many."""
        pairs = [(str(request_id), json.dumps(actual), now()) for request_id, actual in pairs]
        with self.lock, self.db:
            self.db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?)", pairs)
        return len(pairs)

    def read(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(predictions with their outcome where known, oldest first; rejections)."""
        predictions = pd.read_sql_query(
            "SELECT p.*, o.actual FROM predictions p LEFT JOIN outcomes o USING (request_id) "
            "ORDER BY p.received_at, p.rowid", self.db)
        rejections = pd.read_sql_query("SELECT * FROM rejections ORDER BY id", self.db)
        return predictions, rejections

    def close(self) -> None:
        self.db.close()
