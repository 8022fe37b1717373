"""Binder in a real headless Chromium: JupyterLab started the way binder/start starts it, under a
Binder-like base URL, shows launcher cards for the MLflow UI and the BentoML service, and both
open through jupyter-server-proxy: the MLflow UI lists the workspace's experiment, the BentoML
page is the service's Swagger UI. Screenshots go to build/artifacts/ (git-ignored).

Needs Debian's Chromium (see chromium.py).
"""

import os
import sys
import time
from pathlib import Path

import pytest

from chromium import chromium, needs_chromium
from mlops_clinic import paths
from mlops_clinic.servers import BackgroundServer
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow
TOKEN = "clinic-binder-test"
BASE_URL = "/user/clinic-participant/"  # mybinder.org serves each session under a path like this
ARTIFACTS = paths.REPO_ROOT / "build" / "artifacts"


def _lab_the_binder_way(workspace: Workspace, home: Path) -> BackgroundServer:
    # repo2docker runs `binder/start <the notebook server command>` from the repository's root.
    command = ["bash", "binder/start", sys.executable, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.port={port}", f"--ServerApp.base_url={BASE_URL}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {"HOME": str(home), "JUPYTER_TOKEN": TOKEN, "MLOPS_CLINIC_WORKSPACE": str(workspace.root)}
    return BackgroundServer("binder-lab", command, env=env, cwd=paths.REPO_ROOT,
                            ready_path=f"{BASE_URL}api/status?token={TOKEN}", ready_timeout=120)


@needs_chromium
def test_binder_lab_opens_the_mlflow_ui_and_the_swagger_page_through_the_proxy(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    home.mkdir()
    workspace = Workspace(tmp_path / "workspace").create()
    config_dir = Path(workspace.env()["JUPYTER_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_lab_config.py").write_text("c.LabApp.expose_app_in_browser = True\n")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    marks, started = {}, time.monotonic()

    with _lab_the_binder_way(workspace, home) as lab:
        root = f"{lab.url}{BASE_URL}"
        with sync_playwright() as playwright, chromium(playwright, tmp_path) as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{root}?token={TOKEN}")
            # JupyterLab opens at notebook 00 (binder/start wrote the lab config).
            expect(page.locator(".jp-DirListing-item.jp-mod-running",
                                has_text="00_welcome.ipynb")).to_be_visible(timeout=90_000)
            page.evaluate("window.jupyterapp.commands.execute('launcher:create')")
            for title in ("MLflow UI", "BentoML service"):
                icon = page.locator(".jp-LauncherCard", has_text=title).locator("img")
                expect(icon).to_be_visible(timeout=30_000)
                assert icon.evaluate("img => img.complete && img.naturalWidth > 0"), f"{title}: no icon"
            page.screenshot(path=str(ARTIFACTS / "binder-launcher.png"))
            marks["lab and launcher"] = time.monotonic() - started

            # The service first: its proxy entry builds the champion on an empty workspace.
            page.goto(f"{root}bentoml/", timeout=360_000)
            expect(page.locator("#swagger-ui")).to_contain_text("/predict", timeout=60_000)
            expect(page.locator("#swagger-ui")).to_contain_text("/predict_batch")
            page.screenshot(path=str(ARTIFACTS / "binder-bentoml-swagger.png"))
            marks["swagger page"] = time.monotonic() - started

            page.goto(f"{root}mlflow/", timeout=180_000)
            expect(page.get_by_text("house-price").first).to_be_visible(timeout=90_000)
            page.screenshot(path=str(ARTIFACTS / "binder-mlflow-ui.png"))
            marks["mlflow ui"] = time.monotonic() - started
    print("binder browser test, seconds from start: " + ", ".join(f"{k} {v:.1f}" for k, v in marks.items()))
    assert list(home.iterdir()) == [], f"JupyterLab or its servers wrote to $HOME: {list(home.iterdir())}"

