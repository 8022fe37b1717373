"""A real JupyterLab in a real headless Chromium: the checkpoint renders, a click on an option and on
Save updates the feedback panel, and the answers file in the workspace changes.

Needs Debian's Chromium (see chromium.py). A screenshot is saved as
build/artifacts/maturity-checkpoint.png (git-ignored) for a human to look at.
"""

import json
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from chromium import chromium, needs_chromium
from mlops_clinic import paths
from mlops_clinic.maturity.bank import load_bank
from mlops_clinic.servers import BackgroundServer
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow
TOKEN = "clinic-browser-test"
ARTIFACTS = paths.REPO_ROOT / "build" / "artifacts"


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


def _api(lab, path, method="GET"):
    request = urllib.request.Request(f"{lab.url}{path}?token={TOKEN}", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@needs_chromium
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

    marks = {}  # seconds since the start, printed for `pytest -s` (no timing assertions)
    with BackgroundServer("lab", [clinic, "lab", "--no-browser", "--port", "{port}"], env=env,
                          ready_path=f"/api/status?token={TOKEN}", ready_timeout=90) as lab:
        marks["lab ready"] = time.monotonic() - started
        try:
            with sync_playwright() as playwright, chromium(playwright, tmp_path) as browser:
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
            for session in _api(lab, "/api/sessions") or []:  # the kernel goes with the lab
                _api(lab, f"/api/sessions/{session['id']}", method="DELETE")
    marks["all stopped"] = time.monotonic() - started
    print("browser test, seconds from start: " + ", ".join(f"{k} {v:.1f}" for k, v in marks.items()))
    assert list(home.iterdir()) == [], f"JupyterLab or Chromium wrote to $HOME: {list(home.iterdir())}"
