"""The progress file in the workspace: progress/checks.json, what the participant has done so far.

    {
      "format": "mlops-clinic progress",
      "version": 1,
      "checks": {"m00.q1": {"outcome": "correct", "attempts": 2, "time": "2026-11-23T10:42:07Z"}},
      "lessons": {"00": "2026-11-23T10:15:00Z"}
    }

It holds outcomes only: the question's id, "correct", "wrong" or "not attempted", how many times it
was tried and when last. Never the answer, the message (it may quote the answer) or any code.

- A check that finds the placeholder (not attempted) never hides an earlier try: it is noted only
  for a question with no entry yet.
- Every change is read-modify-write under an exclusive lock (filelock: released if its holder dies),
  written atomically (files.write_atomic): two kernels checking at once both keep their outcome, and
  a crash leaves the old file or the new one.
- A file that cannot be read is kept aside as checks.corrupt-N.json with a notice, and the record
  starts again from empty rather than failing the exercise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from filelock import FileLock

from mlops_clinic.errors import ClinicError
from mlops_clinic.files import set_aside, write_atomic
from mlops_clinic.workspace import Workspace

FOLDER = "progress"
CHECKS_FILE = "checks.json"
LOCK_FILE = ".checks.lock"
FORMAT = "mlops-clinic progress"
VERSION = 1
OUTCOMES = ("correct", "wrong", "not attempted")
NOT_ATTEMPTED = "not attempted"


class ProgressFileError(ClinicError):
    """A progress file that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class CheckRecord:
    outcome: str  # one of OUTCOMES: the latest try's
    attempts: int = 0  # tries with an answer (wrong or correct)
    time: str = ""  # of the latest try, ISO 8601 UTC ("" when never tried)


@dataclass(frozen=True)
class Progress:
    """Outcomes of checks by question id ("m02.q3"), and the lessons that reached their end."""

    checks: dict[str, CheckRecord] = field(default_factory=dict)
    lessons: dict[str, str] = field(default_factory=dict)  # module -> when it last reached its end

    def with_check(self, question: str, outcome: str, when: str) -> "Progress":
        before = self.checks.get(question)
        if outcome == NOT_ATTEMPTED:
            if before is not None:
                return self  # a blank run never hides an earlier try
            record = CheckRecord(NOT_ATTEMPTED)
        else:
            record = CheckRecord(outcome, (before.attempts if before else 0) + 1, when)
        return replace(self, checks={**self.checks, question: record})

    def with_lesson(self, module: str, when: str) -> "Progress":
        return replace(self, lessons={**self.lessons, module: when})

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION,
                "checks": {q: vars(r) for q, r in sorted(self.checks.items())},
                "lessons": dict(sorted(self.lessons.items()))}


def now() -> str:
    """The time a record carries: UTC, to the second."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def module_of(question: str) -> str:
    """ "m02.q3" -> "02"."""
    return question.split(".", 1)[0].removeprefix("m")


def progress_from(data: object, origin: str) -> Progress:
    """The progress in a parsed file (the workspace's or an exported one); ProgressFileError says
    what is wrong with it."""
    if not isinstance(data, dict) or not isinstance(data.get("checks", {}), dict) \
            or not isinstance(data.get("lessons", {}), dict):
        raise ProgressFileError(f"{origin} is not a progress file (expected a mapping with `checks` and "
                                "`lessons`).")
    checks = {}
    for question, raw in data.get("checks", {}).items():
        try:
            record = CheckRecord(str(raw["outcome"]), int(raw.get("attempts", 0)), str(raw.get("time", "")))
        except (TypeError, KeyError, ValueError):
            raise ProgressFileError(f"{origin}: the entry of {question!r} is not an outcome "
                                    "({\"outcome\": ..., \"attempts\": ..., \"time\": ...}).") from None
        if record.outcome not in OUTCOMES:
            raise ProgressFileError(f"{origin}: {question!r} has the outcome {record.outcome!r}; expected one "
                                    f"of {', '.join(OUTCOMES)}.")
        checks[str(question)] = record
    return Progress(checks, {str(m): str(t) for m, t in data.get("lessons", {}).items()})


def read_progress_file(path: Path) -> Progress:
    """A progress file's content; every way it can be unreadable raises ProgressFileError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProgressFileError(f"{path} does not exist.") from None
    except UnicodeDecodeError:
        raise ProgressFileError(f"{path} is not UTF-8 text.") from None
    except IsADirectoryError:
        raise ProgressFileError(f"{path} is a folder, not a file.") from None
    except OSError as exc:
        raise ProgressFileError(f"{path} cannot be read: {exc.strerror}.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProgressFileError(f"{path} is not valid JSON ({exc}).") from None
    return progress_from(data, str(path))


class ProgressStore:
    """The progress file of one workspace."""

    def __init__(self, workspace: Workspace | str | os.PathLike | None = None):
        ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
        self.directory = ws.root / FOLDER
        self.path = self.directory / CHECKS_FILE
        self.notices: list[str] = []  # what went wrong while reading, in words for the participant

    def load(self) -> Progress:
        """The saved progress (empty if none); a file that cannot be read is set aside with a notice."""
        if not os.path.lexists(self.path):
            return Progress()
        with self._locked():
            return self._read()

    def peek(self) -> Progress:
        """The saved progress, read without a lock and without setting a bad file aside (views that
        must change nothing); raises ProgressFileError if it cannot be read."""
        return read_progress_file(self.path) if os.path.lexists(self.path) else Progress()

    def record_check(self, question: str, outcome: str) -> Progress:
        return self._update(lambda progress: progress.with_check(question, outcome, now()))

    def record_lesson_end(self, module: str) -> Progress:
        return self._update(lambda progress: progress.with_lesson(module, now()))

    # --- inside the lock -----------------------------------------------------------------------
    def _update(self, change) -> Progress:
        with self._locked():
            current = self._read()
            changed = change(current)
            if changed != current or not self.path.exists():
                write_atomic(self.path, json.dumps(changed.to_dict(), indent=2) + "\n")
            return changed

    def _read(self) -> Progress:
        if not os.path.lexists(self.path):
            return Progress()
        try:
            return read_progress_file(self.path)
        except ProgressFileError as exc:
            kept = set_aside(self.path)
            self.notices.append(f"Your progress file could not be used, so it was kept as {kept.name} in "
                                f"{self.directory.name}/ and your progress starts again from here. {exc}")
            return Progress()

    def _locked(self) -> FileLock:
        # A holder writes for milliseconds; a crashed kernel's lock is released by the OS.
        self.directory.mkdir(parents=True, exist_ok=True)
        return FileLock(self.directory / LOCK_FILE)
