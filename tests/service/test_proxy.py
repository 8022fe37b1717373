"""The launcher entries jupyter-server-proxy reads: the tools run on this workspace's stores, with
the memory settings Binder needs. (tests/site/test_binder_browser.py opens them in a real browser.)"""

import subprocess
import sys
from pathlib import Path

from mlops_clinic import proxy
from mlops_clinic.lab import write_lab_config


def test_the_mlflow_ui_uses_the_workspace_store_one_worker_and_no_job_runner(workspace):
    mlflow = proxy.servers(workspace)["mlflow"]
    command = mlflow["command"]
    assert command[command.index("--backend-store-uri") + 1] == workspace.tracking_uri
    assert command[command.index("--artifacts-destination") + 1] == str(workspace.mlflow_artifacts)
    assert command[command.index("-w") + 1] == "1"
    assert mlflow["environment"] == {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    assert mlflow["absolute_url"] is False


def test_the_mlflow_ui_listens_on_a_unix_socket_in_a_private_folder(workspace):
    mlflow = proxy.servers(workspace)["mlflow"]
    socket = Path(mlflow["unix_socket"])
    assert "--port" not in mlflow["command"] and "--host" not in mlflow["command"]
    assert "--uds {unix_socket}" in mlflow["command"]
    assert socket.parent.is_dir() and socket.parent.stat().st_mode & 0o777 == 0o700
    assert len(str(socket)) < 104


def test_a_deep_workspace_gets_a_short_private_socket_folder(tmp_path):
    from mlops_clinic.workspace import Workspace

    deep = Workspace(tmp_path / ("very-long-folder-name-" * 5) / "workspace").create()
    socket = Path(proxy.mlflow_ui_socket(deep))
    assert len(str(socket)) < 104 and socket.parent.stat().st_mode & 0o777 == 0o700
    socket.parent.rmdir()


def test_both_cards_have_a_title_and_an_icon_that_exists(workspace):
    for name, entry in proxy.servers(workspace).items():
        launcher = entry["launcher_entry"]
        assert launcher["title"], name
        assert Path(launcher["icon_path"]).read_text().startswith("<svg"), name


def test_the_lab_config_sets_the_proxy_servers(workspace):
    config = write_lab_config(workspace).read_text()
    assert "c.ServerProxy.servers = proxy.servers()" in config


def test_the_bentoml_entry_says_how_to_call_it():
    result = subprocess.run([sys.executable, "-m", "mlops_clinic.proxy"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "usage: python -m mlops_clinic.proxy bentoml PORT" in result.stderr
