"""Module 05's scaffolding: the frames that monitoring compares, and a few small readers.

The lesson shows the Evidently calls themselves (`Report`, `DataDriftPreset`, `snapshot.dict()`);
this package only does what is not the lesson, and what the checks, the tests and the benchmark
need in the same form:

    reference_data(version)         the data release a registered version was trained on
    production(scenario)            a scenario's logged traffic, with the labels known by a day
    drift_results(snapshot)         per column: test, score, threshold, drifted (from the tests)
    windowed_mae(frame, days)       MAE in pounds per window of request days, with label counts
    evidence_markdown(scenario)     what monitoring saw, as a note for a pull request
    report_link(path)               a link that opens a saved report whole, in a browser tab
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import quote

from mlops_clinic.data import SCENARIOS
from mlops_clinic.data.schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES
from mlops_clinic.names import MODEL_NAME

PREDICTION = "prediction_gbp"
ACTUAL = "actual_price_gbp"
REPORTS = "reports"  # folder in the workspace where the HTML reports go


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def served_version(frame) -> str:
    """The registered version that answered most of the rows of `frame` (the inference log)."""
    versions = frame["model_version"].astype(str)
    if versions.empty:
        raise ValueError("no logged predictions: replay traffic first (module 04), or run "
                         "`python -m mlops_clinic.stages inference_log`.")
    return versions.value_counts().index[0]


def training_run(version: str | int, name: str = MODEL_NAME):
    """The MLflow run that produced version `version` of the registered model."""
    client = _client()
    return client.get_run(client.get_model_version(name, str(version)).run_id)


def reference_data(version: str | int, name: str = MODEL_NAME):
    """The houses of the data release that version `version` was trained on (its run's
    `data_version` tag), read from the project's DVC storage at that tag."""
    import dvc.api
    import pandas as pd

    tags = training_run(version, name).data.tags
    text = dvc.api.read(tags.get("data_path", "data/houses.csv"), rev=tags["data_version"])
    return pd.read_csv(io.StringIO(text))


def production(scenario: str, *, known_by_day: int | None = None, path=None):
    """The logged predictions of one traffic scenario, oldest first, with the true price where
    it is known: by `known_by_day` (labels with a later `day_sold` are hidden as NaN), or all."""
    from mlops_clinic.service import inference_log

    frame = inference_log.read_predictions(path, batch=scenario)
    if frame.empty:
        raise ValueError(f"the inference log has no traffic of scenario {scenario!r}: replay it "
                         "(module 04), or run `python -m mlops_clinic.stages inference_log`.")
    frame["day"] = frame["day"].astype(int)
    if known_by_day is not None:
        late = frame["day_sold"].isna() | (frame["day_sold"] > known_by_day)
        frame[ACTUAL] = frame[ACTUAL].where(~late)
    return frame.reset_index(drop=True)


def data_definition():
    """Evidently's column types for the twelve features, as the schema says (not guessed)."""
    from evidently import DataDefinition

    return DataDefinition(numerical_columns=list(NUMERIC_FEATURES),
                          categorical_columns=list(CATEGORICAL_FEATURES))


