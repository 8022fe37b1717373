"""A real JupyterLab in a real headless Chromium: the checkpoint renders, a click on an option and on
Save updates the feedback panel, and the answers file in the workspace changes; and the same with the
keyboard alone, with the names and roles a screen reader reads.

Needs Debian's Chromium (see chromium.py). A screenshot is saved as
build/artifacts/maturity-checkpoint.png (git-ignored) for a human to look at.
"""

import contextlib
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


@contextlib.contextmanager
def lab_page(tmp_path, notebook):
    """A real JupyterLab on the notebook, in a fresh workspace, and a Chromium page showing it once
    the kernel is idle: yields (page, workspace, mark), where mark("what") notes the seconds since the
    start, printed for `pytest -s` (no timing assertions). Afterwards the kernel and the lab are
    stopped and nothing was written to $HOME."""
    from playwright.sync_api import sync_playwright

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
    relative = notebook.relative_to(paths.REPO_ROOT).as_posix()

    marks = {}

    def mark(what: str) -> None:
        marks[what] = time.monotonic() - started

    with BackgroundServer("lab", [clinic, "lab", "--no-browser", "--port", "{port}"], env=env,
                          ready_path=f"/api/status?token={TOKEN}", ready_timeout=90) as lab:
        mark("lab ready")
        try:
            with sync_playwright() as playwright, chromium(playwright, tmp_path) as browser:
                page = browser.new_page(viewport={"width": 1280, "height": 1400})
                page.goto(f"{lab.url}/lab/tree/{relative}?token={TOKEN}")
                # The execution indicator says idle too early; the status bar text does not.
                page.get_by_text("(ipykernel) | Idle").wait_for(timeout=60_000)
                mark("kernel idle")
                yield page, workspace, mark
        finally:
            for session in _api(lab, "/api/sessions") or []:  # the kernel goes with the lab
                _api(lab, f"/api/sessions/{session['id']}", method="DELETE")
    mark("all stopped")
    print("browser test, seconds from start: " + ", ".join(f"{k} {v:.1f}" for k, v in marks.items()))
    assert list(home.iterdir()) == [], f"JupyterLab or Chromium wrote to $HOME: {list(home.iterdir())}"


@needs_chromium
def test_the_checkpoint_renders_and_saves_in_a_real_browser(tmp_path, checkpoint_notebook):
    from playwright.sync_api import expect

    question = load_bank().checkpoint("business").questions[0]
    with lab_page(tmp_path, checkpoint_notebook) as (page, workspace, mark):
        answers_file = workspace.maturity_dir / "answers.json"
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

        radios = page.locator(".widget-radio-box input[type=radio]")
        expect(radios).to_have_count(sum(len(q.options) for q in
                                         load_bank().checkpoint("business").questions), timeout=60_000)
        expect(page.get_by_text(question.text)).to_be_visible()
        mark("widget shown")
        feedback = page.locator(".clinic-maturity-feedback")
        expect(feedback).to_contain_text("Not answered yet")
        recorded = json.loads(answers_file.read_text())["checkpoints"]["business"]
        assert recorded == {q.id: None for q in load_bank().checkpoint("business").questions}

        page.locator(".widget-radio-box label", has_text=question.option(2).text).click()
        page.locator("button.jupyter-button", has_text="Save").click()
        expect(feedback).to_contain_text("Saved. Level 2 · reproducible", timeout=20_000)
        expect(feedback).to_contain_text(question.option(2).next_step.action)
        mark("feedback updated")
        saved = json.loads(answers_file.read_text())["checkpoints"]["business"]
        assert saved[question.id] == 2

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-Notebook").screenshot(path=str(ARTIFACTS / "maturity-checkpoint.png"))


