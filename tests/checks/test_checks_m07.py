"""Module 07's questions: each one proven not attempted, wrong (plausible mistakes) and correct; the open
question (q4) with good answers of several kinds and a mistake for each of its rules."""

from statistics import mean

import pytest

from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m07 import TEAM_LEVELS, TEAM_TEST_POINTS, q1, q2, q3, q4
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
    _assert(q1.evaluate(dimension_levels), Status.WRONG, "a level per dimension", "the minimum over the dimensions")
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
    _assert(q3.evaluate(section_sums), Status.WRONG, "a sum per section", "the minimum over the sections")
    _assert(q3.evaluate(done), Status.WRONG, "counts the tests", "0.5")
    _assert(q3.evaluate("1.5"), Status.WRONG, "write 1.5")


# --- q4, an open question: your next three steps, from your own profile ---------------------------------

REASONS = ("Drift is our only ad hoc practice, so it comes first; getting the exact data back comes next "
           "because retraining after a drift alarm is pointless without it, then a fair champion test.")

# The example organisation's profile (no checkpoint answered): monitoring.drift is the only practice at
# level 0; the other dimensions but infrastructure are at level 1.
EXAMPLE_ROADMAP = [("monitoring.drift", "05"), ("data_versioning.exact_data", "01"), ("training.better", "02")]

# A team of our own, saved in the workspace as the checkpoints save it: monitoring.performance is its only
# level 0; data_versioning.exact_data is automated (3) and data_versioning.retraining_data unanswered.
OWN_ANSWERS = {
    "business": {"use_cases": 3, "value": 2, "continuity": 2},
    "data_versioning": {"exact_data": 3, "quality": 1, "lineage": 2},
    "training": {"rerun": 2, "experiments": 3, "better": 2},
    "serving": {"package": 3, "rollback": 1, "service_test": 2},
    "prediction_service": {"validation": 1, "inference_log": 2, "contract": 3},
    "monitoring": {"drift": 1, "performance": 0, "retrain": 1},
    "gitops": {"environment": 3, "ci": 2, "promotion": 2},
}


@pytest.fixture
def profile_of(workspace, monkeypatch):
    """Activate a fresh workspace for q4 to read its profile from, with `answers` saved (none: the
    example organisation's profile, as the lesson shows it)."""
    from mlops_clinic.maturity.answers import ENV_VAR, parse_answers
    from mlops_clinic.maturity.storage import AnswerStore
    from mlops_clinic.workspace import WORKSPACE_ENV_VAR

    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(workspace.root))
    monkeypatch.delenv(ENV_VAR, raising=False)

    def save(answers=None):
        if answers:
            AnswerStore(workspace).update(parse_answers(answers))
        return workspace

    return save


def _missed(outcome):
    """The rules an outcome says are not met yet, by the start of what they say."""
    return [r.says.split(":")[0] for r in outcome.rules if not r.met]


RULE_PRACTICES = "names three different practices of the maturity bank"
RULE_ROOM = "each is a practice you answered below automated (level 3)"
RULE_HOLDS = "each holds its dimension at its level"
RULE_ORDER = "weakest first"
RULE_MODULE = "each step names the module whose exercise teaches its next step"
RULE_REASONS = "says why, in at least 15 words, naming the figures weighed"


