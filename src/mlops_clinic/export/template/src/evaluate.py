"""Evaluate: score the trained model on validation and test and write metrics.json, which
`dvc metrics show` and `dvc metrics diff` read. Rows are scored in chunks, with a progress report."""

import json
import sys

import joblib
import numpy as np
import pandas as pd

from contract import SCHEMA, model_input
from dataset import chunk_rows
from model import CLASSIFICATION, describe, metric, predict, scores_of
from progress import Progress
from settings import MODELS, PREPARED, ROOT


def predictions(model, rows: pd.DataFrame, label: str):
    progress = Progress(label, len(rows), "rows")
    parts = []
    for start in range(0, len(rows), chunk_rows()):
        part = rows.iloc[start:start + chunk_rows()]
        parts.append(predict(model, model_input(part)))
        progress.update(len(part))
    progress.close()
    return np.concatenate(parts) if parts else np.zeros((0, len(SCHEMA.classes or [])) if CLASSIFICATION else 0)


def main() -> int:
    model = joblib.load(MODELS / "model.pkl")
    classes = list(model.classes_) if CLASSIFICATION else None
    metrics = {"metric": metric()}
    for split in ("val", "test"):
        rows = pd.read_parquet(PREPARED / f"{split}.parquet")
        if rows.empty:
            continue
        metrics[split] = scores_of(rows[SCHEMA.target], predictions(model, rows, f"evaluate {split}"), classes)
        metrics[split]["rows"] = len(rows)
    (ROOT / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if "test" in metrics:
        print(f"evaluate: test {describe(metrics['test'][metric()])} on {metrics['test']['rows']:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
