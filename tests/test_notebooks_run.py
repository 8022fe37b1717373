"""Every lesson and solution runs headless on a fresh workspace, and again in the same workspace;
every exercise runs to its end with each check saying "not attempted"; `clinic run` runs the course
without touching $HOME. (nbval, on the same notebooks, compares their committed outputs.)"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlops_clinic import paths
from mlops_clinic.execute import execute_notebook
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow

LESSONS_AND_SOLUTIONS = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")) + sorted(
    paths.SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted(paths.EXERCISES_DIR.glob("[0-9][0-9]_*.ipynb"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _run(notebook: Path, workspace: Workspace, output: Path):
    return execute_notebook(notebook, output, parameters={"workspace": str(workspace.root)},
                            env=workspace.env(), cwd=notebook.parent, timeout_s=600)


@pytest.mark.parametrize("notebook", LESSONS_AND_SOLUTIONS, ids=_id)
def test_runs_first_on_a_fresh_workspace_and_twice_in_a_row(notebook, tmp_path):
    workspace = Workspace(tmp_path / "workspace")
    for attempt in (1, 2):
        result = _run(notebook, workspace, tmp_path / f"run{attempt}.ipynb")
        assert result.status == "ok", f"run {attempt}: {result.error} at {result.failing_cell}"


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


def test_clinic_run_completes_the_course_and_leaves_home_untouched(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLOPS_CLINIC", "JUPYTER", "XDG_", "IPYTHON", "MPL", "DVC_", "MLFLOW_",
                                  "BENTOML", "_MLFLOW", "TMPDIR", "GIT_"))}
    env["HOME"] = str(home)
    output = tmp_path / "run"
    clinic = str(Path(sys.executable).with_name("clinic"))
    result = subprocess.run([clinic, "run", "--workspace", str(tmp_path / "workspace"), "--output", str(output)],
                            env=env, capture_output=True, text=True, timeout=3000)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(output / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(LESSONS_AND_SOLUTIONS)
    assert {row["status"] for row in rows} == {"ok"}
    assert list(home.iterdir()) == [], f"written to $HOME: {sorted(p.name for p in home.iterdir())}"
