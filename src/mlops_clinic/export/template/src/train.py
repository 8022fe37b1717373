"""Train: fit the model chosen in params.yaml, track the run in MLflow, register the model.

Writes models/model.pkl (for the evaluate stage and the model tests) and models/run.json, the run
id and registered version: committed with git, it links this commit to its MLflow run, and the
run's tags link back to the exact data (src/lineage.py).
"""

import json
import logging
import sys
import warnings

import joblib
import pandas as pd

from contract import SCHEMA, model_input
from lineage import data_lineage
from model import PIP_REQUIREMENTS, SERIALIZATION_FORMAT, build, describe, fit, metric, scores
from settings import MODELS, PREPARED, params, registered_model, use_mlflow

logging.getLogger("mlflow").setLevel(logging.ERROR)  # the pipeline prints its own summary
warnings.filterwarnings("ignore", message=".*(Inferred schema contains integer|input example).*")


def read(split: str) -> pd.DataFrame:
    return pd.read_parquet(PREPARED / f"{split}.parquet")


def main() -> int:
    settings = params()["train"]
    name = settings["model"]
    train, val = read("train"), read("val")
    if train.empty:
        print("train: data/prepared/train.parquet has no rows; add data or lower "
              "prepare.test_share and prepare.val_share in params.yaml", file=sys.stderr)
        return 1
    model = fit(build(), model_input(train), train[SCHEMA.target])
    checked = val if len(val) else train
    val_scores = scores(model, model_input(checked), checked[SCHEMA.target])

    import mlflow
    from mlflow.models import infer_signature

    use_mlflow()
    example = model_input(checked.head(5))
    with mlflow.start_run(run_name=f"pipeline-{name}") as run:
        mlflow.set_tags({**data_lineage(), "source": "pipeline", "task": SCHEMA.task})
        mlflow.log_params({"model": name, "seed": settings.get("seed", 42), **(settings.get(name) or {}),
                           **{f"prepare.{key}": value for key, value in params()["prepare"].items()}})
        mlflow.log_metrics({f"val_{key}": value for key, value in val_scores.items()})
        logged = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(example, model.predict(example)),
            pip_requirements=PIP_REQUIREMENTS, serialization_format=SERIALIZATION_FORMAT,
            registered_model_name=registered_model())

    MODELS.mkdir(exist_ok=True)
    joblib.dump(model, MODELS / "model.pkl")
    record = {"run_id": run.info.run_id, "model_uri": logged.model_uri,
              "registered_model": registered_model(), "version": logged.registered_model_version}
    (MODELS / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"train: {name} on {len(train):,} rows, validation {describe(val_scores[metric()])}; "
          f"registered {record['registered_model']} version {record['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
