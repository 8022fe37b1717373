"""Module 00's questions: each one proven not attempted, wrong (a plausible mistake) and correct; the open
question (q4) with good answers of several kinds and a mistake for each of its rules."""

import numpy as np
import pytest

from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m00 import q1, q2, q3, q4
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


# --- q4, an open question: a check for faulty data you have not seen -------------------------------------

REASONS = ("A faulty row that reaches the model moves a quote by tens of thousands of pounds, while a "
           "flagged clean row costs a two-minute review, so I test every kind of fault the schema names.")

RULE_ROWS = "returns one True/False per row, on the batch's own index, and leaves the batch as it was"
RULE_CAUGHT = "flags at least 90% of the faulty rows of an incident batch it has not seen"
RULE_QUIET = "flags at most 2% of a clean batch it has not seen (each false alarm costs a review)"
RULE_REASONS = "says why, in at least 15 words, naming the figures weighed"


def _missed(outcome):
    return [r.says for r in outcome.rules if not r.met]


def schema_check(batch):
    """The solution's kind of answer: the schema's ranges and allowed values, and duplicates."""
    from mlops_clinic.data import CATEGORIES, COLUMNS, FEATURES

    flags = batch[list(FEATURES)].isna().any(axis=1)
    for name in ("area", "bedrooms", "bathrooms", "stories", "parking"):
        flags |= ~batch[name].between(COLUMNS[name].min, COLUMNS[name].max)
    for name, allowed in CATEGORIES.items():
        flags |= ~batch[name].isin(allowed)
    return flags | batch.duplicated("house_id")


