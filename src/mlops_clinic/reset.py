"""`clinic reset`: a fresh workspace, after asking. Stops what runs in the workspace first, by PID:
the servers with a PID file, then every other process of this user whose working folder or
command line is inside it (launcher cards, kernels), never the caller or its ancestors."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from mlops_clinic import stages
from mlops_clinic.errors import ClinicError
from mlops_clinic.stop import stop_everything_inside
from mlops_clinic.workspace import MARKER_FILE, Workspace, add_workspace_argument
from mlops_clinic.workspace_lock import LOCK_FILES, workspace_lock


def add_arguments(parser) -> None:
    add_workspace_argument(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def reset(workspace: Workspace) -> list[str]:
    """Stop what runs in the workspace, delete it, create an empty one. Returns what was stopped."""
    root = workspace.root
    if root.exists() and not (root / MARKER_FILE).exists() \
            and any(entry.name not in LOCK_FILES for entry in root.iterdir()):
        raise ClinicError(f"{root} does not look like a clinic workspace (no {MARKER_FILE}); "
                          "refusing to delete it.", fix="check --workspace or $MLOPS_CLINIC_WORKSPACE.")
    stopped = stop_everything_inside(workspace)  # a builder stopped here lets go of the lock
    with workspace_lock(workspace, "clinic reset"):
        stopped += stop_everything_inside(workspace)  # started while we waited
        _delete_all_but_the_lock(root)
        stages.ensure("workspace", workspace)
    return stopped


def _delete_all_but_the_lock(root: Path) -> None:
    # The lock file stays: deleting it while held would let a second process lock a new file.
    if not root.exists():
        return
    for entry in root.iterdir():
        if entry.name in LOCK_FILES:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


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
