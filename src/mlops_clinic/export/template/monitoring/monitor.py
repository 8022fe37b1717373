"""Monitoring: is the champion still right for the requests it answers?

Reads the service's inference log, compares the latest requests with the data the champion was
trained on (Evidently's data drift), measures the error where outcomes are known, and applies the
retraining rule of params.yaml (monitor.rule), module 05's:

    fix upstream   more than `refused_share` of the requests were refused: the data is broken,
                   and retraining on it would teach the model the breakage
    retrain        the latest window with at least `min_labels` outcomes has an error more than
                   `error_increase` above the champion's validation error
    retrain        the share of drifted features reaches `drift_share`, even before outcomes arrive
    keep           otherwise

    python monitoring/monitor.py                         # reports/monitoring.html and .json
    python monitoring/monitor.py --labels outcomes.csv   # record outcomes first: a request_id
                                                         # (or the id) column and the target
    python monitoring/monitor.py --strict                # exit 1 unless the decision is "keep"
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "src"), str(Path(__file__).resolve().parents[1])]

from contract import SCHEMA, from_json  # noqa: E402
from dataset import at_revision, in_split, read_checked  # noqa: E402
from model import CLASSIFICATION, metric, scores_of  # noqa: E402
from serving.inference_log import Log  # noqa: E402
from settings import ALIAS, PREPARED, REPORTS, mlflow_client, params, registered_model  # noqa: E402

MIN_ROWS_FOR_DRIFT = 30  # fewer requests than this say nothing about a distribution


def record_labels(log: Log, path: Path) -> int:
    """Outcomes from a CSV: a request_id column (or the data's id column) and the target."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    key = "request_id" if "request_id" in frame.columns else SCHEMA.id
    if key is None or key not in frame.columns or SCHEMA.target not in frame.columns:
        raise SystemExit(f"{path.name}: needs a request_id (or {SCHEMA.id}) column and the target "
                         f"{SCHEMA.target!r}")
    frame = frame.dropna(subset=[SCHEMA.target])
    values = frame[SCHEMA.target] if CLASSIFICATION else pd.to_numeric(frame[SCHEMA.target])
    return log.outcomes(zip(frame[key], values))


def champion_reference() -> tuple[pd.DataFrame, str]:
    """The champion's training rows (its data at its commit, train split), or the prepared train
    split when there is no champion yet; with a sentence saying which."""
    from mlflow.exceptions import MlflowException

    client = mlflow_client()
    try:
        version = client.get_model_version_by_alias(registered_model(), ALIAS)
        commit = client.get_run(version.run_id).data.tags["git_commit"]
        rows = read_checked(at_revision(commit), "reference", keep=in_split("train"))
        return rows, f"the training rows of {registered_model()} version {version.version} (commit {commit[:8]})"
    except (MlflowException, KeyError):
        return pd.read_parquet(PREPARED / "train.parquet"), "data/prepared/train.parquet (no champion yet)"


def champion_error() -> float | None:
    from mlflow.exceptions import MlflowException

    client = mlflow_client()
    try:
        version = client.get_model_version_by_alias(registered_model(), ALIAS)
        return client.get_run(version.run_id).data.metrics.get(f"val_{metric()}")
    except MlflowException:
        return None


def for_evidently(rows: pd.DataFrame) -> pd.DataFrame:
    """Features as Evidently compares them: numbers (dates as days), categories as text."""
    out = {}
    for name in SCHEMA.features:
        column, values = SCHEMA.by_name[name], rows[name]
        if column.type == "date":
            out[name] = (values - pd.Timestamp("1970-01-01")).dt.days.astype("float64")
        elif column.type in ("category", "boolean"):
            out[name] = values.astype(object).where(values.notna(), None).map(
                lambda v: v if v is None else str(v))
        else:
            out[name] = values.astype("float64")
    return pd.DataFrame(out)


def drift(reference: pd.DataFrame, current: pd.DataFrame, share: float):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric = [n for n in SCHEMA.features if SCHEMA.by_name[n].type in ("integer", "number", "date")]
    definition = DataDefinition(numerical_columns=numeric,
                                categorical_columns=[n for n in SCHEMA.features if n not in numeric])
    data = [Dataset.from_pandas(for_evidently(frame), data_definition=definition) for frame in (current, reference)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset(drift_share=share)], include_tests=True).run(
            current_data=data[0], reference_data=data[1])
    result = snapshot.dict()
    verdicts = {t["metric_config"]["params"]["column"]: t["status"] for t in result["tests"]
                if t["metric_config"]["params"]["type"].endswith(":ValueDrift")}
    columns, drifted_share = {}, 0.0
    for m in result["metrics"]:
        config = m["config"]
        if config["type"].endswith(":ValueDrift"):
            columns[config["column"]] = {"test": config["method"], "score": round(float(m["value"]), 4),
                                         "threshold": config["threshold"],
                                         "drifted": verdicts.get(config["column"]) == "FAIL"}
        elif config["type"].endswith(":DriftedColumnsCount"):
            drifted_share = float(m["value"]["share"])
    return snapshot, {"share": round(drifted_share, 4), "columns": columns}