def drift_results(snapshot):
    """One row per column of a data-drift snapshot: test, score, threshold and the test's
    verdict (`drifted`). Needs a report run with tests (the DataDriftPreset adds them)."""
    import pandas as pd

    result = snapshot.dict()
    verdicts = {test["metric_config"]["params"]["column"]: test["status"]
                for test in result["tests"]
                if test["metric_config"]["params"]["type"].endswith(":ValueDrift")}
    rows = []
    for metric in result["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        column = config["column"]
        rows.append({"column": column, "test": config["method"], "score": float(metric["value"]),
                     "threshold": config["threshold"],
                     "drifted": verdicts.get(column) == "FAIL" if verdicts else None})
    return pd.DataFrame(rows).set_index("column")


def drift_share(snapshot) -> float:
    """The share of drifted columns of a data-drift snapshot (DriftedColumnsCount)."""
    for metric in snapshot.dict()["metrics"]:
        if metric["config"]["type"].endswith(":DriftedColumnsCount"):
            return float(metric["value"]["share"])
    raise ValueError("the snapshot has no DriftedColumnsCount: run it with DataDriftPreset().")


def windowed_mae(frame, days: int = 2, *, last_day: int | None = None):
    """MAE in pounds of the predictions per window of `days` request days (days 1-2, 3-4, ...),
    on the rows whose true price is known; with how many requests and labels each window has."""
    import numpy as np
    import pandas as pd

    day = frame["day"].astype(int)  # a log that also holds requests without a day reads it as float
    last_day = int(day.max()) if last_day is None else last_day
    start = ((day - 1) // days) * days + 1
    end = np.minimum(start + days - 1, last_day)
    window = [f"days {a}-{b}" if a != b else f"day {a}" for a, b in zip(start, end)]
    errors = (frame[PREDICTION] - frame[ACTUAL]).abs()
    table = pd.DataFrame({"window": window, "start": start, "error": errors,
                          "labelled": frame[ACTUAL].notna()})
    grouped = table.groupby(["start", "window"], sort=True)
    out = pd.DataFrame({"requests": grouped.size(), "labels": grouped["labelled"].sum(),
                        "MAE (£)": grouped["error"].mean()})
    out = out.reset_index(level="start", drop=True)
    out["MAE (£)"] = out["MAE (£)"].round(-2).astype("Int64")
    return out


def evidence_markdown(scenario: str, *, path=None) -> str:
    """What monitoring saw in one scenario's traffic, as a short Markdown note for the pull request
    that proposes a model retrained on it (module 06's ci/promote.py puts the project's
    monitoring/evidence.md in the proposal): the version that answered, requests answered and
    refused, the features that drifted against that version's training data, and the error per
    window of request days against its test MAE."""
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    from mlops_clinic.service import inference_log

    rows = production(scenario, path=path)
    version = served_version(rows)
    run = training_run(version)
    refused = len(inference_log.read_rejections(path, batch=scenario))
    definition = data_definition()
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        current_data=Dataset.from_pandas(rows[list(FEATURES)], data_definition=definition),
        reference_data=Dataset.from_pandas(reference_data(version)[list(FEATURES)],
                                           data_definition=definition))
    columns = drift_results(snapshot)
    drifted = list(columns.index[columns["drifted"]])
    lines = [f"# Monitoring evidence: {scenario} traffic, days {rows['day'].min()}-{rows['day'].max()}", "",
             f"Answered by {MODEL_NAME} version {version} (trained on {run.data.tags['data_version']}): "
             f"{len(rows):,} requests answered, {refused:,} refused.", "",
             f"- Data drift: {len(drifted)} of {len(columns)} features "
             f"(share {drift_share(snapshot):.2f}): {', '.join(drifted) or 'none'}.",
             f"- Error once the sale prices arrived, per window of request days, against the "
             f"version's test MAE of £{run.data.metrics['test_mae']:,.0f}:", "",
             "| window | requests | sale prices | MAE (£) |", "|---|---|---|---|"]
    for window, row in windowed_mae(rows).iterrows():
        lines.append(f"| {window} | {row['requests']} | {row['labels']} | {row['MAE (£)']:,} |")
    return "\n".join(lines) + "\n"


def report_dir(workspace=None) -> Path:
    """The workspace's reports/ folder (made if missing)."""
    from mlops_clinic.workspace import Workspace

    workspace = workspace if workspace is not None else Workspace.resolve()
    folder = Path(workspace.root) / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def report_link(path: str | os.PathLike, text: str | None = None):
    """A link that opens a saved report whole, in a new browser tab, to display instead of inlining
    a report of several megabytes in the notebook.

    The link goes through the Jupyter server's /files/ URL, which serves the file as it is.
    JupyterLab's own viewer (a relative link, or the file browser) shows an HTML file without
    running its JavaScript until you click "Trust HTML", and an Evidently report looks blank.
    The server's root is the kit's folder (`clinic lab`, Binder); on JupyterHub its URL starts
    with the hub's prefix for the user. A report outside that folder gets the steps instead."""
    from html import escape

    from IPython.display import HTML

    from mlops_clinic import paths

    path = Path(path).resolve()
    size = f"{path.stat().st_size / 1e6:.0f} MB"
    where = f"{path.parent.name}/{path.name}"  # reports/<name>.html, in the workspace
    if not path.is_relative_to(paths.REPO_ROOT):
        return HTML(f"{escape(text or path.name)} ({size}): open <code>{escape(where)}</code> in "
                    "JupyterLab's file browser, then click <b>Trust HTML</b> at the top of its tab.")
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    url = prefix.rstrip("/") + "/files/" + quote(path.relative_to(paths.REPO_ROOT).as_posix())
    return HTML(f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(text or path.name)}</a> '
                f"({size}, opens in a new browser tab; saved as <code>{escape(where)}</code> in "
                "your workspace)")


__all__ = ["ACTUAL", "FEATURES", "PREDICTION", "SCENARIOS", "data_definition", "drift_results",
           "drift_share", "evidence_markdown", "production", "reference_data", "report_dir", "report_link",
           "served_version", "training_run", "windowed_mae"]
