"""Each notebook under nbval gets a fresh workspace of its own, then runs a second time in it (the
root conftest's hooks).

Runs a real nbval session on two tiny notebooks: each run records the workspace its kernel sees and
whether the previous run left its mark there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat

from mlops_clinic import paths
from mlops_clinic.workspace import WORKSPACE_ENV_VAR

RECORD = """\
import os, pathlib
workspace = pathlib.Path(os.environ["{var}"])
leftover = (workspace / "left-by-first").exists()
(workspace / "left-by-first").parent.mkdir(parents=True, exist_ok=True)
(workspace / "left-by-first").touch()
with open(r"{log}", "a") as log:
    log.write(f"{{workspace}} {{leftover}}\\n")
"""


def test_every_notebook_gets_a_fresh_workspace_then_runs_again_in_it(tmp_path):
    # Under the repository, so the root conftest.py applies as it does to notebooks/.
    folder = paths.REPO_ROOT / "build" / "isolation-test" / tmp_path.name
    folder.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "seen.txt"
    for name in ("first", "second"):
        notebook = nbformat.v4.new_notebook(metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}})
        notebook.cells = [nbformat.v4.new_code_cell(RECORD.format(var=WORKSPACE_ENV_VAR, log=log))]
        nbformat.write(notebook, folder / f"{name}.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.pop("MLOPS_CLINIC_TEST_NOTEBOOK", None)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "0", "-q", "--nbval-lax",
             "--basetemp", str(tmp_path / "inner"),
             str(folder / "first.ipynb"), str(folder / "second.ipynb")],
            cwd=paths.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seen = [line.rsplit(" ", 1) for line in log.read_text().splitlines()]
    assert len(seen) == 4, f"expected two runs of each notebook: {seen}"
    (first, first_fresh), (first_again, first_again_leftover), (second, second_fresh), (second_again, _) = seen
    assert first == first_again and second == second_again, "the second run used another workspace"
    assert first != second, "both notebooks ran in the same workspace"
    assert first.endswith("first/workspace") and second.endswith("second/workspace"), seen
    assert first_fresh == second_fresh == "False", "a workspace was not fresh"
    assert first_again_leftover == "True", "the second run did not see the first run's workspace"
    assert "runs-again-in-the-same-workspace" in result.stdout or "4 passed" in result.stdout, result.stdout
