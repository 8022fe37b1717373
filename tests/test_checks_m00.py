"""Module 00's questions: each one proven not attempted, wrong (a plausible mistake) and correct."""

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
