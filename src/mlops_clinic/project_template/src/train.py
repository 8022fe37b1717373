"""Train: fit the model chosen in params.yaml, track the run in MLflow, register the model.

Writes models/model.pkl (for the evaluate stage) and models/run.json, the run id and registered
version: committed with git, it links this commit to its MLflow run, and the run's tags link back
to the exact data (see src/lineage.py).

An experiment (`dvc exp run`) is tracked but not registered: the registry holds only models that a
commit can rebuild with `dvc repro`.
"""

import json
import logging
import os
import warnings
from pathlib import Path

import joblib
import mlflow
import pandas as pd
import yaml
from mlflow.models import infer_signature

from lineage import data_lineage
from model import (FEATURES, PIP_REQUIREMENTS, SERIALIZATION_FORMAT, TARGET, build_model,
                   regression_metrics)

logging.getLogger("mlflow").setLevel(logging.ERROR)  # the pipeline prints its own summary
# Every feature is required in a request (the service validates them), so integer columns in the
# signature are right, and MLflow's hint about missing values in integer columns does not apply.
warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")

params = yaml.safe_load(Path("params.yaml").read_text())
settings, tracking = params["train"], params["mlflow"]
name = settings["model"]
model_settings = settings.get(name) or {}

splits = {split: pd.read_csv(f"data/prepared/{split}.csv") for split in ("train", "val", "test")}
model = build_model(name, seed=settings["seed"], **model_settings)
model.fit(splits["train"][FEATURES], splits["train"][TARGET])
scores = {split: regression_metrics(splits[split][TARGET], model.predict(splits[split][FEATURES]))
          for split in ("val", "test")}

example = splits["val"][FEATURES].head(5)
# `dvc exp run` sets DVC_EXP_BASELINE_REV (and DVC_EXP_NAME) for every experiment it runs.
in_experiment = "DVC_EXP_BASELINE_REV" in os.environ
experiment_name = os.environ.get("DVC_EXP_NAME", "unnamed")
source = "experiment" if in_experiment else "pipeline"

mlflow.set_experiment(tracking["experiment"])
run_name = f"experiment-{experiment_name}" if in_experiment else f"pipeline-{name}"
with mlflow.start_run(run_name=run_name) as run:
    mlflow.set_tags({**data_lineage("data/houses.csv"), "source": source})
    mlflow.log_params({"model": name, "seed": settings["seed"], **model_settings,
                       **{f"prepare.{key}": value for key, value in params["prepare"].items()}})
    mlflow.log_metrics({f"{split}_{metric}": value
                        for split, values in scores.items() for metric, value in values.items()})
    logged = mlflow.sklearn.log_model(
        model, name="model", signature=infer_signature(example, model.predict(example)),
        input_example=example, pip_requirements=PIP_REQUIREMENTS,
        serialization_format=SERIALIZATION_FORMAT,
        registered_model_name=None if in_experiment else tracking["registered_model"],
    )

Path("models").mkdir(exist_ok=True)
joblib.dump(model, "models/model.pkl")
record = {"run_id": run.info.run_id, "model_uri": logged.model_uri,
          "registered_model": tracking["registered_model"], "version": logged.registered_model_version}
Path("models/run.json").write_text(json.dumps(record, indent=2) + "\n")
outcome = (f"experiment {experiment_name}: tracked, not registered" if in_experiment
           else f"registered {record['registered_model']} version {record['version']}")
print(f"train: {name}, validation MAE £{scores['val']['mae']:,.0f}; {outcome}")
