"""Module 00 questions: a first look at the data and at what validation catches."""

from __future__ import annotations

import numbers

from mlops_clinic.checks.core import (
    Question, Wrong, as_count, as_number, pounds, refuse_wrong_unit, show_number,
)


def _reference():
    from mlops_clinic.data import load

    return load("houses_reference")


def _is_share_of(answer, share: float) -> bool:
    """Whether the answer is `share` (a fraction or a percentage) where a count is asked."""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return False
    return any(abs(float(answer) - share * scale) < 1e-3 * scale for scale in (1, 100))


def _check_aircon(n_aircon) -> str:
    houses = _reference()
    with_ac = int((houses["airconditioning"] == "yes").sum())
    if _is_share_of(n_aircon, with_ac / len(houses)):
        raise Wrong(f"{show_number(n_aircon)} is the SHARE of houses with air conditioning (a "
                    "fraction or a percentage); the question asks how many: count them (.sum() "
                    "of the True/False column).")
    n_aircon = as_count(n_aircon, "a whole number of houses")
    if n_aircon == len(houses):
        raise Wrong("that is every house in the file. Keep only the rows where "
                    "airconditioning == 'yes', then count them.")
    if n_aircon == len(houses) - with_ac:
        raise Wrong("that is the number of houses WITHOUT air conditioning.")
    if n_aircon == 0:
        raise Wrong("0 houses: the comparison matched none. The column holds lower-case 'yes' and "
                    "'no' (houses['airconditioning'].unique() shows them): compare with exactly 'yes'.")
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
    for pair in (("furnished", "semi-furnished"), ("semi-furnished", "unfurnished")):
        if abs(abs(value) - abs(median[pair[0]] - median[pair[1]])) < 1:
            raise Wrong(f"that compares {pair[0]} with {pair[1]} houses; the question compares "
                        "furnished with unfurnished ones.")
    if abs(value - median["furnished"]) < 1:
        raise Wrong("that is the median price of furnished houses itself; subtract the median of "
                    "the unfurnished ones from it.")
    raise Wrong(f"{pounds(value)} is not the difference of the two medians. Group the prices by "
                "furnishingstatus and take .median() of each group.")


def _check_bad_rows(n_bad_rows) -> str:
    from mlops_clinic.data import load

    incident = load("traffic/data_quality", strict=False)
    problems = incident.attrs["problems"]
    rows = {p.row for p in problems if p.row is not None}
    value = as_count(n_bad_rows, "a whole number of rows")
    if value == len(incident) and value != len(rows):
        raise Wrong(f"{value:,} is every row of the batch; count only the rows that have at least "
                    "one problem (the .row of each problem).")
    if value == len({p.column for p in problems}) and value != len(rows):
        raise Wrong(f"{value:,} is the number of columns with a problem; the question counts the "
                    "distinct ROWS (the .row of each problem).")
    if value == len(problems) and len(problems) != len(rows):
        raise Wrong(f"{value:,} counts problems, and some rows have more than one. Count the "
                    "distinct rows (the .row of each problem).")
    if value != len(rows):
        raise Wrong(f"{value:,} is not the number of distinct rows with a problem. "
                    "Collect the .row of each problem in a set and count it.")
    return (f"{len(rows)} of the batch's rows would have reached the model with bad values. "
            "Module 03 refuses them at the door.")


q1 = Question("q1", "00", _check_aircon, hints=[
    "The reference data is loaded already, as `houses`. The column airconditioning holds 'yes' or "
    "'no': houses['airconditioning'].unique() shows them.",
    "Comparing a column with a value gives one True/False per house, as in the lesson's figure "
    "(section 'The data'). Count the houses where it is True.",
    "Two ways to count with a True/False column: len(frame[mask]) counts the rows it keeps, and "
    "mask.sum() counts the Trues (True counts as 1). For example, (houses['bedrooms'] >= 4).sum() "
    "counts the houses with four bedrooms or more.",
])

q2 = Question("q2", "00", _check_premium, hints=[
    "groupby('furnishingstatus') splits the houses by furnishing status; each group has its own prices.",
    "Select the price column of the groups and take .median(): one median per status, in a Series "
    "whose labels are the statuses.",
    "series['label'] picks one value of a Series by its label: take two of them and subtract, the "
    "furnished median minus the unfurnished one. For example, houses.groupby('mainroad')['area'].mean() "
    "gives a mean area per value of mainroad, and ['yes'] picks one of them.",
])

q3 = Question("q3", "00", _check_bad_rows, hints=[
    "`problems` (the cell above) is a list with one entry per problem found: a row with two bad "
    "values appears twice in it.",
    "Each problem has a .row (its line in the file). Collect them in a set, which keeps each value "
    "once, and count that.",
    "A set comprehension, {f(item) for item in items}, builds a set from a list; len() counts it. For "
    "example, len({word.lower() for word in ['Yes', 'yes', 'no']}) is 2.",
])

QUESTIONS = (q1, q2, q3)
