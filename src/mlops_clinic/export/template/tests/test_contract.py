"""The data contract refuses bad rows with the file, the line, the column and the fix: these
are the checks that stop a broken data release before it trains a model."""

import re

import pandas as pd
import pytest

from contract import SCHEMA, Checker, example_row, typed


def text_rows(n: int = 3) -> pd.DataFrame:
    """n valid rows written as a CSV would hold them (text)."""
    row = {}
    for name, value in example_row().items():
        column = SCHEMA.by_name[name]
        row[name] = (column.values[0] if value else column.values[1]) if column.type == "boolean" else str(value)
    frame = pd.DataFrame([row] * n)
    target = SCHEMA.by_name[SCHEMA.target]
    frame[SCHEMA.target] = target.values[0] if target.values else str(target.example if target.example is not None else 0)
    if SCHEMA.id:
        frame.insert(0, SCHEMA.id, [identifier(i) for i in range(n)])
    for column in SCHEMA.columns:
        if column.type == "text":
            frame[column.name] = "free text"
    return frame[[c for c in SCHEMA.header]]


def identifier(i: int) -> str:
    """The i-th identifier shaped like the schema's example (P000123 -> P000124, ...)."""
    example = str(SCHEMA.by_name[SCHEMA.id].example or "row-0")
    digits = re.search(r"\d+$", example)
    if digits is None:
        return f"{example}-{i}"
    return example[:digits.start()] + str(int(digits.group()) + i).zfill(len(digits.group()))


def problems(frame: pd.DataFrame) -> list[str]:
    checker = Checker("data.csv")
    checker.check_header(frame.columns)
    checker.check(frame)
    checker.finish()
    return [str(p) for p in checker.listed]


def test_valid_rows_pass_and_keep_their_types():
    frame = text_rows()
    assert problems(frame) == []
    assert list(typed(frame).columns) == SCHEMA.header


def test_a_missing_column_is_named():
    column = SCHEMA.features[0]
    found = problems(text_rows().drop(columns=[column]))
    assert any(f"column '{column}'" in p and "missing" in p for p in found), found


def test_a_bad_value_is_located_by_line_and_column():
    frame = text_rows()
    column = SCHEMA.by_name[SCHEMA.features[0]]
    frame.loc[1, column.name] = "not valid ¤"
    found = problems(frame)
    assert any(p.startswith(f"data.csv line 3, column '{column.name}'") for p in found), found


def test_repeated_identifiers_are_refused():
    if SCHEMA.id is None:
        pytest.skip("the data has no identifier column")
    frame = text_rows()
    frame.loc[2, SCHEMA.id] = frame.loc[0, SCHEMA.id]
    assert any("already appears on line 2" in p for p in problems(frame))
