"""`clinic export`: what the standalone repository holds, what it takes from the participant's
workspace, its pinned requirements, and bad data refused with the loader's messages and nothing
half-written. The end-to-end runs of exported repositories are in test_export_pipeline.py."""

from __future__ import annotations

import ast
import datetime
import fnmatch
import hashlib
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from mlops_clinic import cli, paths
from mlops_clinic.data import HOUSES, Schema
from mlops_clinic.data.infer import infer
from mlops_clinic.export import ExportError, export
from mlops_clinic.export import render
from mlops_clinic.export.build import TEMPLATE
from mlops_clinic.export.requirements import ROOTS, closure, normalise, requirements_txt
from mlops_clinic.pins import read_lock
from mlops_clinic.workspace import Workspace


def files_of(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
            and ".dvc" not in p.relative_to(root).parts[:1]]


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    return export(tmp_path_factory.mktemp("export") / "my-houses", dataset="houses", workspace=None)


# --- the requirements -------------------------------------------------------------------------

def test_requirements_are_the_locks_pins_for_what_the_repository_needs():
    locked = {(normalise(p.name), p.marker): p.version for p in read_lock()}
    pins = closure()
    assert {normalise(r) for r in ROOTS} <= {normalise(p.name) for p in pins}
    for pin in pins:
        assert locked[(normalise(pin.name), pin.marker)] == pin.version, pin
    names = {normalise(p.name) for p in pins}
    assert not names & {"mlops-clinic", "jupyterlab", "papermill", "playwright", "nbval"}
    assert requirements_txt().splitlines()[3:] == [p.requirement() for p in pins]


def test_requirements_are_closed_under_their_dependencies_here():
    """Every package the pinned ones need (on this platform) is pinned too: `pip install -r
    requirements.txt` needs nothing the lock did not choose."""
    pins = {normalise(p.name) for p in closure() if p.applies_here()}
    missing = set()
    for name in pins:
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if normalise(requirement.name) not in pins:
                missing.add(f"{name} needs {requirement.name}")
    assert not missing, sorted(missing)


# --- what the repository holds ------------------------------------------------------------------

def test_the_repository_has_every_part_the_readme_names(houses):
    root = houses.path
    for name in ["README.md", "LICENSE", "schema.yaml", "params.yaml", "dvc.yaml", "requirements.txt",
                 "bentofile.yaml", ".gitignore", "data/houses.csv.dvc", "src/prepare.py", "src/train.py",
                 "src/evaluate.py", "src/contract.py", "serving/service.py", "serving/request.py",
                 "serving/example.json", "tests/test_model.py", "tests/gate.yaml", "monitoring/monitor.py",
                 "monitoring/replay.py", "deploy/champion.yaml", "deploy/reconcile.py", "ci/run_pipeline.py",
                 "ci/promote.py", ".github/workflows/pipeline.yml", ".github/workflows/monitoring.yml",
                 "monitoring/samples/covariate_drift.csv", "monitoring/samples/covariate_drift_labels.csv"]:
        assert (root / name).is_file(), name
    readme = (root / "README.md").read_text()
    for command in ("pip install -r requirements.txt", "python ci/run_pipeline.py", "python deploy/reconcile.py",
                    "bentoml serve serving.service:Predictor", "python monitoring/monitor.py",
                    "dvc remote add --default storage s3://", "azure://", "gs://", "Parquet", "Dask", "Spark",
                    "bentoml containerize"):
        assert command in readme, command
    licence = (root / "LICENSE").read_text()
    assert licence.startswith("MIT License") and str(datetime.date.today().year) in licence
    assert (root / "requirements.txt").read_text() == requirements_txt()


def test_workflows_use_the_current_action_majors_and_the_readme_names_them(houses):
    readme = (houses.path / "README.md").read_text()
    used = set()
    for workflow in (houses.path / ".github" / "workflows").glob("*.yml"):
        text = workflow.read_text()
        assert "__" not in text, f"{workflow.name} has a placeholder left"
        used |= set(re.findall(r"uses: (actions/[\w-]+@v\d+)", text))
        yaml.safe_load(text)
    expected = {f"actions/{name}@{major}" for name, major in render.ACTIONS.items()}
    assert used == expected
    for action in expected:
        assert f"`{action}`" in readme
    assert all(int(major[1:]) >= 7 for major in render.ACTIONS.values())


