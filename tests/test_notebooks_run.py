"""Every exercise runs to its end with each check saying "not attempted"; every solution's committed
checks say "correct"; `clinic run` runs lessons and solutions without touching $HOME.

Lessons and solutions themselves run under nbval, each first on a fresh workspace (comparing the
committed outputs) and then a second time in that workspace: see `RunsAgain` in the root conftest.py.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlops_clinic import paths
from mlops_clinic.execute import ExecutionOptions, execute_notebook
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow

# `clinic run` is tested on the first and the last module: every lesson and solution already runs
# twice under nbval, and the whole course once more would add about 25 minutes.
CLINIC_RUN_MODULES = ("00", "07")
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


def test_clinic_run_runs_lessons_and_solutions_and_leaves_home_untouched(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLOPS_CLINIC", "JUPYTER", "XDG_", "IPYTHON", "MPL", "DVC_", "MLFLOW_",
                                  "BENTOML", "_MLFLOW", "TMPDIR", "GIT_"))}
    env["HOME"] = str(home)
    output = tmp_path / "run"
    clinic = str(Path(sys.executable).with_name("clinic"))
    result = subprocess.run([clinic, "run", "--workspace", str(tmp_path / "workspace"), "--output", str(output),
                             "--only", ",".join(CLINIC_RUN_MODULES)],
                            env=env, capture_output=True, text=True, timeout=3000)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(output / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    expected = [path for folder in (paths.NOTEBOOKS_DIR, paths.SOLUTIONS_DIR)
                for module in CLINIC_RUN_MODULES for path in folder.glob(f"{module}_*.ipynb")]
    assert len(rows) == len(expected) == 2 * len(CLINIC_RUN_MODULES)
    assert {row["status"] for row in rows} == {"ok"}
    assert list(home.iterdir()) == [], f"written to $HOME: {sorted(p.name for p in home.iterdir())}"
