"""Instructors: many participants' progress in one table, and who is stuck on which question.

    clinic progress --cohort WORKSPACE_OR_FILE... [--out FILE.csv]
    clinic progress --server URL [--out FILE.csv]

Each cohort input is a participant's workspace, a file written by `clinic progress --export`, or a
folder of such files. A participant is named by the input as given (the folder or file name): an
instructor who collects workspaces or files knows whose is whose, and helping someone who is stuck
needs their name. An input that cannot be read is reported with the reason and left out; the table
is made from the others. The room's view names each participant by their account on the server.

The CSV has one row per participant and, per module, the lesson, the checks correct and the
checkpoint; cells a spreadsheet would run as a formula are written as text.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic.files import spreadsheet_safe, write_atomic
from mlops_clinic.progress.store import FOLDER, ProgressFileError
from mlops_clinic.progress.views import ModuleRow, Snapshot, module_rows, snapshot_from, totals, workspace_snapshot
from mlops_clinic.workspace import MARKER_FILE, Workspace

HEADERS = ("Participant", "Lessons run", "Checks correct", "Open questions (optional)", "Checkpoints answered",
           "Not yet right")


@dataclass(frozen=True)
class Participant:
    name: str
    snapshot: Snapshot
    updated: str = ""  # the room's view: when the participant's run was last updated

    def rows(self) -> list[ModuleRow]:
        return module_rows(self.snapshot)


# --- reading ----------------------------------------------------------------------------------------


def load_cohort(inputs: Iterable[str | os.PathLike]) -> tuple[list[Participant], list[str]]:
    """The participants that can be read, in input order, and a sentence per input that cannot."""
    participants, skipped = [], []
    for label, path in _expanded(inputs, skipped):
        try:
            snapshot = _workspace_snapshot(path) if _is_workspace(path) else read_exported(path)
        except ProgressFileError as exc:
            skipped.append(f"{label}: {exc} Left out of the table; ask the participant for it again.")
        except OSError as exc:
            skipped.append(f"{label}: cannot be read ({exc.strerror}); check its permissions.")
        else:
            participants.append(Participant(label, snapshot))
    return participants, skipped


def _expanded(inputs: Iterable[str | os.PathLike], skipped: list[str]) -> list[tuple[str, Path]]:
    """(label, path) of each participant: a workspace or a file as given, a folder's files each."""
    found = []
    for raw in inputs:
        label, path = str(raw), Path(raw).expanduser()
        if _is_workspace(path) or path.is_file():
            found.append((label, path))
        elif path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json")
            if not files:
                skipped.append(f"{label}: holds no workspace and no exported progress file (*.json).")
            found += [(f"{label.rstrip('/')}/{f.name}", f) for f in files]
        else:
            skipped.append(f"{label}: does not exist; give a workspace, an exported progress file or a "
                           "folder of them.")
    return found


def _is_workspace(path: Path) -> bool:
    return any(os.path.lexists(path / name) for name in (MARKER_FILE, FOLDER, "maturity"))


def _workspace_snapshot(path: Path) -> Snapshot:
    # strict: a workspace whose progress file cannot be read is reported, not shown as "nothing done".
    return workspace_snapshot(Workspace(path), strict=True)[0]


def read_exported(path: Path) -> Snapshot:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ProgressFileError("is not UTF-8 text.") from None
    except IsADirectoryError:
        raise ProgressFileError("is a folder, not a file.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProgressFileError(f"is not valid JSON ({exc}).") from None
    return snapshot_from(data, "it")


# --- the table --------------------------------------------------------------------------------------


def summary_cells(participant: Participant) -> tuple[str, str, str, str, str, str]:
    total = totals(participant.rows())
    return (participant.name, f"{total.lessons_run} of {total.lessons}", f"{total.correct} of {total.checks}",
            total.open_text(), f"{total.checkpoints_answered} of {total.checkpoints}", _not_yet(participant))


def _not_yet(participant: Participant) -> str:
    checks = participant.snapshot.progress.checks
    return ", ".join(f"{q} ({_tries(checks[q].attempts)})" for q in totals(participant.rows()).not_yet)


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def stuck_on(participants: list[Participant]) -> list[tuple[str, list[str]]]:
    """Questions whose latest try was wrong, with who is there: most people first, then course order."""
    by_question: dict[str, list[str]] = {}
    for p in participants:
        for question in totals(p.rows()).not_yet:
            by_question.setdefault(question, []).append(p.name)
    return sorted(by_question.items(), key=lambda item: (-len(item[1]), item[0]))


def cohort_text(participants: list[Participant], *, with_updated: bool = False) -> str:
    headers = HEADERS + (("Last update",) if with_updated else ())
    lines = [headers] + [summary_cells(p) + ((p.updated,) if with_updated else ()) for p in participants]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    stuck = stuck_on(participants)
    text.append("")
    if stuck:
        text.append("Stuck (latest try not yet right):")
        text += [f"  {question}: {len(names)} ({', '.join(names)})" for question, names in stuck]
    else:
        text.append("Nobody is stuck: no question's latest try is wrong.")
    return "\n".join(text)


def write_csv(participants: list[Participant], out: Path) -> Path:
    """One row per participant; per module: lesson run, checks correct, open question, checkpoint answered."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    modules = participants[0].rows() if participants else []
    header = ["participant"] + [f"{r.module} {what}" for r in modules
                                for what in ("lesson run", "checks correct", "open question", "checkpoint")]
    header += ["not yet right"]
    writer.writerow(header)
    for p in participants:
        cells = [p.name]
        for row in p.rows():
            cells += ["yes" if row.lesson_run else "no", f"{row.correct} of {row.total}", row.open_text(),
                      row.checkpoint_text()]
        writer.writerow([spreadsheet_safe(cell) for cell in cells + [_not_yet(p)]])
    return write_atomic(out, buffer.getvalue())
