"""Modules 01 and 02's stages: what `ensure("champion")` builds on an empty workspace is what lessons
01 and 02 leave (the commands they show, the same commits, versions and card), an experiment run
registers nothing, deleting the data and the cache loses nothing `dvc pull` cannot restore, and the
DVC remote and the MLflow store survive module 01 starting a fresh project."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml

from mlops_clinic import paths, stages
from mlops_clinic.project import replay
from mlops_clinic.stages.data import RELEASE_V1, RELEASE_V2, V1_TAG, V2_TAG, fresh_project, tag_exists
from mlops_clinic.stages.training import (ALIAS, MODEL_NAME, PIPELINE, champion_version, client,
                                          model_card, template_files)
from mlops_clinic.workspace import PROJECT_START, Workspace, path_with_kit_tools

pytestmark = pytest.mark.slow

LESSON_01 = paths.REPO_ROOT / "notebooks" / "01_data_versioning.ipynb"
LESSON_02 = paths.REPO_ROOT / "notebooks" / "02_training_pipeline.ipynb"
# Lesson 01's commits, newest first, as `git log` lists them.
LESSON_01_HISTORY = [
    "Pipeline results: gradient boosting",
    "Train with gradient boosting",
    "Pipeline results: linear model",
    "Pipeline as code: prepare, train, evaluate",
    "Data v2.0.0: reference plus the new release (3,000 rows)",
    "Data v1.0.0: the reference houses (2,000 rows)",
    "Start the clinic project: git + DVC",
]


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def shell_lines(notebook, *cell_ids):
    """The `!command` lines of a notebook's code cells (of the cells named, if any), in order."""
    cells = nbformat.read(notebook, as_version=4).cells
    return [line.strip()[1:] for cell in cells if cell.cell_type == "code"
            and (not cell_ids or cell.get("id") in cell_ids)
            for line in cell.source.splitlines() if line.strip().startswith("!")]


def cell_source(notebook, cell_id):
    return next(c.source for c in nbformat.read(notebook, as_version=4).cells if c.get("id") == cell_id)


def run(ws, *cmd):
    env = {**os.environ, **ws.env(), "PATH": path_with_kit_tools(os.environ.get("PATH", ""))}
    return subprocess.run(list(cmd), cwd=ws.project, env=env, capture_output=True, text=True, check=True).stdout


def dvc_outputs(ws):
    """Every file whose content DVC keeps (the data pointer's and dvc.lock's outputs), leaving out
    the small outputs that git keeps itself (cache: false, such as metrics.json)."""
    names = ["data/houses.csv"]
    lock = yaml.safe_load((ws.project / "dvc.lock").read_text())
    for stage in lock["stages"].values():
        names += [out["path"] for out in stage.get("outs", [])]
    in_git = set(run(ws, "git", "ls-files").split())
    found = []
    for name in names:
        path = ws.project / name
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [p for p in found if p.relative_to(ws.project).as_posix() not in in_git]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("stages") / "workspace")
    built = stages.ensure("champion", ws)
    return ws, built


def test_ensure_champion_builds_every_stage_on_an_empty_workspace(world):
    ws, built = world
    assert built == ["workspace", "project", "data_v1", "data_v2", "pipeline", "champion"]
    assert stages.ensure("champion", ws) == []
    assert tag_exists(ws, V1_TAG) and tag_exists(ws, V2_TAG)
    assert run(ws, "git", "log", "--format=%s").splitlines() == LESSON_01_HISTORY
    assert run(ws, "git", "branch", "--show-current").strip() == "main"
    assert run(ws, "git", "status", "--porcelain") == ""
    for name in template_files():
        assert (ws.project / name).is_file(), name


def test_the_stages_replay_the_commands_lesson_01_shows():
    typed = shell_lines(LESSON_01)
    replayed = [step for step in (*PROJECT_START, *RELEASE_V1, *RELEASE_V2,
                                  *(step for _, steps in PIPELINE for step in steps)) if isinstance(step, str)]
    missing = [command for command in replayed if command not in typed]
    assert not missing, f"the stages run commands that lesson 01 does not show: {missing}"
    remaining = iter(typed)  # ...and in the lesson's order: each found after the one before
    assert all(command in remaining for command in replayed)


def test_the_pipeline_is_the_one_dvc_stage_add_wrote(world):
    ws, _ = world
    pipeline = yaml.safe_load((ws.project / "dvc.yaml").read_text())["stages"]
    assert list(pipeline) == ["prepare", "train", "evaluate"]
    assert pipeline["prepare"] == {"cmd": "python src/prepare.py",
                                   "deps": ["data/houses.csv", "src/prepare.py", "src/schema.py"],
                                   "params": ["prepare"], "outs": ["data/prepared"]}
    assert pipeline["train"]["params"] == ["mlflow", "train"]
    assert pipeline["train"]["outs"] == ["models/model.pkl", {"models/run.json": {"cache": False}}]
    assert pipeline["evaluate"]["metrics"] == [{"metrics.json": {"cache": False}}]
    # Written by `dvc stage add`, not copied: the kit ships no dvc.yaml for the project.
    assert "dvc.yaml" not in template_files()


