"""Module 01's outcomes: the reference data versioned as data-v1.0.0, the new release as
data-v2.0.0, both in the DVC remote.

The lesson (notebooks/01_data_versioning.ipynb) has the participant type the commands; these
builders replay the same commands (RELEASE_V1, RELEASE_V2), so a later module opened first stands on
the same project: the same commits, messages and tags. Every command runs with the workspace's own
environment, whatever process calls `ensure`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mlops_clinic.project import git_ok, replay, run, tag_exists  # noqa: F401 (used by the stages)
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


# What lesson 01 has the participant type to version each release, once data/houses.csv holds it.
RELEASE_V1 = (
    "dvc add data/houses.csv",
    "git add data/houses.csv.dvc data/.gitignore",
    'git commit --quiet -m "Data v1.0.0: the reference houses (2,000 rows)"',
    f"git tag {V1_TAG}",
    "dvc push",
)
RELEASE_V2 = (
    "dvc add --quiet data/houses.csv",
    "git add data/houses.csv.dvc",
    'git commit --quiet -m "Data v2.0.0: reference plus the new release (3,000 rows)"',
    f"git tag {V2_TAG}",
    "dvc push",
)


@stage("data_v1", "the reference data tracked by DVC, pushed, tagged data-v1.0.0",
       requires=("project",), is_done=lambda ws: tag_exists(ws, V1_TAG))
def build_data_v1(ws: Workspace) -> None:
    from mlops_clinic.data import dataset_path

    on_main(ws)
    (ws.project / "data").mkdir(exist_ok=True)
    shutil.copyfile(dataset_path("houses_reference"), ws.project / DATA_FILE)
    replay(ws, RELEASE_V1)


@stage("data_v2", "the new release appended, pushed, tagged data-v2.0.0",
       requires=("data_v1",), is_done=lambda ws: tag_exists(ws, V2_TAG))
def build_data_v2(ws: Workspace) -> None:
    from mlops_clinic.data import dataset_path

    on_main(ws)
    target = ws.project / DATA_FILE
    release_v2(dataset_path("houses_reference"), dataset_path("houses_new"), target)
    replay(ws, RELEASE_V2)


def fresh_project(ws: Workspace) -> str:
    """Give module 01 an empty project folder to build its project in; returns what was done.

    Module 01 starts its project with `git init` and `dvc init`. A project folder that holds
    anything (the lesson ran before, or a later module's setup built a project) is kept as
    project-previous/ (replacing an older one) and an empty folder takes its place. The DVC remote
    and the MLflow store are not touched: everything pushed or tracked before survives.
    Under the workspace lock: another notebook's setup may be building in the project.
    """
    with workspace_lock(ws, "an empty project folder for module 01"):
        return _start_afresh(ws)


def _start_afresh(ws: Workspace) -> str:
    project = ws.project
    done = "Your project folder is empty: ready for `git init`."
    if project.is_dir() and any(project.iterdir()):
        previous = ws.root / PREVIOUS_PROJECT
        if previous.exists():
            shutil.rmtree(previous)
        project.rename(previous)
        done = (f"Your project folder held a project already, so it was kept as {PREVIOUS_PROJECT}/ "
                "and an empty folder takes its place. The DVC remote and the MLflow store were kept.")
    ws.create()
    os.chdir(project)  # the kernel may have been inside the old project: `!git` acts on the new one
    return done


# Module 01 starts its own project, in an empty folder (fresh_project).
module_needs("01", "workspace")

