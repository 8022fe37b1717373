"""nbval on the kit's notebooks: a fresh workspace for each notebook, then a second run of it.

Loaded by the root conftest.py (`pytest_plugins`). nbval runs a notebook's cells as test items in
one kernel, started at its first cell: that notebook first gets a workspace of its own, as a
participant opening it first would have. After its last cell, a RunsAgain item runs the notebook
again, headless, in that same workspace, as a participant who runs all cells twice would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from nbval.plugin import IPyNbCell

from mlops_clinic.workspace import WORKSPACE_ENV_VAR, Workspace

NOTEBOOK_KEY_ENV = "MLOPS_CLINIC_TEST_NOTEBOOK"  # which notebook the current workspace belongs to


def worker_root() -> Path:
    """One folder per test run and xdist worker, so two runs at once never share a workspace."""
    from mlops_clinic import paths

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"run-{os.getpid()}"
    return paths.REPO_ROOT / "build" / "test-workspaces" / run / os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if isinstance(item, IPyNbCell):
        notebook = Path(str(item.fspath))
        key = f"{notebook.parent.name}-{notebook.stem}"
        if os.environ.get(NOTEBOOK_KEY_ENV) != key:
            workspace = worker_root() / key / "workspace"
            shutil.rmtree(workspace, ignore_errors=True)
            os.environ[WORKSPACE_ENV_VAR] = str(workspace)
            os.environ[NOTEBOOK_KEY_ENV] = key


class RunsAgainFailed(Exception):
    """The second run of a notebook failed; the message names the cell and the error."""


class RunsAgain(pytest.Item):
    """After nbval has run a notebook on its fresh workspace, the notebook runs again, headless, in
    that same workspace, as a participant who runs all cells twice would. One item per notebook,
    right after its cells (same file, so xdist's loadfile keeps it on the same worker)."""

    def runtest(self) -> None:
        from mlops_clinic.execute import ExecutionOptions, execute_notebook

        workspace = Workspace(os.environ[WORKSPACE_ENV_VAR])
        result = execute_notebook(self.path, workspace.root.parent / "second-run.ipynb",
                                  parameters={"workspace": str(workspace.root)}, env=workspace.env(),
                                  cwd=self.path.parent, options=ExecutionOptions(cell_timeout_s=600))
        if result.status != "ok":
            raise RunsAgainFailed(f"the second run in the same workspace failed: {result.error} "
                                  f"at {result.failing_cell}; log: {result.log_path}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, RunsAgainFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: runs again in the same workspace"


def pytest_collection_modifyitems(session, config, items):
    """Give every notebook that nbval collected a RunsAgain item after its last cell."""
    result, current = [], None
    for item in items:
        parent = item.parent if isinstance(item, IPyNbCell) else None
        if current is not None and parent is not current:
            result.append(RunsAgain.from_parent(current, name="runs-again-in-the-same-workspace"))
        current = parent
        result.append(item)
    if current is not None:
        result.append(RunsAgain.from_parent(current, name="runs-again-in-the-same-workspace"))
    items[:] = result
