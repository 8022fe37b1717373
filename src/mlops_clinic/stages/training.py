"""Module 01's pipeline and module 02's champion.

`pipeline`: what lesson 01 builds after the data releases, replayed with the commands the
participant types (PIPELINE): the stage scripts and params.yaml from the template, dvc.yaml written
by `dvc stage add`, the linear model reproduced and committed (it registers the first version of
`house-price`), the setting switched to gradient boosting, reproduced (the next version), committed
and pushed. The same commits with the same messages, in the same order.

`champion`: the version that the pipeline registered for the project's HEAD gets the alias
`champion` and a model card, as module 02 does. Later modules call `ensure("champion")`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from mlops_clinic.names import CHAMPION as ALIAS
from mlops_clinic.names import EXPERIMENT, MODEL_NAME  # noqa: F401 (the stages' names)
from mlops_clinic.stages import module_needs, stage
from mlops_clinic.project import git_ok, replay, run
from mlops_clinic.stages.data import DATA_FILE, on_main, restore_data
from mlops_clinic.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parent.parent / "project_template"


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
    """The files a colleague wrote for the pipeline, relative to the project (params.yaml, src/...)."""
    return files_in(TEMPLATE)


def install_scripts(project: Path) -> list[str]:
    """Copy the pipeline's scripts and settings into the project (overwriting what is there); returns
    the files. The participant writes dvc.yaml; the code it runs is a colleague's."""
    return copy_into(TEMPLATE, project)


def use_model(project: Path, name: str) -> None:
    """Set `train.model` in params.yaml, the edit lesson 01 makes after the first run."""
    params = Path(project) / "params.yaml"
    params.write_text(re.sub(r"^(  model: )\w+", rf"\g<1>{name}", params.read_text(), count=1, flags=re.M))


# Lesson 01's pipeline, as the participant types it, in groups that each end with a commit (the
# group is done when its commit message is in the history). Python steps are what a lesson cell does.
PIPELINE = (
    ("Pipeline as code: prepare, train, evaluate", (
        install_scripts,
        "dvc stage add -n prepare -p prepare -d src/prepare.py -d src/schema.py -d data/houses.csv "
        "-o data/prepared python src/prepare.py",
        "mkdir -p models",
        "dvc stage add -n train -p train,mlflow -d src/train.py -d src/model.py -d src/lineage.py "
        "-d data/prepared -o models/model.pkl -O models/run.json python src/train.py",
        "dvc stage add -n evaluate -d src/evaluate.py -d src/model.py -d models/model.pkl "
        "-d data/prepared -M metrics.json python src/evaluate.py",
        "git add dvc.yaml params.yaml src data/.gitignore models/.gitignore",
        'git commit --quiet -m "Pipeline as code: prepare, train, evaluate"',
    )),
    ("Pipeline results: linear model", (
        "dvc repro",
        "git add dvc.lock metrics.json models/run.json",
        'git commit --quiet -m "Pipeline results: linear model"',
    )),
    ("Train with gradient boosting", (
        lambda project: use_model(project, "gradient_boosting"),
        'git commit --quiet -am "Train with gradient boosting"',
    )),
    ("Pipeline results: gradient boosting", (
        "dvc repro",
        "git add dvc.lock metrics.json models/run.json",
        'git commit --quiet -m "Pipeline results: gradient boosting"',
        "dvc push",
    )),
)


def committed_messages(ws: Workspace) -> set[str]:
    """The subjects of the commits on main (empty before the first commit)."""
    if not git_ok(ws, "rev-parse", "--verify", "--quiet", "main"):
        return set()
    return set(run(ws, "git", "log", "main", "--format=%s").splitlines())


def _pipeline_is_done(ws: Workspace) -> bool:
    # The groups run in order, so the last one's commit means the lesson's pipeline is complete.
    return PIPELINE[-1][0] in committed_messages(ws)


@stage("pipeline", "lesson 01's pipeline written, reproduced with the linear model, then with "
       "gradient boosting, committed and pushed", requires=("data_v2",), is_done=_pipeline_is_done)
def build_pipeline(ws: Workspace) -> None:
    on_main(ws)
    if not (ws.project / DATA_FILE).is_file():  # deleted (module 01's disaster drill, interrupted)
        restore_data(ws)
    done = committed_messages(ws)
    for message, steps in PIPELINE:
        if message in done:
            continue
        if message == PIPELINE[0][0]:
            # A dvc.yaml left uncommitted by an interrupted lesson: `dvc stage add` writes it anew.
            (ws.project / "dvc.yaml").unlink(missing_ok=True)
        replay(ws, steps)


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
