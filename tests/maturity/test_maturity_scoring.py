"""Scoring: the minimum rule, the ranking of dimensions, the roadmap, and the ML Test Score."""

import pytest

from mlops_clinic.maturity.answers import Answers
from mlops_clinic.maturity.bank import load_bank
from mlops_clinic.maturity.mltestscore import band_of, load_rubric, ml_test_score
from mlops_clinic.maturity.scoring import checkpoint_result, dimension_level, overall_level, roadmap, score


def answers(**checkpoints) -> Answers:
    return Answers({cp: dict(questions) for cp, questions in checkpoints.items()})


def all_at(level: int) -> Answers:
    return Answers({cp.id: {q.id: level for q in cp.questions} for cp in load_bank().checkpoints})


def test_a_dimension_and_the_whole_are_as_mature_as_their_weakest_part():
    assert dimension_level([3, 3, 0]) == 0
    assert dimension_level([2, None, 3]) == 2  # unanswered questions are left out
    assert dimension_level([None, None]) is None
    assert overall_level([3, 1, None, 2]) == 1
    assert overall_level([]) is None


def test_profile_levels_averages_and_counts():
    profile = score(answers(data_versioning={"exact_data": 3, "quality": 1, "lineage": 2}, monitoring={"drift": 2}))
    data = next(d for d in profile.dimensions if d.dimension.id == "data")
    assert (data.level, data.mean, data.answered, data.total) == (1, 2.0, 3, 4)
    assert [a.question.id for a in data.limiting] == ["quality"]
    assert profile.overall == 1
    assert profile.answered == 4 and profile.total == len(load_bank().questions)
    assert {d.dimension.id for d in profile.unanswered()} == {d.id for d in load_bank().dimensions} - {"data", "monitoring"}


def test_nothing_answered_gives_no_level_and_no_roadmap():
    profile = score(Answers({"serving": {"package": None, "rollback": None}}))
    assert profile.overall is None and profile.weakest() is None and roadmap(profile) == []


def test_the_weakest_dimension_is_lowest_level_then_lowest_average_then_course_order():
    # monitoring: level 1, mean 1.0; data: level 1, mean 2.0 -> monitoring, despite the course order.
    profile = score(answers(data_versioning={"exact_data": 1, "quality": 3}, monitoring={"drift": 1, "performance": 1},
                            gitops={"environment": 3, "ci": 3}))
    assert [d.dimension.id for d in profile.ranked()] == ["monitoring", "data", "infrastructure"]
    # Same level and average: the earlier dimension in the course comes first.
    tied = score(answers(monitoring={"drift": 2}, business={"value": 2}))
    assert tied.weakest().dimension.id == "business"


def test_the_roadmap_takes_the_weakest_practice_of_each_dimension_weakest_first():
    bank = load_bank()
    profile = score(all_at(2).merged(answers(monitoring={"performance": 0}, data_versioning={"lineage": 1})))
    steps = roadmap(profile)
    assert len(steps) == 3
    assert steps[0].dimension.dimension.id == "monitoring"
    assert steps[0].next_step == bank.checkpoint("monitoring").question("performance").option(0).next_step
    assert steps[1].dimension.dimension.id == "data"
    assert steps[1].answer.question.id == "lineage"
    assert len({(s.next_step.module, s.next_step.exercise) for s in steps}) == 3  # never the same exercise twice


def test_the_roadmap_fills_up_from_the_same_dimensions_when_few_are_answered():
    profile = score(answers(data_versioning={"exact_data": 0, "quality": 1, "lineage": 2, "retraining_data": 3}))
    steps = roadmap(profile)
    assert [s.answer.level for s in steps] == [0, 1, 2]


def test_checkpoint_result_is_its_lowest_answer_with_that_answers_next_step():
    bank = load_bank()
    serving = bank.checkpoint("serving")
    result = checkpoint_result(serving, answers(serving={"package": 2, "rollback": 1, "service_test": 1}))
    assert (result.level, result.answered, result.total) == (1, 3, 3)
    assert result.next_step == serving.question("rollback").option(1).next_step  # first of the tied answers
    empty = checkpoint_result(serving, Answers())
    assert empty.level is None and empty.next_step is None


# --- the ML Test Score -------------------------------------------------------------------------------


def test_ml_test_score_is_the_minimum_of_the_section_sums():
    points = {"data.1": 1, "data.2": 1, "data.3": 0.5, "model.1": 1, "model.2": 1,
              "infrastructure.1": 0.5, "infrastructure.2": 1, "monitoring.1": 1, "monitoring.2": 0.5}
    result = ml_test_score(points)
    assert result.section_points == {"data": 2.5, "model": 2.0, "infrastructure": 1.5, "monitoring": 1.5}
    assert result.final == 1.5 and result.weakest_section == "infrastructure"  # first of the tied sections
    assert result.band.label == "first productionisation"
    assert "lowest, ML infrastructure" in result.text()


def test_a_strong_section_does_not_hide_an_empty_one():
    everything_but_monitoring = {t.id: 1 for s in load_rubric().sections if s.id != "monitoring" for t in s.tests}
    result = ml_test_score(everything_but_monitoring)
    assert result.final == 0 and result.band.label == "research project"


@pytest.mark.parametrize("score_, label", [
    (0, "research project"), (0.5, "not totally untested"), (1, "not totally untested"),
    (1.5, "first productionisation"), (2, "first productionisation"), (2.5, "reasonably tested"),
    (3, "reasonably tested"), (3.5, "strongly tested"), (5, "strongly tested"), (5.5, "exceptional"),
    (7, "exceptional"),
])
def test_bands_are_0_then_half_open_intervals(score_, label):
    assert band_of(score_).label == label


def test_ml_test_score_refuses_unknown_tests_and_points():
    with pytest.raises(KeyError, match="data.9"):
        ml_test_score({"data.9": 1})
    with pytest.raises(ValueError, match="0, 0.5 or 1"):
        ml_test_score({"data.1": 0.7})
