"""Request and response models of the house-price services, derived from the data schema.

Nothing here re-types a column: each field of `House` is built from the `Column` records of
`mlops_clinic.data.schema`, the same records that validate the CSV files and write the data card.
Change a range or a category there and the service follows:

    integer columns   whole JSON numbers only (strict: 4600, not 4600.0, "4600" or true),
                      within the column's min..max
    yes/no columns    exactly "yes" or "no"; "YES", "Yes" or " yes" are refused with a message
                      that says why (BridgeAI's upper-case skew, see module 03)
    categories        exactly one of the allowed values, e.g. furnished / semi-furnished /
                      unfurnished
    extra fields      refused, so a typo ("bedroom") or a field the model does not use ("price")
                      is reported instead of silently ignored

Requests that break a rule get HTTP 400 before the model sees them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from mlops_clinic.data.schema import COLUMNS, FEATURES, ID, Column
from mlops_clinic.names import MODEL_NAME

MAX_BATCH = 1_000  # houses in one batch request; more is refused with a 400
UNUSUAL_SD = 3.0  # a feature this many standard deviations from its training mean is "unusual"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"  # request ids and batch labels
# The traffic files' days run from 1 to 10; the data schema bounds them below only. A request's
# day is logged as a SQLite INTEGER (at most 2**63 - 1): about a century of days is plenty, and
# a larger number is refused with a 400 instead of failing the log.
MAX_DAY = 36_600


def _exactly_one_of(column: Column):
    """A check that runs before the Literal: a value that only differs in case or spaces gets a
    message that names the fix, instead of the generic "Input should be ..."."""
    allowed = column.allowed or ()
    expected = " or ".join(f"'{value}'" for value in allowed)

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in allowed and value.strip().lower() in allowed:
            raise PydanticCustomError(
                "wrong_case",
                "'{value}' is not accepted: write exactly {expected}, lower case and without "
                "spaces, as in the training data (the model would treat '{value}' as an unseen "
                "value: training/serving skew)",
                {"value": value, "expected": expected},
            )
        return value

    return BeforeValidator(check)


def field_type(column: Column) -> Any:
    """The pydantic type of one column: its Python type, range or allowed values, and docs."""
    text = column.description + (f" ({column.unit})" if column.unit else "")
    if column.kind == "integer":
        return Annotated[int, Field(strict=True, ge=column.min, le=column.max, description=text,
                                    examples=[column.example])]
    if column.allowed is not None:
        return Annotated[Literal[column.allowed], _exactly_one_of(column),
                         Field(description=text, examples=[column.example])]
    raise ValueError(f"column {column.name!r} of kind {column.kind!r} is not a model feature")


EXAMPLE_HOUSE: dict[str, Any] = {name: COLUMNS[name].example for name in FEATURES}

House = create_model(
    "House",
    __doc__="One house, described by the twelve features the model was trained on.",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_HOUSE}),
    **{name: (field_type(COLUMNS[name]), ...) for name in FEATURES},
)

# A batch: at least one house, at most MAX_BATCH.
Houses = Annotated[list[House], Field(min_length=1, max_length=MAX_BATCH)]


class Prediction(BaseModel):
    """The model server's answer for one house."""

    price: float = Field(description="Estimated sale price (GBP)")
    model: str = Field(description="Registered model name", examples=[MODEL_NAME])
    model_version: str = Field(description="Registered model version that made this prediction",
                               examples=["1"])
    unusual: list[str] = Field(default_factory=list, description=(
        f"Features more than {UNUSUAL_SD:g} standard deviations from their training average: the "
        "model saw few houses like this one"))


# --- module 04: the prediction service ------------------------------------------------------------

RequestId = Annotated[str, Field(pattern=ID_PATTERN, description=(
    "Your id for this request (letters, digits and . _ : -, at most 64). Sending the same id "
    "again returns the first answer instead of predicting twice."))]
HouseId = Annotated[str, Field(pattern=COLUMNS[ID].pattern, description=COLUMNS[ID].description,
                               examples=[COLUMNS[ID].example])]
BatchLabel = Annotated[str, Field(pattern=ID_PATTERN, description=(
    "Where the request comes from, e.g. the traffic scenario replayed"))]
Day = field_type(replace(COLUMNS["day"], max=MAX_DAY))


class EstimateRequest(BaseModel):
    """A request to the prediction service: one house, and who is asking."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "request_id": "agent-42-0001", "house_id": "H000123", "house": EXAMPLE_HOUSE}})

    house: House
    request_id: RequestId | None = None
    house_id: HouseId | None = None
    batch: BatchLabel | None = None
    day: Day | None = Field(None, description="Day of the replayed traffic (recorded traffic only)")


EstimateRequests = Annotated[list[EstimateRequest], Field(min_length=1, max_length=MAX_BATCH)]


class Estimate(BaseModel):
    """The prediction service's answer: a price in pounds, traceable to a model version."""

    request_id: str = Field(description="The request's id (yours, or one the service made)")
    price_gbp: int = Field(description="Estimated sale price in GBP, rounded to the nearest "
                                       "£1,000 like the sale prices the model learnt from")
    currency: Literal["GBP"] = "GBP"
    model: str = Field(description="Registered model name")
    model_version: str = Field(description="Registered model version that made this estimate")
    warnings: list[str] = Field(default_factory=list, description=(
        "Why this estimate deserves care (e.g. a house unlike those the model was trained on)"))
    repeated: bool = Field(False, description="True when this request id was answered before: "
                                              "the first answer is returned, nothing is predicted")
