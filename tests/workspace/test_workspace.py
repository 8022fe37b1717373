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
                 "DVC_SITE_CACHE_DIR", "BENTOML_HOME", "TMPDIR", "GIT_CONFIG_GLOBAL"):
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


def test_a_participants_global_git_settings_do_not_break_the_lessons(workspace, tmp_path):
    # A ~/.gitconfig that signs every commit and tag with a signer that fails, and names the first
    # branch otherwise: lesson 01's plain `git init`, commit and tag still work, on `main`.
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[commit]\n\tgpgsign = true\n[tag]\n\tgpgsign = true\n"
                                     "[gpg]\n\tprogram = false\n[init]\n\tdefaultBranch = trunk\n")
    env = {**workspace.process_env(), "HOME": str(home)}
    for command in (["git", "init", "--quiet"], ["git", "commit", "--quiet", "--allow-empty", "-m", "first"],
                    ["git", "tag", "data-v1.0.0"]):
        done = subprocess.run(command, cwd=workspace.project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"
    branch = subprocess.run(["git", "branch", "--show-current"], cwd=workspace.project, env=env,
                            capture_output=True, text=True).stdout.strip()
    assert branch == "main"


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


def test_a_run_logged_to_a_tracking_server_prints_no_url(tmp_path):
    # MLflow prints "View run ... at: http://127.0.0.1:PORT/#/.../runs/RUN_ID" after every run logged
    # over HTTP: a port and a run id that change on every build of lesson 02's output.
    from mlops_clinic.servers import BackgroundServer

    ws = Workspace(tmp_path / "workspace").create()
    command = ["mlflow", "server", "--host", "{host}", "--port", "{port}", "-w", "1",
               "--backend-store-uri", ws.tracking_uri, "--artifacts-destination", str(ws.mlflow_artifacts)]
    code = "import mlflow\nwith mlflow.start_run(run_name='probe'):\n    mlflow.log_metric('answer', 42)\n"
    with BackgroundServer("mlflow-probe", command, env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
                          ready_path="/health", ready_timeout=120, workspace=ws, cwd=ws.mlflow_dir) as server:
        logged = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                                env={**ws.process_env(), "MLFLOW_TRACKING_URI": server.url}, check=True)
    assert "probe" in {run.info.run_name for run in _runs(ws)}, "the run did not reach the server"
    assert "View run" not in logged.stdout + logged.stderr


def _runs(ws):
    from mlflow import MlflowClient

    mlflow = MlflowClient(tracking_uri=ws.tracking_uri)
    return mlflow.search_runs([e.experiment_id for e in mlflow.search_experiments()])
