"""How far one participant is, per module: lesson run, checks correct out of total, checkpoint answered.

    show()                      # in a notebook: the table (HTML, with a text version)
    print(progress_text(rows))  # `clinic progress`

A participant's `Snapshot` is all the views need: the outcomes and lessons of the progress file, and
how many questions of each maturity checkpoint were answered, never the levels chosen. The same
snapshot comes from a workspace, from an exported file, or from the room's MLflow server.

A lesson counts as run when its last code cell has run: the maturity checkpoint (00-06) records it,
and in 07 the progress cell does (`lesson_end("07")`). The total of a module's checks is the number
of its QUESTIONS in mlops_clinic.checks.mNN, less its open question: that one is optional (no one-day
clinic has time for it) and has a column of its own, so "4 of 4" means a module's exercises are done.
"""

from __future__ import annotations

import functools
import html
import importlib
import os
from dataclasses import dataclass, field

from mlops_clinic.progress.store import (
    CheckRecord, Progress, ProgressFileError, ProgressStore, progress_from,
)
from mlops_clinic.workspace import Workspace

TABLE_CLASS = "clinic-progress"
HEADERS = ("Module", "Lesson run", "Checks correct", "Open question (optional)", "Checkpoint answered")
NO_RECORD = CheckRecord("")


@dataclass(frozen=True)
class Snapshot:
    """What the progress views know of one participant."""

    progress: Progress = field(default_factory=Progress)
    # checkpoint id -> how many of its questions are answered; None: the answers could not be read
    checkpoints: dict[str, int | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The exported file: the progress file's format, with the checkpoints' counts added."""
        return {**self.progress.to_dict(), "checkpoints": dict(self.checkpoints)}


def snapshot_from(data: object, origin: str) -> Snapshot:
    """A snapshot from a parsed exported file (or a workspace's bare progress file)."""
    progress = progress_from(data, origin)
    raw = data.get("checkpoints", {}) if isinstance(data, dict) else {}
    if not isinstance(raw, dict) or not all(v is None or (isinstance(v, int) and v >= 0) for v in raw.values()):
        raise ProgressFileError(f"{origin}: `checkpoints` maps each checkpoint to the number of its questions "
                                "answered.")
    return Snapshot(progress, {str(k): v for k, v in raw.items()})


def workspace_snapshot(workspace: Workspace | str | os.PathLike | None = None, *,
                       strict: bool = False) -> tuple[Snapshot, list[str]]:
    """The snapshot of a workspace, read without changing anything in it, and notices about files
    that could not be read. With `strict`, an unreadable progress file raises ProgressFileError
    (a cohort reports it) instead of showing as nothing done."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    notices = []
    try:
        progress = ProgressStore(ws).peek()
    except ProgressFileError as exc:
        if strict:
            raise
        progress = Progress()
        notices.append(f"{exc} Run a check to start a new one (the old one is then kept aside).")
    return Snapshot(progress, checkpoint_counts(ws, notices)), notices


def checkpoint_counts(ws: Workspace, notices: list[str]) -> dict[str, int | None]:
    """Per checkpoint reached, how many of its questions have an answer (from maturity/answers.json)."""
    from mlops_clinic.maturity.answers import MaturityAnswersError, parse_answers, read_answers_file
    from mlops_clinic.maturity.bank import load_bank
    from mlops_clinic.maturity.storage import ANSWERS_FILE

    path = ws.maturity_dir / ANSWERS_FILE
    if not os.path.lexists(path):
        return {}
    bank = load_bank()
    try:
        answers = parse_answers(read_answers_file(path), bank, origin=path.name)
    except MaturityAnswersError as exc:
        notices.append(f"The maturity answers could not be read, so the checkpoints show as unreadable. {exc}")
        return {c.id: None for c in bank.checkpoints}
    return {checkpoint: sum(level is not None for level in levels.values())
            for checkpoint, levels in answers.checkpoints.items()}


# --- the course: modules, their questions and checkpoints -------------------------------------------


@dataclass(frozen=True)
class ModuleOutline:
    module: str
    title: str
    questions: tuple[str, ...]  # the exercises' checks
    open_questions: tuple[str, ...]  # optional, checked by rules
    checkpoint: str | None  # its id; None: the module asks no checkpoint
    checkpoint_questions: int


@functools.lru_cache(maxsize=1)
def course_outline() -> tuple[ModuleOutline, ...]:
    from mlops_clinic.catalogue import course
    from mlops_clinic.maturity.bank import load_bank

    checkpoints = {c.module: c for c in load_bank().checkpoints}
    outline = []
    for module in course().modules().values():
        asked = checkpoints.get(module.id)
        required, optional = question_ids(module.id)
        outline.append(ModuleOutline(module.id, module.title, required, optional,
                                     asked.id if asked else None, len(asked.questions) if asked else 0))
    return tuple(outline)


def question_ids(module: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ids of a module's questions (its QUESTIONS): the checks, then the open questions. None
    for a module without exercises."""
    from mlops_clinic.checks.open_questions import OpenQuestion

    try:
        questions = importlib.import_module(f"mlops_clinic.checks.m{module}").QUESTIONS
    except ModuleNotFoundError:
        return (), ()
    return (tuple(q.id for q in questions if not isinstance(q, OpenQuestion)),
            tuple(q.id for q in questions if isinstance(q, OpenQuestion)))


@dataclass(frozen=True)
class ModuleRow:
    module: str
    title: str
    lesson_run: bool
    correct: int
    total: int
    checkpoint: str | None  # None: the module has no checkpoint
    answered: int | None  # questions of the checkpoint answered; None: unreadable
    asked: int
    not_yet: tuple[str, ...] = ()  # question ids whose latest try was wrong, open questions too
    open_outcomes: tuple[str, ...] = ()  # latest outcome of each open question ("" never checked)

    @property
    def checkpoint_answered(self) -> bool:
        return self.checkpoint is not None and self.answered == self.asked

    def checkpoint_text(self) -> str:
        if self.checkpoint is None:
            return "no checkpoint"
        if self.answered is None:
            return "unreadable"
        if self.answered == self.asked:
            return "yes"
        return f"partly ({self.answered} of {self.asked})" if self.answered else "no"

    @property
    def open_done(self) -> int:
        return self.open_outcomes.count("correct")

    def open_text(self) -> str:
        if not self.open_outcomes:
            return "none"
        if len(self.open_outcomes) > 1:
            return f"{self.open_done} of {len(self.open_outcomes)} done"
        return {"correct": "done", "wrong": "not yet right"}.get(self.open_outcomes[0], "not tried")

    def cells(self) -> tuple[str, str, str, str, str]:
        return (f"{self.module} {self.title}", "yes" if self.lesson_run else "no",
                f"{self.correct} of {self.total}" if self.total else "no checks", self.open_text(),
                self.checkpoint_text())


def module_rows(snapshot: Snapshot) -> list[ModuleRow]:
    checks, rows = snapshot.progress.checks, []
    for m in course_outline():
        outcomes = [checks.get(q, NO_RECORD).outcome for q in m.questions]
        open_outcomes = tuple(checks.get(q, NO_RECORD).outcome for q in m.open_questions)
        rows.append(ModuleRow(
            m.module, m.title, m.module in snapshot.progress.lessons,
            outcomes.count("correct"), len(m.questions),
            m.checkpoint, snapshot.checkpoints.get(m.checkpoint, 0) if m.checkpoint else 0, m.checkpoint_questions,
            tuple(q for q, outcome in zip(m.questions + m.open_questions, outcomes + list(open_outcomes))
                  if outcome == "wrong"),
            open_outcomes))
    return rows


@dataclass(frozen=True)
class Totals:
    lessons_run: int
    lessons: int
    correct: int
    checks: int
    checkpoints_answered: int
    checkpoints: int
    not_yet: tuple[str, ...]
    open_done: int = 0
    open_questions: int = 0

    def open_text(self) -> str:
        return f"{self.open_done} of {self.open_questions} done"

    def cells(self) -> tuple[str, str, str, str, str]:
        return ("All modules", f"{self.lessons_run} of {self.lessons}", f"{self.correct} of {self.checks}",
                self.open_text(), f"{self.checkpoints_answered} of {self.checkpoints}")


def totals(rows: list[ModuleRow]) -> Totals:
    return Totals(sum(r.lesson_run for r in rows), len(rows), sum(r.correct for r in rows),
                  sum(r.total for r in rows), sum(r.checkpoint_answered for r in rows),
                  sum(r.checkpoint is not None for r in rows), tuple(q for r in rows for q in r.not_yet),
                  sum(r.open_done for r in rows), sum(len(r.open_outcomes) for r in rows))


# --- words and markup -------------------------------------------------------------------------------


def not_yet_text(total: Totals) -> str:
    if not total.not_yet:
        return ""
    which = "it" if len(total.not_yet) == 1 else "them"
    return (f"Not yet right: {', '.join(total.not_yet)}. Go back to {which} when you like: the question's "
            ".hint() gives a hint, and each call a more specific one.")


def progress_text(rows: list[ModuleRow]) -> str:
    """The table as aligned plain text, with a total line and the questions to go back to."""
    total = totals(rows)
    lines = [HEADERS, *(row.cells() for row in rows), total.cells()]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(len(text) - 1, "  ".join("-" * width for width in widths))
    return "\n".join(text + ([not_yet_text(total)] if total.not_yet else []))


def progress_html(rows: list[ModuleRow]) -> str:
    """The table as HTML: a caption, column and row headers a screen reader announces, and words
    ("yes", "2 of 3"), never a colour or a symbol alone."""
    total = totals(rows)

    def row(cells: tuple[str, ...], tag: str = "td") -> str:
        head, *rest = cells
        return (f"<tr><th scope='row' style='text-align:left'>{html.escape(head)}</th>"
                + "".join(f"<{tag}>{html.escape(cell)}</{tag}>" for cell in rest) + "</tr>")

    header = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join(row(r.cells()) for r in rows)
    note = f"<p>{html.escape(not_yet_text(total))}</p>" if total.not_yet else ""
    return (f"<div class='{TABLE_CLASS}'><table><caption style='text-align:left'><b>Your progress</b>: "
            f"{total.lessons_run} of {total.lessons} lessons run, {total.correct} of {total.checks} checks "
            f"correct, {total.open_done} of {total.open_questions} open questions (optional) done, "
            f"{total.checkpoints_answered} of {total.checkpoints} checkpoints answered</caption>"
            f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody>"
            f"<tfoot>{row(total.cells())}</tfoot></table>{note}</div>")


def show(workspace: Workspace | str | os.PathLike | None = None) -> None:
    """Show the progress table of the workspace under the cell (text outside a notebook)."""
    snapshot, notices = workspace_snapshot(workspace)
    rows = module_rows(snapshot)
    for notice in notices:
        print(notice)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": progress_text(rows), "text/html": progress_html(rows)}, raw=True)
    else:
        print(progress_text(rows))
