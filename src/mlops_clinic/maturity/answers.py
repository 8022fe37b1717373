"""Answers: what a participant chose, where headless answers come from, and the file format.

The answers file (JSON, or YAML when written by hand) maps checkpoint -> question -> level:

    {
      "format": "mlops-clinic maturity answers",
      "version": 1,
      "checkpoints": {
        "data_versioning": {"exact_data": 2, "quality": 1, "lineage": null, "retraining_data": 0},
        "serving": {"package": "reproducible", "rollback": 1, "service_test": 0}
      },
      "ml_test_score": {"data.1": 0.5, "infrastructure.7": 1}
    }

- a checkpoint is named by its id ("serving") or its module number ("03");
- a level is 0-3 or its name ("ad hoc", "repeatable", "reproducible", "automated"); null (or
  "not answered") records a question that was reached but not answered;
- `ml_test_score` (optional) gives 0, 0.5 or 1 point per test of the ML Test Score;
- "format" and "version" are optional on input; a bare {checkpoint: {question: level}} mapping works,
  so a papermill parameter can be as short as {"serving": {"package": 2}}.

Headless runs get answers from, in this order: the `answers` argument (papermill's
`maturity_answers` parameter: a dict, or the path of a JSON/YAML file), else the file named by the
environment variable MLOPS_CLINIC_MATURITY_ANSWERS. Invalid answers raise MaturityAnswersError,
which lists every problem and what to write instead; nothing is saved from an invalid source.
"""

from __future__ import annotations

import json
import os
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_clinic.errors import ClinicError
from mlops_clinic.maturity.bank import LEVEL_NAMES, LEVELS, Bank, Question, load_bank
from mlops_clinic.maturity.mltestscore import POINT_VALUES, load_rubric

ENV_VAR = "MLOPS_CLINIC_MATURITY_ANSWERS"
FORMAT = "mlops-clinic maturity answers"
VERSION = 1
NOT_ANSWERED = "not answered"


class MaturityAnswersError(ClinicError, ValueError):
    """Answers that cannot be used; the message names each problem and the fix."""


class AnswersFileError(MaturityAnswersError):
    """An answers file that cannot be read or decoded at all (as opposed to answers the bank does
    not know); `reason` says why in words, without the file's name."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"The answers file {path} {reason}.")
        self.reason = reason


# Values quoted in messages are shortened: an answers file is not trusted to be small or shallow.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80


def _shown(value: Any) -> str:
    return _SHORT.repr(value)


@dataclass(frozen=True)
class Answers:
    """checkpoint id -> question id -> level (None: reached, not answered); ML Test Score points."""

    checkpoints: dict[str, dict[str, int | None]] = field(default_factory=dict)
    ml_test_score: dict[str, float] = field(default_factory=dict)

    def level(self, question: Question) -> int | None:
        return self.checkpoints.get(question.checkpoint, {}).get(question.id)

    @property
    def answered(self) -> int:
        return sum(level is not None for answers in self.checkpoints.values() for level in answers.values())

    def is_empty(self) -> bool:
        return self.answered == 0 and not self.ml_test_score

    def merged(self, newer: "Answers", *, only_missing: bool = False) -> "Answers":
        """These answers updated with `newer`; with only_missing, existing entries are kept."""
        checkpoints = {cp: dict(qs) for cp, qs in self.checkpoints.items()}
        for cp, questions in newer.checkpoints.items():
            target = checkpoints.setdefault(cp, {})
            for question, level in questions.items():
                if not (only_missing and question in target):
                    target[question] = level
        ml_test_score = dict(self.ml_test_score)
        for test, points in newer.ml_test_score.items():
            if not (only_missing and test in ml_test_score):
                ml_test_score[test] = points
        return Answers(checkpoints, ml_test_score)

    def to_dict(self, bank: Bank | None = None) -> dict:
        """The file format, in the bank's order (stable files, readable diffs)."""
        bank = bank or load_bank()
        checkpoints = {}
        for checkpoint in bank.checkpoints:
            if checkpoint.id in self.checkpoints:
                given = self.checkpoints[checkpoint.id]
                checkpoints[checkpoint.id] = {q.id: given[q.id] for q in checkpoint.questions if q.id in given}
        order = [test.id for section in load_rubric().sections for test in section.tests]
        ml_test_score = {test: self.ml_test_score[test] for test in order if test in self.ml_test_score}
        return {"format": FORMAT, "version": VERSION, "checkpoints": checkpoints, "ml_test_score": ml_test_score}

    def to_json(self, bank: Bank | None = None) -> str:
        return json.dumps(self.to_dict(bank), indent=2, ensure_ascii=False) + "\n"


# --- reading answers from anywhere -----------------------------------------------------------------


def answers_from(source: Any = None, bank: Bank | None = None) -> Answers | None:
    """Answers given for a headless run: `source` (dict or file path), else the file named by
    $MLOPS_CLINIC_MATURITY_ANSWERS, else None (no answers were given)."""
    origin = "the maturity_answers parameter"
    if source is None:
        source = os.environ.get(ENV_VAR) or None
        origin = f"the file named by {ENV_VAR}"
    if source is None:
        return None
    if isinstance(source, Answers):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        return parse_answers(read_answers_file(path), bank, origin=f"{path.name} ({origin})")
    if isinstance(source, Mapping):
        return parse_answers(source, bank, origin=origin)
    raise MaturityAnswersError(
        f"{origin} is a {type(source).__name__}; give a dict such as "
        "{'serving': {'package': 2}} or the path of a JSON or YAML answers file.")


