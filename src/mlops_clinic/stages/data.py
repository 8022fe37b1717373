"""Module 01's outcomes: the reference data versioned as data-v1.0.0, the new release as
data-v2.0.0, both in the DVC remote.

The lesson (notebooks/01_data_versioning.ipynb) shows the real commands; these builders replay
their outcome with the same commands, so a later module opened first stands on the same project.
Every command runs with the workspace's own environment, whatever process calls `ensure`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mlops_clinic.project import commit, git_ok, run, tag_exists  # noqa: F401 (used by the stages)
from mlops_clinic.stages import module_needs, stage
from mlops_clinic.workspace import Workspace
from mlops_clinic.workspace_lock import workspace_lock

DATA_FILE = "data/houses.csv"
V1_TAG, V2_TAG = "data-v1.0.0", "data-v2.0.0"
PREVIOUS_PROJECT = "project-previous"


def on_main(ws: Workspace) -> None:
    """Leave a detached HEAD (a lesson interrupted while looking at an old version) for main."""
    if not git_ok(ws, "symbolic-ref", "--quiet", "HEAD"):
        run(ws, "git", "checkout", "--quiet", "main")
        restore_data(ws)


def restore_data(ws: Workspace) -> None:
    """Bring data/houses.csv to what its pointer records, from the cache or else the remote."""
    if (ws.project / f"{DATA_FILE}.dvc").is_file():
        run(ws, "dvc", "pull", "--quiet", f"{DATA_FILE}.dvc")


def release_v2(current: Path, new: Path, out: Path) -> None:
    """The v2.0.0 release: the rows of v1 followed by the new rows (what the lesson does)."""
    import pandas as pd

    pd.concat([pd.read_csv(current), pd.read_csv(new)]).to_csv(out, index=False)


def _version(ws: Workspace, tag: str, message: str) -> None:
    run(ws, "dvc", "add", "--quiet", DATA_FILE)
    commit(ws, f"{DATA_FILE}.dvc", "data/.gitignore", message=message)
    run(ws, "git", "tag", tag)
    run(ws, "dvc", "push", "--quiet")


@stage("data_v1", "the reference data tracked by DVC, pushed, tagged data-v1.0.0",
       requires=("project",), is_done=lambda ws: tag_exists(ws, V1_TAG))
def build_data_v1(ws: Workspace) -> None:
    from mlops_clinic.data import dataset_path

    on_main(ws)
    (ws.project / "data").mkdir(exist_ok=True)
    shutil.copyfile(dataset_path("houses_reference"), ws.project / DATA_FILE)
    _version(ws, V1_TAG, "Data v1.0.0: the reference houses (2,000 rows)")


@stage("data_v2", "the new release appended, pushed, tagged data-v2.0.0",
       requires=("data_v1",), is_done=lambda ws: tag_exists(ws, V2_TAG))
def build_data_v2(ws: Workspace) -> None:
    from mlops_clinic.data import dataset_path

    on_main(ws)
    target = ws.project / DATA_FILE
    release_v2(dataset_path("houses_reference"), dataset_path("houses_new"), target)
    _version(ws, V2_TAG, "Data v2.0.0: reference plus the new release (3,000 rows)")


def fresh_project(ws: Workspace) -> str:
    """Give module 01 an empty project to build its history in; returns what was done.

    A project with history (the lesson ran before, or a later module's setup built it) is kept as
    project-previous/ (replacing an older one) and a new git + DVC project takes its place. The DVC
    remote and the MLflow store are not touched: everything pushed or tracked before survives.
    Under the workspace lock: another notebook's setup may be building in the project.
    """
    with workspace_lock(ws, "a fresh project for module 01"):
        return _start_afresh(ws)


def _start_afresh(ws: Workspace) -> str:
    project = ws.project
    if (project / ".git").is_dir():
        commits = subprocess.run(["git", "rev-list", "--count", "--all"], cwd=project,
                                 capture_output=True, text=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain"], cwd=project,
                                 capture_output=True, text=True).stdout.strip()
        if commits == "1" and not changes:
            return "Your project is new: git and DVC are set up, and no data is tracked yet."
        previous = ws.root / PREVIOUS_PROJECT
        if previous.exists():
            shutil.rmtree(previous)
        project.rename(previous)
        done = (f"Your project had history, so it was kept as {PREVIOUS_PROJECT}/ and a new one "
                "started. The DVC remote and the MLflow store were kept.")
    else:
        done = "Your project is new: git and DVC are set up, and no data is tracked yet."
    ws.create()
    ws.init_project()
    os.chdir(project)  # the kernel was inside the old project: `!dvc` and `!git` act on the new one
    return done


module_needs("01", "project")