def test_everything_is_committed_and_the_data_is_in_dvc_and_its_remote(houses):
    root = houses.path
    git = lambda *args: subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout
    assert git("status", "--porcelain") == ""
    assert len(git("log", "--oneline").splitlines()) == 1
    pointer = yaml.safe_load((root / "data" / "houses.csv.dvc").read_text())
    md5 = hashlib.md5((root / "data" / "houses.csv").read_bytes()).hexdigest()
    assert pointer["outs"][0]["md5"] == md5
    assert "/houses.csv" in (root / "data" / ".gitignore").read_text()
    assert "data/houses.csv" not in git("ls-files").splitlines()
    storage = root.parent / "my-houses-dvc-storage"
    assert (storage / "files" / "md5" / md5[:2] / md5[2:]).is_file()
    assert houses.pushed and (root / "data" / "houses.csv").read_bytes() == \
        (paths.DATASETS_DIR / "houses_reference.csv").read_bytes()


def test_no_file_of_the_repository_refers_to_the_kit(houses):
    for path in files_of(houses.path):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "mlops_clinic" not in text and "mlops-clinic" not in text, path
        if path.suffix == ".py":
            for node in ast.walk(ast.parse(text)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                assert not any(n.split(".")[0] == "mlops_clinic" for n in names), path


def test_the_schema_and_settings_describe_the_dataset(houses):
    root = houses.path
    schema = Schema.from_dict(yaml.safe_load((root / "schema.yaml").read_text()))
    assert schema.features == HOUSES.features and schema.target == "price" and schema.id == "house_id"
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["prepare"]["data"] == "data/houses.csv" and params["evaluate"]["metric"] == "mae"
    assert params["mlflow"] == {"experiment": "my-houses", "registered_model": "my-houses"}
    assert params["monitor"]["rule"] == {"refused_share": 0.05, "min_labels": 50, "error_increase": 0.25,
                                         "drift_share": 0.5}
    gate = yaml.safe_load((root / "tests" / "gate.yaml").read_text())
    assert gate["invariance"]["column"] == "area"
    example = yaml.safe_load((root / "serving" / "example.json").read_text())
    assert example["features"] == {name: HOUSES.by_name[name].example for name in HOUSES.features}
    assert yaml.safe_load((root / "deploy" / "champion.yaml").read_text()) == {"model": "my-houses", "version": None}


def test_every_template_file_is_in_the_package_data():
    patterns = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["mlops_clinic"]
    package, export_dir = TEMPLATE.parents[1], TEMPLATE.parent
    files = [p.relative_to(package).as_posix() for p in export_dir.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and not (p.parent == export_dir and p.suffix == ".py")]
    assert "export/template/src/prepare.py" in files and "export/README.md.tmpl" in files
    uncovered = [f for f in files if not any(fnmatch.fnmatchcase(f, pattern) for pattern in patterns)]
    assert not uncovered


# --- bad data: the loader's messages, and nothing written ----------------------------------------

def own_data(tmp_path: Path, rows: int = 80) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": [f"R{i:04d}" for i in range(rows)], "size m2": rng.integers(20, 200, rows),
                          "Kategorie": rng.choice(["ä", "b"], rows), "price £": rng.integers(100, 900, rows)})
    data, schema = tmp_path / "mine.csv", tmp_path / "mine.schema.yaml"
    frame.to_csv(data, index=False)
    schema.write_text(infer(data, "price £").to_yaml(), encoding="utf-8")
    return data, schema


def nothing_written(dest: Path) -> None:
    assert not dest.exists() and not (dest.parent / f"{dest.name}-dvc-storage").exists()
    if dest.parent.exists():
        assert [p.name for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}.partial")] == []


