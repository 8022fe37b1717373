"""Module 06's outcome: the pipeline's CI and GitOps files in the project, and the desired state.

`gitops`: the files of `project_template_ci/` (the CI workflow, the local runner, the model tests
and their gate, the promotion and reconcile scripts, the pinned requirements) installed and
committed, and deploy/champion.yaml naming the registry's champion, as the lesson does with
`python ci/promote.py --adopt`. The exercises of module 06 work in a clone of a project in this state.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlops_clinic.stages import module_needs, stage
from mlops_clinic.project import commit, git_ok, run
from mlops_clinic.stages.data import on_main
from mlops_clinic.stages.training import copy_into, files_in
from mlops_clinic.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parent.parent / "project_template_ci"
DESIRED = "deploy/champion.yaml"


def ci_files() -> list[str]:
    """The CI template's files, relative to the project (.github/workflows/pipeline.yml, ...)."""
    return files_in(TEMPLATE)


def install_ci(project: Path) -> list[str]:
    """Copy the CI and GitOps files into the project (overwriting what is there); returns them."""
    return copy_into(TEMPLATE, project)


@stage("gitops", "the CI workflow, model tests and reconcile step committed; deploy/champion.yaml names the champion",
       requires=("champion",),
       is_done=lambda ws: git_ok(ws, "cat-file", "-e", f"HEAD:{DESIRED}")
       and git_ok(ws, "cat-file", "-e", "HEAD:ci/run_pipeline.py"))
def build_gitops(ws: Workspace) -> None:
    on_main(ws)
    install_ci(ws.project)
    commit(ws, *ci_files(), message="CI and GitOps: workflow, model tests, promotion and reconcile")
    run(ws, sys.executable, "ci/promote.py", "--adopt")


module_needs("06", "bento_model")
