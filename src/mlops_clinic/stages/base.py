"""The workspace itself: its directories, and the git + DVC project inside it."""

from mlops_clinic.stages import module_needs, stage
from mlops_clinic.workspace import Workspace


@stage("workspace", "the workspace directories, tool homes inside them",
       is_done=lambda ws: ws.project.is_dir() and ws.home.is_dir())
def build_workspace(ws: Workspace) -> None:
    ws.create()


@stage("project", "a git + DVC repository with a local DVC remote", requires=("workspace",),
       is_done=lambda ws: (ws.project / ".git").is_dir() and (ws.project / ".dvc").is_dir())
def build_project(ws: Workspace) -> None:
    ws.init_project()


module_needs("00", "workspace")
module_needs("07", "workspace")
