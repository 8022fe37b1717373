"""What the setup cell of every notebook does: `ws = setup("03", workspace=workspace)`."""

from __future__ import annotations

import os

from mlops_clinic import stages
from mlops_clinic.workspace import Workspace


def setup(module: str, workspace: str | os.PathLike | None = None, *, quiet: bool = False) -> Workspace:
    """Open module `module` in a workspace and return it.

    - picks the workspace (the `workspace` parameter, else $MLOPS_CLINIC_WORKSPACE, else workspace/
      in the repository) and points every tool at it, telemetry off;
    - builds whatever earlier modules would have built, so this notebook can run first;
    - makes the workspace's project repository the current directory, so `!dvc ...` and
      `!git ...` cells act on it.
    """
    ws = Workspace.resolve(workspace).activate()
    built = []
    for needed in stages.needs_of(module):
        built += stages.ensure(needed, ws)
    os.chdir(ws.project)
    if not quiet:
        # Only stable text here: this output is compared by nbval.
        print(f"Module {module} is ready. Workspace: {ws.root.name}/ (project, MLflow store, "
              "BentoML home and logs inside it); telemetry is off.")
    return ws
