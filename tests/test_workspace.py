import os
import subprocess
import sys

import pytest

from mlops_clinic import stages
from mlops_clinic.notebook import setup
from mlops_clinic.workspace import TELEMETRY_OFF, WORKSPACE_ENV_VAR, Workspace


def test_every_tool_directory_is_inside_the_workspace(workspace):
    env = workspace.env()
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "IPYTHONDIR",
                 "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR",
                 "DVC_SITE_CACHE_DIR", "BENTOML_HOME", "TMPDIR"):
        assert env[name].startswith(str(workspace.root)), name
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{workspace.root}/mlflow/mlflow.db"
    for name, value in TELEMETRY_OFF.items():
        assert env[name] == value


def test_resolve_prefers_parameter_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(tmp_path / "from-env"))
    assert Workspace.resolve().root == tmp_path / "from-env"
    assert Workspace.resolve(tmp_path / "param").root == tmp_path / "param"
    monkeypatch.delenv(WORKSPACE_ENV_VAR)
    assert Workspace.resolve().root.name == "workspace"


def test_project_is_a_git_and_dvc_repo_with_a_local_remote(workspace):
    workspace.init_project()
    workspace.init_project()  # idempotent
    env = {**os.environ, **workspace.env()}
    log = subprocess.run(["git", "log", "--oneline"], cwd=workspace.project, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert len(log.splitlines()) == 1
    # The default remote is the workspace's own: a pushed file lands in workspace/dvc-remote.
    dvc = os.path.join(os.path.dirname(sys.executable), "dvc")
    (workspace.project / "data.csv").write_text("a,b\n1,2\n")
    for command in (["add", "data.csv"], ["push"]):
        subprocess.run([dvc, *command], cwd=workspace.project, env=env, check=True, capture_output=True)
    assert [p for p in workspace.dvc_remote.rglob("*") if p.is_file()]


def test_setup_runs_twice_and_enters_the_project(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        ws = setup("01", workspace=tmp_path / "workspace")
    assert os.getcwd() == str(ws.project)
    assert os.environ["MLFLOW_TRACKING_URI"] == ws.tracking_uri
    assert "Module 01 is ready" in capsys.readouterr().out


def test_mlflow_writes_store_and_artifacts_inside_the_workspace(tmp_path):
    # A separate process, as a kernel would be: only the workspace's environment tells MLflow where.
    ws = Workspace(tmp_path / "workspace").create()
    code = (
        "import mlflow\n"
        "mlflow.set_experiment('probe')\n"
        "with mlflow.start_run():\n"
        "    mlflow.log_text('hello', 'note.txt')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**os.environ, **ws.env()},
                   check=True, capture_output=True)
    assert ws.mlflow_db.exists()
    assert list(ws.mlflow_artifacts.rglob("note.txt")), "artifact not in workspace/mlflow/artifacts"
    assert not (tmp_path / "mlruns").exists()


def test_ensure_builds_only_what_is_missing(workspace):
    assert stages.ensure("project", workspace) == ["project"]
    assert stages.ensure("project", workspace) == []


def test_ensure_rejects_unknown_stage_and_loops(workspace, monkeypatch):
    with pytest.raises(KeyError, match="Unknown stage"):
        stages.ensure("nope", workspace)
    monkeypatch.setitem(stages.STAGES, "a", stages.Stage("a", "", ("b",), lambda ws: False, lambda ws: None))
    monkeypatch.setitem(stages.STAGES, "b", stages.Stage("b", "", ("a",), lambda ws: False, lambda ws: None))
    with pytest.raises(RuntimeError, match="loop"):
        stages.ensure("a", workspace)