def test_data_releases_have_the_documented_rows(world):
    ws, _ = world
    for tag, rows in ((V1_TAG, 2000), (V2_TAG, 3000)):
        text = run(ws, "git", "show", f"{tag}:data/houses.csv.dvc")
        pointer = yaml.safe_load(text)["outs"][0]
        data = (ws.project / ".dvc" / "cache" / "files" / "md5" / pointer["md5"][:2] / pointer["md5"][2:]).read_bytes()
        assert data.count(b"\n") - 1 == rows, tag


def test_champion_is_the_pipelines_model_with_lineage_and_a_card(world):
    ws, _ = world
    version = champion_version(ws)
    record = json.loads((ws.project / "models" / "run.json").read_text())
    assert (version.name, str(version.version), version.run_id) == (MODEL_NAME, str(record["version"]), record["run_id"])
    assert ALIAS in version.aliases
    tags = client(ws).get_run(version.run_id).data.tags
    assert tags["data_version"] == V2_TAG
    assert tags["data_md5"] == md5(ws.project / "data" / "houses.csv")
    assert tags["inputs_committed"] == "true"
    assert tags["source"] == "pipeline"
    run(ws, "git", "cat-file", "-e", f"{tags['git_commit']}^{{commit}}")
    assert "gradient_boosting trained on data-v2.0.0" in version.description
    assert "mean absolute error in pounds" in client(ws).get_registered_model(MODEL_NAME).description
    metrics = json.loads((ws.project / "metrics.json").read_text())
    assert set(metrics) == {"val", "test", "test_mae_by_price"}
    assert metrics["test"]["r2"] > 0.9


def test_the_registry_holds_what_lessons_01_and_02_leave(world):
    # Lesson 01 registers the linear model, then gradient boosting; lesson 02 makes the second the
    # champion and writes its card, which its card cell, run again here, leaves as it is.
    ws, _ = world
    mlflow = client(ws)
    versions = sorted(mlflow.search_model_versions(f"name = '{MODEL_NAME}'"), key=lambda v: int(v.version))
    assert [mlflow.get_run(v.run_id).data.params["model"] for v in versions] == ["linear", "gradient_boosting"]
    champion = champion_version(ws)
    assert champion.version == versions[-1].version
    pipeline_run = mlflow.get_run(champion.run_id)

    def card():
        return (mlflow.get_registered_model(MODEL_NAME).description,
                mlflow.get_model_version(MODEL_NAME, champion.version).description)

    assert card() == model_card(pipeline_run)
    exec(cell_source(LESSON_02, "m02-card"),
         {"pipeline_run": pipeline_run, "client": mlflow, "name": MODEL_NAME, "version": champion.version})
    assert card() == model_card(pipeline_run)


def test_an_experiment_run_is_tracked_but_not_registered(world):
    ws, _ = world
    mlflow = client(ws)
    versions_before = {v.version for v in mlflow.search_model_versions(f"name = '{MODEL_NAME}'")}
    output = run(ws, "dvc", "exp", "run", "--temp", "-n", "shallower", "-S", "train.gradient_boosting.max_depth=2")
    assert "experiment shallower: tracked, not registered" in output
    assert {v.version for v in mlflow.search_model_versions(f"name = '{MODEL_NAME}'")} == versions_before
    experiment = mlflow.get_experiment_by_name("house-price").experiment_id
    tracked = mlflow.search_runs([experiment], "tags.source = 'experiment'")
    assert [r.info.run_name for r in tracked] == ["experiment-shallower"]
    assert tracked[0].data.params["max_depth"] == "2"
    assert run(ws, "git", "status", "--porcelain") == ""


def test_deleting_data_and_cache_loses_nothing_dvc_pull_cannot_restore(world):
    ws, _ = world
    files = dvc_outputs(ws)
    assert len(files) >= 5  # the data, the three splits, the model
    before = {path: md5(path) for path in files}
    for path in files:
        path.unlink()
    shutil.rmtree(ws.project / ".dvc" / "cache")
    run(ws, "dvc", "pull", "--quiet")
    assert {path: md5(path) for path in files} == before
    assert "up to date" in run(ws, "dvc", "status")


