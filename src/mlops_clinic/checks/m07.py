"""Module 07 questions: apply the maturity scoring rule and the ML Test Score to a team's answers,
and an open question: your own next three steps, from your own profile."""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from typing import Any

from mlops_clinic.checks.core import (
    NotAttempted, Question, Wrong, as_number, describe, find_name, is_blank, name_key, show_number,
)
from mlops_clinic.checks.open_questions import OpenQuestion, Rule
from mlops_clinic.maturity.bank import LEVEL_NAMES

# A team's answers, one level per question, grouped by dimension in course order. Built so that each
# plausible slip gives a different answer: the average, the lowest average, the first dimension at
# the lowest level, the sum of all sections...
TEAM_LEVELS = {
    "Business alignment and AI strategy": [2, 1, 2],
    "Data management and pipeline": [2, 1, 2, 2],
    "Model development and training": [3, 2],
    "Testing and validation": [1, 1, 1],
    "Release and deployment": [3, 0, 3],
    "Lifecycle management and governance": [3, 0],
    "Monitoring and retraining": [1, 2, 1],
    "Infrastructure and automation": [2, 3],
}

# The same team's ML Test Score: per section, the points of its seven tests.
TEAM_TEST_POINTS = {
    "data": [1, 0.5, 0.5, 0, 1, 0.5, 1],
    "model": [1, 1, 0.5, 0, 0.5, 0.5, 0],
    "infrastructure": [1, 0.5, 0.5, 1, 0, 0, 0.5],
    "monitoring": [0.5, 0.5, 0, 0, 0.5, 0, 0],
}


def _mean(values) -> float:
    return sum(values) / len(values)


def _level(value) -> float:
    """A level as its number (0-3) or its name ("ad hoc", "Ad-hoc", "Repeatable"...)."""
    name = find_name(value, LEVEL_NAMES)
    if name is not None:
        return float(LEVEL_NAMES.index(name))
    return as_number(value, "a level, a whole number from 0 to 3 (or its name, such as 'ad hoc')")


def _check_overall(overall) -> str:
    dimension_levels = {d: min(levels) for d, levels in TEAM_LEVELS.items()}
    expected = min(dimension_levels.values())
    if isinstance(overall, dict):
        raise Wrong("that gives a level per dimension; the overall level is ONE number, the lowest "
                    "of them (the minimum over the dimensions).")
    value = _level(overall)
    if not 0 <= value <= len(LEVEL_NAMES) - 1:
        raise Wrong(f"{show_number(value)} is not a level: levels go from 0 ({LEVEL_NAMES[0]}) to "
                    f"{len(LEVEL_NAMES) - 1} ({LEVEL_NAMES[-1]}). Take min() of the answers, not their sum.")
    at_bottom = [d for d, level in dimension_levels.items() if level == expected]
    if value == expected:
        return (f"level {expected} ({LEVEL_NAMES[expected]}): {' and '.join(at_bottom)} each have a practice "
                "at that level, and a chain is only as strong as its weakest link.")
    if not value.is_integer():
        raise Wrong(f"{show_number(value)} looks like an average. Levels are whole numbers: the rule "
                    "takes the lowest level, not the mean.")
    every_answer = [level for levels in TEAM_LEVELS.values() for level in levels]
    if value == round(_mean(every_answer)) or value == round(_mean(list(dimension_levels.values()))):
        raise Wrong(f"{show_number(value)} is what an average gives. The rule takes the LOWEST level, "
                    "so that a weak area cannot hide behind strong ones.")
    if value == max(every_answer):
        raise Wrong(f"{show_number(value)} is the highest level. The overall level is the lowest "
                    "dimension level.")
    raise Wrong(f"{show_number(value)} is not the lowest dimension level. Take min() of each "
                "dimension's answers, then min() of those.")


def _rank(dimension: str) -> tuple[int, float]:
    levels = TEAM_LEVELS[dimension]
    return (min(levels), _mean(levels))


