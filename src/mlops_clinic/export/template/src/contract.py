"""The data contract: schema.yaml, and the checks every row must pass before a model sees it.

The pipeline's data (src/prepare.py) and the service's requests (serving/) use these same
definitions, so what is trained on and what is served cannot drift apart:

    SCHEMA                         the columns, the target and the task, from schema.yaml
    Checker(source).check(frame)   problems with file, line, column and the fix
    typed(frame)                   the canonical types, from CSV text or from Parquet
    model_input(frame)             what the model reads: numbers, and text for categories
"""

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

from settings import ROOT

NA_TEXT = {"", "na", "n/a", "nan", "null", "none", "-", "?"}  # cells that mean "no value"
MAX_LISTED = 20  # problems listed one by one; the rest are counted
EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class Column:
    name: str
    type: str               # id | integer | number | category | boolean | date | text
    role: str               # feature | target | identifier | ignore
    unit: str | None = None
    min: object = None
    max: object = None
    values: tuple | None = None   # category: allowed values; boolean: (true, false) spellings
    pattern: str | None = None    # id: a regular expression every identifier matches
    nullable: bool = False
    example: object = None
    description: str = ""

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")


class Schema:
    """The dataset's columns, its target and its task (regression or classification)."""

    def __init__(self, data: dict):
        self.name, self.task, self.target = data["name"], data["task"], data["target"]
        self.columns = []
        for entry in data["columns"]:
            kind = entry["type"]
            role = ("identifier" if kind == "id" else "ignore" if kind == "text" or entry.get("role") == "ignore"
                    else "target" if entry["name"] == self.target else "feature")
            values = tuple(str(v) for v in entry["values"]) if entry.get("values") is not None else None
            self.columns.append(Column(
                name=str(entry["name"]), type=kind, role=role, unit=entry.get("unit"),
                min=_bound(entry.get("min"), kind), max=_bound(entry.get("max"), kind), values=values,
                pattern=entry.get("pattern"),
                nullable=bool(entry.get("nullable", False)), example=entry.get("example"),
                description=entry.get("description") or ""))
        self.by_name = {c.name: c for c in self.columns}

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def id(self) -> str | None:
        return next((c.name for c in self.columns if c.role == "identifier"), None)

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns if c.role == "feature"]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.role == "feature" and c.type == "category"]

    @property
    def numeric(self) -> list[str]:
        """Features the model reads as numbers: numbers, booleans (0/1) and dates (days)."""
        return [c.name for c in self.columns if c.role == "feature" and c.type != "category"]

    @property
    def classes(self) -> list[str] | None:
        return list(self.by_name[self.target].values) if self.task == "classification" else None


def _bound(value, kind):
    if value is None:
        return None
    if kind == "date":
        return np.datetime64(str(value), "D")
    return value


SCHEMA = Schema(yaml.safe_load((ROOT / "schema.yaml").read_text(encoding="utf-8")))


# --- problems ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    column: str | None
    message: str
    word: str = "line"  # "row" for Parquet files, which have no lines

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source} {self.word} {self.line:,}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class DataProblems(Exception):
    """Data that breaks the contract: `problems` lists the first MAX_LISTED, `total` counts all."""

    def __init__(self, problems: list[Problem], total: int):
        self.problems, self.total = problems, total
        lines = [f"{total:,} problem{'s' if total != 1 else ''} in the data; fix them and run again:"]
        lines += [f"  {p}" for p in problems]
        if total > len(problems):
            lines.append(f"  ... and {total - len(problems):,} more")
        super().__init__("\n".join(lines))