def test_q4_not_attempted():
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(____, ____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(schema_check, ____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(lambda batch: ____, REASONS), Status.NOT_ATTEMPTED, "still returns ____")


def test_q4_the_solution_is_correct():
    outcome = q4.evaluate(schema_check, REASONS)
    _assert(outcome, Status.CORRECT, "4 of 4 rules met (9 of 9 points)")
    assert outcome.justification == REASONS


def test_q4_the_kits_own_validation_row_by_row_is_a_good_answer_too():
    from mlops_clinic.data import validate

    def by_the_validator(batch):
        lines = {problem.row for problem in validate(batch) if problem.row is not None}
        return [line in lines for line in range(2, len(batch) + 2)]  # a list, in row order

    _assert(q4.evaluate(by_the_validator, REASONS), Status.CORRECT)


def test_q4_limits_from_the_reference_data_with_a_margin_are_a_good_answer_too(houses):
    def like_the_reference(batch):
        # Wider than anything seen in training by a quarter, values seen in training, both copies of a
        # request sent twice; a numpy array.
        area = batch["area"]
        flags = batch.isna().any(axis=1) | ~area.between(0.75 * houses["area"].min(), 1.25 * houses["area"].max())
        for name in ("mainroad", "guestroom", "basement", "hotwaterheating", "airconditioning", "prefarea",
                     "furnishingstatus"):
            flags |= ~batch[name].isin(houses[name].unique())
        flags |= batch.duplicated("house_id", keep=False)
        return flags.to_numpy()

    _assert(q4.evaluate(like_the_reference, REASONS), Status.CORRECT)


def test_q4_a_series_in_another_order_is_read_by_its_index():
    _assert(q4.evaluate(lambda batch: schema_check(batch).iloc[::-1], REASONS), Status.CORRECT)


def test_q4_only_missing_values_misses_the_faults_a_schema_names():
    outcome = q4.evaluate(lambda batch: batch.isna().any(axis=1), REASONS)
    _assert(outcome, Status.WRONG, "it flags 40 of the 120 faulty rows (33%)", "yes/no written in capitals")
    assert _missed(outcome) == [RULE_CAUGHT]


def test_q4_the_lessons_bad_rows_learnt_by_heart_miss_an_unseen_batch():
    lesson = load("traffic/data_quality", strict=False)
    bad_ids = set(lesson["house_id"].iloc[[p.row - 2 for p in lesson.attrs["problems"]]])
    outcome = q4.evaluate(lambda batch: batch["house_id"].isin(bad_ids), REASONS)
    _assert(outcome, Status.WRONG, "it flags 0 of the 120 faulty rows (0%)")
    assert _missed(outcome) == [RULE_CAUGHT]


def test_q4_limits_from_the_reference_percentiles_raise_false_alarms(houses):
    low, high = houses["area"].quantile([0.02, 0.98])
    outcome = q4.evaluate(lambda batch: schema_check(batch) | ~batch["area"].between(low, high), REASONS)
    _assert(outcome, Status.WRONG, "on a clean batch it flags", "more than 2%", "load('traffic/stable')")
    assert _missed(outcome) == [RULE_QUIET]


def test_q4_flagging_everything_catches_all_and_is_too_noisy():
    import pandas as pd

    outcome = q4.evaluate(lambda batch: pd.Series(True, index=batch.index), REASONS)
    _assert(outcome, Status.WRONG, "it flags 1,000 of the 1,000 rows (100%)")
    assert _missed(outcome) == [RULE_QUIET]


def test_q4_cleaning_the_batch_in_place_changes_what_reaches_the_model():
    def lower_in_place(batch):
        batch["mainroad"] = batch["mainroad"].str.lower()
        return schema_check(batch)

    outcome = q4.evaluate(lower_in_place, REASONS)
    _assert(outcome, Status.WRONG, "it changed the batch it was given (column 'mainroad')")
    assert _missed(outcome) == [RULE_ROWS]


def test_q4_flags_on_a_fresh_index_cannot_be_matched_to_rows():
    import pandas as pd

    outcome = q4.evaluate(lambda batch: pd.Series(schema_check(batch).to_numpy()), REASONS)
    _assert(outcome, Status.WRONG, "its Series is not on the batch's index", "index=batch.index")
    assert _missed(outcome) == [RULE_ROWS, RULE_CAUGHT, RULE_QUIET]


def test_q4_results_that_are_not_one_true_false_per_row():
    for function, says in [(lambda batch: schema_check(batch).sum(), "it returned 120"),
                           (lambda batch: None, "it returned None"),
                           (lambda batch: batch.isna(), "give one True/False per ROW"),
                           (lambda batch: batch["area"].isna().to_numpy()[:10], "for a batch of 1,000 rows"),
                           (lambda batch: batch["area"].where(batch["area"] > 0), "are not True/False")]:
        outcome = q4.evaluate(function, REASONS)
        _assert(outcome, Status.WRONG, says)
        assert _missed(outcome) == [RULE_ROWS, RULE_CAUGHT, RULE_QUIET]


def test_q4_reasons_too_short():
    outcome = q4.evaluate(schema_check, "schema rules")
    _assert(outcome, Status.WRONG, "your reasons have 2 word(s)")
    assert _missed(outcome) == [RULE_REASONS]


def test_q4_flags_instead_of_a_function_or_a_function_that_fails():
    incident = load("traffic/data_quality", strict=False)
    outcome = q4.evaluate(schema_check(incident), REASONS)
    _assert(outcome, Status.WRONG, "expected your function suspicious", "got a pandas Series with 1,000 values")
    assert _missed(outcome) == [RULE_ROWS, RULE_CAUGHT, RULE_QUIET]
    outcome = q4.evaluate(lambda batch: batch.attrs["problems"], REASONS)
    _assert(outcome, Status.WRONG, "suspicious(batch) raised KeyError", "in a cell of its own")
    _assert(q4.evaluate("schema_check", REASONS), Status.WRONG, 'got the text "schema_check"')


def test_q4_the_unseen_batches_are_new_and_carry_values_only():
    from mlops_clinic.checks.m00 import INDEX_START, _unseen

    incident, clean = _unseen("incident"), _unseen("clean")
    lesson = load("traffic/data_quality", strict=False)
    assert len(incident.faults) == 120 and clean.faults == {}
    assert not set(incident.rows["house_id"]) & set(lesson["house_id"])
    assert incident.rows.index[0] == INDEX_START and not incident.rows.attrs
    assert set(incident.faults.values()) == {"missing_value", "not_a_number", "out_of_range", "wrong_case",
                                              "unknown_category", "duplicate_id"}