def _check_weakest(weakest) -> str:
    expected = sorted(TEAM_LEVELS, key=_rank)[0]
    if isinstance(weakest, (list, tuple, set, dict)):
        raise Wrong("give ONE dimension name (a key of TEAM_LEVELS), not a collection.")
    if not isinstance(weakest, str):
        raise Wrong(f"expected a dimension name such as 'Testing and validation', got {describe(weakest)}.")
    name = find_name(weakest, TEAM_LEVELS)
    if name is None:
        raise Wrong(f"{weakest!r} is not one of the dimensions; use a key of TEAM_LEVELS.")
    if name == expected:
        level, mean = _rank(name)
        tied = sum(_rank(d)[0] == level for d in TEAM_LEVELS)
        return (f"{name}: level {level}, and the lowest average ({mean:.1f}) of the {tied} dimensions at "
                f"level {level}. Its weakest practice is the first step of the team's roadmap.")
    level, mean = _rank(name)
    lowest_level, expected_mean = _rank(expected)
    if level > lowest_level and mean <= min(_mean(v) for v in TEAM_LEVELS.values()):
        raise Wrong(f"{name} has the lowest AVERAGE, but its level is {level}: other dimensions have a "
                    f"practice at level {lowest_level}. Rank by level first, then by average.")
    if level == lowest_level:
        raise Wrong(f"{name} is at the lowest level ({level}), but so is another dimension, with a lower "
                    f"average. Among equal levels, the lower average comes first.")
    raise Wrong(f"{name} is at level {level}; some dimensions are at level {lowest_level}. Rank by the "
                "lowest answer of each dimension first.")


def _check_ml_score(ml_score) -> str:
    sums = {section: sum(points) for section, points in TEAM_TEST_POINTS.items()}
    expected = min(sums.values())
    if isinstance(ml_score, dict):
        raise Wrong("that gives a sum per section; the final score is ONE number, the lowest of "
                    "them (the minimum over the sections).")
    value = as_number(ml_score, "a number of points")
    if abs(value - expected) < 1e-9:
        weakest = min(sums, key=sums.get)
        return (f"{expected:g}: the {weakest} section holds the whole score down, whatever the others do. "
                "That is a first pass at production readiness; monitoring is where to invest.")
    if abs(value - sum(sums.values())) < 1e-9:
        raise Wrong(f"{show_number(value)} adds up every section. The final score is the MINIMUM of "
                    "the section sums.")
    if abs(value - _mean(list(sums.values()))) < 1e-9:
        raise Wrong(f"{show_number(value)} is the average of the section sums; the rule takes their minimum.")
    if abs(value - max(sums.values())) < 1e-9:
        raise Wrong(f"{show_number(value)} is the best section; the rule takes the weakest.")
    if value == min(sum(point > 0 for point in points) for points in TEAM_TEST_POINTS.values()):
        raise Wrong(f"{show_number(value)} counts the tests that are done; a test done by hand scores "
                    "0.5 and an automated one 1. Sum the points of each section, then take the lowest.")
    if value == 0:
        raise Wrong("0 is the lowest single test. Sum the points of each section first, then take the "
                    "lowest of the four sums.")
    raise Wrong(f"{show_number(value)} is not the lowest section sum. Sum each section's seven "
                "points, then take min() of the four sums.")


q1 = Question("q1", "07", _check_overall, hints=[
    "First find each dimension's level: the lowest number in its list.",
    "min() of a list gives its lowest value; a dict comprehension, {key: f(value) for key, value in "
    "d.items()}, applies it to every dimension. The overall level is the lowest of those levels "
    "(the lesson's section 'How the levels are scored').",
])

q2 = Question("q2", "07", _check_weakest, hints=[
    "Rank the dimensions by their lowest answer first. Several share the lowest level: look at averages.",
    "sorted(items, key=f) orders items by what f returns for each. A tuple as the key sorts by its "
    "first value, then by the second among ties; and sorted() is stable, so equal keys keep their "
    "order (here, course order).",
    "Write the key as a function of a dimension's name that returns (its lowest level, its average); "
    "the first item of the sorted list is the answer. For example, sorted(['bb', 'a', 'cc'], "
    "key=lambda word: (len(word), word)) gives ['a', 'bb', 'cc'].",
])

q3 = Question("q3", "07", _check_ml_score, hints=[
    "Sum the seven points of each section first.",
    "The paper's rule, in the lesson's section 'Optional: the ML Test Score': each section's points "
    "are summed with sum(), and the final score is the lowest section sum (min), not the total or "
    "the average.",
])


# --- q4, an open question: your next three steps ------------------------------------------------------
#
# The participant orders three practices of the maturity bank into a roadmap, each with the module that
# teaches its next step. The check reads THEIR profile from the workspace (the answers saved at the
# checkpoints, or the example organisation when none is saved, as the lesson shows), so the material is
# theirs and nobody else's. The kit's own roadmap is one good answer among several: the rules hold what
# the lesson teaches (the minimum rule, weakest first, a course module for each step); the order among
# equals, and why, is the participant's judgement.

