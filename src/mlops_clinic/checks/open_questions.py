"""Open exercises: questions that need judgement, checked by rules rather than by one value.

An open question has many good answers (a drift threshold for a given cost of a false alarm, a DVC
stage written from scratch, a gate for a faulty release nobody has shown you). Each `Rule` tests one
property of what the work left behind (a file that validates, a stage that runs, a threshold that
stays quiet on a stable week and rings on a drifted one) and says what is missing when it fails.

The participant also writes why they chose what they chose. A rule checks that the reasons are
there; the instructor reads them with the question's `look_for` list: `clinic batch grade` writes
rubric.html with every rule's result and each participant's reasons side by side, and
`clinic batch rubric` prints the rubric of every module before the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from mlops_clinic.checks.core import (
    NotAttempted, Outcome, Question, Status, Wrong, describe_exception, is_blank, raised_message,
)

MIN_WORDS = 15


@dataclass(frozen=True)
class Rule:
    """One criterion of an open exercise.

    `says` is the rubric's line (what a good answer does); `test(work)` returns None when the work
    meets it, or one sentence saying what is missing and what to try.
    """

    says: str
    test: Callable[[Any], str | None]
    points: int = 1


@dataclass(frozen=True)
class RuleResult:
    says: str
    points: int
    met: bool
    note: str = ""  # what is missing, when not met


def justified(why: Any, min_words: int = MIN_WORDS) -> str | None:
    """The reasons rule: text of at least `min_words` words (what it says is the instructor's to read)."""
    if not isinstance(why, str):
        return (f"write your reasons as text (a str in quotes), not {type(why).__name__}: "
                f'why = "I chose ... because ..."')
    words = len(why.split())
    if words < min_words:
        return (f"your reasons have {words} word(s): say in at least {min_words} why you chose this, "
                "naming the figures you weighed.")
    return None


class OpenQuestion(Question):
    """A question that needs judgement: `q.check(work..., why)`.

    `work(*answers)` turns the participant's answers (all but the last, which is `why`) into what
    the rules test, raising Wrong when an answer cannot be used at all (the wrong kind of object).
    Every rule is tried, so the feedback says how many are met and which one to work on next.
    """

    def __init__(self, name: str, module: str, *, work: Callable[..., Any], rules: Sequence[Rule],
                 look_for: Sequence[str], hints: list[str], min_words: int = MIN_WORDS):
        super().__init__(name, module, None, hints)  # the rules replace the one checker
        self._work = work
        self.work_rules = tuple(rules)
        self.reasons_rule = Rule(f"says why, in at least {min_words} words, naming the figures weighed",
                                 lambda why: justified(why, min_words))
        self.rules = self.work_rules + (self.reasons_rule,)
        self.look_for = tuple(look_for)

    @property
    def points(self) -> int:
        return sum(rule.points for rule in self.rules)

    def evaluate(self, *answers: Any) -> Outcome:
        if len(answers) < 2 or any(is_blank(answer) for answer in answers):
            return Outcome(self.id, Status.NOT_ATTEMPTED,
                           "replace every ____ (your choice and your reasons, why), run the cell, then "
                           "run this check again.")
        *given, why = answers
        try:
            work = self._work(*given)
        except NotAttempted as exc:
            return Outcome(self.id, Status.NOT_ATTEMPTED, str(exc) or "the answer is not filled in yet.")
        except Wrong as exc:
            return self._outcome(self._results_without_work(str(exc), why), why)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - participant code: every failure is feedback
            return self._outcome(self._results_without_work(raised_message(exc), why), why)
        results = tuple(self._result(rule, work) for rule in self.work_rules)
        return self._outcome(results + (self._result(self.reasons_rule, why),), why)

    def _result(self, rule: Rule, work: Any) -> RuleResult:
        try:
            note = rule.test(work)
        except KeyboardInterrupt:
            raise
        except Wrong as exc:
            note = str(exc)
        except BaseException as exc:  # noqa: BLE001
            note = f"testing this raised {describe_exception(exc)}"
        return RuleResult(rule.says, rule.points, note is None, note or "")

    def _results_without_work(self, note: str, why: Any) -> tuple[RuleResult, ...]:
        """Every work rule missed for the one reason the work could not be used at all."""
        return tuple(RuleResult(rule.says, rule.points, False, note) for rule in self.work_rules) + (
            self._result(self.reasons_rule, why),)

    def _outcome(self, results: tuple[RuleResult, ...], why: Any) -> Outcome:
        met = [r for r in results if r.met]
        points = sum(r.points for r in met)
        tally = f"{len(met)} of {len(results)} rules met ({points} of {self.points} points)"
        reasons = why if isinstance(why, str) else ""
        missed = [r for r in results if not r.met]
        if not missed:
            return Outcome(self.id, Status.CORRECT,
                           f"{tally}. There is more than one good answer here: your instructor reads your "
                           "reasons with the rubric.", rules=results, justification=reasons)
        return Outcome(self.id, Status.WRONG, f"{tally}. Next: {missed[0].note}", rules=results,
                       justification=reasons)

    def rubric_markdown(self) -> str:
        """The rubric as an instructor reads it: the rules with their points, then what to look for
        in the reasons."""
        lines = [f"### {self.id} ({self.points} points)", "", "| points | a good answer |", "| ---: | --- |"]
        lines += [f"| {rule.points} | {rule.says} |" for rule in self.rules]
        lines += ["", "In the reasons, look for:", ""] + [f"- {item}" for item in self.look_for]
        return "\n".join(lines) + "\n"


def open_questions(module_ids: Sequence[str] | None = None) -> list[OpenQuestion]:
    """The open questions of the course's modules (all, or those in `module_ids`), in course order."""
    import importlib

    from mlops_clinic import catalogue

    found = []
    for module in catalogue.course().module_ids():
        if module_ids and module not in module_ids:
            continue
        try:
            questions = importlib.import_module(f"mlops_clinic.checks.m{module}").QUESTIONS
        except ImportError:
            continue
        found += [q for q in questions if isinstance(q, OpenQuestion)]
    return found


def course_rubric(module_ids: Sequence[str] | None = None) -> str:
    """The rubric of every open question, as Markdown: what `clinic batch rubric` prints."""
    questions = open_questions(module_ids)
    if not questions:
        return "No open question in these modules.\n"
    intro = ("# Rubric of the open questions\n\nThe kit checks the rules and shows each participant "
             "which are met; the reasons are for you to read. `clinic batch grade` puts every "
             "participant's rules and reasons side by side in rubric.html.\n")
    return "\n".join([intro, *(q.rubric_markdown() for q in questions)])
