"""Module 07 questions: apply the maturity scoring rule and the ML Test Score to a team's answers."""

from __future__ import annotations

from mlops_clinic.checks.core import Question, Wrong, as_number, describe, find_name, show_number
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
                    "of them: min(dimension_levels.values()).")
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
                    "them: min(section_sums.values()).")
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

QUESTIONS = (q1, q2, q3)
