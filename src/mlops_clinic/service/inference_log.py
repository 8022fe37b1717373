"""The inference log: every answered request, every refused one, and the true prices that arrive
later. One SQLite file, `<workspace>/inference/inference.sqlite`; the prediction service writes
it, monitoring (module 05) reads it. The package docstring (`mlops_clinic.service`) describes the
tables.

Why SQLite and not Parquet: the log grows one request at a time while the service runs, and
every answer must be on disk before the caller sees it. SQLite appends a row in a transaction
(a crash loses nothing that was committed), lets a notebook read while the service writes (WAL
mode), finds an earlier request by its id for idempotent retries, and joins late labels with one
SQL statement. Parquet is the better format for analysing millions of rows: export to it
(`read_predictions(...).to_parquet(...)`), do not append to it row by row.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from mlops_clinic.data.schema import COLUMNS, FEATURES
from mlops_clinic.data import SCENARIOS
from mlops_clinic.names import INFERENCE_LOG_ENV
from mlops_clinic.service.schema import MAX_DAY

LOG_FILE = "inference.sqlite"
LOG_ENV_VAR = INFERENCE_LOG_ENV  # overrides the location (a built Bento has no workspace)
BODY_KEPT = 2_000  # characters of a refused request's body kept in the log

_SQL_TYPE = {"integer": "INTEGER", "yes_no": "TEXT", "category": "TEXT"}
_FEATURE_COLUMNS = ",\n    ".join(f"{name} {_SQL_TYPE[COLUMNS[name].kind]}" for name in FEATURES)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS predictions (
    request_id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    batch TEXT,
    house_id TEXT,
    day INTEGER,
    {_FEATURE_COLUMNS},
    price_gbp INTEGER NOT NULL,
    prediction_gbp REAL NOT NULL,
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    warnings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_batch ON predictions (batch);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    error TEXT NOT NULL,
    batch TEXT,
    request_id TEXT,
    house_id TEXT,
    day INTEGER,
    body TEXT
);
CREATE TABLE IF NOT EXISTS outcomes (
    request_id TEXT PRIMARY KEY,
    price_gbp INTEGER NOT NULL,
    day_sold INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS predictions_with_outcomes AS
    SELECT p.*, o.price_gbp AS actual_price_gbp, o.day_sold
    FROM predictions p LEFT JOIN outcomes o USING (request_id);
"""

PREDICTION_COLUMNS = ("request_id", "received_at", "batch", "house_id", "day", *FEATURES,
                      "price_gbp", "prediction_gbp", "model", "model_version", "latency_ms",
                      "warnings")


def now() -> str:
    """The current time, ISO 8601 in UTC with milliseconds (sorts as text)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def log_path(workspace=None) -> Path:
    """Where the log is: $MLOPS_CLINIC_INFERENCE_LOG, else the workspace's inference/ folder."""
    if workspace is None and os.environ.get(LOG_ENV_VAR):
        return Path(os.environ[LOG_ENV_VAR])
    if workspace is None:
        from mlops_clinic.workspace import Workspace

        workspace = Workspace.resolve()
    return Path(workspace.inference_dir) / LOG_FILE


