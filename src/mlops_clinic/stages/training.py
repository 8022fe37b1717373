"""Module 01's pipeline and module 02's champion.

`pipeline`: the project template (dvc.yaml, params.yaml, src/) installed and committed, the model
switched to gradient boosting as module 01 does, `dvc repro` run and its results committed and
pushed. Its train stage logs to MLflow and registers a version of `house-price`.

`champion`: the version that the pipeline registered for the project's HEAD gets the alias
`champion` and a model card, as module 02 does. Later modules call `ensure("champion")`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mlops_clinic.names import CHAMPION as ALIAS
from mlops_clinic.names import EXPERIMENT, MODEL_NAME
from mlops_clinic.stages import module_needs, stage
from mlops_clinic.project import commit, git_ok, run
from mlops_clinic.stages.data import DATA_FILE, on_main, restore_data
from mlops_clinic.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parent.parent / "project_template"
# Module 01 changes this one setting after the first run: linear -> gradient boosting.
MODEL_SETTING = ("model: linear", "model: gradient_boosting")
RESULTS = ["dvc.lock", "metrics.json", "models", "data/.gitignore"]


def files_in(template: Path) -> list[str]:
    """A template folder's files, relative to it: where they go in the project."""
    return sorted(p.relative_to(template).as_posix() for p in template.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def copy_into(template: Path, project: Path) -> list[str]:
    """Copy a template folder's files into the project (overwriting what is there); returns them."""
    files = files_in(template)
    for name in files:
        target = Path(project) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / name, target)
    return files


def template_files() -> list[str]:
    """The pipeline's files, relative to the project (dvc.yaml, params.yaml, src/...)."""
    return files_in(TEMPLATE)


def install_template(project: Path) -> list[str]:
    """Copy the pipeline's code into the project (overwriting what is there); returns the files."""
    return copy_into(TEMPLATE, project)


def use_gradient_boosting(project: Path) -> None:
    """The edit module 01 makes to params.yaml."""
    params = Path(project) / "params.yaml"
    params.write_text(params.read_text().replace(*MODEL_SETTING))


@stage("pipeline", "the pipeline (prepare, train, evaluate) committed, reproduced and pushed",
       requires=("data_v2",),
       is_done=lambda ws: git_ok(ws, "ls-files", "--error-unmatch", "dvc.yaml", "dvc.lock"))
def build_pipeline(ws: Workspace) -> None:
    on_main(ws)
    if not (ws.project / DATA_FILE).is_file():  # deleted (module 01's disaster drill, interrupted)
        restore_data(ws)
    install_template(ws.project)
    use_gradient_boosting(ws.project)
    commit(ws, "dvc.yaml", "params.yaml", "src", message="Pipeline as code: prepare, train, evaluate")
    run(ws, "dvc", "repro", "--quiet")
    commit(ws, *RESULTS, message="Pipeline results: gradient boosting")
    run(ws, "dvc", "push", "--quiet")


def client(ws: Workspace):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=ws.tracking_uri, registry_uri=ws.tracking_uri)


def champion_version(ws: Workspace):
    """The registered version with the alias `champion`, or None."""
    from mlflow.exceptions import MlflowException

    if not ws.mlflow_db.exists():
        return None
    try:
        return client(ws).get_model_version_by_alias(MODEL_NAME, ALIAS)
    except MlflowException:
        return None


def _champion_is_done(ws: Workspace) -> bool:
    # The alias resolves, and the commit its run was trained from is in this project (after
    # module 01 started a fresh project, an older champion belongs to project-previous/).
    version = champion_version(ws)
    if version is None or not version.run_id:
        return False
    commit = client(ws).get_run(version.run_id).data.tags.get("git_commit", "")
    return bool(commit) and git_ok(ws, "cat-file", "-e", f"{commit}^{{commit}}")


def model_card(run) -> tuple[str, str]:
    """(registered model description, version description): the small model card of module 02."""
    tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
    model_text = (
        "Estimates the sale price (GBP) of a house from 12 features: area, rooms, storeys, "
        "parking, six yes/no amenities and furnishing. Trained by the project's DVC pipeline "
        "(dvc.yaml); the version with the alias 'champion' is the one to serve. "
        "Business metric: mean absolute error in pounds. Not for houses outside the training "
        "ranges (area 1,500-16,000 sq ft) or for valuations that need a surveyor."
    )
    version_text = (
        f"{params.get('model', '?')} trained on {tags.get('data_version', '?')} "
        f"(md5 {tags.get('data_md5', '?')}, commit {tags.get('git_commit', '?')}). "
        f"Validation MAE £{metrics.get('val_mae', float('nan')):,.0f}, "
        f"test MAE £{metrics.get('test_mae', float('nan')):,.0f}, test R² {metrics.get('test_r2', float('nan')):.3f}."
    )
    return model_text, version_text


@stage("champion", "the pipeline's model for HEAD registered as house-price@champion, with a card",
       requires=("pipeline",), is_done=_champion_is_done)
def build_champion(ws: Workspace) -> None:
    on_main(ws)
    record = json.loads((ws.project / "models" / "run.json").read_text())
    mlflow = client(ws)
    mlflow.set_registered_model_alias(MODEL_NAME, ALIAS, str(record["version"]))
    model_text, version_text = model_card(mlflow.get_run(record["run_id"]))
    mlflow.update_registered_model(MODEL_NAME, description=model_text)
    mlflow.update_model_version(MODEL_NAME, str(record["version"]), description=version_text)


module_needs("02", "pipeline")
