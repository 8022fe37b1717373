"""Module 00 questions: a first look at the data and at what validation catches, and an open
question: a check of your own for faulty data you have not seen."""

from __future__ import annotations

import collections
import functools
import numbers
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_clinic.checks.core import (
    NotAttempted, Question, Wrong, as_count, as_number, describe, is_blank, pounds, refuse_wrong_unit,
    run_participant, show_number,
)
from mlops_clinic.checks.open_questions import OpenQuestion, Rule

if TYPE_CHECKING:  # pandas is imported when a check runs: `clinic progress` lists questions without it
    import pandas as pd


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


# --- q4, an open question: a check for faulty data you have not seen ---------------------------------
#
# The participant writes suspicious(batch): one True/False per row, True for a row they would not let
# reach the model. The check runs it on two batches no lesson shows, made by the kit's own generator
# from seeds and house ids no lesson uses: an incident (the data_quality scenario's faults) and a clean
# batch. The faulty rows are the ones the kit's schema check names, as in question 3.

UNSEEN_SEEDS = {"incident": 20261104, "clean": 20261105}
UNSEEN_IDS = {"incident": 900_001, "clean": 910_001}
UNSEEN_ROWS = 1_000
# The batches are slices of a longer log, so their index does not start at 0: a function that builds
# its answer on a fresh 0, 1, 2... index is caught here, not in production.
INDEX_START = 40_000
MIN_CAUGHT = 0.90       # share of the incident's faulty rows to flag
MAX_FALSE_ALARMS = 0.02  # share of a clean batch it may flag: each one is a review nobody needed

# Each kind of problem the schema check names, as the participant sees it in the loaded batch.
FAULT_WORDS = {
    "missing_value": "empty cells",
    "not_a_number": "numbers written as text such as '3,850' (NaN once loaded)",
    "out_of_range": "areas outside the schema's range (negative, or 100 times too big)",
    "wrong_case": "yes/no written in capitals ('YES')",
    "unknown_category": "a furnishing status that is none of the three known ones",
    "duplicate_id": "requests sent twice (a house_id already seen in the batch)",
}


@dataclass(frozen=True)
class UnseenBatch:
    """A batch the participant's function meets for the first time, and the kind of fault of each
    faulty row (by index label; empty for the clean batch)."""

    rows: pd.DataFrame
    faults: dict


@dataclass(frozen=True)
class Trial:
    """What suspicious(batch) did with the two unseen batches: its flags (None when they cannot be
    read as one True/False per row), why not, and the columns it changed in the batch it was given."""

    incident: UnseenBatch
    clean: UnseenBatch
    incident_flags: pd.Series | None
    clean_flags: pd.Series | None
    unreadable: str | None
    changed: tuple[str, ...]


def _generated(kind: str) -> pd.DataFrame:
    from mlops_clinic.data import generate_traffic

    scenario = "data_quality" if kind == "incident" else "stable"
    features, _ = generate_traffic(scenario, UNSEEN_ROWS, seed=UNSEEN_SEEDS[kind], id_start=UNSEEN_IDS[kind])
    return features


@functools.lru_cache(maxsize=None)
def _unseen(kind: str) -> UnseenBatch:
    """The batch as `load(..., strict=False)` gives it, read from a CSV in the workspace's temporary
    folder (the loader reads files), with its problems taken off: a batch arriving from upstream
    carries values, not a list of what is wrong with them."""
    import pandas as pd

    from mlops_clinic.data import load
    from mlops_clinic.data.generate import to_csv_bytes
    from mlops_clinic.workspace import Workspace

    folder = Workspace.resolve().tmp
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix="unseen-") as tmp:
        path = Path(tmp) / f"{kind}.csv"
        path.write_bytes(to_csv_bytes(_generated(kind)))
        batch = load(path, strict=False)
    faults = {}
    for problem in batch.attrs["problems"]:
        if problem.row is not None:  # line numbers: the first data row is line 2
            faults.setdefault(INDEX_START + problem.row - 2, problem.kind)
    batch.attrs.clear()
    batch.index = pd.RangeIndex(INDEX_START, INDEX_START + len(batch))
    return UnseenBatch(batch, faults)


def _as_flags(result, batch: pd.DataFrame) -> tuple[pd.Series | None, str | None]:
    """The function's result as one bool per row on the batch's index, or why it cannot be read so.
    A Series must carry the batch's index; an array or a list is read in row order."""
    import numpy as np
    import pandas as pd

    n = len(batch)
    if result is None:
        return None, "it returned None: is the `return` line missing?"
    if isinstance(result, pd.DataFrame):
        return None, (f"it returned {describe(result)}: give one True/False per ROW, for example by "
                      "combining the columns' tests with .any(axis=1).")
    if isinstance(result, pd.Series):
        if len(result) != n:
            return None, f"it returned {describe(result)} for a batch of {n:,} rows: give one True/False per row."
        if not result.index.equals(batch.index):
            if set(result.index) != set(batch.index):
                return None, ("its Series is not on the batch's index (the batch's index does not start "
                              "at 0): build each test from the batch's columns, or pass index=batch.index.")
            result = result.reindex(batch.index)
        values = result.to_numpy()
    elif isinstance(result, (np.ndarray, list, tuple)):
        values = np.asarray(result, dtype=object)
        if values.ndim != 1 or len(values) != n:
            return None, f"it returned {describe(result)} for a batch of {n:,} rows: give one True/False per row."
    else:
        return None, (f"it returned {describe(result)}: give one True/False per row (a pandas Series on "
                      "the batch's index), not a single value.")
    if not all(isinstance(v, (bool, np.bool_)) for v in values):
        return None, ("some of its values are not True/False (NaN, numbers or text): a missing value "
                      "compared with == gives False, but arithmetic gives NaN; end with .astype(bool) "
                      "only once every test is a comparison.")
    return pd.Series(values.astype(bool), index=batch.index), None


