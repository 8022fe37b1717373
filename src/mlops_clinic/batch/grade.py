"""Grading mode: run participants' own exercise notebooks and report each check's outcome.

    clinic batch grade SUBMISSIONS [--out DIR]

SUBMISSIONS holds one folder per participant (the folder's name is the participant), each with
the exercise notebooks they handed in (`alice/00_welcome.ipynb`); a notebook directly in
SUBMISSIONS counts as a participant named after the file (`alice.ipynb`). Submissions are never
changed: each is copied into its run's folder, and the copy runs in a fresh workspace.

Like nbgrader's autograde, a participant's error does not stop the notebook: every code cell of
the copy is tagged `raises-exception`, so one broken answer leaves the other questions gradable.
Each question of the exercise's module (its QUESTIONS in `mlops_clinic.checks.mNN`) gets one of:
correct, wrong, not attempted (the check's own outcomes), error (the cell that checks it raised:
the answer could not even be computed) or not run (the check never ran). A submission that could
not run to its end (timeout, killed kernel, a cell error outside the notebook's cells) is a failed
run, and makes the exit code 1; wrong answers do not.

Written to --out: grades.csv and grades.html (participant x question), plus summary.csv/html as
for any batch.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from pathlib import Path
from typing import Any

import nbformat

from mlops_clinic import paths
from mlops_clinic.batch.plan import DEFAULT_CELL_TIMEOUT_S, DEFAULT_TIMEOUT_S, Run, _file_digest, fingerprint, run_identifier
from mlops_clinic.batch.report import _e, _page

Record = dict[str, Any]
MODULE = re.compile(r"^(\d\d)_")
ALLOW_ERRORS_TAG = "raises-exception"  # nbclient runs on past an error in a cell with this tag
PAPERMILL_TAGS = ("injected-parameters", "papermill-error-cell-tag")


def find_submissions(folder: str | Path) -> list[tuple[str, Path]]:
    """(participant, notebook) pairs, sorted by participant then notebook name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of submissions")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += [(entry.name, nb) for nb in sorted(entry.rglob("*.ipynb"))
                      if ".ipynb_checkpoints" not in nb.parts]
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry))
    return found


def plan_grading(submissions_dir: str | Path, out: str | Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S) -> list[Run]:
    out = Path(out).resolve()
    base = Path(submissions_dir).resolve()
    runs = []
    for participant, notebook in find_submissions(base):
        label = str(notebook.resolve().relative_to(base))
        params = {"participant": participant}
        run_id = run_identifier(Path(label), params)
        folder = out / "runs" / run_id
        nb = nbformat.read(notebook, as_version=4)
        module = module_of(nb, notebook.name)
        prepared = folder / "input" / notebook.name
        prepared.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(allow_errors(nb), prepared)
        runs.append(Run(
            id=run_id,
            notebook=str(prepared),
            label=label,
            # `participant` is for the report; papermill would add an unknown parameter to the
            # submission, so it is not passed to the notebook.
            parameters={},
            folder=str(folder),
            timeout_s=timeout_s,
            cell_timeout_s=cell_timeout_s,
            fingerprint=fingerprint(_file_digest(notebook), params),
            extra={
                "participant": participant,
                "submission": label,
                "questions": expected_questions(module),
                "cwd": str(paths.EXERCISES_DIR if paths.EXERCISES_DIR.is_dir() else notebook.parent),
            },
        ))
    return runs


def module_of(nb, filename: str) -> str | None:
    module = (nb.metadata.get("clinic") or {}).get("module")
    if module:
        return str(module)
    m = MODULE.match(filename)
    return m.group(1) if m else None


def expected_questions(module: str | None) -> list[list[str]]:
    """[[question id, variable name], ...] of the module's exercise, [] if it has no checks module."""
    if not module:
        return []
    try:
        questions = importlib.import_module(f"mlops_clinic.checks.m{module}").QUESTIONS
    except (ImportError, AttributeError):
        return []
    return [[q.id, q.name] for q in questions]


