"""The checker machinery itself; each module's questions have their own three-outcome tests."""

import pytest

from mlops_clinic.checks import Question, Status, Wrong, ____
from mlops_clinic.checks.core import solution_code


def _is_42(answer):
    if answer == 24:
        raise Wrong("the digits are swapped.")
    if answer != 42:
        raise Wrong(f"{answer} is not the answer.")
    return "the answer to everything."


Q = Question("q1", "99", _is_42, hints=["think of a famous book", "six times seven"])


def test_three_outcomes():
    assert Q.evaluate(____).status is Status.NOT_ATTEMPTED
    assert Q.evaluate(...).status is Status.NOT_ATTEMPTED
    wrong = Q.evaluate(24)
    assert wrong.status is Status.WRONG and "swapped" in wrong.message
    right = Q.evaluate(42)
    assert right.status is Status.CORRECT and bool(right)


def test_an_answer_that_breaks_the_checker_is_feedback_not_a_traceback():
    outcome = Question("q2", "99", lambda df: df["price"].mean(), hints=[]).evaluate(3)
    assert outcome.status is Status.WRONG
    assert "TypeError" in outcome.message and "Traceback" not in outcome.message


def test_outcome_text_is_stable_and_labelled():
    assert Q.evaluate(____).text().startswith("○ Not attempted (m99.q1):")
    assert Q.evaluate(1).text().startswith("✗ Not yet (m99.q1):")
    assert Q.evaluate(42).text() == "✓ Correct (m99.q1): the answer to everything."
    assert Q.evaluate(42).metadata() == {"clinic_check": {"question": "m99.q1", "status": "correct"}}


def test_hints_get_more_specific(capsys):
    question = Question("q1", "99", _is_42, hints=["first", "second"])
    question.hint()
    question.hint()
    question.hint()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Hint 1/2") and "again" in out[0]
    assert out[1].startswith("Hint 2/2") and out[2].startswith("Hint 2/2")


def test_solution_is_read_from_the_solution_notebook(tmp_path, monkeypatch):
    import json

    from mlops_clinic import paths

    notebook = {"cells": [{"cell_type": "code", "source": [
        "### BEGIN SOLUTION\n", "answer = 6 * 7\n", "### END SOLUTION\n", "q1.check(answer)\n"]}]}
    (tmp_path / "99_probe.ipynb").write_text(json.dumps(notebook))
    monkeypatch.setattr(paths, "SOLUTIONS_DIR", tmp_path)
    assert solution_code(Q) == "answer = 6 * 7"
    with pytest.raises(LookupError):
        solution_code(Question("q7", "99", _is_42, hints=[]))


def test_an_unclosed_solution_region_is_refused_as_the_build_refuses_it(tmp_path, monkeypatch):
    import json

    from mlops_clinic import paths
    from mlops_clinic.catalogue import CourseError

    notebook = {"cells": [{"cell_type": "code", "source": [
        "### BEGIN SOLUTION\n", "answer = 6 * 7\n", "q1.check(answer)\n"]}]}
    (tmp_path / "99_probe.ipynb").write_text(json.dumps(notebook))
    monkeypatch.setattr(paths, "SOLUTIONS_DIR", tmp_path)
    with pytest.raises(CourseError, match="has no matching `### END SOLUTION`"):
        solution_code(Q)
