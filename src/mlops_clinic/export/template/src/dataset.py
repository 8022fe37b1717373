"""Reading the data in chunks, checked against the contract, typed, and split by a hash.

The data (params.yaml, prepare.data) is a CSV file or a folder of Parquet files (a Spark or Dask
job writes such a folder). It is read `prepare.chunk_rows` rows at a time, so a file larger than
memory streams through. Each row lands in a split decided by a hash of its identifier (or of the
whole row when there is no identifier): when new data arrives, old test rows stay test rows and
scores stay comparable across data versions.

    for chunk in chunks(path): ...                  raw frames, with their source and first line
    read_checked(path, keep=in_split("test"))       typed rows of one split; DataProblems if bad
    at_revision(commit)                             the same data as git and DVC had it then
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from contract import SCHEMA, Checker, typed
from progress import Progress
from settings import ROOT, params

SPLITS = ("train", "val", "test")


@dataclass
class Chunk:
    frame: pd.DataFrame   # raw values: text from a CSV, typed values from Parquet
    source: str           # the file's name, for messages
    first_line: int       # line (CSV, header = line 1) or row (Parquet) of the first row
    word: str             # "line" or "row"


class Source:
    """Where the data is: a path in the project, or the path at a git revision (through DVC)."""

    def __init__(self, path: str, revision: str | None = None):
        self.path, self.revision = path, revision
        self.fs = None
        if revision is not None:
            from dvc.api import DVCFileSystem

            self.fs = DVCFileSystem(str(ROOT), rev=revision)

    def is_folder(self) -> bool:
        return self.fs.isdir(self.path) if self.fs else (ROOT / self.path).is_dir()

    def files(self) -> list[str]:
        if not self.is_folder():
            return [self.path]
        if self.fs:
            found = [f for f in self.fs.find(self.path) if f.endswith(".parquet")]
            return sorted(f.lstrip("/") for f in found)
        return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / self.path).rglob("*.parquet"))

    def open(self, file: str):
        return self.fs.open(file, "rb") if self.fs else open(ROOT / file, "rb")

    def size(self, file: str) -> int:
        return self.fs.size(file) if self.fs else (ROOT / file).stat().st_size


def at_revision(revision: str) -> Source:
    """The project's data as it was at a git commit (read through DVC's cache or remote)."""
    return Source(params()["prepare"]["data"], revision)


def chunk_rows() -> int:
    return int(params()["prepare"].get("chunk_rows", 100_000))


def chunks(source: Source, label: str = "reading"):
    """The data's rows, `chunk_rows()` at a time, with a progress report."""
    files = source.files()
    if not files:
        raise FileNotFoundError(f"{source.path}: no Parquet files in this folder")
    parquet = source.is_folder()
    total = sum(source.size(f) for f in files) if not parquet else None
    progress = Progress(label, total, "MB", 1e6) if total else None
    for file in files:
        name = Path(file).name
        with source.open(file) as handle:
            if parquet:
                yield from _parquet_chunks(handle, name, label)
            else:
                yield from _csv_chunks(handle, name, progress)
    if progress:
        progress.close()


def _csv_chunks(handle, name: str, progress):
    # Everything as text, only empty cells missing: the checks see the cells as written.
    reader = pd.read_csv(handle, dtype=str, keep_default_na=False, na_values=[""],
                         skip_blank_lines=False, encoding="utf-8-sig", chunksize=chunk_rows())
    line, position = 2, 0
    for frame in reader:
        yield Chunk(frame, name, line, "line")
        line += len(frame)
        if progress is not None and hasattr(handle, "tell"):
            now = handle.tell()
            progress.update(now - position)
            position = now


def _parquet_chunks(handle, name: str, label: str):
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(handle)
    progress = Progress(f"{label} {name}", parquet.metadata.num_rows, "rows")
    row = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows()):
        frame = batch.to_pandas()
        yield Chunk(frame, name, row, "row")
        row += len(frame)
        progress.update(len(frame))
    progress.close()


def split_of(rows: pd.DataFrame) -> np.ndarray:
    """"train", "val" or "test" for each typed row, by a hash of its identifier (or of all its
    values), with the shares of params.yaml."""
    settings = params()["prepare"]
    key = rows[[SCHEMA.id]] if SCHEMA.id else rows[[c for c in SCHEMA.header if c in rows.columns]]
    hashed = pd.util.hash_pandas_object(key.astype(str), index=False).to_numpy()
    bucket = (hashed % 1000) / 1000
    test, val = settings["test_share"], settings["test_share"] + settings["val_share"]
    return np.where(bucket < test, "test", np.where(bucket < val, "val", "train"))


def in_split(name: str):
    return lambda rows: split_of(rows) == name


def checked_chunks(source: Source, label: str, require_target: bool = True):
    """Typed chunks of rows that pass the contract; DataProblems (listing what to fix) as soon
    as the end shows that some rows did not. The header is checked first."""
    checker = None
    for chunk in chunks(source, label):
        if checker is None or checker.source != chunk.source:
            if checker is not None:
                checker.finish()
                checker.raise_if_any()
            checker = Checker(chunk.source, require_target=require_target, word=chunk.word)
            if not checker.check_header(chunk.frame.columns):
                checker.raise_if_any()
        checker.check(chunk.frame, chunk.first_line)
        yield typed(chunk.frame)
    if checker is not None:
        checker.finish()
        checker.raise_if_any()


def read_checked(source: Source, label: str = "reading", keep=None) -> pd.DataFrame:
    """All typed rows (those for which keep(rows) is True, if given), after a full check."""
    kept = []
    for rows in checked_chunks(source, label):
        kept.append(rows[keep(rows)] if keep is not None else rows)
    return pd.concat(kept, ignore_index=True) if kept else typed(pd.DataFrame(columns=SCHEMA.header))