def read_answers_file(path: Path) -> Any:
    """The raw content of a JSON or YAML answers file. Every way a file can be unreadable (missing,
    a folder, not UTF-8, empty, not JSON/YAML, nested too deeply) raises AnswersFileError, whose
    message names the file and the reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswersFileError(path, "does not exist. Check the path (relative paths start from the "
                                     "notebook's folder)") from None
    except UnicodeDecodeError as exc:
        raise AnswersFileError(path, f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
                                     f"{exc.start:,}); save it again as UTF-8") from None
    except OSError as exc:
        if path.is_dir():
            raise AnswersFileError(path, "is a folder, not a file") from None
        raise AnswersFileError(path, f"cannot be read: {exc.strerror}") from None
    if not text.strip():
        raise AnswersFileError(path, "is empty")
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)  # YAML also reads JSON
    except json.JSONDecodeError as exc:
        reason = str(exc)
    except yaml.YAMLError as exc:
        reason = _yaml_reason(exc)
    except RecursionError:
        # json and PyYAML both recurse per level; answers are only checkpoint > question > level.
        raise AnswersFileError(path, "is nested too deeply to be an answers file (answers are a mapping of "
                                     "checkpoint -> question -> level)") from None
    raise AnswersFileError(path, f"is not valid JSON/YAML ({reason})")


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """PyYAML's whole reason on one line: what it was parsing, the problem, and where."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        context = f"{exc.context}: " if exc.context else ""
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"{context}{exc.problem}{where}"
    return " ".join(str(exc).split())


def parse_answers(data: Any, bank: Bank | None = None, *, origin: str = "the answers") -> Answers:
    """Check raw answers against the bank and normalise them; every problem is reported at once."""
    bank = bank or load_bank()
    if data is None:
        return Answers()
    if not isinstance(data, Mapping):
        raise MaturityAnswersError(f"{origin}: expected a mapping of checkpoint -> question -> level, "
                                   f"got {type(data).__name__}.")
    data = dict(data)
    if "format" in data and data["format"] != FORMAT:
        raise MaturityAnswersError(f"{origin}: format is {_shown(data['format'])}, expected {FORMAT!r}.")
    ml_raw = data.pop("ml_test_score", None) or {}
    if "checkpoints" in data or "format" in data or "version" in data:
        raw_checkpoints = data.get("checkpoints") or {}
    else:
        raw_checkpoints = data  # the short form: {checkpoint: {question: level}}
    problems: list[str] = []
    checkpoints: dict[str, dict[str, int | None]] = {}
    if not isinstance(raw_checkpoints, Mapping):
        problems.append("`checkpoints` must map checkpoint ids to {question: level}")
        raw_checkpoints = {}
    for key, questions in raw_checkpoints.items():
        try:
            checkpoint = bank.checkpoint(str(key))
        except KeyError as exc:
            problems.append(str(exc.args[0]))
            continue
        if not isinstance(questions, Mapping):
            problems.append(f"{checkpoint.id}: expected {{question: level}}, got {_shown(questions)}")
            continue
        parsed = checkpoints.setdefault(checkpoint.id, {})
        for question_id, value in questions.items():
            try:
                question = checkpoint.question(str(question_id))
            except KeyError as exc:
                problems.append(str(exc.args[0]))
                continue
            try:
                parsed[question.id] = parse_level(value)
            except ValueError as exc:
                problems.append(f"{question.key}: {exc}")
    ml_test_score = _parse_points(ml_raw, problems)
    if problems:
        raise MaturityAnswersError(f"{origin} cannot be used ({len(problems)} problem(s)); nothing was saved:\n  - "
                                   + "\n  - ".join(problems))
    return Answers(checkpoints, ml_test_score)


def parse_level(value: Any) -> int | None:
    """0-3, a level name, or None / "not answered"; ValueError says what is allowed."""
    if value is None or (isinstance(value, str) and value.strip().lower() in (NOT_ANSWERED, "")):
        return None
    if isinstance(value, bool):
        pass  # True is 1 to Python, but not an answer
    elif isinstance(value, int) and value in LEVELS:
        return value
    elif isinstance(value, float) and value.is_integer() and int(value) in LEVELS:
        return int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit() and int(text) in LEVELS:
            return int(text)
        if text in LEVEL_NAMES:
            return LEVEL_NAMES.index(text)
    allowed = ", ".join(f"{level} ({name})" for level, name in zip(LEVELS, LEVEL_NAMES))
    raise ValueError(f"{_shown(value)} is not an answer; use {allowed}, or null for not answered")


def _parse_points(raw: Any, problems: list[str]) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        problems.append("ml_test_score: expected {test id: points}")
        return {}
    known = {test.id for section in load_rubric().sections for test in section.tests}
    points: dict[str, float] = {}
    for test, value in raw.items():
        if test not in known:
            problems.append(f"ml_test_score: no test {_shown(test)}; tests are data.1 .. data.7, model.1 .. "
                            "model.7, infrastructure.1 .. infrastructure.7, monitoring.1 .. monitoring.7")
        elif value is None:
            continue
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) not in POINT_VALUES:
            problems.append(f"ml_test_score.{test}: {_shown(value)} is not 0, 0.5 or 1")
        else:
            points[test] = float(value)
    return points