class Checker:
    """Checks frames of one data source against SCHEMA, chunk after chunk (line numbers go on
    from chunk to chunk; duplicate identifiers are found across chunks). Keeps the first
    MAX_LISTED problems and counts the others, so a file wrong on every line costs little."""

    def __init__(self, source: str, schema: Schema = SCHEMA, require_target: bool = True,
                 word: str = "line"):
        self.source, self.schema, self.require_target, self.word = source, schema, require_target, word
        self.listed: list[Problem] = []
        self.total = 0
        self._id_hashes, self._id_lines = [], []

    def add(self, line, column, message) -> None:
        self.total += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(Problem(self.source, line, column, message, self.word))

    def add_cells(self, lines: np.ndarray, column: str, values, describe) -> None:
        """Problems for the cells at `lines` (describe(value) says what is wrong and the fix)."""
        room = max(0, MAX_LISTED - len(self.listed))
        for line, value in zip(lines[:room], values[:room]):
            self.listed.append(Problem(self.source, int(line), column, describe(value), self.word))
        self.total += len(lines)

    def check_header(self, columns) -> bool:
        """Missing and unknown columns; False when the rows cannot be checked."""
        present = [str(c) for c in columns]
        wanted = [c.name for c in self.schema.columns
                  if c.name != self.schema.target or self.require_target]
        for name in wanted:
            if name not in present:
                near = [p for p in present if p.strip().lower() == name.strip().lower()]
                how = (f"the header has {near[0]!r} instead: rename it to exactly {name!r}" if near
                       else "add it; the header must have: " + ", ".join(self.schema.header))
                self.add(None, name, f"the column is missing; {how}")
        known = set(self.schema.header)
        for name in present:
            if name not in known and not any(name.strip().lower() == k.strip().lower() for k in wanted):
                self.add(None, name, "this column is not in schema.yaml; remove it, or add it to "
                                     "schema.yaml (type: text keeps it unused)")
        return self.total == 0

    def check(self, frame: pd.DataFrame, first_line: int = 2) -> None:
        """Check the rows of `frame`, whose first row is line `first_line` of the source."""
        lines = np.arange(len(frame)) + first_line
        empty = frame.isna().all(axis=1).to_numpy()
        if empty.any():  # one problem per empty line, not one per cell
            self.add_cells(lines[empty], None, lines[empty], lambda v: "the line is empty; delete it")
            frame, lines = frame[~empty], lines[~empty]
        for column in self.schema.columns:
            if column.name in frame.columns and column.type != "text":
                self._check_column(frame[column.name], column, lines)

    def _check_column(self, values: pd.Series, column: Column, lines: np.ndarray) -> None:
        missing = _missing(values)
        if not column.nullable and missing.any():
            self.add_cells(lines[missing], column.name, values[missing].to_numpy(),
                           lambda v: "value is missing; fill it in or remove the row")
        live = ~missing
        if column.numeric:
            numbers = _numbers(values)
            bad = live & np.isnan(numbers)
            self.add_cells(lines[bad], column.name, values[bad].to_numpy(), lambda v: (
                f"{v!r} is not a number; write digits only, without thousands separators or "
                f"units (e.g. {column.example})"))
            if column.type == "integer":
                fraction = live & ~bad & (np.mod(numbers, 1) != 0)
                self.add_cells(lines[fraction], column.name, numbers[fraction],
                               lambda v: f"{v} is not a whole number")
            self._check_range(numbers, live & ~bad, column, lines, values)
        elif column.type == "date":
            days = _days(values)
            bad = live & np.isnan(days)
            self.add_cells(lines[bad], column.name, values[bad].to_numpy(),
                           lambda v: f"{v!r} is not a date; write it as YYYY-MM-DD (e.g. {column.example})")
            self._check_range(days, live & ~bad, column, lines, values)
        elif column.type in ("category", "boolean"):
            if column.type == "boolean" and pd.api.types.is_bool_dtype(values.dtype):
                return
            text = values.astype("string")
            bad = live & ~text.isin(column.values).fillna(False).to_numpy(dtype=bool)
            self.add_cells(lines[bad], column.name, values[bad].to_numpy(),
                           lambda v: _not_allowed(str(v), column))
        elif column.type == "id":
            if column.pattern:
                bad = live & ~values.astype("string").str.fullmatch(column.pattern.strip("^$")).fillna(False).to_numpy(dtype=bool)
                self.add_cells(lines[bad], column.name, values[bad].to_numpy(), lambda v: (
                    f"{v!r} is not a valid {column.name}; it must match {column.pattern} (e.g. {column.example})"))
            self._remember_ids(values, live, lines)

    def _check_range(self, numbers, ok, column, lines, values) -> None:
        low = (numbers < _as_number(column.min)) if column.min is not None else np.zeros(len(numbers), bool)
        high = (numbers > _as_number(column.max)) if column.max is not None else np.zeros(len(numbers), bool)
        out = ok & (low | high)
        self.add_cells(lines[out], column.name, values[out].to_numpy(),
                       lambda v: f"{_shown(v)} is out of range; {column.name} must be {_range(column)}")

    def _remember_ids(self, values, live, lines) -> None:
        text = values[live].astype(str)
        self._id_hashes.append(pd.util.hash_array(text.to_numpy(dtype=object)))
        self._id_lines.append(lines[live])

    def finish(self) -> None:
        """Report identifiers that appear more than once (across every chunk checked)."""
        if not self._id_hashes:
            return
        hashes, lines = np.concatenate(self._id_hashes), np.concatenate(self._id_lines)
        order = np.argsort(hashes, kind="stable")
        repeated = np.flatnonzero(hashes[order][1:] == hashes[order][:-1]) + 1
        first = {}
        for i in repeated:
            key = hashes[order][i]
            start = i
            while start > 0 and hashes[order][start - 1] == key:
                start -= 1
            first[order[i]] = lines[order[start]]
        for position in sorted(first):
            self.add(int(lines[position]), self.schema.id,
                     f"this {self.schema.id} already appears on line {int(first[position]):,}; each "
                     "must appear once (remove the repeated row)")

    def raise_if_any(self) -> None:
        if self.total:
            raise DataProblems(self.listed, self.total)


