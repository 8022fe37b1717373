"""Modules 03 and 04's outcomes: the champion in the BentoML store, and an inference log.

`bento_model`: the registered version that `house-price@champion` names, imported into
BENTOML_HOME as `house-price:v<version>` (module 03 shows the `bentoml.mlflow.import_model` call).

`inference_log`: the four traffic scenarios replayed through the prediction service and their
late labels joined, as module 04 does over HTTP; here in-process (the service's ASGI app, same
validation, same log), so module 05 can open first without waiting for a server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mlops_clinic.names import MODEL_NAME
from mlops_clinic.stages import StageError, failure_advice, module_needs, stage
from mlops_clinic.workspace import Workspace


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


@stage("bento_model", "the champion imported into the BentoML model store (house-price:v<N>)",
       requires=("champion",), is_done=champion_in_store)
def build_bento_model(ws: Workspace) -> None:
    if _in_this_process(ws):
        from mlops_clinic.service import store

        store.import_version(store.alias_version("champion"))
    else:
        _in_workspace(ws, "from mlops_clinic.service import store; "
                          "print(store.import_version(store.alias_version('champion')).tag)")


def inference_log_complete(ws: Workspace) -> bool:
    from mlops_clinic.service import inference_log

    return inference_log.has_scenarios(inference_log.log_path(ws), inference_log.SCENARIOS)


@stage("inference_log", "the traffic scenarios replayed through the prediction service, labels joined",
       requires=("bento_model",), is_done=inference_log_complete)
def build_inference_log(ws: Workspace) -> None:
    from mlops_clinic.service.inference_log import log_path

    path = log_path(ws)
    if _in_this_process(ws):
        from mlops_clinic.service import replay

        replay.replay_in_process(path)
    else:
        code = ("from mlops_clinic.service import replay; import json; "
                f"print(json.dumps(replay.replay_in_process({str(path)!r})))")
        json.loads(_in_workspace(ws, code))


module_needs("03", "champion")
module_needs("04", "bento_model")
