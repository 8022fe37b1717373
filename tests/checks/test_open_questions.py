"""Open questions: rules instead of one value, the reasons kept for the instructor, and the rubric
in the grade report. A throw-away question (choose a drift threshold) exercises the machinery; each
module's own open question is tested in its test_checks_mNN.py."""

import pytest

from mlops_clinic.batch.grade import grades_csv, grades_html, rubric_html
from mlops_clinic.batch.run import check_outcomes
from mlops_clinic.checks import Status, Wrong, ____
from mlops_clinic.checks.open_questions import OpenQuestion, Rule, justified

REASONS = ("A false alarm costs us an afternoon of retraining, a missed drift costs a month of bad "
           "quotes, so I accept 1 alarm in 20 quiet weeks.")


def _threshold(value):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise Wrong("the threshold is a share between 0 and 1, such as 0.3.")
    return float(value)


def _quiet_on_stable(threshold):
    return None if threshold > 0.2 else "it rings on the stable week (drift share 0.2): raise it."


def _rings_on_drift(threshold):
    return None if threshold <= 0.5 else "it stays quiet on the drifted week (drift share 0.5): lower it."


def _never_asked(threshold):
    raise ZeroDivisionError("division by zero")


QUESTION = OpenQuestion(
    "q9", "99", work=_threshold,
    rules=[Rule("stays quiet on the stable week", _quiet_on_stable, points=2),
           Rule("rings on the drifted week", _rings_on_drift, points=2)],
    look_for=["the cost of a false alarm against a missed drift"],
    hints=["Try the threshold on both weeks.", "Between the stable week's share and the drifted week's."])


def test_blank_choice_or_blank_reasons_is_not_attempted():
    assert QUESTION.evaluate(____, ____).status is Status.NOT_ATTEMPTED
    assert QUESTION.evaluate(0.3, ____).status is Status.NOT_ATTEMPTED
    assert QUESTION.evaluate(0.3).status is Status.NOT_ATTEMPTED  # the reasons forgotten altogether


def test_every_rule_met_is_correct_and_keeps_the_reasons():
    outcome = QUESTION.evaluate(0.3, REASONS)
    assert outcome.status is Status.CORRECT
    assert "3 of 3 rules met (5 of 5 points)" in outcome.message
    assert outcome.justification == REASONS
    assert all(r.met for r in outcome.rules)


@pytest.mark.parametrize("threshold", [0.35, 0.5, 1 / 3])
def test_many_answers_are_good(threshold):
    assert QUESTION.evaluate(threshold, REASONS).status is Status.CORRECT


def test_a_missed_rule_gives_the_tally_and_what_to_work_on_next():
    outcome = QUESTION.evaluate(0.1, REASONS)
    assert outcome.status is Status.WRONG
    assert outcome.message.startswith("2 of 3 rules met (3 of 5 points). Next: it rings on the stable week")
    assert [r.met for r in outcome.rules] == [False, True, True]


def test_reasons_that_are_too_short_or_not_text_are_a_missed_rule():
    short = QUESTION.evaluate(0.3, "because")
    assert short.status is Status.WRONG and "your reasons have 1 word(s)" in short.message
    number = QUESTION.evaluate(0.3, 42)
    assert number.status is Status.WRONG and "write your reasons as text" in number.message
    assert justified(REASONS) is None


def test_work_that_cannot_be_used_misses_every_work_rule_with_its_reason():
    outcome = QUESTION.evaluate("high", REASONS)
    assert outcome.status is Status.WRONG
    assert "the threshold is a share between 0 and 1" in outcome.message
    assert [r.met for r in outcome.rules] == [False, False, True]


def test_a_rule_that_raises_is_missed_with_the_exception_named_and_the_others_still_run():
    broken = OpenQuestion("q8", "99", work=_threshold,
                          rules=[Rule("asks the impossible", _never_asked), Rule("rings", _rings_on_drift)],
                          look_for=["anything"], hints=["none"])
    outcome = broken.evaluate(0.3, REASONS)
    assert outcome.status is Status.WRONG
    assert "ZeroDivisionError" in outcome.message
    assert [r.met for r in outcome.rules] == [False, True, True]


def test_feedback_names_each_rule_in_words_for_screen_readers_and_text():
    outcome = QUESTION.evaluate(0.1, REASONS)
    assert "✗ not yet: stays quiet on the stable week" in outcome.text()
    assert "✓ met: rings on the drifted week" in outcome.text()
    assert '<ul aria-label="rules of this open question">' in outcome._repr_html_()
    assert "<li>✗ not yet: stays quiet on the stable week</li>" in outcome._repr_html_()


def test_the_rubric_lists_rules_points_and_what_to_look_for():
    text = QUESTION.rubric_markdown()
    assert "### m99.q9 (5 points)" in text
    assert "| 2 | stays quiet on the stable week |" in text
    assert "| 1 | says why, in at least 15 words" in text
    assert "- the cost of a false alarm against a missed drift" in text


def _notebook_with(*outcomes):
    """An executed notebook as a grader reads it: each check's outcome in its output metadata."""
    return {"cells": [{"cell_type": "code", "source": "q9.check(...)", "metadata": {},
                       "outputs": [{"output_type": "display_data", "data": {}, "metadata": o.metadata()}]}
                      for o in outcomes]}


def _record(participant, *outcomes):
    from mlops_clinic.batch.grade import graded

    record = {"participant": participant, "submission": "99_exercise.ipynb", "status": "ok",
              "checks": check_outcomes(_notebook_with(*outcomes))}
    import nbformat

    graded(record, nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                       "cells": []}), [["m99.q9", "q9"]])
    return record


def test_grading_reads_the_rules_of_the_last_check_and_reports_points_per_participant():
    ada = _record("ada", QUESTION.evaluate(0.1, REASONS), QUESTION.evaluate(0.3, REASONS))
    bob = _record("bob", QUESTION.evaluate(0.9, "<script>alert(1)</script> it is fine"))
    assert ada["questions"]["m99.q9"] == "correct"
    assert ada["open"]["m99.q9"]["justification"] == REASONS
    table = grades_csv([ada, bob]).splitlines()
    assert table[0].startswith("participant,notebook,status,m99.q9,m99.q9 points,correct")
    assert table[1].startswith("ada,99_exercise.ipynb,ok,correct,5/5,1")
    assert table[2].startswith("bob,99_exercise.ipynb,ok,wrong,2/5,0")
    assert "5/5" in grades_html([ada, bob])


def test_the_rubric_page_shows_each_participants_reasons_escaped_and_the_rules_they_missed():
    ada = _record("ada", QUESTION.evaluate(0.3, REASONS))
    bob = _record("bob", QUESTION.evaluate(0.9, "<script>alert(1)</script> it is fine"))
    page = rubric_html([ada, bob])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "all met" in page
    assert "rings on the drifted week" in page  # bob's missed rule
    assert "your mark" in page


def test_no_open_question_answered_means_no_rubric_page(tmp_path):
    from mlops_clinic.batch.grade import write_grades

    record = {"participant": "ada", "submission": "x.ipynb", "status": "ok", "questions": {"m99.q1": "correct"}}
    written = write_grades(tmp_path, [record])
    assert [p.name for p in written] == ["grades.csv", "grades.html"]
    ada = _record("ada", QUESTION.evaluate(0.3, REASONS))
    assert [p.name for p in write_grades(tmp_path, [ada])][-1] == "rubric.html"
