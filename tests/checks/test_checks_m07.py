"""Module 07's questions: each one proven not attempted, wrong (plausible mistakes) and correct."""

from statistics import mean

from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m07 import TEAM_LEVELS, TEAM_TEST_POINTS, q1, q2, q3
from mlops_clinic.maturity.mltestscore import ml_test_score
from mlops_clinic.maturity.scoring import dimension_level, overall_level


def test_q1_overall_level():
    right = overall_level(dimension_level(levels) for levels in TEAM_LEVELS.values())
    every_answer = [level for levels in TEAM_LEVELS.values() for level in levels]
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate(round(mean(every_answer))), Status.WRONG, "average", "LOWEST")
    _assert(q1.evaluate(mean(min(v) for v in TEAM_LEVELS.values())), Status.WRONG, "average")
    _assert(q1.evaluate(max(every_answer)), Status.WRONG, "highest")
    _assert(q1.evaluate("zero"), Status.WRONG, "expected a level")
    _assert(q1.evaluate(right), Status.CORRECT, "weakest link")
    _assert(q1.evaluate("ad hoc"), Status.CORRECT)


def test_q2_weakest_dimension():
    lowest_mean = min(TEAM_LEVELS, key=lambda d: mean(TEAM_LEVELS[d]))
    first_at_lowest_level = next(d for d, v in TEAM_LEVELS.items() if min(v) == 0)
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(lowest_mean), Status.WRONG, "lowest AVERAGE", "level first")
    _assert(q2.evaluate(first_at_lowest_level), Status.WRONG, "lower average comes first")
    _assert(q2.evaluate("Business alignment and AI strategy"), Status.WRONG, "level 1")
    _assert(q2.evaluate(["Lifecycle management and governance"]), Status.WRONG, "ONE")
    _assert(q2.evaluate("Governance"), Status.WRONG, "not one of the dimensions")
    _assert(q2.evaluate("Lifecycle management and governance"), Status.CORRECT, "roadmap")
    _assert(q2.evaluate("  lifecycle management and GOVERNANCE "), Status.CORRECT)


def test_q2_agrees_with_the_library_ranking():
    # The checker's rule and mlops_clinic.maturity.scoring's rule must be the same rule.
    from mlops_clinic.maturity.scoring import DimensionScore, rank_key

    scores = [DimensionScore(dimension=name, level=min(v), mean=mean(v), answers=(), total=len(v), order=i)
              for i, (name, v) in enumerate(TEAM_LEVELS.items())]
    assert min(scores, key=rank_key).dimension == "Lifecycle management and governance"


def test_q3_ml_test_score():
    sums = [sum(points) for points in TEAM_TEST_POINTS.values()]
    ids = {f"{section}.{i}": p for section, points in TEAM_TEST_POINTS.items() for i, p in enumerate(points, 1)}
    right = ml_test_score(ids).final
    assert right == min(sums)
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(sum(sums)), Status.WRONG, "MINIMUM")
    _assert(q3.evaluate(mean(sums)), Status.WRONG, "average")
    _assert(q3.evaluate(max(sums)), Status.WRONG, "best section")
    _assert(q3.evaluate(0), Status.WRONG, "Sum the points of each section first")
    _assert(q3.evaluate([1.5]), Status.WRONG, "expected a number")
    _assert(q3.evaluate(right), Status.CORRECT, "monitoring")


def test_q1_a_level_name_is_accepted_however_it_is_written():
    for name in ("ad-hoc", "Ad hoc", " AD_HOC "):
        _assert(q1.evaluate(name), Status.CORRECT, "weakest link")
    _assert(q1.evaluate("repeatable"), Status.WRONG)
    _assert(q1.evaluate("0"), Status.WRONG, 'write 0, not "0"')


def test_q3_a_level_name_is_not_a_number_of_points():
    _assert(q3.evaluate("ad hoc"), Status.WRONG, "expected a number of points", "the text")


# --- alternatives and mistakes (issue 15, item 2) -----------------------------------------------------


def test_q1_other_forms_of_the_right_level():
    from decimal import Decimal

    import numpy as np

    dimension_levels = {d: np.int64(min(v)) for d, v in TEAM_LEVELS.items()}
    _assert(q1.evaluate(min(dimension_levels.values())), Status.CORRECT, "weakest link")
    _assert(q1.evaluate(0.0), Status.CORRECT, "weakest link")
    _assert(q1.evaluate(Decimal("0")), Status.CORRECT, "weakest link")


def test_q1_more_plausible_mistakes():
    dimension_levels = {d: min(v) for d, v in TEAM_LEVELS.items()}
    _assert(q1.evaluate(dimension_levels), Status.WRONG, "a level per dimension", "min(dimension_levels.values())")
    _assert(q1.evaluate(sum(dimension_levels.values())), Status.WRONG, "is not a level", "not their sum")
    _assert(q1.evaluate(1), Status.WRONG, "what an average gives")


def test_q2_names_written_otherwise():
    _assert(q2.evaluate("lifecycle_management_and_governance"), Status.CORRECT, "roadmap")
    _assert(q2.evaluate("Lifecycle-management-and-governance"), Status.CORRECT, "roadmap")
    _assert(q2.evaluate(3), Status.WRONG, "expected a dimension name")


def test_q3_other_forms_and_more_mistakes():
    from fractions import Fraction

    import numpy as np

    section_sums = {section: sum(points) for section, points in TEAM_TEST_POINTS.items()}
    done = min(sum(p > 0 for p in points) for points in TEAM_TEST_POINTS.values())
    _assert(q3.evaluate(np.float64(min(section_sums.values()))), Status.CORRECT, "monitoring")
    _assert(q3.evaluate(Fraction(3, 2)), Status.CORRECT, "monitoring")
    _assert(q3.evaluate(section_sums), Status.WRONG, "a sum per section", "min(section_sums.values())")
    _assert(q3.evaluate(done), Status.WRONG, "counts the tests", "0.5")
    _assert(q3.evaluate("1.5"), Status.WRONG, "write 1.5")
