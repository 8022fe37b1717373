"""Exercise questions with instant feedback: `q1.check(answer)`, `q1.hint()`, `q1.solution()`.

Three outcomes, always shown as one short line a participant can act on:

    ○ Not attempted   the placeholder ____ is still there
    ✗ Not yet         the answer is wrong: what is wrong and what to try
    ✓ Correct         with a sentence on why it matters

A checker never shows a raw traceback: a checker function raises `Wrong("what to fix")`, and any
other exception from using the answer becomes a "Not yet" naming the error.

Answers arrive in many forms: a count as 689 or 689.0 or numpy.int64(689), a path as text or a
pathlib.Path, a yes/no as True or numpy.True_, a level as "ad hoc" or "Ad-hoc". The helpers below
(`as_number`, `as_count`, `as_boolean`, `as_path`, `as_version`, `name_key`, `wrong_unit`,
`run_participant`) accept every correct form the same way in every checker, and refuse the others
with one sentence that says how to get the right form.
"""

from __future__ import annotations

import contextlib
import decimal
import enum
import html
import json
import math
import numbers
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mlops_clinic import catalogue
from mlops_clinic.progress import note_check


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
    # Open questions only (checks/open_questions.py): each rule's result, and the participant's reasons.
    rules: tuple = ()
    justification: str = ""

    def __bool__(self) -> bool:
        return self.status is Status.CORRECT

    def text(self) -> str:
        symbol, label, _ = _LABELS[self.status]
        lines = [f"{symbol} {label} ({self.question}): {self.message}"]
        lines += [f"  {'✓ met' if r.met else '✗ not yet'}: {r.says}" for r in self.rules]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        symbol, label, colour = _LABELS[self.status]
        # role="status": a screen reader reads the new feedback out; the words say the outcome, the
        # colour only repeats it.
        return (f'<div role="status" class="clinic-check" style="color:{colour}"><strong>{symbol} {label}'
                f"</strong> ({html.escape(self.question)}): {html.escape(self.message)}{self._rules_html()}</div>")

    def _rules_html(self) -> str:
        if not self.rules:
            return ""
        # Words carry the verdict (met / not yet); the marks only repeat it.
        items = "".join(f"<li>{'✓ met' if r.met else '✗ not yet'}: {html.escape(r.says)}</li>"
                        for r in self.rules)
        return f'<ul aria-label="rules of this open question">{items}</ul>'

    def __repr__(self) -> str:
        return self.text()

    def metadata(self) -> dict:
        # Read back from executed notebooks by graders and batch reports.
        check = {"question": self.question, "status": self.status.value}
        if self.rules:
            check["rules"] = [{"says": r.says, "points": r.points, "met": r.met} for r in self.rules]
            check["justification"] = self.justification
        return {"clinic_check": check}


