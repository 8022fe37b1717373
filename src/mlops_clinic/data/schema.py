"""The house-price schema, written as data.

The kit mirrors the schema of the BridgeAI (Digital Catapult) house-price dataset, not its rows.
Every other artefact is derived from the `Column` records below: validation (load.py), the data
card table (datasets/README.md, kept in sync by a test), and later the service's pydantic request
model. Change a range or a category here and all of them follow.
"""

from __future__ import annotations

from dataclasses import dataclass

YES_NO = ("yes", "no")
FURNISHING = ("furnished", "semi-furnished", "unfurnished")


@dataclass(frozen=True)
class Column:
    """One column of the kit's CSV files.

    kind is one of:
      "id"        text identifier matching `pattern`
      "integer"   whole number, optionally bounded by min/max (inclusive)
      "yes_no"    exactly the lower-case strings "yes" or "no"
      "category"  one of `allowed`, spelled exactly
    role says what the column is for: "identifier", "time", "feature" or "target".
    """

    name: str
    kind: str
    role: str
    description: str
    unit: str | None = None
    min: int | None = None
    max: int | None = None
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    example: str | int | None = None

    @property
    def python_type(self) -> type:
        """The Python type a request model should use for this column."""
        return int if self.kind == "integer" else str

    @property
    def values_text(self) -> str:
        """Range or allowed values in words, for the data card and error messages."""
        if self.allowed is not None:
            return ", ".join(f"`{v}`" for v in self.allowed)
        if self.kind == "integer":
            if self.min is not None and self.max is not None:
                return f"{self.min:,} to {self.max:,}"
            if self.min is not None:
                return f"{self.min:,} or more"
            return "any whole number"
        if self.pattern is not None:
            return f"`{self.example}` (H and 6+ digits)"
        return ""


_COLUMNS = (
    Column("house_id", "id", "identifier",
           "Identifier of the house; unique across every file the kit ships",
           pattern=r"^H[0-9]{6,}$", example="H000123"),
    Column("day", "integer", "time",
           "Day the prediction request arrived, counted from 1 = the day the model went live "
           "(traffic files only)", unit="day", min=1, example=3),
    Column("day_sold", "integer", "time",
           "Day the sale completed and its price became known; never before `day` "
           "(label files only)", unit="day", min=1, example=9),
    Column("area", "integer", "feature", "Floor area of the house", unit="square feet",
           min=1_500, max=16_000, example=4_600),
    Column("bedrooms", "integer", "feature", "Number of bedrooms", min=1, max=6, example=3),
    Column("bathrooms", "integer", "feature", "Number of bathrooms", min=1, max=4, example=1),
    Column("stories", "integer", "feature", "Number of storeys (floors)", min=1, max=4, example=2),
    Column("mainroad", "yes_no", "feature", "Faces a main road", allowed=YES_NO, example="yes"),
    Column("guestroom", "yes_no", "feature", "Has a guest room", allowed=YES_NO, example="no"),
    Column("basement", "yes_no", "feature", "Has a basement", allowed=YES_NO, example="no"),
    Column("hotwaterheating", "yes_no", "feature", "Has hot-water (gas boiler) heating",
           allowed=YES_NO, example="no"),
    Column("airconditioning", "yes_no", "feature", "Has air conditioning", allowed=YES_NO,
           example="no"),
    Column("parking", "integer", "feature", "Off-street parking spaces", min=0, max=3, example=1),
    Column("prefarea", "yes_no", "feature", "In a preferred (sought-after) neighbourhood",
           allowed=YES_NO, example="no"),
    Column("furnishingstatus", "category", "feature", "How the house is sold furnished",
           allowed=FURNISHING, example="semi-furnished"),
    Column("price", "integer", "target", "Sale price, rounded to the nearest £1,000",
           unit="GBP", min=50_000, max=5_000_000, example=312_000),
)

COLUMNS: dict[str, Column] = {c.name: c for c in _COLUMNS}

ID = "house_id"
DAY = "day"
DAY_SOLD = "day_sold"
TARGET = "price"

# Feature order follows the BridgeAI file, so participants who know it recognise it.
FEATURES: tuple[str, ...] = tuple(c.name for c in _COLUMNS if c.role == "feature")
NUMERIC_FEATURES: tuple[str, ...] = tuple(
    c.name for c in _COLUMNS if c.role == "feature" and c.kind == "integer")
YES_NO_COLUMNS: tuple[str, ...] = tuple(c.name for c in _COLUMNS if c.kind == "yes_no")
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(
    c.name for c in _COLUMNS if c.role == "feature" and c.allowed is not None)
CATEGORIES: dict[str, tuple[str, ...]] = {
    c.name: c.allowed for c in _COLUMNS if c.allowed is not None}

# The three file layouts the kit ships. Order here is the column order in the CSV files.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "houses": (ID, *FEATURES, TARGET),     # houses_reference.csv, houses_new.csv
    "traffic": (ID, DAY, *FEATURES),       # traffic/<scenario>.csv: requests, no price yet
    "labels": (ID, DAY_SOLD, TARGET),      # traffic/<scenario>_labels.csv: ground truth, later
}


def column(name: str) -> Column:
    """The Column called `name`; a KeyError names the known columns."""
    try:
        return COLUMNS[name]
    except KeyError:
        raise KeyError(f"unknown column {name!r}; known columns: {', '.join(COLUMNS)}") from None


def layout_of(columns) -> str:
    """Which layout a header belongs to: 'labels' if it has day_sold, 'traffic' if it has day,
    else 'houses'. Used when the caller does not say."""
    cols = set(columns)
    if DAY_SOLD in cols:
        return "labels"
    if DAY in cols:
        return "traffic"
    return "houses"


def markdown_table() -> str:
    """The column table of the data card (datasets/README.md), derived from the schema."""
    kind_text = {"id": "text", "integer": "integer", "yes_no": "yes/no", "category": "category"}
    lines = ["| column | type | unit | range / values | meaning |",
             "|---|---|---|---|---|"]
    for c in _COLUMNS:
        lines.append(f"| `{c.name}` | {kind_text[c.kind]} | {c.unit or ''} | {c.values_text} "
                     f"| {c.description} |")
    return "\n".join(lines)
