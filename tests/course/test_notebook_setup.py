"""The setup cell of a notebook opened before the modules it builds on: it says what it builds
while the participant waits, and nbval compares only what every path prints."""

from __future__ import annotations

from mlops_clinic import build, notebook, stages


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
