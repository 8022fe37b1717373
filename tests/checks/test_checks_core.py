"""The checker machinery itself; each module's questions have their own three-outcome tests."""

import os
import signal
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_clinic.checks import Question, Status, Wrong, ____
from mlops_clinic.checks.core import (
    as_boolean, as_count, as_number, as_path, as_version, failure_types, find_name, name_key, pounds,
    refuse_wrong_unit, relative_path, run_participant, same_path, show_number, solution_code, wrong_unit,
)


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


# --- the answer helpers: every correct form accepted, every other refused with the way out ----------


def _refused(call, *words):
    """`call()` raises Wrong, whose message names each of `words`."""
    with pytest.raises(Wrong) as raised:
        call()
    for word in words:
        assert word in str(raised.value), str(raised.value)
    return str(raised.value)


@pytest.mark.parametrize("value", [36000, 36000.0, np.int64(36000), np.int32(36000), np.float32(36000),
                                   np.float64(36000), Decimal("36000.00"), Fraction(72000, 2),
                                   np.array(36000.0)], ids=repr)
def test_every_numeric_type_is_a_number(value):
    assert as_number(value) == 36000.0 and type(as_number(value)) is float
    assert as_count(value) == 36000 and type(as_count(value)) is int


def test_a_whole_float_is_a_count_and_a_fraction_is_not():
    assert as_count(689.0) == 689
    _refused(lambda: as_count(689.5, "a whole number of houses"), "689.5", "not whole")
    _refused(lambda: as_count(0.12, "a whole number of rows"), "got 0.12,")  # never echoed as 0


def test_text_is_refused_by_one_rule_with_the_number_to_write():
    _refused(lambda: as_number("36,000", "a number of pounds"),
             'got the text "36,000"', 'write 36000, not "36,000"', 'float("36,000".replace(",", ""))')
    _refused(lambda: as_count("2000", "a whole number of rows"), 'write 2000, not "2000"', 'int("2000")')
    _refused(lambda: as_number("£45,312.50"), "write 45312.5")
    _refused(lambda: as_number("a lot", "a number of pounds"), "a number of pounds", "without quotes")


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_], ids=repr)
def test_a_yes_no_value_is_not_a_number(value):
    _refused(lambda: as_number(value), "yes/no")
    _refused(lambda: as_count(value), "yes/no")


def test_a_collection_of_one_value_says_how_to_take_the_value():
    _refused(lambda: as_number(pd.Series([45312.0])), "a pandas Series with one value", "series.iloc[0]",
             "series.item()")
    _refused(lambda: as_number(np.array([45312.0])), "a numpy array of one value", ".item()")
    _refused(lambda: as_number([1.5], "a number of points"), "expected a number of points", "a list of one item",
             "[0]")
    _refused(lambda: as_number(pd.DataFrame({"price": [1.0]})), "frame.iloc[0, 0]")


def test_a_collection_where_a_count_is_asked_says_how_to_count():
    _refused(lambda: as_count({3, 5, 8}, "a whole number of rows"), "a set of 3 items", "len(...)")
    _refused(lambda: as_count(pd.Series(["yes", "no"]), "a whole number of houses"),
             "a pandas Series with 2 values", ".sum() counts the True values")
    _refused(lambda: as_count([1, 2], "a whole number"), "a list of 2 items", "len(...)")


def test_nan_infinity_and_none_are_refused_with_their_likely_cause():
    _refused(lambda: as_number(float("nan")), "NaN", "no rows")
    _refused(lambda: as_number(Decimal("NaN")), "NaN")
    _refused(lambda: as_number(float("inf")), "infinity", "division by zero")
    _refused(lambda: as_number(None), "got None", "return")


def test_numbers_are_shown_with_enough_digits():
    assert show_number(0.12) == "0.12" and show_number(689.0) == "689" and show_number(45312) == "45,312"
    assert show_number(123456.789) == "123,456.79"
    assert pounds(0.12) == "£0.12" and pounds(45312.4) == "£45,312" and pounds(-5) == "-£5"


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (np.True_, True),
                                             (np.False_, False), (np.bool_(1), True)], ids=repr)
def test_python_and_numpy_booleans_are_yes_no_answers(value, expected):
    assert as_boolean(value) is expected


def test_other_answers_are_not_yes_no_unless_the_question_allows_ones_and_zeros():
    _refused(lambda: as_boolean(1, "your gate's answer"), "your gate's answer should be True or False, not 1")
    assert as_boolean(1, ones_and_zeros=True) is True and as_boolean(np.int64(0), ones_and_zeros=True) is False
    _refused(lambda: as_boolean(2, ones_and_zeros=True), "True or False")
    _refused(lambda: as_boolean("True"), "Write True without quotes")
    _refused(lambda: as_boolean(None), "`return` missing")
    _refused(lambda: as_boolean(pd.Series([True, False])), ".all()", ".any()")


@pytest.mark.parametrize("given", ["data/houses.csv.dvc", "./data/houses.csv.dvc", Path("data/houses.csv.dvc"),
                                   "data/../data/houses.csv.dvc", " data/houses.csv.dvc ", "ABSOLUTE",
                                   "ABSOLUTE_PATH"])
