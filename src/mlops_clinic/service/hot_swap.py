"""Module 04's hot swap, replayed for a workspace that skipped it (the `hot_swap` stage).

Lesson 04 trains a challenger with deeper trees in the notebook, registers it as the next version
of house-price, moves the alias `champion` to it while traffic runs through the prediction
service, and moves it back. What that leaves behind, and what `replay_hot_swap()` rebuilds:

- the registry: one more version of house-price, tagged `trained_in: module 04`, from a run named
  "challenger: deeper trees" with the pipeline's lineage tags and its validation MAE; the alias
  `champion` back where it was;
- the BentoML store: that version imported (the model server imported it when the alias moved);
- the inference log: 200 requests under the batch label "hot-swap", without request ids (the
  service makes them).

Which requests the challenger answered depends on timing in the lesson; here the swaps happen
after fixed numbers of requests, with the model server pinned to each version in turn.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mlops_clinic.names import CHAMPION, EXPERIMENT, MODEL_ENV, MODEL_NAME

CHALLENGER_RUN = "challenger: deeper trees"
# Module 02's champion has 200 trees of depth 3; the challenger, more and deeper ones.
CHALLENGER_SETTINGS = {"n_estimators": 300, "learning_rate": 0.1, "max_depth": 4}
CHALLENGER_TAGS = {"trained_in": "module 04"}  # on the registered version: found again by it
BATCH = "hot-swap"
SCENARIO = "covariate_drift"
REQUESTS = 200
SWAPS_AFTER = (40, 80)  # requests answered before the swap, and before the swap back


def traffic() -> list[dict]:
    """The lesson's hot-swap traffic: the scenario's first requests, without their ids (the
    service makes new ones, so running the lesson again sends new requests), labelled BATCH."""
    from mlops_clinic.service import replay

    bodies = replay.requests_of(SCENARIO, limit=REQUESTS)
    for body in bodies:
        body.pop("request_id")
        body["batch"] = BATCH
    return bodies


def challenger_filter() -> str:
    """The registry search that finds the lesson's challenger (the lesson's cell uses it too)."""
    tags = " and ".join(f"tags.{key} = '{value}'" for key, value in CHALLENGER_TAGS.items())
    return f"name = '{MODEL_NAME}' and {tags}"


def registered_challenger(client=None) -> str | None:
    """The version the lesson (or this module) registered as its challenger, or None."""
    from mlops_clinic.service import store

    client = client or store.registry_client()
    found = client.search_model_versions(challenger_filter())
    return str(min(int(version.version) for version in found)) if found else None


def train_and_register(project: Path) -> str:
    """The lesson's challenger cell, in the project: the model code of module 02 with deeper trees,
    trained on the pipeline's prepared split, logged with lineage and registered. Returns the
    registered version."""
    import logging

    import mlflow
    import pandas as pd

    logging.getLogger("mlflow").setLevel(logging.ERROR)  # as in module 02
    # The project's modules, for this import only: its src/ has names (schema.py) that would hide
    # packages of the same name from BentoML later in this process.
    source = str(Path(project) / "src")
    sys.path.insert(0, source)
    try:
        from lineage import data_lineage
        from model import (FEATURES, PIP_REQUIREMENTS, SERIALIZATION_FORMAT, TARGET, build_model,
                           regression_metrics)
    finally:
        sys.path.remove(source)

    train, val = (pd.read_csv(Path(project) / "data" / "prepared" / f"{split}.csv")
                  for split in ("train", "val"))
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=CHALLENGER_RUN):
        challenger = build_model("gradient_boosting", **CHALLENGER_SETTINGS)
        challenger.fit(train[FEATURES], train[TARGET])
        mlflow.set_tags(data_lineage("data/houses.csv"))
        mlflow.log_metric("val_mae", regression_metrics(val[TARGET], challenger.predict(val[FEATURES]))["mae"])
        logged = mlflow.sklearn.log_model(challenger, name="model", pip_requirements=PIP_REQUIREMENTS,
                                          serialization_format=SERIALIZATION_FORMAT)
    return str(mlflow.register_model(logged.model_uri, MODEL_NAME, tags=CHALLENGER_TAGS).version)


def replay_hot_swap(project: Path, log_path: Path) -> str:
    """Everything the lesson's hot swap leaves, in this process (whose working folder, MLflow and
    BentoML point at the workspace); returns a line saying what was done."""
    from mlops_clinic.service import store

    client = store.registry_client()
    challenger = registered_challenger(client) or train_and_register(project)
    champion = store.alias_version(CHAMPION, client=client)
    store.import_version(challenger, client=client)  # what the model server did when the alias moved
    if not has_traffic(log_path):
        bodies = traffic()
        before, during = SWAPS_AFTER
        _send_pinned(bodies[:before], store.bento_tag(champion), log_path)
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, challenger)
        _send_pinned(bodies[before:during], store.bento_tag(challenger), log_path)
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, champion)  # the roll-back
        _send_pinned(bodies[during:], store.bento_tag(champion), log_path)
    return f"challenger version {challenger}; {BATCH} traffic in the log; champion version {champion}"


def _send_pinned(bodies: list[dict], tag: str, log_path: Path) -> None:
    """Send bodies through the prediction service in this process, its model server pinned to
    `tag` (as $MLOPS_CLINIC_MODEL pins a served one); a refused or failed request is an error."""
    from mlops_clinic.service import inference_log, replay
    from mlops_clinic.service.prediction import PredictionService

    TestClient = replay.test_client_class()
    os.environ[MODEL_ENV] = tag
    os.environ[inference_log.LOG_ENV_VAR] = str(log_path)
    try:
        with TestClient(PredictionService.to_asgi()) as client:
            report = replay.replay(client, BATCH, bodies=bodies)
    finally:
        del os.environ[MODEL_ENV]
    if report.answered != len(bodies):
        raise RuntimeError(f"the hot-swap traffic was not all answered: {report}")


def has_traffic(log_path: Path) -> bool:
    from mlops_clinic.service import inference_log

    return inference_log.has_batch(log_path, BATCH)