class Question:
    """One exercise question.

    `checker(*answers)` returns a short "why it matters" string (or None) when the answers are right
    and raises Wrong("...") when they are not. `hints` go from gentle to specific; the last shows
    the method, never the answer to paste.
    """

    def __init__(self, name: str, module: str, checker: Callable[..., str | None] | None,
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
        except KeyboardInterrupt:
            raise  # the stop button: the participant wants the cell to stop, not a verdict
        except BaseException as exc:  # noqa: BLE001 - pytest.fail, SystemExit... are feedback too
            return Outcome(self.id, Status.WRONG, raised_message(exc))
        return Outcome(self.id, Status.CORRECT, message or self.correct_message)

    def check(self, *answers: Any) -> None:
        """Check the answers, show the outcome under the cell, and note it in the workspace's
        progress (question, outcome, time: never the answers)."""
        outcome = self.evaluate(*answers)
        _show(outcome)  # first: a slow room server must not hold the feedback back
        problem = note_check(outcome.question, outcome.status.value)
        if problem:
            _show_text(problem)

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


def raised_message(exc: BaseException) -> str:
    """The feedback when using a participant's answer raised: the exception named, what to try."""
    return f"using your answer raised {describe_exception(exc)}. Check its type and value; q.hint() can help."


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


# --- answers in every form a participant may give ---------------------------------------------------


def show_number(value: float) -> str:
    """A number as a message shows it: whole ones with thousands separators, others with enough
    digits that a share of 0.12 never reads as 0."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.2f}"
    return f"{value:.6g}"


def pounds(value: float) -> str:
    """An amount of money as a message shows it: £45,312, or £0.12 (never £0 for a small value)."""
    value = float(value)
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.0f}" if abs(value) >= 100 else show_number(abs(value))
    return f"{sign}£{amount}"


def _plural(count: int, word: str) -> str:
    return f"one {word}" if count == 1 else f"{count:,} {word}s"


def describe(value: Any) -> str:
    """What an answer is, in words: for messages, where a raw repr could mislead."""
    import numpy as np
    import pandas as pd

    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return f"{bool(value)} (a yes/no value)"
    if isinstance(value, str):
        return f"the text {_quoted(value)}"
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, numbers.Real):
        return show_number(value)
    if isinstance(value, numbers.Complex):
        return f"the complex number {value}"
    if isinstance(value, pd.Series):
        return f"a pandas Series with {_plural(len(value), 'value')}"
    if isinstance(value, pd.DataFrame):
        return f"a pandas DataFrame of {_plural(len(value), 'row')} and {_plural(value.shape[1], 'column')}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of {_plural(value.size, 'value')}"
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"a {type(value).__name__} of {_plural(len(value), 'item')}"
    if callable(value):
        return f"a function ({getattr(value, '__name__', type(value).__name__)})"
    return f"a {type(value).__name__}"


def _quoted(text: str) -> str:
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


def _number_in_text(text: str) -> float | None:
    """The number that text such as "36,000" or "£45,312.50" writes, or None."""
    try:
        value = float(re.sub(r"[£,_\s]", "", text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _literal(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _text_is_not_a_number(text: str, what: str, whole: bool) -> Wrong:
    # One rule for every question: text is refused, and the message shows the number to write.
    written = _number_in_text(text)
    if written is None:
        return Wrong(f"expected {what}, got the text {_quoted(text)}: compute the number and keep "
                     "it as a number, without quotes.")
    convert = "int" if whole and written.is_integer() else "float"
    strip = '.replace(",", "")' if "," in text else ""
    return Wrong(f"expected {what}, got the text {_quoted(text)}: write {_literal(written)}, not "
                 f"{_quoted(text)} (to turn text into a number: {convert}({_quoted(text)}{strip})).")


def _how_to_take_one_value(value: Any, whole: bool) -> str:
    """What to do with a collection where one number is asked."""
    import numpy as np
    import pandas as pd

    size = value.size if isinstance(value, (np.ndarray, pd.DataFrame)) else len(value)
    if isinstance(value, dict):
        return "Pick the entry the question asks for: answer[key]."
    if whole and not (size == 1 and isinstance(value, (pd.Series, pd.DataFrame, np.ndarray, list, tuple))):
        return ("A count is one whole number: len(...) counts the items of a set, list or table, and "
                ".sum() counts the True values of a True/False column.")
    if size == 1:
        if isinstance(value, pd.Series):
            return "Take the value out of it with series.iloc[0] (or series.item())."
        if isinstance(value, pd.DataFrame):
            return "Take the value out of it with frame.iloc[0, 0] (or frame.squeeze())."
        if isinstance(value, np.ndarray):
            return "Take the value out of it with .item()."
        if isinstance(value, (list, tuple)):
            return "Take the value out of it with [0]."
        return "Take the value out of it with next(iter(...))."
    return ("Reduce it to the one number the question asks for (a sum, a mean, a count with len(...)), "
            "or pick that one value out of it.")


def _collection(value: Any) -> bool:
    import numpy as np
    import pandas as pd

    return isinstance(value, (pd.Series, pd.DataFrame, np.ndarray, list, tuple, set, frozenset, dict))


def as_number(value: Any, what: str = "a number", *, whole: bool = False) -> float:
    """The answer as a float, from every type a number comes in: int, float, numpy scalars and 0-d
    arrays, Decimal, Fraction. Text, True/False, NaN, infinity and collections (even of one value)
    are refused with a sentence saying how to get the number."""
    import numpy as np

    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        raise Wrong(f"expected {what}, got {bool(value)}: that answers a yes/no question. Give the "
                    "number itself (.sum() of True/False values counts the Trues).")
    if isinstance(value, str):
        raise _text_is_not_a_number(value, what, whole)
    if value is None:
        raise Wrong(f"expected {what}, got None: did the cell that computes it run, or is a "
                    "`return` missing?")
    if _collection(value):
        raise Wrong(f"expected {what}, got {describe(value)}. {_how_to_take_one_value(value, whole)}")
    if not isinstance(value, (numbers.Real, decimal.Decimal)):
        raise Wrong(f"expected {what}, got {describe(value)}.")
    try:
        result = float(value)
    except ValueError:  # Decimal("sNaN")
        result = math.nan
    if math.isnan(result):
        raise Wrong(f"expected {what}, got NaN (not a number): a mean or a difference over no rows "
                    "gives NaN. Check that your selection keeps some rows.")
    if math.isinf(result):
        raise Wrong(f"expected {what}, got {'minus ' if result < 0 else ''}infinity: a division by "
                    "zero? Check what you divide by.")
    return result


def as_count(value: Any, what: str = "a whole number") -> int:
    """The answer as an int: every form `number` accepts, if whole (689.0 is the count 689)."""
    result = as_number(value, what, whole=True)
    if not result.is_integer():
        raise Wrong(f"expected {what}, got {show_number(result)}, which is not whole: a count has "
                    "no fraction. Count the items themselves (len(...), or .sum() of True/False).")
    return int(result)


def as_text(value: Any, what: str = "the answer") -> str:
    """The answer as text, without the spaces around it."""
    if not isinstance(value, str):
        raise Wrong(f"expected {what} as text, got {describe(value)}.")
    return value.strip()


def as_version(value: Any, what: str = "a version number") -> str:
    """A registered model's version as MLflow writes it ("3"). MLflow hands versions out as text
    and YAML files give them as numbers: the text "3" and the number 3 are the same version."""
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value.strip()))
    if hasattr(value, "version") and not isinstance(value, str):
        raise Wrong(f"expected {what}, got {describe(value)}: take its .version.")
    try:
        return str(as_count(value, what))
    except Wrong:
        raise Wrong(f"expected {what} such as 3 (or \"3\"), got {describe(value)}.") from None


def as_boolean(value: Any, what: str = "the answer", *, ones_and_zeros: bool = False) -> bool:
    """True or False, from Python's bool or numpy's (numpy.True_, what comparisons of numpy and
    pandas values give). 1 and 0 only where the question allows them."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if ones_and_zeros and isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    advice = ""
    if value is None:
        advice = " Is a `return` missing?"
    elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
        advice = f" Write {value.strip().capitalize()} without quotes."
    elif isinstance(value, numbers.Real):
        advice = " A comparison gives one: for example value > limit; bool(...) converts a number."
    elif _collection(value):
        advice = (" For a column of True/False values, .all() says whether every one is True and "
                  ".any() whether one is.")
    raise Wrong(f"{what} should be True or False, not {describe(value)}.{advice}")


def as_path(value: Any, base: Path | str, what: str = "the path of a file") -> Path:
    """The answer as an absolute path: text or a pathlib.Path, absolute or relative to `base`
    ("./x" and "x" are the same file), normalised so that two spellings compare equal."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise Wrong(f"expected {what}, as text or a pathlib.Path, got {describe(value)}.")
    if not value.strip():
        raise Wrong(f"expected {what}, got empty text.")
    return (Path(base) / value.strip()).resolve()


def same_path(value: Any, expected: Path | str, base: Path | str) -> bool:
    """Whether the answer names `expected` (relative paths are read from `base`)."""
    return as_path(value, base) == (Path(base) / expected).resolve()


def relative_path(value: Any, base: Path | str) -> str:
    """The answer as a path relative to `base` ("src/x.py"), for files inside it; else absolute."""
    resolved, root = as_path(value, base), Path(base).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.as_posix()


def name_key(name: str) -> str:
    """A name as it is compared: case, surrounding spaces, and spaces, hyphens and underscores
    between words do not matter ("Ad-hoc" == "ad hoc" == " AD_HOC ")."""
    return " ".join(re.split(r"[\s_\-‐–]+", name.casefold())).strip()


def find_name(answer: Any, names) -> str | None:
    """The one of `names` that the answer names, or None."""
    if not isinstance(answer, str):
        return None
    return {name_key(name): name for name in names}.get(name_key(answer))


def wrong_unit(value: float, truth: float, tolerance: float = 1.0, subject: str | None = None) -> str | None:
    """Why an amount that should be `truth` pounds is `value` instead, if it is the right amount in
    another unit: pence (100 times) or thousands of pounds (a thousandth). None otherwise.
    `subject` names the amount in the message (by default, the amount itself)."""
    if abs(truth) <= tolerance:
        return None  # an amount of about nothing is the same in every unit
    subject = subject or show_number(value)
    if abs(value / 100 - truth) <= tolerance:
        return f"{subject} looks like pence (100 times the amount in pounds): give it in pounds."
    rounding = max(tolerance, min(1000.0, 0.05 * abs(truth)))  # "45" or "45.3" for £45,312
    if abs(value * 1000 - truth) <= rounding:
        return (f"{subject} looks like thousands of pounds: give it in pounds, without dividing "
                "by 1,000.")
    return None


def refuse_wrong_unit(value: float, truth: float, tolerance: float = 1.0,
                      subject: str | None = None) -> None:
    """Raise Wrong if the amount is `truth` in pence or in thousands of pounds."""
    reason = wrong_unit(value, truth, tolerance, subject)
    if reason:
        raise Wrong(reason)


# --- running the participant's own code -----------------------------------------------------------------


def describe_exception(error: BaseException) -> str:
    """An exception in one line: its name and message, no traceback."""
    if isinstance(error, SystemExit):
        return f"SystemExit (sys.exit or exit, code {error.code!r})"
    name = type(error).__name__
    pytest = sys.modules.get("pytest")  # loaded, if the error comes from pytest.fail
    if pytest is not None and isinstance(error, pytest.fail.Exception):
        name = f"{name} (pytest.fail)"
    text = " ".join(str(error).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{name}: {text}" if text else name


def failure_types() -> tuple[type[BaseException], ...]:
    """The exceptions by which a test says it failed: a failed assert, and pytest.fail."""
    try:
        import pytest
    except ImportError:  # then no test can call pytest.fail
        return (AssertionError,)
    return (AssertionError, pytest.fail.Exception)


@contextlib.contextmanager
def _interrupts_noted():
    """Notes a SIGINT (the stop button, Ctrl-C) arriving while participant code runs, so that a
    KeyboardInterrupt the code raises itself can be told from the participant stopping the cell.
    Yields the list of signals noted, or None where it cannot tell (outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    previous = signal.getsignal(signal.SIGINT)
    noted: list[int] = []

    def note(signum, frame):
        noted.append(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


RUN_ADVICE = "Run it on the same input in a cell of its own to see where it stops, then fix that."


def run_participant(function: Callable, args: tuple = (), kwargs: dict | None = None, *,
                    what: str = "your function", advice: str = RUN_ADVICE,
                    let_through: tuple[type[BaseException], ...] = ()) -> Any:
    """`function(*args, **kwargs)`, where `function` is the participant's. Whatever it raises,
    BaseException included (pytest.fail, sys.exit), becomes Wrong naming the exception, except the
    types in `let_through` (which the checker reads itself) and a KeyboardInterrupt caused by the
    stop button, which still stops the cell."""
    with _interrupts_noted() as interrupts:
        try:
            return function(*args, **(kwargs or {}))
        except let_through:
            raise
        except KeyboardInterrupt:
            if interrupts is None or interrupts:
                raise
            raise Wrong(f"{what} raised KeyboardInterrupt itself. {advice}") from None
        except BaseException as error:  # noqa: BLE001 - their code's failure is feedback
            raise Wrong(f"{what} raised {describe_exception(error)}. {advice}") from None


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


def participant_namespace() -> dict:
    """The variables of the notebook the check runs in (empty outside IPython). A checker that must
    see how an answer was reached (the document it was read from, the figures a decision rests on)
    looks for them there, so the participant does not have to hand them over one by one."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return dict(getattr(shell, "user_ns", None) or {})
