"""The setup cell of a notebook opened before the modules it builds on: it says what it builds
while the participant waits, and nbval compares only what every path prints. Only a lesson goes
back to where it started; its exercises find the project as the lesson left it."""

from __future__ import annotations

import json
import re

from mlops_clinic import build, notebook, paths, stages


def test_a_notebook_opened_first_says_what_it_builds_and_the_comparison_leaves_it_out(
        workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace.root)  # setup moves into the project; the next test starts here
    built: list[str] = []

    def fake(name, description, requires=()):
        return stages.Stage(name, description, requires, lambda ws: name in built,
                            lambda ws: built.append(name))

    monkeypatch.setitem(stages.STAGES, "earlier", fake("earlier", "what module 98 leaves"))
    monkeypatch.setitem(stages.STAGES, "later", fake("later", "what module 99 needs", ("earlier",)))
    monkeypatch.setitem(stages.MODULE_NEEDS, "99", ("workspace", "later"))

    notebook.setup("99", workspace.root)
    fresh = capsys.readouterr().out
    assert fresh.splitlines()[:2] == [
        f"{notebook.BUILDING} earlier (what module 98 leaves) ...",
        f"{notebook.BUILDING} later (what module 99 needs) ...",
    ]
    assert built == ["earlier", "later"]

    notebook.setup("99", workspace.root)  # the in-order path: nothing left to build
    in_order = capsys.readouterr().out
    assert notebook.BUILDING not in in_order
    assert build._masked(fresh, build.output_masks()) == in_order


def test_a_quiet_setup_prints_nothing(workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace.root)
    monkeypatch.setitem(stages.STAGES, "later", stages.Stage("later", "x", (), lambda ws: False,
                                                             lambda ws: None))
    monkeypatch.setitem(stages.MODULE_NEEDS, "99", ("later",))
    notebook.setup("99", workspace.root, quiet=True)
    assert capsys.readouterr().out == ""


def test_only_the_lesson_goes_back_to_where_it_started(workspace, monkeypatch, capsys):
    """A lesson that rewrites the project's history (06) starts again from where it first started;
    its exercises, opened after it, find the project as the lesson left it."""
    monkeypatch.chdir(workspace.root)
    monkeypatch.setitem(stages.MODULE_NEEDS, "99", ("workspace",))
    started: list[str] = []
    monkeypatch.setitem(stages.MODULE_STARTS, "99", lambda ws: started.append(ws.root.name))

    notebook.setup("99", workspace.root, quiet=True)  # an exercise or solution notebook
    assert started == []
    notebook.setup("99", workspace.root, quiet=True, from_lesson_start=True)  # the lesson
    assert started == [workspace.root.name]

    # the course's own notebooks: module 06's lesson asks for it, its solution (and so its exercise) does not
    def setup_calls(path):
        cells = json.loads(path.read_text())["cells"]
        return re.findall(r"setup\(\"06\"[^)]*\)", "".join("".join(cell["source"]) for cell in cells))

    [lesson] = paths.REPO_ROOT.glob("notebooks/06_*.ipynb")
    [solution] = paths.REPO_ROOT.glob("solutions/06_*.ipynb")
    assert setup_calls(lesson) == ['setup("06", workspace=workspace, from_lesson_start=True)']
    assert setup_calls(solution) == ['setup("06", workspace=workspace)']
