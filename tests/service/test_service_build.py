"""The model server's build configuration: its pins are the lock's, and `bentoml build` makes a
Bento offline with the service's code and the model it declares."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_clinic import paths
from mlops_clinic.workspace import path_with_kit_tools

BENTOFILE = paths.REPO_ROOT / "src" / "mlops_clinic" / "service" / "bentofile.yaml"


def lock_pins() -> dict[str, set[str]]:
    pins: dict[str, set[str]] = {}
    for line in paths.LOCK_FILE.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins.setdefault(match.group(1).lower(), set()).add(match.group(2))
    return pins


def test_bentofile_pins_are_the_locks():
    config = yaml.safe_load(BENTOFILE.read_text())
    assert config["python"]["lock_packages"] is False  # locking would need the network
    locked = lock_pins()
    for requirement in config["python"]["packages"]:
        name, version = requirement.split("==")
        assert version in locked.get(name.lower(), set()), f"{requirement} is not in requirements.lock"
    assert config["service"] == "mlops_clinic.service.service:HousePrice"


@pytest.mark.slow
def test_bentoml_build_packs_code_and_model(tmp_path, ws):
    env = {**os.environ, **ws.env(), "PATH": path_with_kit_tools(os.environ.get("PATH", "")),
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}  # no network
    done = subprocess.run(["bentoml", "build", "-f", str(BENTOFILE), str(BENTOFILE.parents[2])],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    tag = re.search(r'Successfully built Bento\(tag="([^"]+)"\)', done.stdout).group(1)
    bento = ws.bentoml_home / "bentos" / Path(tag.replace(":", "/"))
    info = yaml.safe_load((bento / "bento.yaml").read_text())
    assert [m["tag"] for m in info["services"][0]["models"]][0].startswith("house-price:v")
    assert (bento / "src" / "mlops_clinic" / "service" / "service.py").is_file()
    assert (bento / "env" / "docker" / "Dockerfile").is_file()
    requirements = (bento / "env" / "python" / "requirements.txt").read_text()
    assert "scikit-learn==1.9.1" in requirements
