"""`clinic lab` starts a real JupyterLab on loopback, at notebooks/00, inside the workspace."""

import json
import sys
import urllib.request
from pathlib import Path

import pytest

from mlops_clinic.servers import BackgroundServer

pytestmark = pytest.mark.slow
TOKEN = "clinic-test-token"


def test_clinic_lab_serves_the_first_notebook_and_leaves_home_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    workspace = tmp_path / "workspace"
    clinic = str(Path(sys.executable).with_name("clinic"))
    env = {"HOME": str(home), "JUPYTER_TOKEN": TOKEN, "MLOPS_CLINIC_WORKSPACE": str(workspace)}
    command = [clinic, "lab", "--no-browser", "--port", "{port}"]
    with BackgroundServer("lab", command, ready_path=f"/api/status?token={TOKEN}", env=env,
                          ready_timeout=90) as lab:
        with urllib.request.urlopen(f"{lab.url}/?token={TOKEN}") as response:
            assert response.url.split("?")[0].endswith("/lab/tree/notebooks/00_welcome.ipynb")
        with urllib.request.urlopen(f"{lab.url}/api/contents/notebooks/00_welcome.ipynb?token={TOKEN}") as r:
            notebook = json.load(r)
        assert notebook["content"]["metadata"]["clinic"]["module"] == "00"
        with urllib.request.urlopen(f"{lab.url}/api/kernelspecs?token={TOKEN}") as r:
            assert "python3" in json.load(r)["kernelspecs"]
    assert (workspace / "home" / "jupyter" / "config" / "jupyter_server_config.py").exists()
    assert list(home.iterdir()) == [], f"JupyterLab wrote to $HOME: {list(home.iterdir())}"
