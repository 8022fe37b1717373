"""The champion between the MLflow registry and the BentoML model store.

Module 03 shows these calls in its cells; this module holds the same steps for code that has no
notebook around it: the `bento_model` stage (a later module opened first) and the model server
when it follows the registry's alias (hot swap, module 04).

Naming: registered version N of `house-price` is stored in BentoML as `house-price:vN`. A
registered version never changes, so a version is imported once and found by its tag afterwards.
Its labels carry the lineage back to MLflow (registered model, version, run id).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from mlops_clinic.errors import ClinicError
from mlops_clinic.names import ALIAS_ENV, CHAMPION, MODEL_ENV, MODEL_NAME

logger = logging.getLogger("bentoml.house_price")

MLFLOW_FOLDER = "mlflow_model"  # where bentoml.mlflow.import_model puts the MLflow model


class ModelNotAvailable(ClinicError, RuntimeError):
    """The model to serve is not in the BentoML store (and cannot be imported)."""


def bento_tag(version: str | int, name: str = MODEL_NAME) -> str:
    return f"{name}:v{version}"


def registry_client(tracking_uri: str | None = None):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def alias_version(alias: str, *, name: str = MODEL_NAME, client=None) -> str | None:
    """The registered version the alias points to, or None if there is no such alias."""
    from mlflow.exceptions import MlflowException

    client = client or registry_client()
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def stored(tag: str):
    """The BentoML model with this tag, or None."""
    import bentoml

    try:
        return bentoml.models.get(tag)
    except bentoml.exceptions.NotFound:
        return None


def import_version(version: str | int, *, name: str = MODEL_NAME, client=None):
    """Registered version `version` in the BentoML store, imported from MLflow if it is not there
    yet (the same call as module 03's cell). Returns the BentoML model."""
    import bentoml

    client = client or registry_client()
    tag = bento_tag(version, name)
    existing = stored(tag)
    registered = client.get_model_version(name, str(version))
    if existing is not None:
        if existing.info.labels.get("run_id") == registered.run_id:
            return existing
        # A store kept from an older MLflow store (e.g. after deleting mlflow.db): not the same model.
        logger.warning("%s in the BentoML store came from run %s, not %s: importing again",
                       tag, existing.info.labels.get("run_id"), registered.run_id)
        bentoml.models.delete(tag)
    return bentoml.mlflow.import_model(
        tag,
        model_uri=f"models:/{name}/{version}",
        labels={"registered_model": name, "version": str(version), "run_id": registered.run_id},
        metadata={"source": "MLflow model registry"},
    )


def missing_model_message(tag: str) -> str:
    import os

    home = os.environ.get("BENTOML_HOME", "~/bentoml")
    return (
        f"The model {tag} is not in the BentoML model store ({home}/models). Import the champion "
        "first: run the import cell of notebooks/03, or `python -m mlops_clinic.stages "
        "bento_model`; `bentoml models list` shows what the store holds."
    )


def model_to_serve(default_tag: str) -> tuple["Loaded", str | None]:
    """What the model server loads at start, and the registry alias it then follows (or None):

    - $MLOPS_CLINIC_MODEL names a BentoML tag: exactly that model, never swapped (a roll-back to a
      known version, or a pinned deployment);
    - else, if an MLflow registry is configured ($MLFLOW_TRACKING_URI) and the alias in
      $MLOPS_CLINIC_ALIAS (default: champion) exists: the version it names, imported into the store
      if needed, and the alias is followed;
    - else `default_tag`, the model the service declares (in a Bento: the model packed with it).
    """
    import os

    pinned = os.environ.get(MODEL_ENV, "")
    alias = os.environ.get(ALIAS_ENV, CHAMPION)
    if not pinned and alias and os.environ.get("MLFLOW_TRACKING_URI"):
        client = registry_client()
        version = alias_version(alias, client=client)
        if version is not None:
            return load(import_version(version, client=client)), alias
        logger.warning("No %s@%s in the MLflow registry: serving %s", MODEL_NAME, alias, default_tag)
    tag = pinned or default_tag
    model = stored(tag)
    if model is None:
        raise ModelNotAvailable(missing_model_message(tag))
    return load(model), None


@dataclass(frozen=True)
class Loaded:
    """A model ready to predict, and what every response says about it."""

    pipeline: Any
    tag: str
    name: str
    version: str
    # Training mean and standard deviation of each numeric feature, read from the fitted scaler,
    # so the server can say which values are far from anything the model learnt from.
    centre: dict[str, float] = field(default_factory=dict)
    spread: dict[str, float] = field(default_factory=dict)


def load(bento_model) -> Loaded:
    """Load the scikit-learn pipeline of a BentoML model that `import_version` (or module 03's
    import cell) made. The sklearn flavour, not the pyfunc: the service validates requests with
    its own schema, so MLflow's signature check would only repeat it, at 0.5 ms a call."""
    import mlflow.sklearn

    pipeline = mlflow.sklearn.load_model(bento_model.path_of(MLFLOW_FOLDER))
    labels = bento_model.info.labels
    centre, spread = training_statistics(pipeline)
    return Loaded(pipeline=pipeline, tag=str(bento_model.tag),
                  name=labels.get("registered_model", bento_model.tag.name),
                  version=labels.get("version", bento_model.tag.version or "?"),
                  centre=centre, spread=spread)


def training_statistics(pipeline) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation of each scaled numeric column, from the pipeline's fitted
    StandardScaler; empty if the pipeline has none (the server then flags nothing)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    centre: dict[str, float] = {}
    spread: dict[str, float] = {}
    steps = pipeline.steps if isinstance(pipeline, Pipeline) else []
    for _, step in steps:
        if not isinstance(step, ColumnTransformer):
            continue
        for _, transformer, columns in step.transformers_:
            scalers = ([s for _, s in transformer.steps] if isinstance(transformer, Pipeline)
                       else [transformer])
            for scaler in scalers:
                if isinstance(scaler, StandardScaler) and scaler.with_mean and scaler.with_std:
                    for column, mean, scale in zip(columns, scaler.mean_, scaler.scale_):
                        centre[str(column)] = float(mean)
                        spread[str(column)] = float(scale)
    return centre, spread


class AliasFollower:
    """Watches a registry alias from a background thread; when it moves to another version, imports
    that version into the BentoML store, loads it and hands it to `swap(loaded)`.

    Requests keep being answered by the model in service while the new one loads; the swap is one
    assignment, so no request fails and none waits for it. A version that cannot be served (a
    broken model, missing files) is reported once, as a warning that names it and why, and tried
    again quietly every `retry_s` seconds until it loads or the alias moves; the model in service
    stays. A registry that cannot be read (briefly locked) is reported once too, until it answers.
    """

    def __init__(self, alias: str, current_version: str | None, swap, *, name: str = MODEL_NAME,
                 every_s: float = 1.0, retry_s: float = 10.0):
        import threading

        self.alias = alias
        self.name = name
        self.version = current_version
        self.swap = swap
        self.every_s = every_s
        self.retry_s = retry_s
        self.broken: str | None = None  # the version the alias names that could not be served
        self._retry_at = 0.0
        self._registry_failing = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"follow-{alias}", daemon=True)

    def start(self) -> "AliasFollower":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def check(self, client) -> bool:
        """One poll; True if a new version went into service. Raises if the registry fails."""
        version = alias_version(self.alias, name=self.name, client=client)
        if version is None or version == self.version:
            self.broken = None
            return False
        if version == self.broken and time.monotonic() < self._retry_at:
            return False  # known broken: no import or load attempt every second
        try:
            loaded = load(import_version(version, name=self.name, client=client))
        except Exception as error:  # noqa: BLE001 - any failure: the model in service stays
            self._cannot_serve(version, error)
            return False
        previous, self.version, self.broken = self.version, version, None
        self.swap(loaded)
        logger.info("%s@%s moved from version %s to %s: now serving %s", self.name, self.alias,
                    previous, version, loaded.tag)
        return True

    def _cannot_serve(self, version: str, error: Exception) -> None:
        if version != self.broken:
            reason = (str(error).strip().splitlines() or [""])[0][:300]
            logger.warning("%s@%s points at version %s, which cannot be served (%s: %s); still "
                           "serving version %s. Fix or replace that version and move the alias; "
                           "it is tried again every %g s.", self.name, self.alias, version,
                           type(error).__name__, reason, self.version, self.retry_s)
        self.broken = version
        self._retry_at = time.monotonic() + self.retry_s

    def _run(self) -> None:
        client = registry_client()
        while not self._stop.wait(self.every_s):
            try:
                self.check(client)
            except Exception as error:  # noqa: BLE001 - keep serving the current model, try again later
                if not self._registry_failing:
                    logger.warning("Cannot read %s@%s from the registry (%s: %s); still serving "
                                   "version %s, trying again every %g s", self.name, self.alias,
                                   type(error).__name__, error, self.version, self.every_s)
                self._registry_failing = True
            else:
                self._registry_failing = False
