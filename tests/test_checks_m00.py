"""Module 00's questions: each one proven not attempted, wrong (a plausible mistake) and correct."""

import numpy as np
import pytest

from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m00 import q1, q2, q3
from mlops_clinic.data import load


@pytest.fixture(scope="module")
def houses():
    return load("houses_reference")


def test_q1_aircon(houses):
    right = int((houses["airconditioning"] == "yes").sum())
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate(len(houses) - right), Status.WRONG, "WITHOUT")
    _assert(q1.evaluate(len(houses)), Status.WRONG, "every house")
    _assert(q1.evaluate(houses["airconditioning"]), Status.WRONG, "whole number")
    _assert(q1.evaluate(right), Status.CORRECT, str(right))


def test_q2_furnished_premium(houses):
    medians = houses.groupby("furnishingstatus")["price"].median()
    means = houses.groupby("furnishingstatus")["price"].mean()
    right = medians["furnished"] - medians["unfurnished"]
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(-right), Status.WRONG, "sign")
    _assert(q2.evaluate(means["furnished"] - means["unfurnished"]), Status.WRONG, "MEANS")
    _assert(q2.evaluate(right), Status.CORRECT)


def test_q3_bad_rows():
    problems = load("traffic/data_quality", strict=False).attrs["problems"]
    rows = len({p.row for p in problems})
    assert rows < len(problems), "the data should have rows with several problems"
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(len(problems)), Status.WRONG, "distinct rows")
    _assert(q3.evaluate(rows + 1), Status.WRONG)
    _assert(q3.evaluate(rows), Status.CORRECT)


# --- answers in other forms (issue 15): the same verdict whatever the type, advice instead of errors ---


def test_q1_a_whole_float_is_the_count(houses):
    right = int((houses["airconditioning"] == "yes").sum())
    _assert(q1.evaluate(float(right)), Status.CORRECT, str(right))
    _assert(q1.evaluate(np.float64(right)), Status.CORRECT)


def test_q2_a_series_where_a_number_is_asked_says_how_to_take_the_value(houses):
    furnished = houses[houses["furnishingstatus"] == "furnished"].groupby("furnishingstatus")["price"].median()
    unfurnished = houses.loc[houses["furnishingstatus"] == "unfurnished", "price"].median()
    _assert(q2.evaluate(furnished - unfurnished), Status.WRONG, "a pandas Series with one value", "series.iloc[0]")


def test_q3_a_set_where_a_count_is_asked_says_to_count_it():
    problems = load("traffic/data_quality", strict=False).attrs["problems"]
    outcome = q3.evaluate({problem.row for problem in problems})
    _assert(outcome, Status.WRONG, "a set of", "len(...)")
    assert "TypeError" not in outcome.message


def test_a_share_is_echoed_with_its_digits_not_as_zero():
    _assert(q3.evaluate(0.12), Status.WRONG, "0.12")
    _assert(q2.evaluate(0.12), Status.WRONG, "£0.12 is not")


def test_q2_pence_and_thousands_of_pounds_are_named(houses):
    medians = houses.groupby("furnishingstatus")["price"].median()
    right = medians["furnished"] - medians["unfurnished"]
    _assert(q2.evaluate(right * 100), Status.WRONG, "pence", "give it in pounds")
    _assert(q2.evaluate(right / 1000), Status.WRONG, "thousands of pounds")
    _assert(q2.evaluate(round(right / 1000, 1)), Status.WRONG, "thousands of pounds")


def test_text_where_a_number_is_asked_is_refused_by_every_question_alike(houses):
    medians = houses.groupby("furnishingstatus")["price"].median()
    premium = medians["furnished"] - medians["unfurnished"]
    problems = load("traffic/data_quality", strict=False).attrs["problems"]
    rows = len({p.row for p in problems})
    aircon = int((houses["airconditioning"] == "yes").sum())
    for question, right in ((q1, aircon), (q2, premium), (q3, rows)):
        _assert(question.evaluate(str(right)), Status.WRONG, "got the text", "write ", "not \"")
    _assert(q2.evaluate(f"{premium:,.0f}"), Status.WRONG, '.replace(",", "")')