STEPS = 3
TOP_LEVEL = len(LEVEL_NAMES) - 1


@dataclass(frozen=True)
class Step:
    """One step of the roadmap as written, and what the bank and the profile say about it."""

    number: int
    practice: Any        # as written
    module: Any          # as written
    answer: Any | None   # the profile's QuestionAnswer; None when the practice is unknown or unanswered
    question: Any | None  # the bank's Question; None when the practice is unknown
    asked_in: str | None = None  # the module whose checkpoint asks it

    @property
    def name(self) -> str:
        return self.question.key if self.question is not None else str(self.practice)


@dataclass(frozen=True)
class Roadmap:
    """The participant's steps, beside the profile they were chosen from."""

    steps: tuple[Step, ...]
    profile: Any  # mlops_clinic.maturity.scoring.Profile


def _own_profile():
    """The participant's profile as the lesson shows it: the answers saved in their workspace, or
    the example organisation's when none is saved yet."""
    from mlops_clinic.maturity.report import gather

    return gather().profile


def _practice(written: Any, bank) -> Any | None:
    """The bank's question a step names: by its key ('monitoring.drift') or its id ('drift'), in any
    case or spacing."""
    if not isinstance(written, str):
        return None
    wanted = name_key(written)
    return next((q for q in bank.questions if wanted in (name_key(q.key), name_key(q.id))), None)


def _module_id(written: Any) -> str | None:
    """A module as its two-digit id: 5, '5', '05', 'Module 05' and 'm05' are all '05'."""
    if isinstance(written, bool):
        return None
    if isinstance(written, numbers.Integral):
        return f"{int(written):02d}" if 0 <= written < 100 else None
    if isinstance(written, str):
        found = re.fullmatch(r"\s*(?:module\s*|m)?(\d{1,2})\s*", written, flags=re.IGNORECASE)
        return f"{int(found.group(1)):02d}" if found else None
    return None


def _read_roadmap(my_roadmap) -> Roadmap:
    """The steps as (practice, module) pairs, each looked up in the bank and in the profile."""
    from mlops_clinic.maturity.bank import load_bank

    if isinstance(my_roadmap, (str, dict)) or not isinstance(my_roadmap, (list, tuple)):
        raise Wrong(f"expected your roadmap as a list of steps, each a pair (practice, module), got "
                    f"{describe(my_roadmap)}.")
    for number, step in enumerate(my_roadmap, 1):
        if isinstance(step, str) or not isinstance(step, (list, tuple)) or len(step) != 2:
            raise Wrong(f"step {number} is {describe(step)}: write each step as a pair (practice, module), "
                        "for example (\"<checkpoint>.<question>\", \"NN\").")
        if any(is_blank(part) for part in step):
            raise NotAttempted(f"step {number} still holds ____: replace it with your practice and its module.")
    bank, profile = load_bank(), _own_profile()
    answers = {a.question.key: a for d in profile.dimensions for a in d.answers}
    steps = []
    for number, (practice, module) in enumerate(my_roadmap, 1):
        question = _practice(practice, bank)
        answer = answers.get(question.key) if question is not None else None
        asked_in = bank.checkpoint(question.checkpoint).module if question is not None else None
        steps.append(Step(number, practice, module, answer, question, asked_in))
    return Roadmap(tuple(steps), profile)


def _dimension_of(roadmap: Roadmap, step: Step):
    return next(d for d in roadmap.profile.dimensions if d.dimension.id == step.question.dimension)


def _three_distinct_practices(roadmap: Roadmap) -> str | None:
    if len(roadmap.steps) != STEPS:
        return f"your roadmap has {len(roadmap.steps)} step(s): choose exactly three practices, in order."
    unknown = next((s for s in roadmap.steps if s.question is None), None)
    if unknown is not None:
        return (f"step {unknown.number}, {describe(unknown.practice)}, is not a practice of the maturity bank: "
                "use a key from the list above, such as 'monitoring.drift'.")
    keys = [s.question.key for s in roadmap.steps]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        return f"{twice!r} appears twice: choose three different practices."
    return None


def _known(roadmap: Roadmap) -> list[Step]:
    return [s for s in roadmap.steps if s.question is not None]


