"""Modules 03 and 04's stages: what `ensure("hot_swap")` builds is what lessons 03 and 04 leave
(the first service committed with the lesson's commands, the champion and the challenger in the
model store, the same registered versions with the champion's alias back in place, and the same
batches in the inference log), and the lessons show literally what the stages replay."""

import subprocess

import nbformat
import pytest

from mlops_clinic import paths, stages
from mlops_clinic.names import CHAMPION, MODEL_NAME
from mlops_clinic.service import hot_swap, inference_log
from mlops_clinic.stages.serving import (FIRST_REQUESTS, FIRST_SERVICE, FIRST_SERVICE_COMMIT,
                                         FIRST_SERVICE_FILE, FIRST_SERVICE_STEPS)
from mlops_clinic.stages.training import client

LESSON_03 = paths.REPO_ROOT / "notebooks" / "03_serving.ipynb"
LESSON_04 = paths.REPO_ROOT / "notebooks" / "04_prediction_service.ipynb"


def cell_source(notebook, cell_id):
    return next(c.source for c in nbformat.read(notebook, as_version=4).cells if c.get("id") == cell_id)


def code_of(notebook) -> str:
    return "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")


# --- the lessons show what the stages replay --------------------------------------------------------

def test_lesson_03_writes_and_commits_the_first_service_the_stage_replays():
    assert cell_source(LESSON_03, "l03-first-service") == f"%%writefile {FIRST_SERVICE_FILE}\n{FIRST_SERVICE}".rstrip()
    commands = [line[1:] for line in cell_source(LESSON_03, "l03-first-commit").splitlines()
                if line.startswith("!")]
    add, commit = (step for step in FIRST_SERVICE_STEPS if isinstance(step, str))
    assert commands[0] == add
    assert commands[1] == f"git diff --cached --quiet || {commit}"  # commits only what is new
    assert FIRST_SERVICE_COMMIT in commit


def test_lesson_04_sends_the_first_requests_the_stage_replays():
    """Each of the stage's first requests is in the lesson: its id, and what makes it special."""
    code = code_of(LESSON_04)
    for body in FIRST_REQUESTS:
        assert f'"request_id": "{body["request_id"]}"' in code
    assert '"house_id": "H000123"' in code
    assert '{**EXAMPLE_HOUSE, "area": 5200}' in code  # the same id for another house: 409
    assert '{**EXAMPLE_HOUSE, "area": 12_500}' in code  # unusual
    assert '{**EXAMPLE_HOUSE, "mainroad": "YES"}' in code  # refused


def test_lesson_04_trains_registers_and_sends_what_the_hot_swap_stage_replays():
    code = code_of(LESSON_04)
    settings = ", ".join(f"{key}={value}" for key, value in hot_swap.CHALLENGER_SETTINGS.items())
    assert f'build_model("gradient_boosting", {settings})' in code
    assert f'run_name="{hot_swap.CHALLENGER_RUN}"' in code
    assert f"tags={hot_swap.CHALLENGER_TAGS}".replace("'", '"') in code
    assert f'client.search_model_versions("{hot_swap.challenger_filter()}")' in code
    assert f'replay.requests_of("{hot_swap.SCENARIO}", limit={hot_swap.REQUESTS})' in code
    assert f'body["batch"] = "{hot_swap.BATCH}"' in code and 'del body["request_id"]' in code


# --- the stages leave what the lessons leave ---------------------------------------------------------

@pytest.fixture(scope="module")
def ws(session_workspace):
    return session_workspace  # the stages are built on it in order by the tests below


def git(ws, *args):
    return subprocess.run(["git", *args], cwd=ws.project, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.slow
def test_the_hot_swap_stage_leaves_what_lessons_03_and_04_leave(ws):
    import bentoml

    stages.ensure("hot_swap", ws)
    registry = client(ws)

    # Lesson 03: the first service, committed with the lesson's message, on top of the pipeline's.
    assert git(ws, "log", "-1", "--format=%s", "--", FIRST_SERVICE_FILE).strip() == FIRST_SERVICE_COMMIT
    assert (ws.project / FIRST_SERVICE_FILE).read_text() == FIRST_SERVICE
    assert git(ws, "status", "--porcelain", "--", FIRST_SERVICE_FILE) == ""

    # Lesson 04: the challenger is the newest version, tagged; the champion keeps its alias.
    champion = registry.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    versions = registry.search_model_versions(f"name = '{MODEL_NAME}'")
    challenger = hot_swap.registered_challenger(registry)
    assert challenger == str(max(int(v.version) for v in versions)) != str(champion.version)
    run = registry.get_run(registry.get_model_version(MODEL_NAME, challenger).run_id)
    assert run.info.run_name == hot_swap.CHALLENGER_RUN
    assert {"data_version", "git_commit"} <= set(run.data.tags) and "val_mae" in run.data.metrics

    # The model store holds both, as the model server imported them.
    stored = {str(model.tag): model.info.labels for model in bentoml.models.list()}
    for version in (str(champion.version), challenger):
        assert stored[f"{MODEL_NAME}:v{version}"]["version"] == version

    # The log: the lesson's first requests, the scenarios, and the hot-swap traffic answered by the
    # champion, then the challenger, then the champion again.
    path = inference_log.log_path(ws)
    counts = inference_log.counts(path)
    first = counts[counts["batch"].isna()].iloc[0]
    assert (first["answered"], first["refused"]) == (2, 2)
    swapped = inference_log.read_predictions(path, batch=hot_swap.BATCH)
    assert len(swapped) == hot_swap.REQUESTS and swapped["actual_price_gbp"].isna().all()
    assert set(swapped["model_version"]) == {str(champion.version), challenger}
    assert stages.ensure("hot_swap", ws) == []  # done: nothing rebuilt, no version added
    assert len(registry.search_model_versions(f"name = '{MODEL_NAME}'")) == len(versions)