class InferenceLog:
    """One connection to the log, safe to share between the threads of a process."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                   isolation_level=None)
        # WAL: readers (a notebook, monitoring) never block the service's writes. NORMAL: a
        # committed row survives the service crashing or being killed (not a power cut).
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def find(self, request_id: str) -> dict[str, Any] | None:
        """The logged prediction for this request id, or None."""
        with self._lock:
            cursor = self._db.execute("SELECT * FROM predictions WHERE request_id = ?", (request_id,))
            row = cursor.fetchone()
            names = [d[0] for d in cursor.description]
        return dict(zip(names, row)) if row else None

    def add_predictions(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Append predictions in one transaction; for each, False if its request id was logged
        already (a retry that raced the first answer): the first one stays."""
        placeholders = ", ".join("?" for _ in PREDICTION_COLUMNS)
        sql = (f"INSERT OR IGNORE INTO predictions ({', '.join(PREDICTION_COLUMNS)}) "
               f"VALUES ({placeholders})")
        added = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    values = [row.get(name) for name in PREDICTION_COLUMNS]
                    values[-1] = json.dumps(row.get("warnings") or [])
                    added.append(self._db.execute(sql, values).rowcount == 1)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return added

    def add_rejection(self, route: str, status: int, error: str, body: bytes | str = b"") -> None:
        """Log a refused request, with what can be read of its ids and the start of its body."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        ids = _ids_of(text)
        with self._lock:
            self._db.execute(
                "INSERT INTO rejections (received_at, route, status, error, batch, request_id, "
                "house_id, day, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now(), route, status, error, ids.get("batch"), ids.get("request_id"),
                 ids.get("house_id"), ids.get("day"), text[:BODY_KEPT]))

    def add_outcomes(self, outcomes: Iterable[dict[str, Any]]) -> int:
        """Record true sale prices by request id (a repeated outcome replaces the older one);
        returns how many were recorded."""
        rows = [(o["request_id"], int(o["price_gbp"]), o.get("day_sold"), now()) for o in outcomes]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
        return len(rows)


def _ids_of(text: str) -> dict[str, Any]:
    """batch, request_id, house_id and day of a request body, where they can be read. A refused
    body can be anything: not JSON, nested too deep to parse, a day too large for SQLite."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    found = {}
    for key in ("batch", "request_id", "house_id"):
        if isinstance(data.get(key), str):
            found[key] = data[key][:64]
    day = data.get("day")
    if isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= MAX_DAY:
        found["day"] = day
    return found


_shared: dict[Path, InferenceLog] = {}
_shared_lock = threading.Lock()


def shared(path: str | os.PathLike | None = None) -> InferenceLog:
    """The process's one InferenceLog for `path` (default: log_path())."""
    path = Path(path) if path is not None else log_path()
    with _shared_lock:
        if path not in _shared:
            _shared[path] = InferenceLog(path)
        return _shared[path]


# --- reading (monitoring, notebooks) ---------------------------------------------------------------

def _read(path, sql: str, params=()):
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"No inference log at {path.name} in the workspace's inference/ folder yet: replay "
            "traffic through the prediction service (module 04), or run "
            "`python -m mlops_clinic.stages inference_log`.")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return pd.read_sql_query(sql, db, params=params)


def read_predictions(path=None, *, batch: str | None = None, with_outcomes: bool = True):
    """The logged predictions as a DataFrame (oldest first), with `actual_price_gbp` and
    `day_sold` from the outcomes (NaN until the sale is known) when `with_outcomes`."""
    import pandas as pd

    table = "predictions_with_outcomes" if with_outcomes else "predictions"
    where, params = ("WHERE batch = ?", (batch,)) if batch else ("", ())
    frame = _read(path or log_path(), f"SELECT * FROM {table} {where} ORDER BY received_at, "
                                      "request_id", params)
    frame["received_at"] = pd.to_datetime(frame["received_at"], format="ISO8601")
    frame["warnings"] = frame["warnings"].map(json.loads)
    return frame


def read_rejections(path=None, *, batch: str | None = None):
    """The refused requests as a DataFrame (oldest first)."""
    where, params = ("WHERE batch = ?", (batch,)) if batch else ("", ())
    return _read(path or log_path(), f"SELECT * FROM rejections {where} ORDER BY id", params)


def counts(path=None):
    """Per batch: requests answered, refused, and outcomes known."""
    return _read(path or log_path(), """
        SELECT batch, COUNT(*) AS answered,
               (SELECT COUNT(*) FROM rejections r WHERE r.batch IS p.batch) AS refused,
               COUNT(o.request_id) AS with_outcome
        FROM predictions p LEFT JOIN outcomes o USING (request_id)
        GROUP BY batch ORDER BY batch""")


def has_batch(path, batch: str) -> bool:
    """True if the log at `path` holds at least one answered request of `batch`."""
    path = Path(path)
    if not path.exists():
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return db.execute("SELECT 1 FROM predictions WHERE batch = ? LIMIT 1",
                              (batch,)).fetchone() is not None
        except sqlite3.OperationalError:
            return False


def has_scenarios(path, scenarios: Iterable[str]) -> bool:
    """True if every scenario was replayed and its outcomes recorded."""
    path = Path(path)
    if not path.exists():
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            rows = dict(db.execute(
                "SELECT p.batch, COUNT(o.request_id) FROM predictions p JOIN outcomes o "
                "USING (request_id) GROUP BY p.batch").fetchall())
        except sqlite3.OperationalError:
            return False
    return all(rows.get(name, 0) > 0 for name in scenarios)