@pytest.mark.parametrize("breakage,expected", [
    ("wrong target", "mine.csv, column 'price £': the column is missing; the header must contain: "
                     "id,size m2,Kategorie,price £"),
    ("mixed types", "mine.csv line 5, column 'size m2': 'about 40' is not a number"),
    ("empty file", "mine.csv: the file is empty; a CSV needs a header line first, e.g. id,size m2,Kategorie,price £"),
])
def test_bad_data_gets_the_loaders_messages_and_nothing_is_written(tmp_path, breakage, expected):
    data, schema = own_data(tmp_path)
    text = data.read_text()
    if breakage == "wrong target":
        data.write_text(text.replace("price £", "price", 1))
    elif breakage == "mixed types":
        lines = text.splitlines()
        lines[4] = lines[4].replace(lines[4].split(",")[1], "about 40", 1)
        data.write_text("\n".join(lines) + "\n")
    else:
        data.write_text("")
    dest = tmp_path / "out" / "mine"
    with pytest.raises(ExportError) as refused:
        export(dest, data=data, schema=schema)
    assert expected in refused.value.message, refused.value.message
    assert "nothing was exported" in refused.value.fix
    nothing_written(dest)


def test_a_failure_after_the_build_started_leaves_nothing_behind(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the remote should go")
    dest = tmp_path / "new" / "place" / "repo"
    with pytest.raises(ExportError) as failed:
        export(dest, dataset="transport", remote=str(blocker))
    assert "DVC could not version the data" in failed.value.message
    assert not (tmp_path / "new").exists()  # the folders made for it went too
    assert blocker.read_text() == "a file where the remote should go"
    made = export(dest, dataset="transport")  # missing parent folders are made
    assert (made.path / "README.md").is_file()


def test_an_existing_folder_is_never_overwritten(tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists and is not an empty folder"):
        export(dest, dataset="transport")
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export(empty, dataset="transport").path == empty and (empty / "README.md").is_file()


@pytest.mark.parametrize("arguments,expected", [
    ({"dataset": "farming"}, "there is no kit dataset called 'farming'"),
    ({"data": "mine.csv"}, "an export of your own data needs its schema"),
    ({"data": "mine.csv", "dataset": "houses"}, "give either --dataset or --data, not both"),
])
def test_wrong_arguments_say_what_to_give(tmp_path, arguments, expected):
    if "data" in arguments:
        arguments = {**arguments, "data": own_data(tmp_path)[0]}
    with pytest.raises(ExportError, match=re.escape(expected)):
        export(tmp_path / "x", **arguments)
    nothing_written(tmp_path / "x")


def test_cli_prints_the_next_commands_or_the_fix_without_a_traceback(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "deliveries"), "--dataset", "transport", "--no-workspace"]) == 0
    out = capsys.readouterr().out
    assert "2,000 rows of classification data (late)" in out and "python ci/run_pipeline.py" in out
    assert "DVC remote: deliveries-dvc-storage/ (beside this folder), data pushed" in out
    assert cli.main(["export", str(tmp_path / "deliveries"), "--dataset", "transport", "--no-workspace"]) == 1
    err = capsys.readouterr().err
    assert "deliveries already exists" in err and "Fix: choose a new folder" in err and "Traceback" not in err


# --- carried from the workshop ------------------------------------------------------------------