def test_a_path_as_text_or_path_relative_or_absolute_names_the_same_file(tmp_path, given):
    base = tmp_path / "sandbox"
    base.mkdir()
    if given == "ABSOLUTE":
        given = str(base / "data" / "houses.csv.dvc")
    elif given == "ABSOLUTE_PATH":
        given = base / "data" / "houses.csv.dvc"
    assert same_path(given, "data/houses.csv.dvc", base)
    assert relative_path(given, base) == "data/houses.csv.dvc"


def test_other_paths_and_other_types_are_not_the_file(tmp_path):
    assert not same_path("houses.csv.dvc", "data/houses.csv.dvc", tmp_path)
    assert not same_path("../data/houses.csv.dvc", "data/houses.csv.dvc", tmp_path)
    assert relative_path("../elsewhere/x", tmp_path) == (tmp_path.parent / "elsewhere" / "x").as_posix()
    _refused(lambda: as_path(3, tmp_path), "as text or a pathlib.Path, got 3")
    _refused(lambda: as_path("  ", tmp_path), "empty text")


@pytest.mark.parametrize("given", ["ad hoc", "ad-hoc", "Ad hoc", " AD_HOC ", "Ad - hoc", "ad\thoc"])
def test_names_ignore_case_spaces_hyphens_and_underscores(given):
    assert find_name(given, ("ad hoc", "repeatable")) == "ad hoc"
    assert name_key(given) == name_key("Ad-Hoc")


def test_other_names_are_not_found():
    assert find_name("adhoc", ("ad hoc",)) is None
    assert find_name(0, ("ad hoc",)) is None


@pytest.mark.parametrize("given", [3, "3", " 3 ", np.int64(3), 3.0], ids=repr)
def test_a_version_as_mlflow_gives_it_or_as_yaml_gives_it(given):
    assert as_version(given) == "3"


def test_a_version_in_another_form_is_refused():
    _refused(lambda: as_version("v3"), 'such as 3 (or "3")', 'the text "v3"')
    _refused(lambda: as_version(True), "yes/no")

    class ModelVersion:
        version = "3"

    _refused(lambda: as_version(ModelVersion()), "take its .version")


@pytest.mark.parametrize("value, unit", [(4_531_200, "pence"), (4_531_267, "pence"), (45.3, "thousands"),
                                         (45, "thousands"), (45.312, "thousands")])
def test_an_amount_in_pence_or_in_thousands_of_pounds_is_named(value, unit):
    assert unit in wrong_unit(value, 45_312.67)
    with pytest.raises(Wrong, match=unit):
        refuse_wrong_unit(value, 45_312.67)


@pytest.mark.parametrize("value", [45_312.67, 45_000, 90_625, 0.12, -45_312.67])
def test_other_amounts_are_not_a_unit_mistake(value):
    assert wrong_unit(value, 45_312.67) is None
    refuse_wrong_unit(value, 45_312.67)


def test_a_small_amount_is_not_mistaken_for_thousands():
    assert wrong_unit(0.12, 500) is None and wrong_unit(0.5, 500) is not None


# --- running the participant's own code --------------------------------------------------------------


def _raises(error):
    def participant_code(*args):
        raise error
    return participant_code


@pytest.mark.parametrize("error, named", [
    (ValueError("could not convert string to float: 'yes'"), "ValueError: could not convert string"),
    (SystemExit(2), "SystemExit (sys.exit or exit, code 2)"),
    (KeyboardInterrupt(), "KeyboardInterrupt"),
    (GeneratorExit(), "GeneratorExit"),
])
def test_whatever_participant_code_raises_is_named_as_wrong(error, named):
    message = _refused(lambda: run_participant(_raises(error), ("x",), what="your gate, on a.csv,"),
                       f"your gate, on a.csv, raised {named}", "in a cell of its own")
    assert "Traceback" not in message


def test_pytest_fail_in_participant_code_is_named_as_wrong():
    def test_prices(client):
        pytest.fail("prices differ")

    _refused(lambda: run_participant(test_prices, ("client",), what="your test"),
             "your test raised Failed (pytest.fail): prices differ")


def test_exceptions_the_checker_reads_itself_are_let_through():
    with pytest.raises(AssertionError):
        run_participant(_raises(AssertionError("no")), let_through=failure_types())
    with pytest.raises(pytest.fail.Exception):
        run_participant(lambda: pytest.fail("no"), let_through=failure_types())
    assert run_participant(lambda a, b=0: a + b, (1,), {"b": 2}) == 3


def test_the_stop_button_still_stops_participant_code():
    # A real SIGINT (the kernel's stop button) during their code stops the cell, as it should.
    def long_running():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # interrupted at once

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        run_participant(long_running)
    assert signal.getsignal(signal.SIGINT) is handler


def test_evaluate_turns_base_exceptions_from_a_checker_into_wrong():
    def exits(answer):
        raise SystemExit(1)

    def fails(answer):
        pytest.fail("not like that")

    for checker, named in ((exits, "SystemExit"), (fails, "Failed (pytest.fail): not like that")):
        outcome = Question("q3", "99", checker, hints=[]).evaluate(1)
        assert outcome.status is Status.WRONG and named in outcome.message, outcome.text()


def test_evaluate_lets_the_stop_button_stop_the_cell():
    def interrupted(answer):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Question("q3", "99", interrupted, hints=[]).evaluate(1)