def _room_to_move(roadmap: Roadmap) -> str | None:
    if not _known(roadmap):
        return "name practices of the maturity bank first (the first rule)."
    for step in _known(roadmap):
        if step.answer is None:
            return (f"you have not answered {step.name!r}, so your profile cannot say it is weak: answer "
                    f"its checkpoint (maturity.checkpoint({step.question.checkpoint!r})) or choose a practice "
                    "you answered.")
        if step.answer.level >= TOP_LEVEL:
            return (f"{step.name!r} is already {LEVEL_NAMES[TOP_LEVEL]} (level {TOP_LEVEL}): choose a practice "
                    "with room to move.")
    return None


def _holds_its_dimension(roadmap: Roadmap) -> str | None:
    answered = [s for s in _known(roadmap) if s.answer is not None]
    if not answered:
        return "name practices you answered first (the rules above)."
    for step in answered:
        dimension = _dimension_of(roadmap, step)
        if step.answer.level > dimension.level:
            holding = ", ".join(a.question.key for a in dimension.limiting)
            return (f"{step.name!r} is at level {step.answer.level}, but {dimension.dimension.name} is at "
                    f"level {dimension.level}, held there by {holding}: by the minimum rule, raising "
                    f"{step.question.id} would not move your profile.")
    return None


def _weakest_first(roadmap: Roadmap) -> str | None:
    answered = [s for s in _known(roadmap) if s.answer is not None]
    if not answered:
        return "name practices you answered first (the rules above)."
    overall = roadmap.profile.overall
    first = answered[0]
    if first.answer.level != overall:
        weakest = roadmap.profile.weakest().dimension.name
        return (f"your first step, {first.name!r}, is at level {first.answer.level}, but your overall level "
                f"is {overall} ({weakest} is there): the weakest link comes first.")
    for before, after in zip(answered, answered[1:]):
        if before.answer.level > after.answer.level:
            return (f"step {before.number} (level {before.answer.level}) comes before step {after.number} "
                    f"(level {after.answer.level}): put lower levels first; among equal levels the order is yours.")
    return None


def _names_the_module(roadmap: Roadmap) -> str | None:
    answered = [s for s in _known(roadmap) if s.answer is not None]
    if not answered:
        return "name practices you answered first (the rules above)."
    for step in answered:
        given = _module_id(step.module)
        if given is None:
            return (f"step {step.number} gives the module as {describe(step.module)}: write its number, "
                    "such as \"05\".")
        teaches = step.answer.option.next_step.module
        if given != teaches:
            asked = " (where its question is asked)" if given == step.asked_in else ""
            return (f"step {step.number}, {step.name!r}, names module {given}{asked}, but the next step for "
                    "your answer is taught in another module: take it from the bank, as the last hint says.")
    return None


q4 = OpenQuestion(
    "q4", "07", work=_read_roadmap,
    rules=[
        Rule("names three different practices of the maturity bank", _three_distinct_practices),
        Rule(f"each is a practice you answered below {LEVEL_NAMES[TOP_LEVEL]} (level {TOP_LEVEL}): "
             "there is room to move", _room_to_move, points=2),
        Rule("each holds its dimension at its level: by the minimum rule, raising any other practice "
             "leaves the profile where it is", _holds_its_dimension, points=2),
        Rule("weakest first: the first step is at the overall level, and no step comes after one at a "
             "higher level", _weakest_first, points=2),
        Rule("each step names the module whose exercise teaches its next step", _names_the_module),
    ],
    look_for=[
        "why this order among practices at the same level: what each one makes possible for the next "
        "(data you can get back before retraining on it; tests before automated promotion)",
        "the cost and the people each step needs, and what they would stop doing to make room",
        "where they differ from the kit's roadmap, and why their organisation needs it",
    ],
    hints=[
        "Start from your profile above: which dimension is weakest, and which practices hold each "
        "dimension at its level? Only those move the profile.",
        "Candidates are the answers at their dimension's level (the profile's .limiting answers of "
        "each dimension), below level 3. Put the one at your overall level first; among equal levels, "
        "choose the order your organisation needs, and say why.",
        "Method: for each dimension d of assessment.profile.ranked(), d.limiting gives the answers that "
        "hold it; an answer's .question.key names the practice and .option.next_step.module the "
        "module that teaches its next step (the lesson's roadmap section prints the same).",
    ])

QUESTIONS = (q1, q2, q3, q4)
