"""`clinic lab`: JupyterLab on this repository, opened at the first notebook, inside the workspace."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mlops_clinic import paths, stages
from mlops_clinic.workspace import Workspace, add_workspace_argument

FIRST_NOTEBOOK = "notebooks/00_welcome.ipynb"

# Offline-friendly JupyterLab: no news feed, no update checks (venue wifi may be down).
SERVER_CONFIG = """\
# Written by `clinic lab`; regenerated at every start.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
# `jupyter lab` takes its start page from LabApp (an extension app), not from ServerApp.
c.LabApp.default_url = "/lab/tree/{first_notebook}"
# Launcher cards for the MLflow UI and the BentoML service, proxied under the lab's URL.
from mlops_clinic import proxy
c.ServerProxy.servers = proxy.servers()
"""


def write_lab_config(workspace: Workspace) -> Path:
    """Write JupyterLab's config and settings into the workspace's Jupyter dirs (not $HOME)."""
    env = workspace.env()
    config_dir = Path(env["JUPYTER_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    config_file = config_dir / "jupyter_server_config.py"
    config_file.write_text(SERVER_CONFIG.format(first_notebook=FIRST_NOTEBOOK))
    notification = (Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
                    / "notification.jupyterlab-settings")
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}, indent=2))
    return config_file


def lab_command(*, port: int | None = None, open_browser: bool = True,
                extra: list[str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={paths.REPO_ROOT}",
               "--ServerApp.ip=127.0.0.1"]
    if port:
        command.append(f"--ServerApp.port={port}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and some training VMs run as root
    return command + list(extra or [])


def add_arguments(parser) -> None:
    add_workspace_argument(parser)
    parser.add_argument("--port", type=int, help="port for JupyterLab (default: 8888 or the next free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")


def run(args) -> int:
    workspace = Workspace.resolve(args.workspace).activate()
    stages.ensure("workspace", workspace)
    write_lab_config(workspace)
    command = lab_command(port=args.port, open_browser=not args.no_browser)
    print(f"Starting JupyterLab at {FIRST_NOTEBOOK}; workspace: {workspace.root}")
    print("Stop it with Ctrl-C (twice).")
    os.chdir(paths.REPO_ROOT)
    os.execve(command[0], command, dict(os.environ))  # JupyterLab takes over this process
    return 0  # not reached


if __name__ == "__main__":
    # `python -m mlops_clinic.lab --configure`: binder/start writes the offline-friendly lab config.
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlops_clinic.lab")
    parser.add_argument("--configure", action="store_true", required=True,
                        help="write JupyterLab's config into the workspace and exit")
    parser.parse_args()
    print(f"JupyterLab config: {write_lab_config(Workspace.resolve().create())}")
