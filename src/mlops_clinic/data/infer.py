"""Draft a schema from a CSV file, for a person to review: `clinic schema infer data.csv --target COLUMN`.

What it infers, column by column, from the text of the cells (the loader's reading: every cell a
string, empty cells missing):

    integer / number   every value is a number (whole or not); min and max as observed
    boolean            only true/false, spelled as in the file (values: [true, false])
    category           yes/no, or at most MAX_CATEGORIES distinct values (in order of frequency)
    date               every value is a date written YYYY-MM-DD
    id                 the first text (or integer "...id") column whose values are all different
    text               other free text: kept in the file, not checked, not used by the model
    unit               from the column's name: "cost (GBP)", "distance_km", "weight [kg]", "£"
    nullable           true when some cells are empty
    task               regression for a numeric target, classification for a category or boolean

A column that is mostly numbers with a few other cells (a "mixed" column) is drafted as a number
and the draft says so: the loader then names every cell to fix. Ranges are the observed ones: a
reviewer widens them to what is plausible, or new data just outside is refused.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mlops_clinic.data.load import NA_TOKENS, read_csv
from mlops_clinic.data.schema import Column, Schema, SchemaError
from mlops_clinic.errors import ClinicError

MAX_CATEGORIES = 50       # more distinct values than this is free text, not a category
MOSTLY_NUMBERS = 0.9      # share of number cells above which a column is drafted as numeric
FEW_TARGET_VALUES = 10    # an integer target with at most this many values may be classes
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OTHER_DATE = re.compile(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")
# Words at the end of a column name that name its unit.
UNIT_WORDS = {
    "gbp": "GBP", "£": "GBP", "usd": "USD", "$": "USD", "eur": "EUR", "€": "EUR",
    "km": "km", "m": "m", "cm": "cm", "mm": "mm", "kg": "kg", "g": "g", "t": "tonnes",
    "tonnes": "tonnes", "tons": "tonnes", "m2": "square metres", "m²": "square metres",
    "sqm": "square metres", "sqft": "square feet", "ha": "hectares", "l": "litres",
    "litres": "litres", "pct": "%", "percent": "%", "%": "%", "years": "years", "yrs": "years",
    "months": "months", "weeks": "weeks", "days": "days", "hours": "hours", "hrs": "hours",
    "mins": "minutes", "minutes": "minutes", "secs": "seconds", "seconds": "seconds",
    "kwh": "kWh", "mwh": "MWh", "c": "°C", "°c": "°C", "celsius": "°C", "mph": "mph", "kmh": "km/h",
}


class InferError(ClinicError):
    """The CSV file cannot give a draft schema; the message says why and what to do."""


@dataclass
class Draft:
    """A drafted schema, the note on each column (what was seen), and warnings to act on."""

    schema: Schema
    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        return self.schema.to_yaml(self.notes)


def unit_from_name(name: str) -> str | None:
    """The unit a column's name states: 'cost (GBP)' -> GBP, 'distance_km' -> km, 'price £' -> GBP."""
    bracketed = re.search(r"[(\[]\s*([^)\]]+?)\s*[)\]]\s*$", name)
    if bracketed:
        text = bracketed.group(1)
        return UNIT_WORDS.get(text.lower(), text)
    last = re.split(r"[\s_\-./]+", name.strip().lower())[-1] if name.strip() else ""
    if last in UNIT_WORDS and len(re.split(r"[\s_\-./]+", name.strip())) > 1:
        return UNIT_WORDS[last]
    for symbol in ("£", "€", "$", "%", "°c", "m²"):
        if symbol in name.lower():
            return UNIT_WORDS[symbol]
    return None


def infer(path: str | Path, target: str, *, task: str | None = None, name: str | None = None) -> Draft:
    """A draft Schema for the CSV at `path`, with `target` as the column to predict."""
    path = Path(path)
    _refuse_empty(path)
    frame = read_csv(path)
    source = path.name
    if len(frame) == 0:
        raise InferError(f"{source}: the file has a header but no data rows",
                         fix="export the data with its rows; a schema is drafted from the values")
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise InferError(f"{source}: there is no column {target!r}; its columns are: "
                         + ", ".join(repr(c) for c in columns), fix=_target_fix(target, columns))
    draft_columns, notes, warnings = [], {}, []
    id_taken = False
    for column in columns:
        col, note, warning = _infer_column(frame[column], column, is_target=column == target,
                                           id_free=not id_taken, source=source)
        id_taken = id_taken or col.role == "identifier"
        draft_columns.append(col)
        notes[column] = note
        if warning:
            warnings.append(warning)
    draft_columns, task = _settle_target(draft_columns, target, task, notes, warnings, source)
    try:
        schema = Schema(name=name or _slug(path.stem), columns=tuple(draft_columns), target=target,
                        task=task, description=f"Drafted from {source} by `clinic schema infer`; review it")
    except SchemaError as err:
        raise InferError(err.message, fix=err.fix) from None
    return Draft(schema, notes, warnings)


