"""Prepare: check the data against the contract (schema.yaml), type it, and split it into train,
validation and test (data/prepared/*.parquet).

Reads params.yaml's prepare.data, a CSV file or a folder of Parquet files, `chunk_rows` rows at a
time: memory stays flat whatever the size of the data. Any row that breaks the contract stops the
stage with the file, line, column and fix of each problem, and nothing is prepared.
"""

import shutil
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from contract import DataProblems, arrow_schema
from dataset import SPLITS, Source, checked_chunks, split_of
from settings import PREPARED, params


def main() -> int:
    source = Source(params()["prepare"]["data"])
    shutil.rmtree(PREPARED, ignore_errors=True)
    PREPARED.mkdir(parents=True)
    schema = arrow_schema()
    writers = {name: pq.ParquetWriter(PREPARED / f"{name}.parquet", schema) for name in SPLITS}
    counts = dict.fromkeys(SPLITS, 0)
    try:
        for rows in checked_chunks(source, "prepare"):
            split = split_of(rows)
            for name, writer in writers.items():
                part = rows[split == name]
                writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
                counts[name] += len(part)
    except DataProblems as problems:
        _close(writers)
        shutil.rmtree(PREPARED, ignore_errors=True)
        print(f"{source.path}: nothing was prepared.\n{problems}", file=sys.stderr)
        return 1
    _close(writers)
    print(f"prepare: {sum(counts.values()):,} rows -> " + ", ".join(f"{n} {c:,}" for n, c in counts.items()))
    return 0


def _close(writers) -> None:
    for writer in writers.values():
        writer.close()


if __name__ == "__main__":
    sys.exit(main())
