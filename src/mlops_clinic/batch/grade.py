"""Grading mode: run participants' own exercise notebooks and report each check's outcome.

    clinic batch grade SUBMISSIONS [--out DIR]

SUBMISSIONS holds one folder per participant (the folder's name is the participant), each with
the exercise notebooks they handed in (`alice/00_welcome.ipynb`); a notebook directly in
SUBMISSIONS counts as a participant named after the file (`alice.ipynb`). Submissions are never
changed: each is copied into its run's folder, and the copy runs in a fresh workspace, isolated:
its current folder, HOME and TMPDIR are inside that workspace, its environment is the workspace's
alone (none of the grader's variables), it has no network where the platform allows it, and what
it leaves running is stopped and listed (see run.py, execute.py, supervisor.py). A submission that
cannot be read (not JSON, empty, a link out of SUBMISSIONS) is its participant's row, "unreadable",
and the others are graded.

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
import hashlib
import importlib
import io
from pathlib import Path
from typing import Any

import nbformat

from mlops_clinic.batch.plan import DEFAULT_CELL_TIMEOUT_S, DEFAULT_TIMEOUT_S, Run, fingerprint, run_identifier
from mlops_clinic.catalogue import ALLOW_ERRORS_TAG, module_of_name, source_cells
from mlops_clinic.files import spreadsheet_safe, write_atomic
from mlops_clinic.html_page import Cell, heading, item_list, page, paragraph, table, table_page

Record = dict[str, Any]


class Unreadable(Exception):
    """A submission that is not a notebook this batch can run; the message says what it is."""


def find_submissions(folder: str | Path) -> list[tuple[str, Path]]:
    """(participant, notebook) pairs, sorted by participant then notebook name. A link that leads
    out of `folder` is listed as it is, never followed (plan_grading reports it unreadable)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of submissions")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not _leads_out(entry, folder):
            found += [(entry.name, nb) for nb in sorted(entry.rglob("*.ipynb"))
                      if ".ipynb_checkpoints" not in nb.parts]
        elif entry.is_dir() or entry.suffix == ".ipynb":
            found.append((entry.stem if entry.suffix == ".ipynb" else entry.name, entry))
    return found


def plan_grading(submissions_dir: str | Path, out: str | Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S) -> list[Run]:
    """One isolated run per submission; a submission that cannot be read is a run that only
    records why (its participant's row), so one bad file never stops the others' grading."""
    out = Path(out).resolve()
    base = Path(submissions_dir).resolve()
    runs = []
    for participant, notebook in find_submissions(base):
        label = str(notebook.relative_to(base))
        params = {"participant": participant}
        run_id = run_identifier(Path(label), params)
        folder = out / "runs" / run_id
        extra = {"participant": participant, "submission": label}
        try:
            nb, module, digest = read_submission(notebook, base)
            prepared = folder / "input" / notebook.name
            prepared.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(allow_errors(nb), prepared)
        except Unreadable as exc:
            runs.append(Run(id=run_id, notebook=str(notebook), label=label, parameters={},
                            folder=str(folder), fingerprint=fingerprint(_text_digest(str(exc)), params),
                            extra={**extra, "unreadable": str(exc)}))
            continue
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
            fingerprint=fingerprint(digest, params),
            extra={**extra, "questions": expected_questions(module), "isolate": True},
        ))
    return runs


def read_submission(notebook: Path, base: Path):
    """(notebook, its module, digest of its bytes), or Unreadable saying what the file is instead."""
    if _leads_out(notebook, base):
        raise Unreadable("a link to something outside the submissions folder")
    try:
        data = notebook.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise Unreadable("an empty file")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        allow_errors(nb)  # every cell has a type: the notebook can be prepared
        module = module_of(nb, notebook.name)
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8 text, so not a notebook") from None
    except nbformat.reader.NotJSONError:
        raise Unreadable("not JSON, so not a notebook") from None
    except Exception as exc:  # noqa: BLE001 - any way a file fails to be a notebook is this row's
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise Unreadable(f"JSON but not a notebook ({reason})") from None
    return nb, module, hashlib.sha256(data).hexdigest()


def _leads_out(path: Path, base: Path) -> bool:
    """Whether `path`, links followed, is outside `base` (a link to the grader's own files)."""
    return not path.resolve().is_relative_to(base.resolve())


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def module_of(nb, filename: str) -> str | None:
    module = (nb.metadata.get("clinic") or {}).get("module")
    if module:
        return str(module)
    return module_of_name(filename)


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
    cells = source_cells(nb.cells)
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
    # Open questions: the rules of the last check that ran, and the reasons the participant wrote.
    record["open"] = {c["question"]: {"rules": c["rules"], "justification": c.get("justification", "")}
                      for c in record.get("checks", []) if "rules" in c}


def _pm(cell) -> dict:
    return cell.get("metadata", {}).get("papermill", {}) or {}