def _refuse_empty(path: Path) -> None:
    if path.is_file() and not path.read_bytes()[:65_536].strip():
        raise InferError(f"{path.name}: the file is empty",
                         fix="export the data with its header line and its rows, then run this again")


def _target_fix(target: str, columns: list[str]) -> str:
    lowered = {c.strip().lower(): c for c in columns}
    wanted = target.strip().lower()
    close = lowered.get(wanted) or next(iter(difflib.get_close_matches(target, columns, n=1, cutoff=0.6)), None) \
        or next((c for c in columns if wanted and wanted in c.lower()), None)
    if close:
        return f"did you mean --target {close!r}? Names must match exactly, spaces and case included"
    return "give --target the exact name of the column to predict, as written in the header"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "data"


def _infer_column(values: pd.Series, name: str, *, is_target: bool, id_free: bool, source: str,
                  ) -> tuple[Column, str, str | None]:
    """(Column, note for the reviewer, warning or None) for one column of raw text."""
    text = values.astype("string").str.strip()
    missing = values.isna().to_numpy() | text.str.lower().isin(NA_TOKENS).to_numpy()
    present = text[~missing]
    n_missing = int(missing.sum())
    role = "target" if is_target else "feature"
    unit = unit_from_name(name)
    nullable = bool(n_missing) and not is_target
    seen = f"{len(present):,} values" + (f", {n_missing:,} empty" if n_missing else "")
    if present.empty:
        return (Column(name, "text", "ignore", "", nullable=True), f"{seen}: ignored (no values)",
                f"column {name!r} has no values at all; it is ignored")
    distinct = present.value_counts()
    lowered = set(distinct.index.str.lower())

    is_integer = present.str.fullmatch(_INTEGER.pattern).to_numpy(dtype=bool)
    is_number = present.str.fullmatch(_NUMBER.pattern).to_numpy(dtype=bool)
    numeric_share = is_number.mean()
    looks_like_id = re.search(r"(^|[^a-z])id$", name.strip().lower()) is not None
    if is_integer.all() and looks_like_id and distinct.max() == 1 and id_free and not is_target:
        return (Column(name, "id", "identifier", "", example=present.iloc[0]),
                f"{seen}, all different: the identifier (not a feature)", None)
    if lowered <= {"yes", "no"} and len(lowered) == 2:
        allowed = tuple(_spelling(distinct, word) for word in ("yes", "no"))
        return (Column(name, "category", role, "", allowed=allowed, example=distinct.index[0],
                       nullable=nullable), f"{seen}: yes/no", _case_warning(distinct, allowed, name))
    if lowered <= {"true", "false"} and len(lowered) == 2:
        allowed = tuple(_spelling(distinct, word) for word in ("true", "false"))
        return (Column(name, "boolean", role, "", allowed=allowed, example=distinct.index[0],
                       nullable=nullable), f"{seen}: true/false", _case_warning(distinct, allowed, name))
    if numeric_share >= MOSTLY_NUMBERS:
        numbers = pd.to_numeric(present[is_number])
        whole = bool(is_integer[is_number].all())
        kind = "integer" if whole else "number"
        # Exact bounds: a rounded maximum would refuse the largest value of this very file.
        low, high = (int(numbers.min()), int(numbers.max())) if whole else (
            float(numbers.min()), float(numbers.max()))
        example = int(numbers.median()) if whole else _round(numbers.median())
        col = Column(name, kind, role, "", unit=unit, min=low, max=high, example=example, nullable=nullable)
        note = f"{seen}, observed {low:,} to {high:,}" + (f" {unit}" if unit else "") + \
            ": widen the range to what is plausible"
        warning = None
        if not is_number.all():
            bad = present[~is_number]
            line = int(bad.index[0]) + 2
            note += f"; {len(bad):,} cells are not numbers"
            warning = (f"column {name!r} is mostly numbers, but {len(bad):,} cells are not (e.g. "
                       f"line {line}: {bad.iloc[0]!r}): drafted as {kind}; fix those cells, or "
                       "change the type to category in the schema")
        return col, note, warning
    if present.str.fullmatch(_ISO_DATE.pattern).all():
        days = pd.to_datetime(present, format="%Y-%m-%d", errors="coerce")
        if days.notna().all():
            low, high = days.min().date().isoformat(), days.max().date().isoformat()
            example = days.sort_values().iloc[len(days) // 2].date().isoformat()
            return (Column(name, "date", role, "", min=low, max=high, example=example, nullable=nullable),
                    f"{seen}, dates from {low} to {high}", None)
    other_dates = present.str.fullmatch(_OTHER_DATE.pattern).mean() > 0.9
    if len(distinct) <= MAX_CATEGORIES and len(distinct) <= max(2, len(present) // 2):
        allowed = tuple(sorted(distinct.index, key=lambda v: (-distinct[v], v)))
        warning = _case_warning(distinct, allowed, name)
        return (Column(name, "category", role, "", allowed=allowed, example=allowed[0], nullable=nullable),
                f"{seen}, {len(allowed)} categories", warning)
    if distinct.max() == 1 and id_free and not is_target:
        return (Column(name, "id", "identifier", "", example=present.iloc[0]),
                f"{seen}, all different: the identifier (not a feature)", None)
    warning = (f"column {name!r} holds dates written another way (e.g. {present.iloc[0]!r}): it is "
               "ignored; write them as YYYY-MM-DD to use them") if other_dates else None
    return (Column(name, "text", "ignore", "", nullable=True),
            f"{seen}, {len(distinct):,} different texts: ignored (free text is not a feature)", warning)


def _spelling(distinct: pd.Series, word: str) -> str:
    """The most frequent spelling of `word` among the values (e.g. 'Yes' rather than 'yes')."""
    spelled = [v for v in distinct.index if v.lower() == word]
    return max(spelled, key=lambda v: (distinct[v], v))


def _case_warning(distinct: pd.Series, allowed: tuple[str, ...], name: str) -> str | None:
    others = [v for v in distinct.index if v not in allowed and v.lower() in {a.lower() for a in allowed}]
    if not others:
        return None
    return (f"column {name!r} spells a value in more than one way ({', '.join(map(repr, others[:3]))} "
            f"besides {', '.join(map(repr, allowed))}): the draft keeps the most frequent spelling, "
            "and the loader will list the others to fix")


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def _settle_target(columns: list[Column], target: str, task: str | None, notes: dict[str, str],
                   warnings: list[str], source: str) -> tuple[list[Column], str]:
    """The task, and the target column as that task needs it (classes for classification)."""
    index = next(i for i, c in enumerate(columns) if c.name == target)
    col = columns[index]
    if col.role == "ignore" or col.kind == "id":
        raise InferError(f"{source}: the target {target!r} holds free text or identifiers, which a "
                         "model cannot learn to predict",
                         fix="choose a column of numbers (regression) or of a few classes (classification)")
    if task is None:
        task = "regression" if col.is_numeric else "classification"
        if col.kind == "integer" and col.max - col.min + 1 <= FEW_TARGET_VALUES:
            notes[target] += (f"; only whole numbers from {col.min} to {col.max}: "
                              "pass --task classification if they are classes")
    if task == "classification" and col.is_numeric:
        if col.kind != "integer":
            raise InferError(f"{source}: the target {target!r} holds fractional numbers, not classes",
                             fix="use --task regression, or a column of classes")
        values = tuple(str(v) for v in range(col.min, col.max + 1))
        if len(values) > MAX_CATEGORIES:
            raise InferError(f"{source}: the target {target!r} has {len(values)} possible values, "
                             "too many to be classes", fix="use --task regression")
        col = Column(col.name, "category", "target", "", allowed=values, example=str(col.example))
    elif task == "regression" and not col.is_numeric:
        raise InferError(f"{source}: the target {target!r} is not numeric, so it cannot be a "
                         "regression target", fix="use --task classification, or a numeric target")
    if col.nullable or "empty" in notes[target]:
        warnings.append(f"the target {target!r} has empty cells: those rows cannot be learnt from; "
                        "fill them in or remove the rows")
    columns[index] = Column(**{**col.__dict__, "role": "target", "nullable": False})
    notes[target] += f"; the target ({task})"
    return columns, task
