"""Module 00 questions: a first look at the data and at what validation catches."""

from __future__ import annotations

from mlops_clinic.checks.core import (
    Question, Wrong, as_count, as_number, pounds, refuse_wrong_unit, show_number,
)


def _reference():
    from mlops_clinic.data import load

    return load("houses_reference")


def _check_aircon(n_aircon) -> str:
    houses = _reference()
    with_ac = int((houses["airconditioning"] == "yes").sum())
    n_aircon = as_count(n_aircon, "a whole number of houses")
    if n_aircon == len(houses):
        raise Wrong("that is every house in the file. Keep only the rows where "
                    "airconditioning == 'yes', then count them.")
    if n_aircon == len(houses) - with_ac:
        raise Wrong("that is the number of houses WITHOUT air conditioning.")
    if n_aircon != with_ac:
        raise Wrong(f"{show_number(n_aircon)} is not the count. Compare the column with the exact "
                    "string 'yes'.")
    return f"{with_ac} of {len(houses)} houses have air conditioning."


def _check_premium(furnished_premium) -> str:
    houses = _reference()
    by_status = houses.groupby("furnishingstatus")["price"]
    median = by_status.median()
    mean = by_status.mean()
    expected = median["furnished"] - median["unfurnished"]
    value = as_number(furnished_premium, "a difference in pounds")
    if abs(value - expected) < 1:
        return (f"furnished houses sell for £{expected:,.0f} more at the median. "
                "Medians resist the few very expensive houses that would pull a mean.")
    refuse_wrong_unit(value, expected)
    if abs(value + expected) < 1:
        raise Wrong("the sign is reversed: subtract the unfurnished median from the furnished one.")
    if abs(value - (mean["furnished"] - mean["unfurnished"])) < 1:
        raise Wrong("that is the difference of the MEANS; the question asks for medians.")
    raise Wrong(f"{pounds(value)} is not the difference of the two medians. Group the prices by "
                "furnishingstatus and take .median() of each group.")


def _check_bad_rows(n_bad_rows) -> str:
    from mlops_clinic.data import load

    problems = load("traffic/data_quality", strict=False).attrs["problems"]
    rows = {p.row for p in problems if p.row is not None}
    value = as_count(n_bad_rows, "a whole number of rows")
    if value == len(problems) and len(problems) != len(rows):
        raise Wrong(f"{value:,} counts problems, and some rows have more than one. Count the "
                    "distinct rows (the .row of each problem).")
    if value != len(rows):
        raise Wrong(f"{value:,} is not the number of distinct rows with a problem. "
                    "Collect the .row of each problem in a set and count it.")
    return (f"{len(rows)} of the batch's rows would have reached the model with bad values. "
            "Module 03 refuses them at the door.")


q1 = Question("q1", "00", _check_aircon, hints=[
    "Load the reference data with load('houses_reference').",
    "houses['airconditioning'] == 'yes' gives True/False per house; .sum() counts the Trues.",
])

q2 = Question("q2", "00", _check_premium, hints=[
    "groupby('furnishingstatus') splits the houses by furnishing.",
    "houses.groupby('furnishingstatus')['price'].median() gives one median per status; "
    "subtract the 'unfurnished' one from the 'furnished' one.",
])

q3 = Question("q3", "00", _check_bad_rows, hints=[
    "load('traffic/data_quality', strict=False) returns the rows; .attrs['problems'] lists what is wrong.",
    "Each problem has a .row (its line in the file). A set of them counts each row once.",
])

QUESTIONS = (q1, q2, q3)
