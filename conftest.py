"""Test session set-up: every tool homed in a throw-away workspace, each test module starting in
it, and no process left behind. The notebooks' own workspaces (nbval) are the plugin
tests/notebook_workspaces.py.

At the repository root so its hooks apply to notebooks/ and solutions/ (nbval) as well as tests/.

Kernels started by nbval inherit this process's environment, so pointing the environment at a
workspace here keeps Jupyter, IPython, MLflow, DVC and BentoML out of $HOME during the tests.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import psutil
import pytest

from mlops_clinic import paths
from mlops_clinic.workspace import WORKSPACE_ENV_VAR, Workspace

pytest_plugins = ["tests.notebook_workspaces"]


def _worker_root() -> Path:
    from tests.notebook_workspaces import worker_root  # imported once pytest has loaded the plugin

    return worker_root()


SESSION_ENVIRONMENT: dict[str, str] = {}


def pytest_configure(config):
    Workspace(_worker_root() / "session" / "workspace").activate()
    SESSION_ENVIRONMENT.update(os.environ)
    # BentoML fixes its model store at first use in a process. Fix it here, on the session's
    # workspace, which the in-process service tests share: otherwise a module that activated a
    # workspace of its own and built a stage first would take it (stages then use a subprocess).
    import bentoml

    bentoml.models.list()


def _back_to_the_session_workspace() -> None:
    """Undo what an earlier test module left in this process: a workspace it activated (doctor,
    setup) or MLflow's global tracking URI, which wins over the environment once set. BentoML
    fixes its model store at first use, so everything in-process must stay on the session's."""
    os.environ.clear()
    os.environ.update(SESSION_ENVIRONMENT)
    if "mlflow" in sys.modules:
        import mlflow

        mlflow.set_tracking_uri(None)  # follow MLFLOW_TRACKING_URI again (this unsets it...)
        os.environ.update(SESSION_ENVIRONMENT)  # (...so the environment goes back once more)


def pytest_sessionfinish(session, exitstatus):
    # Keep the workspaces of a failed run for a look; a passing run leaves nothing behind.
    if exitstatus == 0:
        shutil.rmtree(_worker_root(), ignore_errors=True)
        for run in _worker_root().parents[1].glob("*"):
            if run.is_dir() and not any(run.iterdir()):
                run.rmdir()


_last_module: list = [None]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Each test module starts in the session's workspace, before its fixtures run.
    module = getattr(item, "module", None)
    if module is not None and module is not _last_module[0]:
        _last_module[0] = module
        _back_to_the_session_workspace()


@pytest.fixture(scope="session")
def session_workspace() -> Workspace:
    """The test session's workspace (one per xdist worker), active in every test module. BentoML
    fixes its model store at first use in a process, so everything in-process that serves or
    imports a model (the service tests, the checks of modules 03 and 04) works in this one."""
    return Workspace(_worker_root() / "session" / "workspace")


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
