"""From answers to levels: per question, per dimension, overall; the weakest dimension; the roadmap.

The rule
--------
- A question's level is the level of the option chosen (0 ad hoc, 1 repeatable, 2 reproducible,
  3 automated).
- A dimension's level is the LOWEST level among its answered questions.
- The overall level is the LOWEST level among the answered dimensions.
- Unanswered questions are left out (and counted, so the profile says how much it rests on).

Why the minimum: a level is a claim about a whole chain of practice. Automated training on data
that nobody can get back is not reproducible; an automated deployment with a manual, undocumented
rollback is not automated. Microsoft's maturity model works the same way (a level is reached when
all of its criteria are met), and the ML Test Score takes the minimum over its sections for the same
reason: an average would let one strong area hide a weak one, and the weak one is where production
breaks. The dimension's average is still reported, because it shows how far the other practices
are ahead of the weakest.

The weakest dimension is the one with the lowest level; ties go to the lower average (more work
left), then to the earlier dimension in the course (earlier components are the foundation of later
ones: there is little point monitoring a model you cannot reproduce).

The roadmap takes the next step of the weakest practice in each dimension, weakest dimension first,
one per dimension, until it has three (then more from the same dimensions, never the same exercise
twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlops_clinic.maturity.answers import Answers
from mlops_clinic.maturity.bank import Bank, Checkpoint, Dimension, NextStep, Option, Question, load_bank


def dimension_level(levels: Iterable[int | None]) -> int | None:
    """The lowest level among the answered ones; None if nothing was answered."""
    answered = [level for level in levels if level is not None]
    return min(answered) if answered else None


def overall_level(dimension_levels: Iterable[int | None]) -> int | None:
    """The lowest level among the answered dimensions; None if no dimension was answered."""
    return dimension_level(dimension_levels)


@dataclass(frozen=True)
class QuestionAnswer:
    question: Question
    level: int

    @property
    def option(self) -> Option:
        return self.question.option(self.level)


@dataclass(frozen=True)
class DimensionScore:
    dimension: Dimension
    level: int | None
    mean: float | None
    answers: tuple[QuestionAnswer, ...]
    total: int  # questions in the bank for this dimension
    order: int  # its position in the course

    @property
    def answered(self) -> int:
        return len(self.answers)

    @property
    def limiting(self) -> tuple[QuestionAnswer, ...]:
        """The answers that hold this dimension at its level, in course order."""
        return tuple(a for a in self.answers if a.level == self.level)


@dataclass(frozen=True)
class Profile:
    dimensions: tuple[DimensionScore, ...]  # in the bank's (course) order
    overall: int | None
    is_example: bool = False

    @property
    def answered(self) -> int:
        return sum(d.answered for d in self.dimensions)

    @property
    def total(self) -> int:
        return sum(d.total for d in self.dimensions)

    def ranked(self) -> list[DimensionScore]:
        """Answered dimensions, weakest first (level, then average, then course order)."""
        return sorted((d for d in self.dimensions if d.level is not None), key=rank_key)

    def weakest(self) -> DimensionScore | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def unanswered(self) -> list[DimensionScore]:
        return [d for d in self.dimensions if d.level is None]


def rank_key(score: DimensionScore) -> tuple:
    return (score.level, score.mean, score.order)


def score(answers: Answers, bank: Bank | None = None, *, is_example: bool = False) -> Profile:
    """The profile of `answers`: a level and an average per dimension, and the overall level."""
    bank = bank or load_bank()
    dimensions = []
    for order, dimension in enumerate(bank.dimensions):
        questions = bank.questions_of(dimension.id)
        given = tuple(QuestionAnswer(q, answers.level(q)) for q in questions if answers.level(q) is not None)
        levels = [a.level for a in given]
        dimensions.append(DimensionScore(
            dimension=dimension,
            level=dimension_level(levels),
            mean=round(sum(levels) / len(levels), 2) if levels else None,
            answers=given,
            total=len(questions),
            order=order,
        ))
    return Profile(tuple(dimensions), overall_level(d.level for d in dimensions), is_example)


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint
    level: int | None
    answered: int
    total: int
    next_step: NextStep | None  # of the weakest answered question (first in the lesson on ties)


def checkpoint_result(checkpoint: Checkpoint, answers: Answers) -> CheckpointResult:
    """The checkpoint's level, by the same rule as a dimension, and its one next step."""
    given = [QuestionAnswer(q, answers.level(q)) for q in checkpoint.questions if answers.level(q) is not None]
    if not given:
        return CheckpointResult(checkpoint, None, 0, len(checkpoint.questions), None)
    weakest = min(given, key=lambda a: a.level)  # min keeps the first of equal levels
    return CheckpointResult(checkpoint, weakest.level, len(given), len(checkpoint.questions),
                            weakest.option.next_step)


@dataclass(frozen=True)
class RoadmapStep:
    dimension: DimensionScore
    answer: QuestionAnswer

    @property
    def next_step(self) -> NextStep:
        return self.answer.option.next_step


def roadmap(profile: Profile, steps: int = 3) -> list[RoadmapStep]:
    """The next `steps` actions: the weakest practice of each dimension, weakest dimension first."""
    queues = [(d, sorted(d.answers, key=lambda a: a.level)) for d in profile.ranked()]
    chosen: list[RoadmapStep] = []
    seen: set[tuple[str, str]] = set()
    depth = 0
    while len(chosen) < steps and any(depth < len(queue) for _, queue in queues):
        for dimension, queue in queues:
            if depth < len(queue) and len(chosen) < steps:
                answer = queue[depth]
                key = (answer.option.next_step.module, answer.option.next_step.exercise)
                if key not in seen:
                    seen.add(key)
                    chosen.append(RoadmapStep(dimension, answer))
        depth += 1
    return chosen
