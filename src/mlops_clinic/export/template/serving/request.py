"""The service's request model, generated from schema.yaml: the contract the data is checked
against is the one requests are checked against.

    integer   whole JSON numbers only (3, not 3.0, "3" or true), within min..max
    number    JSON numbers within min..max
    category  exactly one of the values schema.yaml lists; a value that differs only in case or
              spaces gets a message naming the right spelling (training/serving skew)
    boolean   JSON true or false
    date      "YYYY-MM-DD" within min..max
    nullable  null is accepted (the model fills the gap in); otherwise every feature is required
    extra     fields that are not features are refused, so a typo is reported, not ignored

Field names are the column names of the data, spaces and accents included.
"""

from datetime import date
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from contract import SCHEMA, Column, example_row, from_json, safe_name

MAX_BATCH = 1_000  # rows in one batch request
REQUEST_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


def _exactly_one_of(column: Column):
    allowed = column.values

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in allowed:
            match = [v for v in allowed if v.lower() == value.strip().lower()]
            if match:
                raise PydanticCustomError(
                    "wrong_spelling", "'{value}' is not accepted: write exactly '{expected}', as in "
                    "the training data (the model would treat '{value}' as an unseen value: "
                    "training/serving skew)", {"value": value, "expected": match[0]})
        return value

    return BeforeValidator(check)


def field_type(column: Column) -> Any:
    """The pydantic type of one feature, with its range or allowed values."""
    unit = f" ({column.unit})" if column.unit else ""
    text = (column.description or column.name) + unit
    if column.type == "integer":
        kind = Annotated[int, Field(strict=True, ge=column.min, le=column.max)]
    elif column.type == "number":
        kind = Annotated[float, Field(strict=True, ge=column.min, le=column.max, allow_inf_nan=False)]
    elif column.type == "boolean":
        kind = Annotated[bool, Field(strict=True)]
    elif column.type == "date":
        low, high = (None if b is None else pd.Timestamp(b).date() for b in (column.min, column.max))
        kind = Annotated[date, Field(strict=True, ge=low, le=high)]
    else:
        kind = Annotated[Literal[column.values], _exactly_one_of(column)]
    if column.nullable:
        kind = kind | None
    return kind, Field(alias=column.name, description=text)


def _fields() -> dict[str, tuple]:
    fields, taken = {}, set()
    for name in SCHEMA.features:
        key = safe_name(name)
        while key in taken:  # two names that differ only in punctuation
            key += "_"
        taken.add(key)
        fields[key] = field_type(SCHEMA.by_name[name])
    return fields


Features = create_model(
    "Features",
    __doc__=f"One row: the {len(SCHEMA.features)} features the model was trained on.",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"example": example_row()}),
    **_fields(),
)

RequestId = Annotated[str, Field(pattern=REQUEST_ID, description=(
    "Your id for this request (letters, digits and . _ : -, at most 64); the outcome, when it is "
    "known, is recorded under it for monitoring"))]


class Request(BaseModel):
    """One row to predict, and an optional id for it."""

    model_config = ConfigDict(extra="forbid")
    features: Features
    request_id: RequestId | None = None


Requests = Annotated[list[Request], Field(min_length=1, max_length=MAX_BATCH)]


def rows(features: list[BaseModel]) -> pd.DataFrame:
    """Requests as typed rows, by the same function as the pipeline's data (contract.from_json):
    both reach the model identically."""
    return from_json([item.model_dump(mode="json", by_alias=True) for item in features])
