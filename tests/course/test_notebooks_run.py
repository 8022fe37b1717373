"""Every exercise runs to its end with each check saying "not attempted"; every solution's committed
checks say "correct"; the course taken in order in one workspace (`clinic run`) shows the committed
outputs and leaves $HOME untouched.

Lessons and solutions themselves run under nbval, each first on a fresh workspace (comparing the
committed outputs) and then a second time in that workspace: see tests/notebook_workspaces.py.
"""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlops_clinic import build, catalogue, paths
from mlops_clinic.execute import ExecutionOptions, execute_notebook
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow

EXERCISES = sorted(paths.EXERCISES_DIR.glob("[0-9][0-9]_*.ipynb"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _run(notebook: Path, workspace: Workspace, output: Path):
    return execute_notebook(notebook, output, parameters={"workspace": str(workspace.root)},
                            env=workspace.env(), cwd=notebook.parent, options=ExecutionOptions(cell_timeout_s=600))


def _check_outcomes(executed) -> list[str]:
    return [output["metadata"]["clinic_check"]["status"]
            for cell in executed.cells if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            if "clinic_check" in output.get("metadata", {})]


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
def test_blank_exercise_runs_to_the_end_and_every_check_says_not_attempted(exercise, tmp_path):
    workspace = Workspace(tmp_path / "workspace")
    result = _run(exercise, workspace, tmp_path / "out.ipynb")
    assert result.status == "ok", f"{result.error} at {result.failing_cell}"
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    checks = sum(cell.source.count(".check(") for cell in executed.cells if cell.cell_type == "code")
    outcomes = _check_outcomes(executed)
    assert checks > 0
    assert outcomes == ["not attempted"] * checks


def test_every_solution_check_is_correct(tmp_path):
    # The committed outputs of solutions/ hold the checks' outcomes (and nbval keeps them current).
    for solution in sorted(paths.SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb")):
        outcomes = _check_outcomes(nbformat.read(solution, as_version=4))
        assert outcomes and set(outcomes) == {"correct"}, f"{solution.name}: {outcomes}"


def test_the_course_in_order_tells_the_committed_story_and_leaves_home_untouched(tmp_path):
    """The participant's path: every lesson and solution, 00 to 07, in ONE workspace, with `clinic run`
    (nbval runs each notebook on a fresh workspace). Each executed notebook must show the committed
    outputs, compared as nbval compares them, and nothing may land in $HOME."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLOPS_CLINIC", "JUPYTER", "XDG_", "IPYTHON", "MPL", "DVC_", "MLFLOW_",
                                  "BENTOML", "_MLFLOW", "TMPDIR", "GIT_"))}
    env["HOME"] = str(home)
    output = tmp_path / "run"
    clinic = str(Path(sys.executable).with_name("clinic"))
    result = subprocess.run([clinic, "run", "--workspace", str(tmp_path / "workspace"), "--output", str(output)],
                            env=env, capture_output=True, text=True, timeout=3600)
    with open(output / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    course = catalogue.course().in_order()
    assert [row["notebook"] for row in rows] == [_id(path) for path in course]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert list(home.iterdir()) == [], f"written to $HOME: {sorted(p.name for p in home.iterdir())}"
    different = {}
    for path in course:
        executed = nbformat.read(output / path.parent.name / path.name, as_version=4)
        problems = build.output_differences(nbformat.read(path, as_version=4), executed)
        if problems:
            different[_id(path)] = problems
    assert not different, "in order, these notebooks tell another story than their committed outputs:\n" + \
        "\n".join(f"{name}: {line}" for name, lines in different.items() for line in lines)

    # The exercises work on copies, so the project's history is the lessons' own: the one promotion
    # in it is the version lesson 06 proposed, not one rebuilt by a notebook after it.
    [lesson_06] = [path for path in course if path.parent.name == "notebooks" and path.name.startswith("06_")]
    shown = json.dumps([cell.get("outputs", []) for cell in
                        nbformat.read(output / "notebooks" / lesson_06.name, as_version=4).cells])
    proposed = re.findall(r"Proposed: house-price version (\d+) replaces", shown)
    history = subprocess.run(["git", "log", "--format=%s", "main"], cwd=tmp_path / "workspace" / "project",
                             capture_output=True, text=True, check=True).stdout
    assert proposed and re.findall(r"^Promote house-price version (\d+) ", history, re.M) == proposed, history
