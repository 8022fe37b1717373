"""Where the project's files are, its settings, and the MLflow store: the one place to ask.

Every script works from any folder: paths are relative to the project, not to where you are.

MLflow: the store named by $MLFLOW_TRACKING_URI (your team's server; CI sets it from a secret),
otherwise mlflow.db in this folder, with the artifacts in mlruns/ beside it.
"""

import os
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params.yaml"
PREPARED = ROOT / "data" / "prepared"
MODELS = ROOT / "models"
REPORTS = ROOT / "reports"
ALIAS = "champion"  # the registry alias the service serves and follows

# Tools that phone home stay quiet unless you turn them back on.
for variable, value in (("MLFLOW_DISABLE_TELEMETRY", "true"), ("DO_NOT_TRACK", "true"),
                        ("BENTOML_DO_NOT_TRACK", "true"), ("DVC_NO_ANALYTICS", "1")):
    os.environ.setdefault(variable, value)


@lru_cache(maxsize=1)
def params() -> dict:
    return yaml.safe_load(PARAMS.read_text(encoding="utf-8"))


def data_path() -> Path:
    """The data the pipeline reads (params.yaml, prepare.data): a CSV file or a folder of Parquet files."""
    return ROOT / params()["prepare"]["data"]


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(ROOT / 'mlflow.db').as_posix()}"


def is_local_store() -> bool:
    return "MLFLOW_TRACKING_URI" not in os.environ


def registered_model() -> str:
    return params()["mlflow"]["registered_model"]


def mlflow_client():
    from mlflow import MlflowClient

    uri = tracking_uri()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def use_mlflow() -> None:
    """Point MLflow at the store and the project's experiment (made on first use; with the local
    store its artifacts go to mlruns/ in this folder, whatever the current directory)."""
    import logging

    import mlflow

    # The pipeline prints its own summary: MLflow's start-up notes and its (documented) warning
    # about pickled models would bury it.
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    name = params()["mlflow"]["experiment"]
    if is_local_store() and mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name, artifact_location=(ROOT / "mlruns").as_uri())
    mlflow.set_experiment(name)
