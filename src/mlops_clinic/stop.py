"""`clinic stop`: stop every server and tool running in the workspace, by PID, and delete nothing.

The servers with a PID file (the notebooks' BackgroundServers), then every other process of this
user whose working folder or command line is inside the workspace (the launcher cards, a kernel's
tools). Never the caller or its ancestors: `!clinic stop` in a notebook leaves its kernel alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlops_clinic.processes import processes_inside, stop_processes
from mlops_clinic.servers import stop_all_recorded
from mlops_clinic.workspace import Workspace, add_workspace_argument


def add_arguments(parser) -> None:
    add_workspace_argument(parser)


def stop_everything_inside(workspace: Workspace) -> list[str]:
    """Stop what runs in `workspace`; a description of each process or server stopped."""
    root = workspace.root
    if not root.exists():
        return []
    stopped = stop_all_recorded(workspace.servers_dir) if workspace.servers_dir.exists() else []
    found = processes_inside(root)
    stopped += [_describe(process) for process in found]
    stop_processes(found)
    return stopped


def _describe(process) -> str:
    """'PID 4242 (python mlflow server)': enough to recognise it, from what the scan read."""
    words = [Path(word).name if word.startswith(os.sep) else word
             for word in (process.info.get("cmdline") or [])[:3]]
    return f"PID {process.pid} ({' '.join(words)[:60] or 'no command line'})"


def run(args) -> int:
    workspace = Workspace.resolve(args.workspace)
    stopped = stop_everything_inside(workspace)
    print(f"Stopped: {', '.join(stopped)}." if stopped else f"Nothing was running in {workspace.root}.")
    return 0