def _missing(values: pd.Series) -> np.ndarray:
    missing = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        missing |= values.astype("string").str.strip().str.lower().isin(NA_TEXT).fillna(True).to_numpy(dtype=bool)
    return missing


def _numbers(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(len(values), np.nan)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64").to_numpy()
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype("float64").to_numpy()


def _days(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01, NaN where a value is not a YYYY-MM-DD date."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        text = text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False))
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    days = (parsed.to_numpy(dtype="datetime64[D]") - EPOCH).astype("float64")
    days[parsed.isna().to_numpy()] = np.nan
    return days


def _as_number(bound) -> float:
    if isinstance(bound, np.datetime64):
        return float((bound - EPOCH).astype("int64"))
    return float(bound)


def _shown(value) -> str:
    return str(value.date()) if isinstance(value, pd.Timestamp) else str(value)


def _bound_text(bound) -> str:
    return str(bound) if isinstance(bound, np.datetime64) else f"{bound:,}"


def _range(column: Column) -> str:
    unit = f" ({column.unit})" if column.unit else ""
    if column.min is not None and column.max is not None:
        return f"between {_bound_text(column.min)} and {_bound_text(column.max)}{unit}"
    if column.min is not None:
        return f"{_bound_text(column.min)} or more{unit}"
    return f"at most {_bound_text(column.max)}{unit}"


def _not_allowed(value: str, column: Column) -> str:
    allowed = ", ".join(f"'{v}'" for v in column.values)
    match = [v for v in column.values if v.lower() == value.strip().lower()]
    if match and value.strip() == match[0]:
        return f"{value!r} has spaces around it; write exactly '{match[0]}'"
    if match:
        return f"{value!r} is not allowed; write exactly '{match[0]}' (spelled as in training: {allowed})"
    return f"{value!r} is not allowed; use one of {allowed}"


# --- types ---------------------------------------------------------------------------------------

def typed(frame: pd.DataFrame, schema: Schema = SCHEMA) -> pd.DataFrame:
    """The schema's columns of `frame` in their canonical types, whatever they were read as:
    integers int64 (float64 when nullable), numbers float64, booleans bool (float64 0/1 when
    nullable), dates datetime64, categories, identifiers and text as str (None when missing).
    A classification target stays text: the classes as schema.yaml spells them."""
    out = {}
    for column in schema.columns:
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        missing = _missing(values)
        if column.numeric:
            numbers = _numbers(values)
            exact = column.type == "integer" and not column.nullable and not np.isnan(numbers).any()
            out[column.name] = numbers.astype("int64") if exact else numbers
        elif column.type == "date":
            days = _days(values)
            out[column.name] = pd.to_datetime(days, unit="D")
        elif column.type == "boolean" and column.role != "target":
            if pd.api.types.is_bool_dtype(values.dtype):
                truth = values.to_numpy(dtype=bool)
            else:
                truth = (values.astype("string") == column.values[0]).fillna(False).to_numpy(dtype=bool)
            out[column.name] = np.where(missing, np.nan, truth) if column.nullable else truth
        else:
            if column.type == "boolean" and pd.api.types.is_bool_dtype(values.dtype):
                values = values.map({True: column.values[0], False: column.values[1]})
            text = values.astype(object).where(~missing, None)
            out[column.name] = text.map(lambda v: v if v is None else str(v)).to_numpy(dtype=object)
    return pd.DataFrame(out, index=frame.index)


def arrow_schema(schema: Schema = SCHEMA):
    """The Parquet schema of typed() frames, fixed per column so every chunk writes alike."""
    import pyarrow as pa

    fields = []
    for c in schema.columns:
        if c.numeric:
            kind = pa.int64() if c.type == "integer" and not c.nullable else pa.float64()
        elif c.type == "date":
            kind = pa.timestamp("ns")
        elif c.type == "boolean" and c.role != "target":
            kind = pa.float64() if c.nullable else pa.bool_()
        else:
            kind = pa.string()
        fields.append(pa.field(c.name, kind))
    return pa.schema(fields)


def model_input(frame: pd.DataFrame, schema: Schema = SCHEMA) -> pd.DataFrame:
    """The features as the model reads them, from typed() rows: numbers and booleans (0/1) as
    float, dates as days since 1970-01-01, categories as text (None when missing)."""
    out = {}
    for name in schema.features:
        column, values = schema.by_name[name], frame[name]
        if column.type == "category":
            out[name] = values.astype(object).where(values.notna(), None)
        elif column.type == "date":
            out[name] = _days(values)
        else:
            out[name] = values.astype("float64")
    return pd.DataFrame(out, index=frame.index)


def from_json(records: list[dict], schema: Schema = SCHEMA) -> pd.DataFrame:
    """Rows as a JSON client sends them (true/false, "YYYY-MM-DD", numbers, text, null) as
    typed rows: written as a CSV row would be, then typed by the same function as the data."""
    texts = []
    for record in records:
        row = dict(record)
        for name, value in record.items():
            column = schema.by_name.get(name)
            if column is not None and column.type == "boolean" and isinstance(value, bool):
                row[name] = column.values[0] if value else column.values[1]
        texts.append(row)
    columns = [c for c in schema.header if any(c in r for r in records)] or schema.features
    return typed(pd.DataFrame.from_records(texts, columns=columns), schema)


def json_cell(text, column: Column):
    """A CSV cell as a JSON client would send it: a number, true/false, or the text as it is (an
    upstream system with a bug sends its bad values too); None when empty."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or str(text).strip() == "":
        return None
    text = str(text)
    if column.numeric:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if column.type == "integer" and number.is_integer() and "." not in text else number
    if column.type == "boolean" and text in column.values:
        return text == column.values[0]
    return text


def json_value(value, column: Column):
    """A typed value as a JSON client sends it (None for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if column.type == "integer":
        return int(value)
    if column.type == "number":
        return float(value)
    if column.type == "boolean" and column.role != "target":
        return bool(value)
    if column.type == "date":
        return pd.Timestamp(value).date().isoformat()
    return str(value)


def example_row(schema: Schema = SCHEMA) -> dict:
    """A valid request's features, from the schema's examples (or its first allowed values)."""
    row = {}
    for name in schema.features:
        column = schema.by_name[name]
        example = column.example
        if example is None:
            example = (column.values[0] if column.values else column.min if column.min is not None else 0)
        if column.type == "boolean":
            example = str(example) == column.values[0]
        elif column.type == "date":
            example = str(example)[:10]
        elif column.type == "integer":
            example = int(example)
        elif column.type == "number":
            example = float(example)
        row[name] = example
    return row


def safe_name(name: str) -> str:
    """A Python identifier for a column name (the service's field names; the JSON keeps the name)."""
    text = re.sub(r"\W+", "_", name.strip(), flags=re.ASCII).strip("_").lower()
    return f"f_{text}" if not text or not text[0].isalpha() else text
