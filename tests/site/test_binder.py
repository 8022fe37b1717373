"""binder/ works the way repo2docker uses it: a fresh environment from binder/environment.yml,
postBuild run once from the repository's root, start run before JupyterLab at every launch.
There is no Docker engine here, so the test does repo2docker's steps itself in a fresh venv."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_clinic import paths

ROOT = paths.REPO_ROOT
pytestmark = pytest.mark.slow


def _clone(dest: Path) -> Path:
    # What a clone holds: tracked files and new, not-ignored ones (so the test sees this change).
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _pip_requirements() -> list[str]:
    environment = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    pip_section = next(item for item in environment["dependencies"] if isinstance(item, dict))
    return pip_section["pip"]


@pytest.fixture(scope="module")
def binder_image(tmp_path_factory):
    """A fresh environment with binder/environment.yml's packages and the repository after postBuild."""
    base = tmp_path_factory.mktemp("binder")
    repo = _clone(base / "repo")
    venv = base / "env"
    uv = Path(sys.executable).with_name("uv")
    requirements = base / "requirements.txt"
    requirements.write_text("\n".join(_pip_requirements()) + "\n")
    if uv.exists():
        # The installer cache `make setup` filled (the Makefile's UV_CACHE_DIR): no second download.
        cache = {**os.environ, "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))}
        subprocess.run([str(uv), "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)],
                       check=True, env=cache)
        subprocess.run([str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                        "-r", str(requirements)], check=True, env=cache)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r",
                        str(requirements)], check=True)
    env = _image_env(venv, base)
    build = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    return repo, venv, env, build


def _image_env(venv: Path, base: Path) -> dict[str, str]:
    # The image's environment (conda gives it pip; --seed does here): its own Python first, a home of its own, none of this test's workspace.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLOPS_CLINIC", "JUPYTER", "XDG_", "IPYTHON", "MPL", "DVC_", "MLFLOW_",
                                  "BENTOML", "_MLFLOW", "VIRTUAL_ENV", "TMPDIR", "GIT_"))}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    env["HOME"] = str(base / "home")
    Path(env["HOME"]).mkdir(exist_ok=True)
    return env


def test_post_build_installs_the_kit_and_prepares_the_workspace(binder_image):
    repo, venv, env, build = binder_image
    assert (repo / "workspace" / "project" / ".dvc").is_dir()
    assert "All set for the workshop." in build.stdout, build.stdout
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import mlops_clinic; print(mlops_clinic.__file__)"],
                           env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(repo))


def test_start_sets_the_workspace_and_hands_over_to_the_command(binder_image):
    repo, venv, env, _ = binder_image
    probe = ("import os, sys; print(os.environ['MLOPS_CLINIC_WORKSPACE']); "
             "print(os.environ['MLFLOW_DISABLE_TELEMETRY']); print(os.environ['JUPYTER_CONFIG_DIR']); "
             "print(sys.argv[1:])")
    result = subprocess.run(["bash", "binder/start", "python", "-c", probe, "a b", "c"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    workspace, telemetry, config, argv = result.stdout.splitlines()
    assert workspace == str(repo / "workspace")
    assert telemetry == "true"
    assert (Path(config) / "jupyter_server_config.py").exists()
    assert argv == "['a b', 'c']"  # exec "$@" keeps the arguments as they were


def test_start_ends_with_exec_and_post_build_fails_fast():
    start = (ROOT / "binder" / "start").read_text().strip().splitlines()
    assert start[-1] == 'exec "$@"'
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "set -e" in post_build  # repo2docker ignores errors otherwise


def test_nothing_was_written_to_the_image_home(binder_image):
    _, _, env, _ = binder_image
    assert list(Path(env["HOME"]).iterdir()) == []
