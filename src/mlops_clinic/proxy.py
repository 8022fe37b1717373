"""The tools' web UIs inside JupyterLab, through jupyter-server-proxy (on Binder too).

`clinic lab` and binder/start write a server config that sets `c.ServerProxy.servers` from
`servers()`: two launcher cards, "MLflow UI" and "BentoML service". jupyter-server-proxy starts a
server on the first visit to its path and proxies it under the lab's base URL (on Binder,
/user/<name>/mlflow/), so no extra port has to be reachable from the participant's browser.

The MLflow UI listens on a Unix socket in a private folder (`mlflow_ui_socket`), so no other account
of a shared hub can reach it; the BentoML card's public port only predicts (see
docs/instructors/security.md).

`absolute_url: False` and no `--static-prefix`: the proxy strips its path, and both UIs load
their assets by relative URLs (the combination measured to render; others gave 404). The cards
stay in the launcher's default "Notebook" section: JupyterLab draws a card's icon only there.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from mlops_clinic.service.sockets import MAX_SOCKET_PATH, SHORT_PARENT, SHORT_PREFIX
from mlops_clinic.workspace import Workspace
from mlops_clinic.workspace_lock import WorkspaceBusy

ICONS = Path(__file__).parent / "icons"
SOCKET_NAME = "mlflow.sock"
# Binder gives 2 GB; MLflow's job runner and its workers would take ~2.4 GB on their own.
MLFLOW_UI_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
# The BentoML card may be the first thing a participant opens: building the champion it serves
# takes up to a minute on one CPU, and the proxy waits this long for the port.
STARTUP_TIMEOUT_S = 300


def mlflow_ui_command(workspace: Workspace) -> list[str]:
    """The MLflow UI on the workspace's store, one worker (memory), on the Unix socket the proxy
    fills in."""
    return ["mlflow", "server", "-w", "1",
            "--backend-store-uri", workspace.tracking_uri,
            "--artifacts-destination", str(workspace.mlflow_artifacts),
            "--uvicorn-opts", "--uds {unix_socket}"]


def mlflow_ui_socket(workspace: Workspace) -> str:
    """Where the MLflow UI listens: a Unix socket in a 0700 folder, never a loopback TCP port. On a
    shared hub every account can reach every loopback port, and the UI's API writes to this
    workspace's store and registry: another user could register a model of theirs and move the
    `champion` alias, and the service would load it. A socket path must stay under 104 characters:
    a deep workspace gets a short private folder in /tmp instead, removed when the lab stops."""
    folder = workspace.servers_dir / "mlflow-ui"
    if len(str(folder / SOCKET_NAME)) >= MAX_SOCKET_PATH:
        folder = Path(tempfile.mkdtemp(prefix=SHORT_PREFIX, dir=SHORT_PARENT))  # 0700
        atexit.register(shutil.rmtree, folder, True)
    else:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is masked, and an older folder may be wider
    return str(folder / SOCKET_NAME)


def bentoml_command() -> list[str]:
    return [sys.executable, "-m", "mlops_clinic.proxy", "bentoml", "{port}"]


def servers(workspace: Workspace | None = None) -> dict[str, dict]:
    """jupyter-server-proxy's `servers` setting for this workspace."""
    workspace = workspace or Workspace.resolve()
    return {
        "mlflow": {
            "command": mlflow_ui_command(workspace),
            "unix_socket": mlflow_ui_socket(workspace),
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
