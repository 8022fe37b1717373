"""Modules 03 and 04's outcomes: the champion in the BentoML store with the first service, an
inference log, and the hot swap.

`bento_model`: the registered version that `house-price@champion` names, imported into
BENTOML_HOME as `house-price:v<version>` (module 03 shows the `bentoml.mlflow.import_model` call),
and the participant's first service (FIRST_SERVICE) written to the project and committed, with the
commands lesson 03 types.

`inference_log`: lesson 04's first requests (FIRST_REQUESTS) and the four traffic scenarios
replayed through the prediction service, their late labels joined, as module 04 does over HTTP;
here in-process (the service's ASGI app, same validation, same log), so module 05 can open first
without waiting for a server.

`hot_swap`: lesson 04's challenger registered as the next version, the alias moved to it and back,
and the "hot-swap" traffic in the log (mlops_clinic.service.hot_swap).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mlops_clinic.names import MODEL_NAME
from mlops_clinic.project import git_ok, replay
from mlops_clinic.service.schema import EXAMPLE_HOUSE
from mlops_clinic.stages import StageError, failure_advice, module_needs, stage
from mlops_clinic.workspace import Workspace

# Lesson 03's first service, as the participant writes it (`%%writefile service.py`) in the
# project; tests/service/test_stages_serving.py checks that the lesson's cell is this text.
FIRST_SERVICE_FILE = "service.py"
FIRST_SERVICE = """\
import bentoml
import pandas as pd

from mlops_clinic.service.sockets import make_private


@bentoml.service
class FirstService:
    model = bentoml.models.BentoModel("house-price:latest")  # the newest import in the store
    private_sockets = bentoml.on_deployment(make_private)  # on a shared machine: see below

    def __init__(self) -> None:
        self.pipeline = bentoml.mlflow.load_model(self.model)

    @bentoml.api
    def predict(self, house: dict) -> float:
        return float(self.pipeline.predict(pd.DataFrame([house]))[0])
"""
FIRST_SERVICE_COMMIT = "A first BentoML service: the champion behind /predict"


def write_first_service(project: Path) -> None:
    (Path(project) / FIRST_SERVICE_FILE).write_text(FIRST_SERVICE)


# What lesson 03 types to keep the service with the project's code.
FIRST_SERVICE_STEPS = (write_first_service, f"git add {FIRST_SERVICE_FILE}",
                       f'git commit --quiet -m "{FIRST_SERVICE_COMMIT}"')

# Lesson 04's first requests, in order: an estimate, its retry, the same id for another house
# (409), an unusual house, and an upper-case YES (400).
FIRST_REQUESTS = [
    {"request_id": "agent-42-0001", "house_id": "H000123", "house": EXAMPLE_HOUSE},
    {"request_id": "agent-42-0001", "house_id": "H000123", "house": EXAMPLE_HOUSE},
    {"request_id": "agent-42-0001", "house_id": "H000123", "house": {**EXAMPLE_HOUSE, "area": 5200}},
    {"request_id": "agent-42-0002", "house": {**EXAMPLE_HOUSE, "area": 12_500}},
    {"request_id": "agent-42-0003", "house": {**EXAMPLE_HOUSE, "mainroad": "YES"}},
]


def _in_this_process(ws: Workspace) -> bool:
    """True if this process's BentoML and MLflow already point at `ws` (the notebook's own
    workspace after setup()); BentoML fixes its home at first use, so another workspace needs a
    process of its own."""
    if os.environ.get("MLFLOW_TRACKING_URI") != ws.tracking_uri:
        return False
    if os.environ.get("BENTOML_HOME") != str(ws.bentoml_home):
        return False
    if "bentoml" in sys.modules:
        from bentoml._internal.configuration.containers import BentoMLContainer

        return Path(BentoMLContainer.bentoml_home.get()) == ws.bentoml_home
    return True


def _in_workspace(ws: Workspace, code: str) -> str:
    """Run Python `code` in a fresh process inside the workspace; its last output line."""
    result = subprocess.run([sys.executable, "-c", code], env=ws.process_env(), cwd=ws.project,
                            capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stderr.strip()[-2000:]
        raise StageError(f"Preparing the workspace failed:\n{output}", fix=failure_advice(output))
    return (result.stdout.strip().splitlines() or [""])[-1]


def champion_in_store(ws: Workspace) -> bool:
    """The champion's version is in the BentoML store, imported from the champion's run."""
    from mlops_clinic.stages.training import champion_version

    version = champion_version(ws)
    if version is None:
        return False
    labels = ws.bentoml_home / "models" / MODEL_NAME / f"v{version.version}" / "model.yaml"
    if not labels.is_file():
        return False
    import yaml

    info = yaml.safe_load(labels.read_text()) or {}
    return (info.get("labels") or {}).get("run_id") == version.run_id


def first_service_committed(ws: Workspace) -> bool:
    return git_ok(ws, "ls-files", "--error-unmatch", FIRST_SERVICE_FILE)


@stage("bento_model", "the champion imported into the BentoML model store (house-price:v<N>), "
       "the first service committed", requires=("champion",),
       is_done=lambda ws: champion_in_store(ws) and first_service_committed(ws))
def build_bento_model(ws: Workspace) -> None:
    if not champion_in_store(ws):
        if _in_this_process(ws):
            from mlops_clinic.service import store

            store.import_version(store.alias_version("champion"))
        else:
            _in_workspace(ws, "from mlops_clinic.service import store; "
                              "print(store.import_version(store.alias_version('champion')).tag)")
    replay(ws, FIRST_SERVICE_STEPS)


def inference_log_complete(ws: Workspace) -> bool:
    from mlops_clinic.service import inference_log

    return inference_log.has_scenarios(inference_log.log_path(ws), inference_log.SCENARIOS)


@stage("inference_log", "the traffic scenarios replayed through the prediction service, labels joined",
       requires=("bento_model",), is_done=inference_log_complete)
def build_inference_log(ws: Workspace) -> None:
    from mlops_clinic.service.inference_log import log_path

    path = log_path(ws)
    if _in_this_process(ws):
        from mlops_clinic.service import replay as traffic

        traffic.replay_in_process(path, first=FIRST_REQUESTS)
    else:
        code = ("from mlops_clinic.service import replay; from mlops_clinic.stages import serving; "
                "import json; print(json.dumps(replay.replay_in_process("
                f"{str(path)!r}, first=serving.FIRST_REQUESTS)))")
        json.loads(_in_workspace(ws, code))


def hot_swap_done(ws: Workspace) -> bool:
    from mlops_clinic.service import hot_swap
    from mlops_clinic.service.inference_log import log_path
    from mlops_clinic.stages.training import client

    if not ws.mlflow_db.exists() or not hot_swap.has_traffic(log_path(ws)):
        return False
    return hot_swap.registered_challenger(client(ws)) is not None


@stage("hot_swap", "module 04's challenger registered, the alias moved to it and back, the "
       "hot-swap traffic in the inference log", requires=("inference_log",), is_done=hot_swap_done)
def build_hot_swap(ws: Workspace) -> None:
    from mlops_clinic.service.inference_log import log_path

    # Always a process of its own: training imports the project's src/ modules, which must not
    # stay in a notebook's kernel.
    _in_workspace(ws, "from pathlib import Path; from mlops_clinic.service import hot_swap; "
                      f"print(hot_swap.replay_hot_swap(Path.cwd(), Path({str(log_path(ws))!r})))")


module_needs("03", "champion")
module_needs("04", "bento_model")
