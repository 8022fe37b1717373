"""`clinic reset`: a fresh workspace, after asking. Stops the workspace's servers first, by PID."""

from __future__ import annotations

import shutil
import sys

from mlops_clinic import stages
from mlops_clinic.servers import stop_all_recorded
from mlops_clinic.workspace import MARKER_FILE, Workspace


def add_arguments(parser) -> None:
    parser.add_argument("--workspace", help="workspace directory (default: $MLOPS_CLINIC_WORKSPACE or workspace/)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def reset(workspace: Workspace) -> list[str]:
    """Stop recorded servers, delete the workspace, create an empty one. Returns stopped servers."""
    if workspace.root.exists() and not (workspace.root / MARKER_FILE).exists() \
            and any(workspace.root.iterdir()):
        raise SystemExit(
            f"{workspace.root} does not look like a clinic workspace (no {MARKER_FILE}); "
            "refusing to delete it. Check --workspace or $MLOPS_CLINIC_WORKSPACE."
        )
    stopped = stop_all_recorded(workspace.servers_dir) if workspace.servers_dir.exists() else []
    if workspace.root.exists():
        shutil.rmtree(workspace.root)
    stages.ensure("workspace", workspace)
    return stopped


def run(args) -> int:
    workspace = Workspace.resolve(args.workspace)
    if not args.yes:
        if not sys.stdin.isatty():
            print("clinic reset deletes the workspace; run it with --yes when there is no terminal to ask.")
            return 2
        answer = input(f"Delete everything in {workspace.root} (data versions, MLflow runs, models, "
                       "logs, maturity answers) and start again? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            print("Nothing deleted.")
            return 1
    stopped = reset(workspace)
    if stopped:
        print(f"Stopped: {', '.join(stopped)}.")
    print(f"Fresh workspace at {workspace.root}.")
    return 0
