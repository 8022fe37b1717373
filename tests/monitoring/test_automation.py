"""Module 06's project files: the CI workflow is valid GitHub Actions YAML and names every step the
local runner runs (so the two cannot drift), the pinned requirements match the kit's lock, the
package ships every file, and the stage installs and commits them with the desired state."""

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_clinic import paths
from mlops_clinic.stages.automation import TEMPLATE, ci_files, install_ci
from mlops_clinic.stages.training import files_in

WORKFLOW = TEMPLATE / ".github" / "workflows" / "pipeline.yml"


def _runner():
    spec = importlib.util.spec_from_file_location("clinic_ci_runner", TEMPLATE / "ci" / "run_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_is_github_actions_yaml():
    workflow = _workflow()
    # PyYAML reads the key `on` as the boolean True (YAML 1.1); GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert triggers is not None and "push" in triggers
    assert set(workflow) <= {"name", True, "on", "permissions", "concurrency", "env", "jobs"}
    job = workflow["jobs"]["pipeline"]
    assert job["runs-on"] == "ubuntu-latest"
    for step in job["steps"]:
        assert set(step) <= {"name", "uses", "with", "run", "if", "env", "id", "shell"}, step
        assert "name" in step, f"every step is named (the local runner finds steps by name): {step}"
        assert ("uses" in step) != ("run" in step), f"a step either uses an action or runs commands: {step['name']}"
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
    names = [step["name"] for step in job["steps"]]
    assert len(names) == len(set(names)), "step names must be unique"


def test_local_runner_runs_exactly_the_workflows_named_steps_in_order():
    runner = _runner()
    steps = [step["name"] for step in _workflow()["jobs"]["pipeline"]["steps"]]
    assert runner.LOCAL_STEPS, "the runner runs no step"
    for name in runner.LOCAL_STEPS:
        assert name in steps, f"the workflow has no step {name!r}"
        assert "run" in _workflow()["jobs"]["pipeline"]["steps"][steps.index(name)]
    assert [n for n in steps if n in runner.LOCAL_STEPS] == runner.LOCAL_STEPS, "same order as CI"
    # the quality gate runs before anything is proposed, in both
    assert runner.LOCAL_STEPS.index("Test the model (quality gate)") < runner.LOCAL_STEPS.index("Propose the promotion")


def test_runner_lists_the_commands_it_reads_from_the_workflow(tmp_path):
    install_ci(tmp_path)
    listed = subprocess.run([sys.executable, "ci/run_pipeline.py", "--list"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert "dvc repro" in listed and "python -m pytest" in listed and "python ci/promote.py" in listed
    assert "pip install" not in listed, "installing is CI's job, not the local runner's"


def test_runner_says_which_step_is_missing_when_the_workflow_drifts(tmp_path):
    install_ci(tmp_path)
    workflow = tmp_path / ".github" / "workflows" / "pipeline.yml"
    workflow.write_text(workflow.read_text().replace("name: Reproduce the pipeline", "name: Repro"))
    done = subprocess.run([sys.executable, "ci/run_pipeline.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert "'Reproduce the pipeline'" in done.stdout


def test_requirements_pin_what_the_kit_locks():
    locked = {}
    for line in (paths.REPO_ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)(\s*;\s*(.*))?", line)
        if match and (not match.group(4) or "< '3.12'" in match.group(4)):
            locked[match.group(1).lower()] = match.group(2)
    pinned = 0
    for line in (TEMPLATE / "requirements.txt").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pinned += 1
            assert locked.get(match.group(1).lower()) == match.group(2), line
    assert pinned >= 8


def test_model_tests_and_scripts_are_valid_python():
    for name in ("tests/test_model.py", "ci/run_pipeline.py", "ci/promote.py", "deploy/reconcile.py"):
        ast.parse((TEMPLATE / name).read_text(), filename=name)
    tests = [n.name for n in ast.parse((TEMPLATE / "tests" / "test_model.py").read_text()).body
             if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    assert {"test_beats_the_baseline", "test_not_worse_than_the_champion",
            "test_more_area_never_lowers_the_price"} <= set(tests)
    assert any("categories" in t for t in tests) and any("yes" in t for t in tests)


def test_package_data_ships_every_template_file():
    text = (paths.REPO_ROOT / "pyproject.toml").read_text()
    patterns = re.findall(r'"(project_template_ci[^"]*)"', text)
    package = TEMPLATE.parent
    shipped = {p.relative_to(TEMPLATE).as_posix() for pattern in patterns
               for p in package.glob(pattern) if p.is_file()}
    assert set(ci_files()) <= shipped, sorted(set(ci_files()) - shipped)


def _project_files() -> dict[str, str]:
    """The participant's project as the kit gives it: the pipeline's template and module 06's."""
    from mlops_clinic.stages.training import TEMPLATE as PIPELINE

    return {f"{template.name}/{name}": (template / name).read_text()
            for template in (PIPELINE, TEMPLATE) for name in files_in(template)}


def test_the_project_needs_nothing_of_the_kit():
    """CI installs requirements.txt only: no project file imports the kit, and no requirement
    points at the kit's repository (there is no placeholder owner left to fill in)."""
    for name, text in _project_files().items():
        assert "mlops_clinic" not in text, f"{name} uses the kit"
    requirements = (TEMPLATE / "requirements.txt").read_text()
    assert "git+" not in requirements and "OWNER" not in requirements and "mlops-clinic" not in requirements


def test_workflow_uses_the_current_major_versions_of_githubs_actions():
    used = {step["uses"].split("@")[0]: int(step["uses"].split("@v")[1])
            for step in _workflow()["jobs"]["pipeline"]["steps"] if "uses" in step}
    assert used == {"actions/checkout": 6, "actions/setup-python": 6}


def _project_schema():
    from mlops_clinic.stages.training import TEMPLATE as PIPELINE

    spec = importlib.util.spec_from_file_location("clinic_project_schema", PIPELINE / "src" / "schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_projects_data_contract_is_the_kits_schema():
    from mlops_clinic.data import schema as kit

    project = _project_schema()
    assert project.FEATURES == list(kit.FEATURES) and project.TARGET == kit.TARGET and project.ID == kit.ID
    assert project.CATEGORIES == dict(kit.CATEGORIES)
    assert project.RANGES == {name: (column.min, column.max) for name, column in kit.COLUMNS.items()
                              if column.kind == "integer" and column.max is not None}
    assert project.EXAMPLE_HOUSE == {name: kit.COLUMNS[name].example for name in kit.FEATURES}
    assert project.ID_PATTERN.pattern == kit.COLUMNS[kit.ID].pattern


def test_the_projects_data_contract_finds_every_fault_of_the_incident_batch():
    from mlops_clinic.data import dataset_path

    project = _project_schema()
    for clean in ("houses_reference", "houses_new"):
        assert project.validate(project.read_csv(dataset_path(clean)), clean) == []
    problems = project.validate(project.read_csv(dataset_path("traffic/data_quality")), "data_quality.csv")
    # datasets/README.md: 30 missing cells, 20 unseen categories, 20 areas out of range, 60 upper-case
    # cells, 10 thousands separators (requests have no price, so re-sent ids are the service's business).
    assert sum("missing value" in p for p in problems) == 30
    assert sum("'part-furnished' is not one of" in p for p in problems) == 20
    assert sum("is outside 1,500 to 16,000" in p for p in problems) == 20
    assert sum("(lower case)" in p for p in problems) == 60
    assert sum("without the comma" in p for p in problems) == 10
    assert len(problems) == 140
    assert problems[0].startswith("data_quality.csv line ")


def test_the_projects_data_contract_names_what_is_missing_and_repeated():
    import pandas as pd

    project = _project_schema()
    houses = pd.read_csv(TEMPLATE.parent.parent.parent / "datasets" / "houses_reference.csv").head(3)
    assert project.validate(houses.drop(columns=["area"]).assign(price=1), "x.csv") == [
        f"x.csv: no column area: the file needs house_id, {', '.join(project.FEATURES)}, price"]
    repeated = pd.concat([houses, houses.head(1)])
    assert project.validate(repeated, "x.csv") == [f"x.csv line 5, house_id: {houses.house_id[0]} appears earlier"]


def test_the_gate_demands_a_model_that_never_prices_a_bigger_house_lower():
    gate = yaml.safe_load((TEMPLATE / "tests" / "gate.yaml").read_text())
    assert gate["max_drop"] == 0 and gate["max_houses_share"] == 0


def _fitted(name, **settings):
    import sys

    import pandas as pd

    from mlops_clinic.data import dataset_path
    from mlops_clinic.stages.training import TEMPLATE as PIPELINE

    sys.path.insert(0, str(PIPELINE / "src"))
    try:
        from model import FEATURES, TARGET, build_model
    finally:
        sys.path.remove(str(PIPELINE / "src"))
    houses = pd.read_csv(dataset_path("houses_reference"))
    return build_model(name, **settings).fit(houses[FEATURES], houses[TARGET]), houses[FEATURES]


def test_monotone_boosting_never_prices_a_bigger_house_lower_where_plain_boosting_does():
    """The invariance test's premise: the model given the rule keeps it for every house, at every
    step; the pipeline's unconstrained boosting does not (that is why the gate's rule is new)."""
    monotone, houses = _fitted("monotone_boosting", max_iter=100, max_depth=3)
    plain, _ = _fitted("gradient_boosting", n_estimators=100, max_depth=3)
    for step in (0.01, 0.1, 0.5):
        bigger = houses.assign(area=(houses["area"] * (1 + step)).round().clip(upper=16_000))
        assert (monotone.predict(bigger) >= monotone.predict(houses)).all(), step
    bigger = houses.assign(area=(houses["area"] * 1.1).round().clip(upper=16_000))
    assert (plain.predict(bigger) < plain.predict(houses)).any()


@pytest.mark.slow
def test_gitops_stage_commits_the_files_and_the_desired_champion(tmp_path):
    import os

    from mlops_clinic import stages
    from mlops_clinic.workspace import Workspace

    ws = Workspace(tmp_path / "workspace")
    saved = dict(os.environ)
    try:
        ws.activate()
        built = stages.ensure("gitops", ws)
        assert "gitops" in built
        tracked = subprocess.run(["git", "ls-files"], cwd=ws.project, capture_output=True, text=True).stdout.split()
        assert set(ci_files()) <= set(tracked)
        desired = yaml.safe_load((ws.project / "deploy" / "champion.yaml").read_text())
        from mlops_clinic.stages.training import champion_version

        assert desired == {"model": "house-price", "version": int(champion_version(ws).version)}
        assert stages.ensure("gitops", ws) == []
    finally:
        os.environ.clear()
        os.environ.update(saved)
