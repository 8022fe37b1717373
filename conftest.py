"""Test session set-up: every tool homed in a throw-away workspace, one fresh workspace per notebook.

At the repository root so its hooks apply to notebooks/ and solutions/ (nbval) as well as tests/.

Kernels started by nbval inherit this process's environment, so pointing the environment at a
workspace here keeps Jupyter, IPython, MLflow, DVC and BentoML out of $HOME during the tests.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psutil
import pytest

from mlops_clinic import paths
from mlops_clinic.workspace import WORKSPACE_ENV_VAR, Workspace

TEST_ROOT = paths.REPO_ROOT / "build" / "test-workspaces"


def _worker_root() -> Path:
    # One folder per test run and worker, so two runs at once never share a workspace.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"run-{os.getpid()}"
    return TEST_ROOT / run / os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_configure(config):
    Workspace(_worker_root() / "session" / "workspace").activate()


def pytest_sessionfinish(session, exitstatus):
    # Keep the workspaces of a failed run for a look; a passing run leaves nothing behind.
    if exitstatus == 0:
        shutil.rmtree(_worker_root(), ignore_errors=True)
        for run in TEST_ROOT.glob("*"):
            if run.is_dir() and not any(run.iterdir()):
                run.rmdir()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # nbval starts one kernel per notebook, at its first cell: give that notebook a fresh
    # workspace of its own, as a participant opening it first would have.
    if type(item).__name__ == "IPyNbCell":
        notebook = Path(str(item.fspath))
        key = f"{notebook.parent.name}-{notebook.stem}"
        if os.environ.get("CLINIC_TEST_NOTEBOOK") != key:
            workspace = _worker_root() / key / "workspace"
            shutil.rmtree(workspace, ignore_errors=True)
            os.environ[WORKSPACE_ENV_VAR] = str(workspace)
            os.environ["CLINIC_TEST_NOTEBOOK"] = key


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    """A fresh, empty workspace for one test (directory name 'workspace', as in the repository)."""
    return Workspace(tmp_path / "workspace").create()


def _orphans_of_this_checkout() -> list[psutil.Process]:
    """Processes started for a workspace under build/ that lost their parent (e.g. a daemonised
    DVC queue worker): nobody will stop them, so a test that made one must."""
    build = str(paths.REPO_ROOT / "build")
    found = []
    for process in psutil.process_iter(["ppid"]):
        try:
            if process.info["ppid"] != 1:
                continue
            if process.environ().get(WORKSPACE_ENV_VAR, "").startswith(build):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind():
    """Fail the session if any test leaves a process running (servers, kernels, workers)."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)} | {p.pid for p in _orphans_of_this_checkout()}
    yield
    deadline = time.monotonic() + 10
    while True:
        left = [p for p in me.children(recursive=True) + _orphans_of_this_checkout()
                if p.pid not in before and p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not left, "processes left running: " + "; ".join(
        f"{p.pid} {' '.join(p.cmdline()[:4])}" for p in left)
