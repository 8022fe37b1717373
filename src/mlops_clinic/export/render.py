"""The files of an export that depend on its dataset and on the participant: settings, gate,
desired state, example request, requirements, README and licence."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import yaml

from mlops_clinic.data.schema import Schema, markdown_table
from mlops_clinic.export.requirements import requirements_txt
from mlops_clinic.export.sources import DEFAULT_SETTINGS, FAMILIES, Carried, Source, kit_params

HERE = Path(__file__).resolve().parent
# The GitHub Actions the workflows use, at their current major versions (checked when the kit
# was last released; the README of an export says which).
ACTIONS = {"checkout": "v7", "setup-python": "v7", "upload-artifact": "v7"}
METRIC = {"regression": "mae", "classification": "log_loss"}
RULE = {"refused_share": 0.05, "min_labels": 50, "error_increase": 0.25, "drift_share": 0.5}


def settings(source: Source, carried: Carried, project: str) -> dict:
    """params.yaml's content: defaults for the dataset, then what the workspace carried."""
    task = source.schema.task
    families = {name: dict(values) for name, values in DEFAULT_SETTINGS.items()}
    if task == "classification":
        families["linear"] = {"C": 1.0}
    train = {"model": source.model, "seed": 42, **monotonic_rule(source)}
    prepare = {"test_share": 0.2, "val_share": 0.2}
    if source.kind == "houses":
        lessons = kit_params()
        prepare.update({k: lessons["prepare"][k] for k in ("test_share", "val_share")})
        train.update({"model": lessons["train"]["model"], "seed": lessons["train"]["seed"]})
        families.update({k: v for k, v in lessons["train"].items() if k in FAMILIES and isinstance(v, dict)})
    prepare.update(carried.params.get("prepare", {}))
    for key, value in carried.params.get("train", {}).items():
        if key in FAMILIES:
            families[key] = value
        else:
            train[key] = value
    return {"prepare": {"data": f"data/{source.name}.csv", **prepare, "chunk_rows": 100_000},
            "train": {**train, **{name: families[name] for name in FAMILIES if name in families}},
            "evaluate": {"metric": METRIC[task]},
            "mlflow": {"experiment": project, "registered_model": project},
            "monitor": {"reference_rows": 50_000, "window_rows": 500, "rule": dict(RULE)}}


def monotonic_rule(source: Source) -> dict:
    """train.monotonic for monotone_boosting: the direction the gate's invariance test expects of
    a regression's prediction when its numeric feature grows (the model then cannot break it)."""
    rule = source.gate.get("invariance") or {}
    growing = rule.get("multiply", 1) > 1 or rule.get("add", 0) > 0
    column = rule.get("column")
    if (source.schema.task != "regression" or not growing or column not in source.schema.numeric_features
            or rule.get("expect") not in ("not_lower", "not_higher")):
        return {}
    return {"monotonic": {column: 1 if rule["expect"] == "not_lower" else -1}}


COMMENTS = {
    "data": "a CSV file, or a folder of Parquet files (see README: when data outgrows one machine)",
    "test_share": "rows held out for the final test (chosen by a hash of the id, or of the row)",
    "val_share": "rows used to compare models (validation)",
    "chunk_rows": "rows read at a time: memory stays flat however big the data",
    "model": " | ".join(FAMILIES),
    "monotonic": "monotone_boosting: the way each named feature may move the prediction (1 up, -1 down)",
    "metric": "lower is better; regression: mae | rmse, classification: log_loss | error_rate",
    "reference_rows": "a seeded sample of the champion's training rows, when it has more",
    "window_rows": "requests per window: drift on the latest window, the error per window",
    "rule": "when to retrain: module 05's rule",
    "refused_share": "above this share of refused requests: fix upstream, do not retrain",
    "min_labels": "outcomes a window needs before its error counts",
    "error_increase": "retrain when a window's error is this much above the champion's",
    "drift_share": "retrain when this share of the features drifted",
}


def params_yaml(values: dict) -> str:
    """params.yaml with a comment on each setting that needs one."""
    lines = ["# Settings of the pipeline. `dvc params diff` shows what changed; "
             "`dvc exp run -S train.model=linear` tries another value."]
    for section, content in values.items():
        lines.append(f"{section}:")
        lines += _block(content, 1)
    return "\n".join(lines) + "\n"


def _block(content: dict, depth: int) -> list[str]:
    lines = []
    for key, value in content.items():
        pad = "  " * depth
        if isinstance(value, dict) and key == "rule":
            lines.append(f"{pad + key + ':':<40} # {COMMENTS[key]}")
            lines += _block(value, depth + 1)
            continue
        text = yaml.safe_dump(value, default_flow_style=True, width=200).strip()
        text = text[:-4].strip() if text.endswith("\n...") or text.endswith("...") else text
        line = f"{pad}{key}: {text}"
        comment = COMMENTS.get(key)
        lines.append(f"{line:<40} # {comment}" if comment else line)
    return lines


