"""The data contract of data/houses.csv: its columns, their ranges and values, and a check that
lists every row that breaks it.

The project's own copy of the schema in the clinic's data card (datasets/README.md): the pipeline,
its tests and CI need nothing but the packages in requirements.txt.

    problems = validate(read_csv("data/houses.csv"), source="data/houses.csv")
"""

import re

import pandas as pd

ID, TARGET = "house_id", "price"
ID_PATTERN = re.compile(r"^H[0-9]{6,}$")  # 'H' and at least six digits, e.g. H000123
WHOLE_NUMBER = re.compile(r"^-?[0-9]+$")
YES_NO = ("yes", "no")
# Whole numbers, inclusive bounds.
RANGES = {"area": (1_500, 16_000), "bedrooms": (1, 6), "bathrooms": (1, 4), "stories": (1, 4),
          "parking": (0, 3), TARGET: (50_000, 5_000_000)}
CATEGORIES = {"mainroad": YES_NO, "guestroom": YES_NO, "basement": YES_NO,
              "hotwaterheating": YES_NO, "airconditioning": YES_NO, "prefarea": YES_NO,
              "furnishingstatus": ("furnished", "semi-furnished", "unfurnished")}
FEATURES = ["area", "bedrooms", "bathrooms", "stories", "mainroad", "guestroom", "basement",
            "hotwaterheating", "airconditioning", "parking", "prefarea", "furnishingstatus"]
# A typical house, valid under the contract (deploy/reconcile.py asks the service about it).
EXAMPLE_HOUSE = {"area": 4_600, "bedrooms": 3, "bathrooms": 1, "stories": 2, "mainroad": "yes",
                 "guestroom": "no", "basement": "no", "hotwaterheating": "no",
                 "airconditioning": "no", "parking": 1, "prefarea": "no",
                 "furnishingstatus": "semi-furnished"}


def read_csv(path) -> pd.DataFrame:
    """Every cell as the text in the file, so that '3,850' or 'YES' reach the check as written."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def validate(houses: pd.DataFrame, source: str = "data") -> list[str]:
    """One sentence per problem, naming the line (the header is line 1), the column and the value;
    an empty list when every row keeps the contract. Features are required; the price too when the
    frame has a price column (requests have none)."""
    columns = [ID, *FEATURES, TARGET] if TARGET in houses.columns else FEATURES
    missing = [column for column in columns if column not in houses.columns]
    if missing:
        return [f"{source}: no column {', '.join(missing)}: the file needs {', '.join(columns)}"]
    problems = []
    for column in columns:
        cells = houses[column].where(houses[column].notna(), "").astype(str).str.strip()
        for line, text in enumerate(cells, start=2):  # the line a text editor shows: header is 1
            problem = cell_problem(column, text)
            if problem:
                problems.append(f"{source} line {line}, {column}: {problem}")
    if ID in columns:
        repeated = houses[ID].duplicated()
        problems += [f"{source} line {line}, {ID}: {house} appears earlier"
                     for line, (house, again) in enumerate(zip(houses[ID], repeated), start=2) if again]
    return problems


def cell_problem(column: str, text: str) -> str | None:
    """What is wrong with one cell's text, or None."""
    if text == "":
        return "missing value"
    if column == ID:
        return None if ID_PATTERN.match(text) else f"{text!r} is not an id like H000123"
    if column in RANGES:
        number = text[:-2] if text.endswith(".0") else text  # a whole number read as a float
        if not WHOLE_NUMBER.match(number):
            plain = number.replace(",", "")
            hint = f" (write {plain}, without the comma)" if WHOLE_NUMBER.match(plain) else ""
            return f"{text!r} is not a whole number{hint}"
        low, high = RANGES[column]
        return None if low <= int(number) <= high else f"{text} is outside {low:,} to {high:,}"
    allowed = CATEGORIES[column]
    if text in allowed:
        return None
    if text.lower() in allowed:
        return f"{text!r} must be written {text.lower()!r} (lower case)"
    return f"{text!r} is not one of {', '.join(allowed)}"