def champion_run(workspace: Workspace, params: dict) -> str:
    """A registered house-price version with these run params, aliased champion; its version."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=workspace.tracking_uri, registry_uri=workspace.tracking_uri)
    experiment = client.create_experiment("house-price", artifact_location=workspace.mlflow_artifacts.as_uri())
    run = client.create_run(experiment)
    for key, value in params.items():
        client.log_param(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id)
    client.create_registered_model("house-price")
    version = client.create_model_version("house-price", source=f"runs:/{run.info.run_id}/model",
                                          run_id=run.info.run_id)
    client.set_registered_model_alias("house-price", "champion", version.version)
    return str(version.version)


def test_the_workshops_params_champion_choice_and_data_release_are_carried(workspace, tmp_path):
    project = workspace.project
    (project / "data").mkdir(parents=True)
    release = pd.read_csv(paths.DATASETS_DIR / "houses_reference.csv").head(1500)
    release.to_csv(project / "data" / "houses.csv", index=False)
    (project / "params.yaml").write_text(yaml.safe_dump({
        "prepare": {"test_share": 0.25, "val_share": 0.15},
        "train": {"model": "gradient_boosting", "seed": 7, "gradient_boosting": {"n_estimators": 77}}}))
    version = champion_run(workspace, {"model": "random_forest", "n_estimators": "33", "max_depth": "5",
                                       "seed": "7"})
    exported = export(tmp_path / "carried", dataset="houses", workspace=workspace)
    params = yaml.safe_load((exported.path / "params.yaml").read_text())
    assert params["prepare"]["test_share"] == 0.25 and params["prepare"]["val_share"] == 0.15
    assert params["train"]["seed"] == 7
    assert params["train"]["gradient_boosting"] == {"n_estimators": 77}
    assert params["train"]["model"] == "random_forest"  # the champion's, over params.yaml's
    assert params["train"]["random_forest"] == {"n_estimators": 33, "max_depth": 5}
    assert exported.source.rows == 1500
    readme = (exported.path / "README.md").read_text()
    assert f"your champion's model: random_forest (house-price version {version})" in readme
    assert f"house-price version {version}" in (exported.path / "deploy" / "champion.yaml").read_text()


def test_module_06s_monotone_champion_is_carried_and_keeps_its_promise(workspace, tmp_path):
    # Module 06 promotes histogram boosting constrained to never price a bigger house lower: the
    # export carries that family, with the constraint the gate's invariance test expects.
    version = champion_run(workspace, {"model": "monotone_boosting", "max_iter": "60",
                                       "learning_rate": "0.1", "seed": "42"})
    exported = export(tmp_path / "monotone", dataset="houses", workspace=workspace)
    params = yaml.safe_load((exported.path / "params.yaml").read_text())
    assert params["train"]["model"] == "monotone_boosting"
    assert params["train"]["monotone_boosting"] == {"max_iter": 60, "learning_rate": 0.1}
    assert params["train"]["monotonic"] == {"area": 1}
    assert f"your champion's model: monotone_boosting (house-price version {version})" in (
        exported.path / "README.md").read_text()

    # The exported project's own model code, in a process of its own: bigger is never cheaper.
    probe = (
        "import sys; sys.path.insert(0, 'src')\n"
        "import pandas as pd, numpy as np\n"
        "from model import build\n"
        "from contract import SCHEMA, model_input\n"
        "rows = pd.read_csv('data/houses.csv').head(600)\n"
        "X, y = model_input(rows), rows[SCHEMA.target]\n"
        "model = build().fit(X, y)\n"
        "bigger = X.assign(area=X['area'] * 1.1)\n"
        "print(int(np.sum(model.predict(bigger) < model.predict(X))))\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=exported.path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0", "a bigger house priced lower by a monotone model"


def test_another_dataset_takes_the_split_but_not_a_model_chosen_for_house_prices(workspace, tmp_path):
    workspace.project.mkdir(parents=True, exist_ok=True)
    (workspace.project / "params.yaml").write_text(yaml.safe_dump({
        "prepare": {"test_share": 0.3, "val_share": 0.1},
        "train": {"model": "random_forest", "seed": 11, "random_forest": {"n_estimators": 5}}}))
    champion_run(workspace, {"model": "gradient_boosting", "n_estimators": "9"})
    params = yaml.safe_load((export(tmp_path / "d", dataset="transport", workspace=workspace).path
                             / "params.yaml").read_text())
    assert params["prepare"]["test_share"] == 0.3 and params["train"]["seed"] == 11
    assert params["train"]["model"] == "linear" and params["train"]["random_forest"]["n_estimators"] == 200


def test_without_a_workspace_the_lessons_settings_are_used(houses):
    params = yaml.safe_load((houses.path / "params.yaml").read_text())
    lessons = yaml.safe_load((paths.REPO_ROOT / "src" / "mlops_clinic" / "project_template" / "params.yaml").read_text())
    assert params["train"]["model"] == lessons["train"]["model"]
    assert params["prepare"]["test_share"] == lessons["prepare"]["test_share"]
    assert "nothing: no workshop project was found" in (houses.path / "README.md").read_text()


def test_the_export_marker_helper_sees_every_environment_marker():
    # requirements.txt keeps the lock's platform markers, so one file serves Linux, macOS and Windows.
    markers = [pin.marker for pin in closure() if pin.marker]
    assert markers and all(Marker(m) for m in markers)
