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


# --- each question: valid alternatives accepted, plausible mistakes named (issue 15) ----------------


def test_q1_alternative_ways_of_counting(houses):
    _assert(q1.evaluate(houses["airconditioning"].value_counts()["yes"]), Status.CORRECT)
    _assert(q1.evaluate(len(houses[houses["airconditioning"] == "yes"])), Status.CORRECT)
    _assert(q1.evaluate(houses.query("airconditioning == 'yes'").shape[0]), Status.CORRECT)


def test_q1_plausible_mistakes_are_named(houses):
    with_ac = (houses["airconditioning"] == "yes")
    _assert(q1.evaluate(with_ac.mean()), Status.WRONG, "SHARE", "how many")
    _assert(q1.evaluate(100 * with_ac.mean()), Status.WRONG, "SHARE", "percentage")
    _assert(q1.evaluate(int((houses["airconditioning"] == "Yes").sum())), Status.WRONG, "matched none",
            "lower-case")
    _assert(q1.evaluate(int((houses["airconditioning"] != "yes").sum())), Status.WRONG, "WITHOUT")


def test_q2_alternative_ways_of_taking_the_medians(houses):
    import decimal

    furnished = houses.loc[houses["furnishingstatus"] == "furnished", "price"].median()
    unfurnished = houses.query("furnishingstatus == 'unfurnished'")["price"].median()
    _assert(q2.evaluate(furnished - unfurnished), Status.CORRECT)
    table = houses.pivot_table(index="furnishingstatus", values="price", aggfunc="median")["price"]
    _assert(q2.evaluate(int(table["furnished"] - table["unfurnished"])), Status.CORRECT)
    _assert(q2.evaluate(decimal.Decimal(str(furnished - unfurnished))), Status.CORRECT)


def test_q2_plausible_mistakes_are_named(houses):
    medians = houses.groupby("furnishingstatus")["price"].median()
    _assert(q2.evaluate(medians["furnished"] - medians["semi-furnished"]), Status.WRONG,
            "semi-furnished", "unfurnished ones")
    _assert(q2.evaluate(medians["semi-furnished"] - medians["unfurnished"]), Status.WRONG,
            "semi-furnished with unfurnished")
    _assert(q2.evaluate(medians["furnished"]), Status.WRONG, "median price of furnished houses itself")


def test_q3_alternative_ways_of_counting_rows():
    import pandas as pd

    problems = load("traffic/data_quality", strict=False).attrs["problems"]
    rows = {p.row for p in problems}
    _assert(q3.evaluate(pd.Series([p.row for p in problems]).nunique()), Status.CORRECT)
    _assert(q3.evaluate(len(set(p.row for p in problems))), Status.CORRECT)
    _assert(q3.evaluate(float(len(rows))), Status.CORRECT)


def test_q3_plausible_mistakes_are_named():
    incident = load("traffic/data_quality", strict=False)
    problems = incident.attrs["problems"]
    _assert(q3.evaluate(len(incident)), Status.WRONG, "every row of the batch")
    _assert(q3.evaluate(len({p.column for p in problems})), Status.WRONG, "columns with a problem")
    _assert(q3.evaluate(len(problems)), Status.WRONG, "counts problems")