def performance(predictions: pd.DataFrame, window: int, min_labels: int) -> dict:
    """The error per block of `window` requests (oldest first), where outcomes are known."""
    known = predictions[predictions["actual"].notna()]
    blocks = []
    for start in range(0, len(predictions), window):
        block = predictions.iloc[start:start + window]
        labelled = block[block["actual"].notna()]
        entry = {"requests": f"{start + 1}-{start + len(block)}", "labels": len(labelled)}
        if len(labelled) >= 2:  # one outcome makes no error rate, and no R²
            actual = labelled["actual"].map(json.loads)
            if CLASSIFICATION:
                classes = SCHEMA.classes
                probabilities = np.array([[json.loads(p).get(c, 0.0) for c in classes]
                                          for p in labelled["probabilities"]])
                entry.update(scores_of(actual.astype(str), probabilities, classes))
            else:
                entry.update(scores_of(actual.astype(float), labelled["prediction"].map(json.loads).astype(float)))
        blocks.append(entry)
    usable = [b for b in blocks if b["labels"] >= min_labels]
    return {"labelled": int(len(known)), "windows": blocks, "latest": usable[-1] if usable else None}


def decide(rule: dict, refused_share: float, drift_result: dict | None, latest: dict | None,
           reference_error: float | None) -> tuple[str, list[str]]:
    reasons = []
    if refused_share > rule["refused_share"]:
        return "fix upstream", [f"{refused_share:.1%} of the requests were refused (rule: at most "
                                f"{rule['refused_share']:.0%}): fix the data upstream before retraining"]
    name = metric()
    if latest is not None and reference_error is not None and \
            latest[name] > reference_error * (1 + rule["error_increase"]):
        reasons.append(f"{name} {latest[name]:.4g} on requests {latest['requests']} is more than "
                       f"{rule['error_increase']:.0%} above the champion's {reference_error:.4g}")
    if drift_result is not None and drift_result["share"] >= rule["drift_share"]:
        reasons.append(f"{drift_result['share']:.0%} of the features drifted (rule: {rule['drift_share']:.0%})")
    return ("retrain", reasons) if reasons else ("keep", ["no rule fired"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, help="a CSV of outcomes to record first")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless the decision is keep")
    args = parser.parse_args(argv)
    settings = params()["monitor"]
    rule = settings["rule"]
    log = Log()
    if args.labels:
        print(f"recorded {record_labels(log, args.labels):,} outcomes from {args.labels.name}")
    predictions, rejections = log.read()
    REPORTS.mkdir(exist_ok=True)
    answered, refused = len(predictions), len(rejections)
    refused_share = refused / (answered + refused) if answered + refused else 0.0
    summary = {"answered": answered, "refused": refused, "refused_share": round(refused_share, 4),
               "rule": rule, "metric": metric()}
    snapshot, drift_result = None, None
    window = predictions.tail(int(settings["window_rows"]))
    if len(window) >= MIN_ROWS_FOR_DRIFT:
        reference, summary["reference"] = champion_reference()
        if len(reference) > settings["reference_rows"]:
            reference = reference.sample(int(settings["reference_rows"]), random_state=0)
        current = from_json([json.loads(f) for f in window["features"]])
        snapshot, drift_result = drift(reference, current, rule["drift_share"])
        summary["drift"] = {"requests": len(window), **drift_result}
    else:
        summary["drift"] = f"not measured: {len(window)} requests logged, {MIN_ROWS_FOR_DRIFT} needed"
    summary["performance"] = performance(predictions, int(settings["window_rows"]), int(rule["min_labels"]))
    summary["champion_val_error"] = champion_error()
    summary["decision"], summary["reasons"] = decide(rule, refused_share, drift_result,
                                                     summary["performance"]["latest"], summary["champion_val_error"])
    (REPORTS / "monitoring.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    html = REPORTS / "monitoring.html"
    if snapshot is not None:
        snapshot.save_html(str(html))
    else:
        html.write_text("<!doctype html><meta charset='utf-8'><title>Monitoring</title><pre>"
                        + json.dumps(summary, indent=2, default=str).replace("<", "&lt;") + "</pre>\n")
    print(f"monitoring: {answered:,} answered, {refused:,} refused; decision: {summary['decision']} "
          f"({'; '.join(summary['reasons'])}). Reports: reports/monitoring.html, reports/monitoring.json")
    return 1 if args.strict and summary["decision"] != "keep" else 0


if __name__ == "__main__":
    sys.exit(main())
