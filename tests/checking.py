"""Helpers of the checker tests: an assertion on a check's outcome, and a workspace activated for
one test module."""

from __future__ import annotations

import contextlib
import os

from mlops_clinic import stages
from mlops_clinic.workspace import Workspace


def assert_outcome(outcome, status, *words) -> None:
    """The check said `status`, and its message names each of `words`."""
    assert outcome.status is status, outcome.text()
    for word in words:
        assert word in outcome.message, outcome.text()


def rules_met(outcome) -> list[bool]:
    """Which rules of an open question's outcome are met, in order."""
    return [rule.met for rule in outcome.rules]


def assert_rules_missed(outcome, *indices: int, words=()) -> None:
    """Exactly the rules `indices` are missed, and the feedback's next step is the first one's note,
    naming each of `words`."""
    from mlops_clinic.checks import Status

    assert outcome.status is Status.WRONG, outcome.text()
    assert rules_met(outcome) == [i not in indices for i in range(len(outcome.rules))], outcome.text()
    assert outcome.message.split("Next: ", 1)[1] == outcome.rules[indices[0]].note, outcome.text()
    for word in words:
        assert word in outcome.message, outcome.text()


@contextlib.contextmanager
def activated_workspace(folder, stage: str, enter: str = "project"):
    """A workspace at `folder` with `stage` built, activated, its `enter` folder ("project" or
    "root") current; afterwards this process's environment and current folder are as before."""
    ws = Workspace(folder)
    saved, previous = dict(os.environ), os.getcwd()
    ws.activate()
    try:
        stages.ensure(stage, ws)
        os.chdir(getattr(ws, enter))
        yield ws
    finally:
        os.chdir(previous)
        os.environ.clear()
        os.environ.update(saved)


def course_questions() -> list:
    """Every question of the course: each module's QUESTIONS, in order."""
    import importlib
    import pkgutil

    import mlops_clinic.checks as checks_package

    return [question for info in pkgutil.iter_modules(checks_package.__path__)
            if info.name.startswith("m") and info.name[1:].isdigit()
            for question in importlib.import_module(f"mlops_clinic.checks.{info.name}").QUESTIONS]


def course_question_count(*, open_questions: bool = False) -> int:
    """How many checks the course has (a question added to a module adds one), or with
    `open_questions` how many optional open questions: the two totals the progress tables print."""
    from mlops_clinic.checks.open_questions import OpenQuestion

    return sum(isinstance(question, OpenQuestion) == open_questions for question in course_questions())