def test_remote_and_mlflow_store_survive_a_fresh_project_and_a_second_run(world):
    ws, _ = world
    remote_before = {p for p in ws.dvc_remote.rglob("*") if p.is_file()}
    runs_before = {r.info.run_id for r in client(ws).search_runs(
        [client(ws).get_experiment_by_name("house-price").experiment_id])}
    old_champion = champion_version(ws)
    # Module 01 run again: the project starts afresh, then a later module rebuilds its world.
    here = os.getcwd()
    try:
        assert "kept as project-previous/" in fresh_project(ws)
    finally:
        os.chdir(here)
    assert (ws.root / "project-previous" / "dvc.lock").is_file()
    assert not any((ws.project).iterdir()), "lesson 01 starts with `git init` in an empty folder"
    assert not stages.STAGES["champion"].is_done(ws), "an older champion's commit is not in the new project"
    assert stages.ensure("champion", ws) == ["project", "data_v1", "data_v2", "pipeline", "champion"]
    assert remote_before <= {p for p in ws.dvc_remote.rglob("*") if p.is_file()}
    runs_after = {r.info.run_id for r in client(ws).search_runs(
        [client(ws).get_experiment_by_name("house-price").experiment_id])}
    assert runs_before < runs_after
    new_champion = champion_version(ws)
    assert int(new_champion.version) > int(old_champion.version)
    # The same data, byte for byte, from the same remote: the md5 is the same in both projects.
    old_tags = client(ws).get_run(old_champion.run_id).data.tags
    assert client(ws).get_run(new_champion.run_id).data.tags["data_md5"] == old_tags["data_md5"]
    # The old champion's model is still in the store and loads.
    import mlflow

    previous = os.environ.get("MLFLOW_TRACKING_URI")  # set_tracking_uri changes the variable too
    mlflow.set_tracking_uri(ws.tracking_uri)
    try:
        model = mlflow.sklearn.load_model(f"models:/{MODEL_NAME}/{old_champion.version}")
    finally:
        mlflow.set_tracking_uri(None)  # follow the environment again, as before
        if previous is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous
    assert hasattr(model, "predict")


def test_fresh_project_leaves_an_empty_folder_alone_and_sets_any_project_aside(workspace):
    here = os.getcwd()
    try:
        assert "is empty" in fresh_project(workspace)
        assert not (workspace.root / "project-previous").exists()
        stages.ensure("project", workspace)  # what a later module's setup builds
        assert "kept as project-previous/" in fresh_project(workspace)
    finally:
        os.chdir(here)
    assert (workspace.root / "project-previous" / ".git").is_dir()
    assert not any(workspace.project.iterdir())


def test_the_project_stage_leaves_what_lesson_01s_commands_leave(tmp_path):
    # Lesson 01's section 1 typed in a shell, in one workspace; the `project` stage in another.
    typed, built = Workspace(tmp_path / "typed" / "workspace"), Workspace(tmp_path / "built" / "workspace")
    typed.create()
    for command in shell_lines(LESSON_01, "m01-init", "m01-remote", "m01-first-commit"):
        subprocess.run(command, shell=True, cwd=typed.project, env=typed.process_env(), check=True,
                       capture_output=True)
    stages.ensure("project", built)
    for ws in (typed, built):
        assert run(ws, "git", "branch", "--show-current").strip() == "main"
        assert run(ws, "git", "status", "--porcelain") == ""
    for what in (("git", "log", "--format=%s"), ("git", "ls-files")):
        assert run(typed, *what) == run(built, *what), what
    assert (typed.project / ".dvc" / "config").read_text() == (built.project / ".dvc" / "config").read_text()


def test_plain_shell_prints_plain_text_and_stops_on_failure(capsys):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from mlops_clinic.notebook import CommandFailed, plain_shell

    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # nothing written to disk
    shell = InteractiveShell.instance(config=config)
    try:
        plain_shell()
        code = f"{sys.executable} -c \"import sys; print('tty' if sys.stdout.isatty() else 'pipe')\""
        result = shell.run_cell(f"!{code}")
        assert result.success and shell.user_ns["_exit_code"] == 0
        assert capsys.readouterr().out.strip() == "pipe"
        failed = shell.run_cell("!exit 3")
        assert isinstance(failed.error_in_exec, CommandFailed) and shell.user_ns["_exit_code"] == 3
    finally:
        InteractiveShell.clear_instance()


def test_a_lesson_interrupted_midway_is_completed_by_the_stages(tmp_path):
    # Module 01 stopped after committing the pipeline's code, with the data file deleted by the
    # disaster drill and HEAD left detached at v1: a later module's setup still gets its champion,
    # and the lesson's commits are each made once.
    ws = Workspace(tmp_path / "workspace")
    stages.ensure("data_v2", ws)
    replay(ws, PIPELINE[0][1])
    run(ws, "git", "checkout", "--quiet", V1_TAG)
    run(ws, "dvc", "checkout", "--quiet")
    (ws.project / "data" / "houses.csv").unlink()
    assert stages.ensure("champion", ws) == ["pipeline", "champion"]
    assert run(ws, "git", "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert run(ws, "git", "log", "--format=%s").splitlines() == LESSON_01_HISTORY
    assert json.loads((ws.project / "metrics.json").read_text())["test"]["r2"] > 0.9
