"""Every question of every module has a three-outcome test, and says 'not attempted' on a blank."""

import importlib
import pkgutil
from pathlib import Path

import mlops_clinic.checks as checks_package
from mlops_clinic.checks import Status, ____

TESTS = Path(__file__).parent


def all_questions():
    for info in pkgutil.iter_modules(checks_package.__path__):
        if info.name.startswith("m") and info.name[1:].isdigit():
            module = importlib.import_module(f"mlops_clinic.checks.{info.name}")
            yield info.name, module.QUESTIONS


def test_every_module_has_a_three_outcome_test_for_each_question():
    found = list(all_questions())
    assert found, "no question modules found"
    for name, questions in found:
        test_file = TESTS / f"test_checks_{name}.py"
        assert test_file.exists(), f"{test_file.name} is missing"
        text = test_file.read_text()
        for question in questions:
            assert f"{question.name}.evaluate(____)" in text, f"{question.id}: no not-attempted test"
            assert text.count(f"{question.name}.evaluate(") >= 3, f"{question.id}: fewer than 3 outcomes tested"


def test_blank_is_never_correct():
    for _, questions in all_questions():
        for question in questions:
            assert question.evaluate(____).status is Status.NOT_ATTEMPTED


def test_every_question_has_hints_and_a_solution_in_the_solutions_notebook():
    from mlops_clinic.checks.core import solution_code

    for _, questions in all_questions():
        for question in questions:
            assert question.hints, f"{question.id} has no hint"
            assert solution_code(question).strip(), f"{question.id} has no solution region"
