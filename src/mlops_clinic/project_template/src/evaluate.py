"""Evaluate: score the trained model on validation and test and write metrics.json, which
`dvc metrics show` and `dvc metrics diff` read. Test errors are also broken down by price band:
a model can be good on average and poor on the houses that matter most."""

import json
from pathlib import Path

import joblib
import pandas as pd

from model import FEATURES, TARGET, regression_metrics

PRICE_BANDS = [0, 300_000, 600_000, float("inf")]
BAND_NAMES = ["under_300k", "300k_to_600k", "over_600k"]

model = joblib.load("models/model.pkl")
metrics = {}
for split in ("val", "test"):
    rows = pd.read_csv(f"data/prepared/{split}.csv")
    metrics[split] = regression_metrics(rows[TARGET], model.predict(rows[FEATURES]))

test = pd.read_csv("data/prepared/test.csv")
errors = (test[TARGET] - model.predict(test[FEATURES])).abs()
bands = pd.cut(test[TARGET], PRICE_BANDS, labels=BAND_NAMES, right=False)
metrics["test_mae_by_price"] = errors.groupby(bands, observed=True).mean().round(2).to_dict()

Path("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
print(f"evaluate: test MAE £{metrics['test']['mae']:,.0f}, R² {metrics['test']['r2']:.3f}")
