"""Exercise questions with instant feedback: `q1.check(answer)`, `q1.hint()`, `q1.solution()`.

Three outcomes, always shown as one short line a participant can act on:

    ○ Not attempted   the placeholder ____ is still there
    ✗ Not yet         the answer is wrong: what is wrong and what to try
    ✓ Correct         with a sentence on why it matters

A checker never shows a raw traceback: a checker function raises `Wrong("what to fix")`, and any
other exception from using the answer becomes a "Not yet" naming the error.
"""

from __future__ import annotations

import enum
import html
import json
from dataclasses import dataclass
from typing import Any, Callable

from mlops_clinic import catalogue


class _Blank:
    """The placeholder in exercise notebooks: `answer = ____`."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"


____ = _Blank()


def is_blank(value: Any) -> bool:
    return value is ____ or value is Ellipsis


class Status(enum.Enum):
    NOT_ATTEMPTED = "not attempted"
    WRONG = "wrong"
    CORRECT = "correct"


_LABELS = {
    Status.NOT_ATTEMPTED: ("○", "Not attempted", "#6b7280"),
    Status.WRONG: ("✗", "Not yet", "#b91c1c"),
    Status.CORRECT: ("✓", "Correct", "#15803d"),
}


class Wrong(Exception):
    """Raised by a checker function: the message says what is wrong and what to try."""


class NotAttempted(Exception):
    """Raised by a checker function that finds a placeholder deeper inside an answer."""


@dataclass(frozen=True)
class Outcome:
    question: str
    status: Status
    message: str

    def __bool__(self) -> bool:
        return self.status is Status.CORRECT

    def text(self) -> str:
        symbol, label, _ = _LABELS[self.status]
        return f"{symbol} {label} ({self.question}): {self.message}"

    def _repr_html_(self) -> str:
        symbol, label, colour = _LABELS[self.status]
        return (f'<div style="color:{colour}"><strong>{symbol} {label}</strong> '
                f"({html.escape(self.question)}): {html.escape(self.message)}</div>")

    def __repr__(self) -> str:
        return self.text()

    def metadata(self) -> dict:
        # Read back from executed notebooks by graders and batch reports.
        return {"clinic_check": {"question": self.question, "status": self.status.value}}


class Question:
    """One exercise question.

    `checker(*answers)` returns a short "why it matters" string (or None) when the answers are right
    and raises Wrong("...") when they are not. `hints` go from gentle to nearly the answer.
    """

    def __init__(self, name: str, module: str, checker: Callable[..., str | None],
                 hints: list[str], correct_message: str = "well done."):
        self.name = name
        self.module = module
        self._checker = checker
        self.hints = list(hints)
        self.correct_message = correct_message
        self._hints_shown = 0

    @property
    def id(self) -> str:
        return f"m{self.module}.{self.name}"

    def evaluate(self, *answers: Any) -> Outcome:
        """The outcome for these answers, without displaying it (tests and graders use this)."""
        if not answers or any(is_blank(answer) for answer in answers):
            return Outcome(self.id, Status.NOT_ATTEMPTED,
                           "replace ____ with your answer, run the cell, then run this check again.")
        try:
            message = self._checker(*answers)
        except NotAttempted as exc:
            return Outcome(self.id, Status.NOT_ATTEMPTED, str(exc) or "the answer is not filled in yet.")
        except Wrong as exc:
            return Outcome(self.id, Status.WRONG, str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure of the answer is feedback, not a crash
            return Outcome(self.id, Status.WRONG,
                           f"using your answer raised {type(exc).__name__}: {exc}. "
                           f"Check its type and value; q.hint() can help.")
        return Outcome(self.id, Status.CORRECT, message or self.correct_message)

    def check(self, *answers: Any) -> None:
        """Check the answers and show the outcome under the cell."""
        _show(self.evaluate(*answers))

    def hint(self, level: int | None = None) -> None:
        """Show the next hint (or hint number `level`); hints get more specific each time."""
        if not self.hints:
            _show_text(f"No hint for {self.id}.")
            return
        if level is None:
            self._hints_shown = min(self._hints_shown + 1, len(self.hints))
            level = self._hints_shown
        level = max(1, min(level, len(self.hints)))
        more = " Call .hint() again for a more specific one." if level < len(self.hints) else ""
        _show_text(f"Hint {level}/{len(self.hints)} ({self.id}): {self.hints[level - 1]}{more}")

    def solution(self) -> None:
        """Show the solution, read from this module's solution notebook (the single source)."""
        _show_text(f"Solution ({self.id}):\n\n{solution_code(self)}")

    def __repr__(self) -> str:
        return f"<Question {self.id}: call .check(answer), .hint() or .solution()>"


def solution_code(question: Question) -> str:
    """The solution regions of the solution notebook's cell that checks `question`."""
    call = f"{question.name}.check("
    notebook = catalogue.course().solution_path(question.module)
    if notebook is not None:
        for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and call in source and catalogue.BEGIN in source:
                return "\n".join(catalogue.region_lines(source, f"{notebook.name}, cell {index}"))
    raise LookupError(f"No solution cell calls {call}...) in solutions/{question.module}_*.ipynb")


def _show(outcome: Outcome) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python
        print(outcome.text())
        return
    if get_ipython() is None:
        print(outcome.text())
        return
    display({"text/plain": outcome.text(), "text/html": outcome._repr_html_()},
            raw=True, metadata=outcome.metadata())


def _show_text(text: str) -> None:
    print(text)