def gate_yaml(gate: dict, schema: Schema) -> str:
    lines = ["# The quality gate: a candidate model is proposed only if every test in tests/ passes.",
             "# These thresholds are code: change them in a reviewed commit, never to get one release out.",
             f"baseline_ratio: {gate['baseline_ratio']}        # the candidate's error must be under this "
             "share of the baseline's",
             f"champion_tolerance: {gate['champion_tolerance']}   # and at most this much above the champion's, "
             "on the same trusted rows",
             "# Invariance: a change whose effect you know must not move the prediction the wrong way.",
             "#   column: the feature to change; multiply: 1.1 (or add: 2) changes it",
             "#   expect: not_lower | not_higher  (classification: the probability of `class`)",
             "#   max_drop: how far the wrong way counts as a violation (relative: true = a share of",
             "#   the prediction, false = in the target's unit); max_share: violations allowed"]
    if gate.get("invariance"):
        lines.append(yaml.safe_dump({"invariance": gate["invariance"]}, sort_keys=False,
                                    allow_unicode=True).rstrip())
    else:
        example = next(iter(schema.numeric_features), None)
        lines += ["invariance:   # not set yet: the test is skipped until you describe one, e.g.",
                  f"#   column: {example or 'a_numeric_feature'}",
                  "#   multiply: 1.1",
                  "#   expect: not_lower" + ("\n#   class: " + schema.classes[-1] if schema.classes else ""),
                  "#   max_drop: 0.05",
                  "#   relative: true",
                  "#   max_share: 0.02"]
    return "\n".join(lines) + "\n"


def champion_yaml(project: str, carried: Carried) -> str:
    note = (f"# Carried from your workshop: the model family of house-price version {carried.champion};\n"
            "# this repository trains and registers its own versions.\n" if carried.champion else "")
    return ("# Desired state: the model version the service must serve. Change it only in a reviewed commit\n"
            "# (a pull request); deploy/reconcile.py makes the registry alias and the service match it. To\n"
            "# roll back a promotion, `git revert` its commit and reconcile.\n" + note
            + yaml.safe_dump({"model": project, "version": None}, sort_keys=False))


def example_request(schema: Schema) -> str:
    """serving/example.json: a valid request, from the schema's examples."""
    features = {}
    for name in schema.features:
        column = schema.by_name[name]
        value = column.example
        if value is None:
            value = column.allowed[0] if column.allowed else (column.min if column.min is not None else 0)
        if column.kind == "boolean":
            value = str(value) == column.allowed[0]
        elif column.kind == "integer":
            value = int(value)
        elif column.kind == "number":
            value = float(value)
        elif column.kind == "date":
            value = str(value)[:10]
        features[name] = value
    return json.dumps({"features": features, "request_id": "example-1"}, indent=2, ensure_ascii=False) + "\n"


def readme(source: Source, carried: Carried, project: str, remote: str, rows: int) -> str:
    template = (HERE / "README.md.tmpl").read_text(encoding="utf-8")
    schema = source.schema
    invariance = (source.gate.get("invariance") or {}).get("column")
    values = {
        "project": project,
        "dataset": schema.description or schema.name,
        "task": schema.task,
        "target": schema.target,
        "rows": f"{rows:,}",
        "data": f"data/{source.name}.csv",
        "remote": remote,
        "columns": markdown_table(dataclasses.replace(
            schema, columns=tuple(c for c in schema.columns if c.role != "time"), layouts={})),
        "checkout": ACTIONS["checkout"], "setup_python": ACTIONS["setup-python"],
        "upload_artifact": ACTIONS["upload-artifact"],
        "answer": ('{"request_id": "example-1", "class": "...", "probability": 0.83, "probabilities": {...}, '
                   '"model": "' + project + '", "model_version": "1"}') if schema.task == "classification"
        else ('{"request_id": "example-1", "prediction": 312000.0, "unit": "..." , "model": "' + project
              + '", "model_version": "1"}'),
        "invariance": (f"`{invariance}` (tests/gate.yaml)" if invariance else
                       "not configured yet: describe one in tests/gate.yaml"),
        "samples": ("`monitoring/samples/` holds the four drift scenarios of the dataset's data card "
                    "(requests, and their outcomes in `*_labels.csv`)." if source.samples else
                    "Replay a part of your own data, e.g. rows that arrived after the training data."),
        "sample_requests": "monitoring/samples/covariate_drift.csv" if source.samples else "new_rows.csv",
        "sample_labels": "monitoring/samples/covariate_drift_labels.csv" if source.samples else "new_rows.csv",
        "carried": "\n".join(f"- {note}" for note in carried.notes) or "- nothing: no workshop project was found",
    }
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", str(value))
    return template


def licence(owner: str) -> str:
    text = (HERE / "LICENSE.tmpl").read_text(encoding="utf-8")
    return text.replace("{{year}}", str(datetime.date.today().year)).replace("{{owner}}", owner)


def requirements() -> str:
    return requirements_txt()
