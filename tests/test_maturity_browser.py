"""A real JupyterLab in a real headless Chromium: the checkpoint renders, a click on an option and on
Save updates the feedback panel, and the answers file in the workspace changes.

Needs Debian's Chromium (`apt-get install -y chromium chromium-driver`, as root); the `playwright`
package drives it. Never run `playwright install`: it would download browsers. A screenshot is saved
as build/artifacts/maturity-checkpoint.png (git-ignored) for a human to look at.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from mlops_clinic import paths
from mlops_clinic.maturity.bank import load_bank
from mlops_clinic.servers import BackgroundServer
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "clinic-browser-test"
ARTIFACTS = paths.REPO_ROOT / "build" / "artifacts"
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def checkpoint_notebook():
    """The first cells and the checkpoint cells of lesson 00, as a notebook JupyterLab can open
    (under build/, inside the lab's root and git-ignored)."""
    lesson = nbformat.read(paths.NOTEBOOKS_DIR / "00_welcome.ipynb", as_version=4)
    wanted = [c for c in lesson.cells if "parameters" in c.metadata.get("tags", [])
              or c.get("id") in ("m00-03", "m00-cp0", "m00-cp1")]
    assert [c.get("id") for c in wanted][-2:] == ["m00-cp0", "m00-cp1"], "lesson 00 lost its checkpoint cells"
    for cell in wanted:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook = paths.REPO_ROOT / "build" / "browser-tests" / f"checkpoint-{uuid.uuid4().hex[:8]}.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=wanted, metadata=lesson.metadata), notebook)
    yield notebook
    notebook.unlink(missing_ok=True)


def _stop_processes_mentioning(marker: str) -> None:
    for process in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in process.info["cmdline"] or []):
            try:
                process.terminate()
                process.wait(timeout=5)
            except psutil.NoSuchProcess:
                pass
            except psutil.TimeoutExpired:
                process.kill()


def _api(lab, path, method="GET"):
    request = urllib.request.Request(f"{lab.url}{path}?token={TOKEN}", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed: run `apt-get update && apt-get "
                    "install -y chromium chromium-driver` as root (never `playwright install`)")
def test_the_checkpoint_renders_and_saves_in_a_real_browser(tmp_path, checkpoint_notebook):
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    home = tmp_path / "home"
    home.mkdir()
    workspace = Workspace(tmp_path / "workspace").create()
    # Extra lab config for the test, beside the one `clinic lab` writes: the app object for
    # running all cells from the page.
    config_dir = Path(workspace.env()["JUPYTER_CONFIG_DIR"])
    (config_dir / "jupyter_lab_config.py").write_text("c.LabApp.expose_app_in_browser = True\n")
    env = {"HOME": str(home), "JUPYTER_TOKEN": TOKEN, "MLOPS_CLINIC_WORKSPACE": str(workspace.root)}
    clinic = str(Path(sys.executable).with_name("clinic"))
    question = load_bank().checkpoint("business").questions[0]
    answers_file = workspace.maturity_dir / "answers.json"
    relative = checkpoint_notebook.relative_to(paths.REPO_ROOT).as_posix()
    # Chromium puts a socket in TMPDIR, and a socket path must stay under ~100 characters: the
    # test workspace's tmp/ is too deep, so the browser gets a short one (and a home of its own).
    short_tmp = tempfile.mkdtemp(prefix="clinic-chromium-", dir="/tmp")
    browser_config = tmp_path / "browser-config"  # Chromium's profile and crash database live here
    browser_env = {**os.environ, "TMPDIR": short_tmp, "HOME": str(tmp_path / "browser-home"),
                   "XDG_CONFIG_HOME": str(browser_config)}

    marks = {}  # seconds since the start, printed for `pytest -s` (no timing assertions)
    with BackgroundServer("lab", [clinic, "lab", "--no-browser", "--port", "{port}"], env=env,
                          ready_path=f"/api/status?token={TOKEN}", ready_timeout=90) as lab:
        marks["lab ready"] = time.monotonic() - started
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS,
                                                     env=browser_env)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 1400})
                    page.goto(f"{lab.url}/lab/tree/{relative}?token={TOKEN}")
                    # The execution indicator says idle too early; the status bar text does not.
                    page.get_by_text("(ipykernel) | Idle").wait_for(timeout=60_000)
                    marks["kernel idle"] = time.monotonic() - started
                    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

                    radios = page.locator(".widget-radio-box input[type=radio]")
                    expect(radios).to_have_count(sum(len(q.options) for q in
                                                     load_bank().checkpoint("business").questions), timeout=60_000)
                    expect(page.get_by_text(question.text)).to_be_visible()
                    marks["widget shown"] = time.monotonic() - started
                    feedback = page.locator(".clinic-maturity-feedback")
                    expect(feedback).to_contain_text("Not answered yet")
                    recorded = json.loads(answers_file.read_text())["checkpoints"]["business"]
                    assert recorded == {q.id: None for q in load_bank().checkpoint("business").questions}

                    page.locator(".widget-radio-box label", has_text=question.option(2).text).click()
                    page.locator("button.jupyter-button", has_text="Save").click()
                    expect(feedback).to_contain_text("Saved. Level 2 · reproducible", timeout=20_000)
                    expect(feedback).to_contain_text(question.option(2).next_step.action)
                    marks["feedback updated"] = time.monotonic() - started
                    saved = json.loads(answers_file.read_text())["checkpoints"]["business"]
                    assert saved[question.id] == 2

                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.locator(".jp-Notebook").screenshot(path=str(ARTIFACTS / "maturity-checkpoint.png"))
                finally:
                    browser.close()
                    # Chromium daemonises its crash handler, which outlives close(): stop it by PID.
                    _stop_processes_mentioning(str(browser_config))
        finally:
            for session in _api(lab, "/api/sessions") or []:  # the kernel goes with the lab
                _api(lab, f"/api/sessions/{session['id']}", method="DELETE")
            shutil.rmtree(short_tmp, ignore_errors=True)
    marks["all stopped"] = time.monotonic() - started
    print("browser test, seconds from start: " + ", ".join(f"{k} {v:.1f}" for k, v in marks.items()))
    assert list(home.iterdir()) == [], f"JupyterLab or Chromium wrote to $HOME: {list(home.iterdir())}"
