"""The model the service answers with: the registry's champion, followed while serving.

At start the service loads the version that the alias `champion` names in the MLflow registry
(deploy/reconcile.py sets it from deploy/champion.yaml). A thread then checks the alias every
$CHAMPION_FOLLOW_SECONDS (10): when it moves, the new version is loaded while the old one keeps
answering, then swapped in with one assignment. $SERVE_VERSION pins a version instead (a roll-back
that no alias move can undo).
"""

import logging
import os
import threading
from dataclasses import dataclass

from settings import ALIAS, mlflow_client, registered_model, tracking_uri

logger = logging.getLogger("bentoml.champion")


class NoChampion(RuntimeError):
    pass


@dataclass(frozen=True)
class Loaded:
    name: str
    version: str
    pipeline: object


def load(name: str, version: str) -> Loaded:
    import mlflow.sklearn

    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_registry_uri(tracking_uri())
    return Loaded(name, str(version), mlflow.sklearn.load_model(f"models:/{name}/{version}"))


def alias_version(client, name: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, ALIAS).version)
    except MlflowException:
        return None


class Champion:
    def __init__(self):
        self.name, self.client = registered_model(), mlflow_client()
        pinned = os.environ.get("SERVE_VERSION")
        version = pinned or alias_version(self.client, self.name)
        if version is None:
            raise NoChampion(f"the registry ({tracking_uri()}) has no {self.name}@{ALIAS}: run "
                             "`python deploy/reconcile.py` after the pipeline has proposed a champion")
        self.current = load(self.name, version)
        self.stopped = threading.Event()
        if not pinned:
            seconds = float(os.environ.get("CHAMPION_FOLLOW_SECONDS", "10"))
            threading.Thread(target=self._follow, args=(seconds,), daemon=True, name="champion").start()

    def _follow(self, seconds: float) -> None:
        while not self.stopped.wait(seconds):
            try:
                version = alias_version(self.client, self.name)
                if version is not None and version != self.current.version:
                    self.current = load(self.name, version)  # one assignment: the swap
                    logger.info("now serving %s version %s", self.name, version)
            except Exception as error:  # noqa: BLE001 - keep serving the model that works
                logger.warning("could not load %s@%s (%s); still serving version %s",
                               self.name, ALIAS, error, self.current.version)

    def stop(self) -> None:
        self.stopped.set()
