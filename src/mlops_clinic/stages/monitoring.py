"""Module 05's outcome: the retraining that lesson 05 carries into the project.

Module 05's setup needs module 04's state (`hot_swap`, stages/serving.py): the inference log with
the four traffic scenarios and their late labels, and the champion that answered them.

`retrained`: what lesson 05 does after its monitoring, replayed with the commands the participant
types (RETRAIN), for a workspace that skipped it: the sold houses of one scenario (WORLD, the
lesson's choice), read from the inference log, appended to the champion's data release as
data/houses.csv, the monitoring evidence written next to it, both committed, tagged data-v3.0.0
(a release tag never moves: an existing one must name the same data) and pushed; `dvc repro`, whose
train stage registers the next version of house-price, its results committed and pushed; and the
alias `champion` moved to that version if it wins on the pipeline's test split, by the lesson's
rule. The same bytes, commits, messages and registered version as the lesson. Module 06 starts here.
"""

from __future__ import annotations

from pathlib import Path

from mlops_clinic.names import CHAMPION, MODEL_NAME
from mlops_clinic.project import StageError, git_ok, replay, run
from mlops_clinic.stages import module_needs, stage
from mlops_clinic.stages.data import DATA_FILE, on_main
from mlops_clinic.stages.serving import _in_workspace
from mlops_clinic.stages.training import client, committed_messages
from mlops_clinic.workspace import Workspace

WORLD = "covariate_drift"  # the scenario lesson 05 carries into the project's history
V3_TAG = "data-v3.0.0"
EVIDENCE = "monitoring/evidence.md"
RELEASE_COMMIT = "Data v3.0.0: v2 plus the covariate_drift sales"
RESULTS_COMMIT = "Pipeline results: retrained on data v3.0.0"
# Promotion, as the lesson decides it: better on the new houses, at most 2% worse on the others.
EARLIER_TOLERANCE = 1.02


def _python(project: Path, call: str) -> None:
    """Call functions of this module in a process of its own, in the project with the workspace's
    environment: DVC reads the project from the working folder, MLflow the workspace's store."""
    _in_workspace(Workspace(Path(project).parent),
                  f"from mlops_clinic.stages.monitoring import *; {call}")


def tag_release(project: Path) -> None:
    """`git tag data-v3.0.0` if the tag does not exist; an existing tag must name the same data."""
    ws = Workspace(Path(project).parent)
    if not git_ok(ws, "rev-parse", "--quiet", "--verify", f"refs/tags/{V3_TAG}"):
        run(ws, "git", "tag", V3_TAG)
    elif not git_ok(ws, "diff", "--quiet", V3_TAG, "HEAD", "--", f"{DATA_FILE}.dvc"):
        raise StageError(f"{V3_TAG} names other data than {DATA_FILE} at HEAD, and a release tag "
                         "never moves.", fix=f"Delete the project's tag {V3_TAG} only if it was made "
                         "by mistake and never pushed; otherwise version these data as a new release.")


RETRAIN = (
    (RELEASE_COMMIT, (
        lambda project: _python(project, "write_release(); write_evidence()"),
        f"dvc add --quiet {DATA_FILE}",
        f"git add {DATA_FILE}.dvc {EVIDENCE}",
        f'git commit --quiet -m "{RELEASE_COMMIT}"',
        tag_release,
        "dvc push --quiet",
    )),
    (RESULTS_COMMIT, (
        "dvc repro",
        "git add dvc.lock metrics.json models/run.json",
        f'git commit --quiet -m "{RESULTS_COMMIT}"',
        "dvc push --quiet",
    )),
)


# --- what the lesson's Python cells do (run in the workspace by _python) ------------------------------


def _scenarios_log():
    from mlops_clinic.data import SCENARIOS
    from mlops_clinic.service import inference_log

    log = inference_log.read_predictions()
    return log[log["batch"].isin(SCENARIOS)]


def _new_houses(log):
    from mlops_clinic.data import FEATURES

    sold = log[(log["batch"] == WORLD) & log["actual_price_gbp"].notna()].sort_values("house_id")
    return sold[["house_id", *FEATURES]].assign(price=sold["actual_price_gbp"].astype(int))


def write_release() -> None:
    """data/houses.csv: the release of the version that answered the traffic, then the new houses."""
    import pandas as pd

    from mlops_clinic.monitoring import reference_data, served_version

    log = _scenarios_log()
    pd.concat([reference_data(served_version(log)), _new_houses(log)]).to_csv(DATA_FILE, index=False)


def write_evidence() -> None:
    from mlops_clinic.monitoring import evidence_markdown

    Path(EVIDENCE).parent.mkdir(exist_ok=True)
    Path(EVIDENCE).write_text(evidence_markdown(WORLD))


def promote_if_it_wins() -> str:
    """Move the alias to the pipeline's version if it beats the version that answered the traffic
    on the new houses of the test split and is at most 2% worse on the earlier ones."""
    import json

    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    from mlops_clinic.data import FEATURES
    from mlops_clinic.monitoring import served_version

    features = list(FEATURES)
    log = _scenarios_log()
    served = served_version(log)
    challenger = str(json.loads(Path("models/run.json").read_text())["version"])
    test = pd.read_csv("data/prepared/test.csv")
    fresh = test["house_id"].isin(_new_houses(log)["house_id"])
    mae = {version: [float((rows["price"] - model.predict(rows[features])).abs().mean())
                     for rows in (test[fresh], test[~fresh])]
           for version in (served, challenger)
           for model in [mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")]}
    wins = mae[challenger][0] < mae[served][0] and mae[challenger][1] <= EARLIER_TOLERANCE * mae[served][1]
    registry = MlflowClient()
    if wins and registry.get_model_version_by_alias(MODEL_NAME, CHAMPION).version != challenger:
        registry.set_registered_model_alias(MODEL_NAME, CHAMPION, challenger)
    return "promoted" if wins else "kept"


# --- the stage -----------------------------------------------------------------------------------------


def _retrained(ws: Workspace) -> bool:
    # The lesson's commits are there, and the champion was trained on the new release (or the
    # comparison kept the old one, which the next build decides again: cheap, and the same answer).
    if RESULTS_COMMIT not in committed_messages(ws):
        return False
    from mlops_clinic.stages.training import champion_version

    version = champion_version(ws)
    if version is None:
        return False
    return client(ws).get_run(version.run_id).data.tags.get("data_version") == V3_TAG


@stage("retrained", "lesson 05's retraining: data-v3.0.0 (v2 plus the covariate_drift sales) "
       "with its monitoring evidence, the pipeline rerun, the new version promoted if it wins",
       requires=("hot_swap",), is_done=_retrained)
def build_retrained(ws: Workspace) -> None:
    on_main(ws)
    done = committed_messages(ws)
    for message, steps in RETRAIN:
        if message not in done:
            replay(ws, steps)
    tag_release(ws.project)  # a replay interrupted after its commit left the tag to make
    _python(ws.project, "print(promote_if_it_wins())")


module_needs("05", "hot_swap")