# What the keyboard test answers, question by question (levels), and the level the feedback shows:
# the lowest of them.
KEYBOARD_ANSWERS = (2, 1, 3)
ACTIVE = """() => {
  const e = document.activeElement;
  const group = e.closest('[class*="clinic-maturity-q"]');
  return {tag: e.tagName, type: e.type || '', checked: !!e.checked,
          text: (e.closest('label') || e).innerText.trim(),
          question: group ? [...group.classList].find(c => /^clinic-maturity-q[0-9]+$/.test(c)) : null};
}"""


@pytest.fixture
def keyboard_notebook(checkpoint_notebook):
    """The checkpoint notebook with an exercise check after it: its feedback must be text with a
    role a screen reader announces, and its outcome lands in the workspace's progress."""
    notebook = nbformat.read(checkpoint_notebook, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("from mlops_clinic.checks.m00 import q1\n\nq1.check(0)"))
    nbformat.write(notebook, checkpoint_notebook)
    return checkpoint_notebook


@needs_chromium
def test_the_checkpoint_is_answered_and_saved_with_the_keyboard_alone(tmp_path, keyboard_notebook):
    """No mouse: Tab reaches the options, Space chooses, Enter on Save saves. Each question's first
    option carries the question in its accessible name; the feedback panel and a check's feedback
    are text in role="status" regions."""
    from playwright.sync_api import expect

    checkpoint = load_bank().checkpoint("business")
    wanted = {f"clinic-maturity-q{n}": q.option(level).text
              for n, (q, level) in enumerate(zip(checkpoint.questions, KEYBOARD_ANSWERS), 1)}
    with lab_page(tmp_path, keyboard_notebook) as (page, workspace, mark):
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        expect(page.locator(".clinic-maturity input[type=radio]")).to_have_count(
            sum(len(q.options) for q in checkpoint.questions), timeout=60_000)

        # Screen readers: the first option of each question is named with the question itself.
        for n, question in enumerate(checkpoint.questions, 1):
            name = f"Question {n} of {len(checkpoint.questions)}: {question.text} Answer: {question.options[0].text}"
            expect(page.get_by_role("radio", name=name, exact=True)).to_have_count(1)

        # Keyboard only, from wherever the focus is after running the cells.
        chosen, pressed_save = [], False
        for _ in range(150):
            page.keyboard.press("Tab")
            active = page.evaluate(ACTIVE)
            if active["type"] == "radio" and wanted.get(active["question"]) == active["text"]:
                page.keyboard.press("Space")
                assert page.evaluate(ACTIVE)["checked"], f"Space did not choose {active['text']!r}"
                chosen.append(active["question"])
            elif active["tag"] == "BUTTON" and active["text"] == "Save" and len(chosen) == len(wanted):
                page.keyboard.press("Enter")
                pressed_save = True
                break
        assert chosen == list(wanted) and pressed_save, f"by keyboard: chose {chosen}, saved: {pressed_save}"
        mark("answered and saved by keyboard")

        level = load_bank().level(min(KEYBOARD_ANSWERS))
        status = page.get_by_role("status").filter(has_text="Saved.")
        expect(status).to_contain_text(f"Saved. Level {level.level} · {level.name}", timeout=20_000)
        assert page.evaluate(ACTIVE)["text"] == "Save", "the focus stays on Save after saving"
        ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                             "return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
        assert ring[0] != "none" and ring[1] >= 2, f"the focus on Save is hard to see: outline {ring}"
        saved = json.loads((workspace.maturity_dir / "answers.json").read_text())["checkpoints"]["business"]
        assert saved == {q.id: level for q, level in zip(checkpoint.questions, KEYBOARD_ANSWERS)}

        # A check's feedback: words first (the colour only repeats them), in a status region.
        expect(page.get_by_role("status").filter(has_text="Not yet")).to_contain_text("✗ Not yet (m00.q1)")
        progress = json.loads((workspace.root / "progress" / "checks.json").read_text())
        assert progress["checks"]["m00.q1"]["outcome"] == "wrong" and "00" in progress["lessons"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-Notebook").screenshot(path=str(ARTIFACTS / "maturity-checkpoint-keyboard.png"))
