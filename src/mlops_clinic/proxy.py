"""The tools' web UIs inside JupyterLab, through jupyter-server-proxy (on Binder too).

`clinic lab` and binder/start write a server config that sets `c.ServerProxy.servers` from
`servers()`: two launcher cards, "MLflow UI" and "BentoML service". jupyter-server-proxy starts a
server on the first visit to its path and proxies it under the lab's base URL (on Binder,
/user/<name>/mlflow/), so no extra port has to be reachable from the participant's browser.

`absolute_url: False` and no `--static-prefix`: the proxy strips its path, and both UIs load
their assets by relative URLs (the combination measured to render; others gave 404). The cards
stay in the launcher's default "Notebook" section: JupyterLab draws a card's icon only there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mlops_clinic.workspace import Workspace
from mlops_clinic.workspace_lock import WorkspaceBusy

ICONS = Path(__file__).parent / "icons"
# Binder gives 2 GB; MLflow's job runner and its workers would take ~2.4 GB on their own.
MLFLOW_UI_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
# The BentoML card may be the first thing a participant opens: building the champion it serves
# takes up to a minute on one CPU, and the proxy waits this long for the port.
STARTUP_TIMEOUT_S = 300


def mlflow_ui_command(workspace: Workspace) -> list[str]:
    """The MLflow UI on the workspace's store, one worker (memory), port filled in by the proxy."""
    return ["mlflow", "server", "--host", "127.0.0.1", "--port", "{port}", "-w", "1",
            "--backend-store-uri", workspace.tracking_uri,
            "--artifacts-destination", str(workspace.mlflow_artifacts)]


def bentoml_command() -> list[str]:
    return [sys.executable, "-m", "mlops_clinic.proxy", "bentoml", "{port}"]


def servers(workspace: Workspace | None = None) -> dict[str, dict]:
    """jupyter-server-proxy's `servers` setting for this workspace."""
    workspace = workspace or Workspace.resolve()
    return {
        "mlflow": {
            "command": mlflow_ui_command(workspace),
            "environment": MLFLOW_UI_ENV,
            "absolute_url": False,
            "timeout": STARTUP_TIMEOUT_S,
            "launcher_entry": {"title": "MLflow UI", "icon_path": str(ICONS / "mlflow.svg")},
        },
        "bentoml": {
            "command": bentoml_command(),
            "absolute_url": False,
            "timeout": STARTUP_TIMEOUT_S,
            "launcher_entry": {"title": "BentoML service", "icon_path": str(ICONS / "bentoml.svg")},
        },
    }


def serve_bentoml(port: str) -> None:
    """Module 03's service on `port`, after making sure the model store holds the champion."""
    from mlops_clinic import stages

    workspace = Workspace.resolve().activate()
    # Run inside the workspace, so `clinic reset` finds this server (it has no PID file) by its folder.
    os.chdir(workspace.root)
    try:
        built = stages.ensure("bento_model", workspace)
    except WorkspaceBusy as busy:
        raise SystemExit(str(busy)) from None
    if built:
        print(f"Built for the service first: {', '.join(built)}", flush=True)
    command = ["bentoml", "serve", "mlops_clinic.service.service:HousePrice",
               "--host", "127.0.0.1", "--port", port]
    os.execvpe(command[0], command, dict(os.environ))  # the proxy supervises bentoml itself


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "bentoml":
        raise SystemExit("usage: python -m mlops_clinic.proxy bentoml PORT")
    serve_bentoml(sys.argv[2])
