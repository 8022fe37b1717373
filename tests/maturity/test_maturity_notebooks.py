"""Headless runs: notebook 07 with answers as a parameter (twice in a row), and module 00's checkpoint
with answers from the environment variable, as an instructor's batch would run them."""

import json

import pytest

from mlops_clinic import paths
from mlops_clinic.execute import ExecutionOptions, execute_notebook
from mlops_clinic.maturity import ENV_VAR
from mlops_clinic.workspace import Workspace

pytestmark = pytest.mark.slow
LESSON_07 = paths.NOTEBOOKS_DIR / "07_maturity_profile.ipynb"


def stdout_of(notebook_path) -> str:
    nb = json.loads(notebook_path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c["outputs"] if o["output_type"] == "stream")


def run(notebook, out, workspace, **parameters):
    env = {**workspace.env(), ENV_VAR: ""}
    env.update(parameters.pop("env", {}))
    result = execute_notebook(notebook, out, parameters={"workspace": str(workspace.root), **parameters},
                              env=env, cwd=notebook.parent, options=ExecutionOptions(cell_timeout_s=300))
    assert result.ok, f"{notebook.name}: {result.status} at {result.failing_cell}: {result.error} (log {result.log_path})"
    return out


def test_notebook_07_with_answers_as_a_parameter_writes_both_reports_and_runs_twice(tmp_path):
    workspace = Workspace(tmp_path / "workspace").create()
    answers = tmp_path / "answers.yaml"
    answers.write_text("business: {use_cases: 2, value: 2, continuity: 1}\n"
                       "monitoring: {drift: 0, performance: 1, retrain: 1}\n"
                       "ml_test_score: {data.1: 1, model.1: 1, infrastructure.1: 1, monitoring.1: 0.5}\n")
    for attempt in (1, 2):
        out = run(LESSON_07, tmp_path / f"07-run{attempt}.ipynb", workspace, maturity_answers=str(answers))
        printed = stdout_of(out)
        assert "You: 6 of 22 questions answered, in 2 of 8 dimensions. Overall level 0 · ad hoc." in printed
        assert "1. Monitoring and retraining (now: ad hoc)" in printed
        assert "ML Test Score 0.5 (not totally untested)" in printed
        assert "maturity/maturity-profile.md" in printed and "maturity/maturity-profile.html" in printed
        assert str(tmp_path) not in printed
        markdown = (workspace.maturity_dir / "maturity-profile.md").read_text()
        assert "| Monitoring and retraining | 0 · ad hoc |" in markdown
        assert "data:image/png;base64," in (workspace.maturity_dir / "maturity-profile.html").read_text()


def test_notebook_07_accepts_answers_as_a_dict(tmp_path):
    workspace = Workspace(tmp_path / "workspace").create()
    out = run(LESSON_07, tmp_path / "07.ipynb", workspace,
              maturity_answers={"gitops": {"environment": 3, "promotion": 2, "ci": 3}})
    assert "Overall level 2 · reproducible." in stdout_of(out)
    assert (workspace.maturity_dir / "maturity-profile.html").exists()


def test_module_00_checkpoint_takes_answers_from_the_environment_variable(tmp_path):
    workspace = Workspace(tmp_path / "workspace").create()
    answers = tmp_path / "cohort.json"
    answers.write_text(json.dumps({"checkpoints": {"business": {"use_cases": 3, "value": 2, "continuity": 2}}}))
    out = run(paths.NOTEBOOKS_DIR / "00_welcome.ipynb", tmp_path / "00.ipynb", workspace,
              env={ENV_VAR: str(answers)})
    assert "Maturity checkpoint 00 · Business alignment and AI strategy: level 2 (reproducible)" in stdout_of(out)
    saved = json.loads((workspace.maturity_dir / "answers.json").read_text())
    assert saved["checkpoints"]["business"] == {"use_cases": 3, "value": 2, "continuity": 2}