def _error_of(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', '')}: {output.get('evalue', '')}"[:200]
    return ""


# --- the grade report ---------------------------------------------------------------------------------


def open_question_ids(records: list[Record]) -> list[str]:
    """The open questions (checked by rules) that any submission answered, in first-seen order."""
    found: list[str] = []
    for r in records:
        found += [q for q in r.get("open") or {} if q not in found]
    return found


def points_of(answer: dict | None) -> str:
    """'3/5' for an open question's rules met, by points; '' when the submission never checked it."""
    if not answer:
        return ""
    rules = answer.get("rules") or []
    return f"{sum(r['points'] for r in rules if r['met'])}/{sum(r['points'] for r in rules)}"


def grade_rows(records: list[Record]) -> tuple[list[str], list[dict[str, Any]]]:
    questions: list[str] = []
    for r in records:
        for q in r.get("questions") or {}:
            if q not in questions:
                questions.append(q)
    open_questions = open_question_ids(records)
    rows = []
    for r in sorted(records, key=lambda r: (r.get("participant", ""), r.get("submission", ""))):
        outcomes = r.get("questions") or {}
        row = {"participant": r.get("participant", ""), "notebook": r.get("submission", r.get("notebook", "")),
               "status": r["status"]}
        for q in questions:
            row[q] = outcomes.get(q, "")
            if q in open_questions:
                row[f"{q} points"] = points_of((r.get("open") or {}).get(q))
        row["correct"] = sum(v == "correct" for v in outcomes.values())
        row["questions"] = len(outcomes)
        row["error"] = r.get("error") or r.get("first_cell_error", "")
        row["network"] = r.get("network", "")
        rows.append(row)
    return questions, rows


def grades_csv(records: list[Record]) -> str:
    """participant x question, one row per submission; no cell a spreadsheet would run as a formula
    (a participant's name or error message is theirs to choose)."""
    questions, rows = grade_rows(records)
    columns = [c for q in questions for c in (q, f"{q} points") if rows and c in rows[0]]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["participant", "notebook", "status", *columns, "correct",
                                             "questions", "error", "network"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    return buf.getvalue()


def network_line(records: list[Record]) -> str:
    """`network: ...` for the grade report: how the submissions that ran were cut off the network."""
    states = sorted({r["network"] for r in records if r.get("network")})
    return "network: " + ("; ".join(states) if states else "no submission ran")


COLOURS = {"correct": "#dcfce7", "wrong": "#fee2e2", "not attempted": "#f3f4f6"}


def grades_html(records: list[Record]) -> str:
    questions, rows = grade_rows(records)
    columns = [c for q in questions for c in (q, f"{q} points") if rows and c in rows[0]]
    head = ["participant", "notebook", "status", *columns, "correct", "error"]
    cells = [[row["participant"], row["notebook"], row["status"],
              *(Cell(row[c], style=f"background:{COLOURS.get(row[c], '#fef3c7' if row[c] else '#fff')}")
                if c in questions else Cell(row[c], number=True) for c in columns),
              Cell(f"{row['correct']}/{row['questions']}", number=True), row["error"]]
             for row in rows]
    correct = sum(row["correct"] for row in rows)
    total = sum(row["questions"] for row in rows)
    summary = (f"{len({row['participant'] for row in rows})} participant(s), {len(rows)} notebook(s); "
               f"{correct} of {total} question outcomes correct; {network_line(records)}")
    return table_page("Grades", summary, head, cells)


def rubric_html(records: list[Record]) -> str:
    """The open questions' rubric page: per question, its rules with their points and what to look
    for in the reasons; then per participant the points the rules gave, the rules not met, and the
    reasons they wrote, with an empty column for the instructor's own mark."""
    parts = [heading(1, "Rubric of the open questions"), paragraph("The rules are checked by the kit; the reasons are yours to read. A participant "
                       "can meet every rule with a weak argument, or miss one with a thoughtful one: "
                       "your mark is the last column.")]
    for qid in open_question_ids(records):
        question = open_question(qid)
        parts.append(heading(2, qid))
        if question is not None:
            parts.append(table(["points", "a good answer"], [[Cell(str(rule.points), number=True), rule.says]
                                                             for rule in question.rules]))
            parts += [paragraph("In the reasons, look for:"), item_list(question.look_for)]
        rows = []
        for r in sorted(records, key=lambda r: (r.get("participant", ""), r.get("submission", ""))):
            answer = (r.get("open") or {}).get(qid)
            if answer is None:
                continue
            missed = [rule["says"] for rule in answer["rules"] if not rule["met"]]
            rows.append([r.get("participant", ""), Cell(points_of(answer), number=True),
                         item_list(missed) if missed else "all met", answer.get("justification", ""), ""])
        parts.append(table(["participant", "points", "rules not met", "reasons", "your mark"], rows))
    return page("Rubric of the open questions", parts, wide=True)


def open_question(qid: str):
    """The OpenQuestion behind an id such as 'm05.q5', or None when this kit has no such question."""
    from mlops_clinic.checks.open_questions import OpenQuestion

    module, _, name = qid.partition(".")
    try:
        questions = importlib.import_module(f"mlops_clinic.checks.{module}").QUESTIONS
    except (ImportError, AttributeError):
        return None
    return next((q for q in questions if q.name == name and isinstance(q, OpenQuestion)), None)


def write_grades(out: Path, records: list[Record]) -> tuple[Path, ...]:
    """grades.csv and grades.html; rubric.html too when a submission answered an open question."""
    out = Path(out)
    written = [out / "grades.csv", out / "grades.html"]
    write_atomic(written[0], grades_csv(records))
    write_atomic(written[1], grades_html(records))
    if open_question_ids(records):
        written.append(out / "rubric.html")
        write_atomic(written[2], rubric_html(records))
    return tuple(written)