def allow_errors(nb):
    """A copy whose code cells all carry `raises-exception`: papermill runs on past an error."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            tags = list(cell.metadata.get("tags", []))
            if ALLOW_ERRORS_TAG not in tags:
                cell.metadata["tags"] = tags + [ALLOW_ERRORS_TAG]
    return nb


def graded(record: Record, nb, questions: list[list[str]]) -> None:
    """Add each question's outcome to `record`; a notebook that ran to its end is "ok" even when a
    participant's cell raised (that is a grade, in `cell_errors`, not a failed run)."""
    cells = [c for c in nb.cells if not set(c.get("metadata", {}).get("tags", [])) & set(PAPERMILL_TAGS)]
    code = [c for c in cells if c.cell_type == "code"]
    errors = [(i, c) for i, c in enumerate(cells) if _error_of(c)]
    record["cell_errors"] = len(errors)
    if errors:
        index, cell = errors[0]
        record["first_cell_error"] = f"cell {index}: {_error_of(cell)}"
    ran_to_end = bool(code) and all(_pm(c).get("end_time") for c in code) and not any(
        _pm(c).get("exception") for c in code)
    if record["status"] == "failed" and ran_to_end:
        record["status"] = "ok"
        record["error"] = ""
        record["failing_cell"] = None
        record["failing_source"] = ""
    seen = {c["question"]: c["status"] for c in record.get("checks", [])}
    outcomes = {}
    for qid, name in questions:
        if qid in seen:
            outcomes[qid] = seen[qid]
            continue
        checking = [c for c in code if f"{name}.check(" in c.source]
        error = next((_error_of(c) for c in checking if _error_of(c)), "")
        outcomes[qid] = f"error: {error}" if error else "not run"
    for qid, status in seen.items():  # checks the exercise module does not list (renamed, extra)
        outcomes.setdefault(qid, status)
    record["questions"] = outcomes


def _pm(cell) -> dict:
    return cell.get("metadata", {}).get("papermill", {}) or {}


def _error_of(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', '')}: {output.get('evalue', '')}"[:200]
    return ""


# --- the grade report ---------------------------------------------------------------------------------


def grade_rows(records: list[Record]) -> tuple[list[str], list[dict[str, Any]]]:
    questions: list[str] = []
    for r in records:
        for q in r.get("questions") or {}:
            if q not in questions:
                questions.append(q)
    rows = []
    for r in sorted(records, key=lambda r: (r.get("participant", ""), r.get("submission", ""))):
        outcomes = r.get("questions") or {}
        row = {"participant": r.get("participant", ""), "notebook": r.get("submission", r.get("notebook", "")),
               "status": r["status"]}
        for q in questions:
            row[q] = outcomes.get(q, "")
        row["correct"] = sum(v == "correct" for v in outcomes.values())
        row["questions"] = len(outcomes)
        row["error"] = r.get("error") or r.get("first_cell_error", "")
        rows.append(row)
    return questions, rows


def grades_csv(records: list[Record]) -> str:
    questions, rows = grade_rows(records)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["participant", "notebook", "status", *questions, "correct",
                                             "questions", "error"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


COLOURS = {"correct": "#dcfce7", "wrong": "#fee2e2", "not attempted": "#f3f4f6"}


def grades_html(records: list[Record]) -> str:
    questions, rows = grade_rows(records)
    head = ["participant", "notebook", "status", *questions, "correct", "error"]
    body = []
    for row in rows:
        cells = "".join(
            f'<td style="background:{COLOURS.get(row[q], "#fef3c7" if row[q] else "#fff")}">{_e(row[q])}</td>'
            for q in questions)
        body.append(f"<tr><td>{_e(row['participant'])}</td><td>{_e(row['notebook'])}</td>"
                    f"<td>{_e(row['status'])}</td>{cells}"
                    f"<td class=n>{row['correct']}/{row['questions']}</td><td>{_e(row['error'])}</td></tr>")
    correct = sum(row["correct"] for row in rows)
    total = sum(row["questions"] for row in rows)
    summary = (f"{len({row['participant'] for row in rows})} participant(s), {len(rows)} notebook(s); "
               f"{correct} of {total} question outcomes correct")
    return _page("Grades", summary, head, body)


def write_grades(out: Path, records: list[Record]) -> tuple[Path, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out / "grades.csv", out / "grades.html"
    csv_path.write_text(grades_csv(records), encoding="utf-8")
    html_path.write_text(grades_html(records), encoding="utf-8")
    return csv_path, html_path