def _changed_columns(before: pd.DataFrame, after: pd.DataFrame) -> tuple[str, ...]:
    """The columns the function added, removed or changed in the batch it was given."""
    names = list(dict.fromkeys([*before.columns, *after.columns]))
    return tuple(str(c) for c in names
                 if c not in before or c not in after or not before[c].equals(after[c]))


def _try_on_unseen(suspicious) -> Trial:
    """Run suspicious on a copy of each unseen batch: the flags, and any change it made to the copy."""
    import pandas as pd

    if isinstance(suspicious, (pd.Series, pd.DataFrame)) or not callable(suspicious):
        raise Wrong(f"expected your function suspicious (its name, without brackets), got "
                    f"{describe(suspicious)}: the check runs it on batches you have not seen, so "
                    "write def suspicious(batch): ... return ... and pass suspicious.")
    incident, clean = _unseen("incident"), _unseen("clean")
    flags, unreadable, changed = [], None, ()
    for batch in (incident, clean):
        given = batch.rows.copy(deep=True)
        result = run_participant(suspicious, (given,), what="suspicious(batch)",
                                 advice="Try it on load('traffic/data_quality', strict=False) in a cell "
                                        "of its own to see where it stops.")
        if is_blank(result):
            raise NotAttempted("suspicious(batch) still returns ____: write its tests, then return the flags.")
        changed = changed or _changed_columns(batch.rows, given)
        read, problem = _as_flags(result, batch.rows)
        flags.append(read)
        unreadable = unreadable or problem
    return Trial(incident, clean, flags[0], flags[1], unreadable, changed)


def _one_flag_per_row(trial: Trial) -> str | None:
    if trial.unreadable:
        return trial.unreadable
    if trial.changed:
        return (f"it changed the batch it was given (column {trial.changed[0]!r}): the batch must reach "
                "the model, or the review, as it came; build new Series instead of assigning into batch.")
    return None


def _share(count: int, total: int, what: str) -> str:
    return f"{count:,} of the {total:,} {what} ({count / total:.0%})"


def _catches_the_faults(trial: Trial) -> str | None:
    if trial.incident_flags is None:
        return "the flags cannot be counted yet: first return one True/False per row (the first rule)."
    faults = trial.incident.faults
    missed = [kind for row, kind in faults.items() if not trial.incident_flags[row]]
    caught = len(faults) - len(missed)
    if caught >= MIN_CAUGHT * len(faults):
        return None
    kinds = collections.Counter(missed).most_common(2)
    which = " and ".join(f"{FAULT_WORDS.get(kind, kind.replace('_', ' '))} ({count})" for kind, count in kinds)
    return (f"on an incident batch it has not seen, it flags {_share(caught, len(faults), 'faulty rows')}; "
            f"the rows it misses are mostly {which}: add a test for those.")


def _few_false_alarms(trial: Trial) -> str | None:
    if trial.clean_flags is None:
        return "the flags cannot be counted yet: first return one True/False per row (the first rule)."
    flagged = int(trial.clean_flags.sum())
    if flagged <= MAX_FALSE_ALARMS * len(trial.clean_flags):
        return None
    return (f"on a clean batch it flags {_share(flagged, len(trial.clean_flags), 'rows')}, more than "
            f"{MAX_FALSE_ALARMS:.0%}: run it on load('traffic/stable'), look at the rows it flags and widen "
            "the test that fires on real houses (the schema's ranges are wider than the reference's).")


q4 = OpenQuestion(
    "q4", "00", work=_try_on_unseen,
    rules=[
        Rule("returns one True/False per row, on the batch's own index, and leaves the batch as it was",
             _one_flag_per_row, points=2),
        Rule(f"flags at least {MIN_CAUGHT:.0%} of the faulty rows of an incident batch it has not seen",
             _catches_the_faults, points=3),
        Rule(f"flags at most {MAX_FALSE_ALARMS:.0%} of a clean batch it has not seen (each false alarm "
             "costs a review)", _few_false_alarms, points=3),
    ],
    look_for=[
        "which kinds of fault they test for, and why each matters to the model (capitals: "
        "training/serving skew; a request sent twice)",
        "where their limits come from (the schema's ranges, the reference data) and why not tighter",
        "the cost of a false alarm against a faulty row reaching the model, and what happens to a "
        "flagged row (held, fixed, dropped)",
    ],
    hints=[
        "Start from the kinds of problem in question 3's incident: each kind is one test on the batch's "
        "values. Try your function on load('traffic/data_quality', strict=False) and on "
        "load('traffic/stable'), a clean batch.",
        "Build one True/False Series per kind of fault, each from the batch's columns (so on its index), "
        "and combine them with |. The schema gives the allowed values: mlops_clinic.data.COLUMNS "
        "(ranges, .min and .max) and CATEGORIES.",
        "Methods: .isna() for empty cells; .between(low, high) for ranges; .isin(...) for the allowed "
        "text; .duplicated('house_id') for a request sent twice; .any(axis=1) to reduce across columns. "
        "Never assign into batch. Then check the share flagged on load('traffic/stable') stays under 2%.",
    ])

QUESTIONS = (q1, q2, q3, q4)