def test_q4_not_attempted(profile_of):
    profile_of()
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(____, ____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(EXAMPLE_ROADMAP, ____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate([("monitoring.drift", ____)] * 3, REASONS), Status.NOT_ATTEMPTED, "step 1 still holds ____")


def test_q4_the_solution_is_correct_for_the_example_profile(profile_of):
    profile_of()
    outcome = q4.evaluate(EXAMPLE_ROADMAP, REASONS)
    _assert(outcome, Status.CORRECT, "6 of 6 rules met (9 of 9 points)")
    assert outcome.justification == REASONS


def test_q4_other_good_roadmaps_for_the_example_profile(profile_of):
    from mlops_clinic import maturity

    profile_of()
    # Governance before testing, names written otherwise: ids, capitals, modules as numbers or words.
    governance = [("Drift", 5), ("prediction_service.inference_log", "Module 04"), (" GITOPS.promotion ", "m06")]
    _assert(q4.evaluate(governance, REASONS), Status.CORRECT)
    # The kit's own roadmap is one good answer among several.
    kit = [(s.answer.question.key, s.next_step.module) for s in maturity.roadmap(maturity.gather().profile)]
    assert kit != EXAMPLE_ROADMAP
    _assert(q4.evaluate(kit, REASONS), Status.CORRECT)
    # Three practices of one dimension, as a tuple of lists.
    testing = (["monitoring.drift", "05"], ["serving.service_test", "03"], ["prediction_service.validation", "04"])
    _assert(q4.evaluate(testing, REASONS), Status.CORRECT)


def test_q4_reads_the_participants_own_profile(profile_of):
    profile_of(OWN_ANSWERS)
    own = [("monitoring.performance", "05"), ("serving.rollback", "06"), ("prediction_service.validation", "04")]
    _assert(q4.evaluate(own, REASONS), Status.CORRECT)
    # The example's roadmap does not fit this team: drift is not its weakest link any more.
    outcome = q4.evaluate(EXAMPLE_ROADMAP, REASONS)
    _assert(outcome, Status.WRONG)
    assert RULE_ROOM in _missed(outcome)


def test_q4_a_practice_that_does_not_hold_its_dimension(profile_of):
    profile_of()
    lineage = [("monitoring.drift", "05"), ("training.better", "02"), ("data_versioning.lineage", "01")]
    outcome = q4.evaluate(lineage, REASONS)
    _assert(outcome, Status.WRONG, "'data_versioning.lineage' is at level 2", "held there by",
            "would not move your profile")
    assert _missed(outcome) == [RULE_HOLDS]


def test_q4_the_weakest_link_not_first(profile_of):
    profile_of()
    outcome = q4.evaluate([EXAMPLE_ROADMAP[2], EXAMPLE_ROADMAP[0], EXAMPLE_ROADMAP[1]], REASONS)
    _assert(outcome, Status.WRONG, "your first step, 'training.better', is at level 1",
            "the weakest link comes first")
    assert _missed(outcome) == [RULE_ORDER]


def test_q4_a_higher_level_before_a_lower_one(profile_of):
    profile_of(OWN_ANSWERS)
    steps = [("monitoring.performance", "05"), ("business.value", "05"), ("serving.rollback", "06")]
    outcome = q4.evaluate(steps, REASONS)
    _assert(outcome, Status.WRONG, "step 2 (level 2) comes before step 3 (level 1)", "lower levels first")
    assert _missed(outcome) == [RULE_ORDER]


def test_q4_the_module_where_the_question_is_asked(profile_of):
    profile_of()
    steps = [("monitoring.drift", "05"), ("business.value", "00"), ("training.better", "02")]
    outcome = q4.evaluate(steps, REASONS)
    _assert(outcome, Status.WRONG, "step 2, 'business.value', names module 00 (where its question is asked)",
            "taught in another module")
    assert _missed(outcome) == [RULE_MODULE]
    _assert(q4.evaluate([EXAMPLE_ROADMAP[0], EXAMPLE_ROADMAP[1], ("training.better", "two")], REASONS),
            Status.WRONG, 'gives the module as the text "two"')


def test_q4_an_automated_or_unanswered_practice(profile_of):
    profile_of(OWN_ANSWERS)
    automated = [("monitoring.performance", "05"), ("data_versioning.exact_data", "05"), ("serving.rollback", "06")]
    outcome = q4.evaluate(automated, REASONS)
    _assert(outcome, Status.WRONG, "'data_versioning.exact_data' is already automated (level 3)")
    assert RULE_ROOM in _missed(outcome)
    unanswered = [("monitoring.performance", "05"), ("data_versioning.retraining_data", "01"),
                  ("serving.rollback", "06")]
    outcome = q4.evaluate(unanswered, REASONS)
    _assert(outcome, Status.WRONG, "you have not answered 'data_versioning.retraining_data'",
            "maturity.checkpoint('data_versioning')")
    assert _missed(outcome) == [RULE_ROOM]


def test_q4_not_three_different_practices_of_the_bank(profile_of):
    profile_of()
    _assert(q4.evaluate(EXAMPLE_ROADMAP[:2], REASONS), Status.WRONG, "your roadmap has 2 step(s)")
    outcome = q4.evaluate([EXAMPLE_ROADMAP[0]] * 2 + [EXAMPLE_ROADMAP[2]], REASONS)
    _assert(outcome, Status.WRONG, "'monitoring.drift' appears twice")
    assert _missed(outcome) == [RULE_PRACTICES]
    outcome = q4.evaluate([("monitoring.alerts", "05")] + EXAMPLE_ROADMAP[1:], REASONS)
    _assert(outcome, Status.WRONG, 'the text "monitoring.alerts", is not a practice of the maturity bank')
    assert RULE_PRACTICES in _missed(outcome)


def test_q4_reasons_too_short(profile_of):
    profile_of()
    outcome = q4.evaluate(EXAMPLE_ROADMAP, "weakest first")
    _assert(outcome, Status.WRONG, "your reasons have 2 word(s)")
    assert _missed(outcome) == [RULE_REASONS]


def test_q4_a_roadmap_of_the_wrong_type(profile_of):
    profile_of()
    for wrong, says in [("monitoring.drift, exact_data, better", "expected your roadmap as a list of steps"),
                        (dict(EXAMPLE_ROADMAP), "expected your roadmap as a list of steps"),
                        (["monitoring.drift", "data_versioning.exact_data", "training.better"],
                         'step 1 is the text "monitoring.drift": write each step as a pair')]:
        outcome = q4.evaluate(wrong, REASONS)
        _assert(outcome, Status.WRONG, says)
        assert _missed(outcome) == [RULE_PRACTICES, RULE_ROOM, RULE_HOLDS, RULE_ORDER, RULE_MODULE]


def test_q4_every_rule_is_in_the_rubric():
    text = q4.rubric_markdown()
    assert "### m07.q4 (9 points)" in text
    for rule in (RULE_PRACTICES, RULE_ROOM, RULE_HOLDS, RULE_ORDER, RULE_MODULE, RULE_REASONS):
        assert rule in text
