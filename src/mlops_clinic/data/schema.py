"""Dataset schemas, written as data: the house prices of the lessons, and any other dataset.

The kit mirrors the schema of the BridgeAI (Digital Catapult) house-price dataset, not its rows.
Every other artefact is derived from the `Column` records below: validation (load.py), the data
card table (datasets/README.md, kept in sync by a test), and later the service's pydantic request
model. Change a range or a category here and all of them follow.

A `Schema` gathers the columns of one dataset with its target and task. The module-level names
(COLUMNS, FEATURES, TARGET, LAYOUTS, ...) are the house prices' (`HOUSES`); the sector datasets
(data/sectors.py) and a participant's own CSV (`clinic schema infer`) have a Schema of their own,
which a schema file (YAML, `Schema.to_yaml` / `read_schema`) holds for review.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from mlops_clinic.errors import ClinicError

YES_NO = ("yes", "no")
FURNISHING = ("furnished", "semi-furnished", "unfurnished")


@dataclass(frozen=True)
class Column:
    """One column of the kit's CSV files.

    kind is one of:
      "id"        text identifier matching `pattern` (any non-empty text when None), unique
      "integer"   whole number, optionally bounded by min/max (inclusive)
      "number"    any number, optionally bounded by min/max (inclusive)
      "yes_no"    exactly the lower-case strings "yes" or "no"
      "category"  one of `allowed`, spelled exactly
      "boolean"   one of the two spellings in `allowed`: (true, false), e.g. ("true", "false")
      "date"      a date written YYYY-MM-DD, optionally bounded by min/max (ISO text)
      "text"      free text, not checked and not used by a model (role "ignore")
    role says what the column is for: "identifier", "time", "feature", "target" or "ignore".
    nullable: empty cells are allowed (the model fills them in); otherwise a missing value is a
    problem to fix.
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
    example: str | int | float | None = None
    nullable: bool = False
    # How an identifier is written, in words, for error messages (e.g. "'H' followed by six digits").
    pattern_hint: str | None = None

    @property
    def python_type(self) -> type:
        """The Python type a request model should use for this column."""
        return {"integer": int, "number": float, "boolean": bool,
                "date": datetime.date}.get(self.kind, str)

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("integer", "number")

    @property
    def values_text(self) -> str:
        """Range or allowed values in words, for the data card and error messages."""
        if self.allowed is not None:
            return ", ".join(f"`{v}`" for v in self.allowed)
        if self.kind in ("integer", "number", "date"):
            low, high = _bound_text(self.min), _bound_text(self.max)
            if self.min is not None and self.max is not None:
                return f"{low} to {high}"
            if self.min is not None:
                return f"{low} or more"
            if self.max is not None:
                return f"up to {high}"
            return {"integer": "any whole number", "number": "any number", "date": "any date"}[self.kind]
        if self.pattern is not None and self.pattern_hint is None:
            return f"`{self.example}` (H and 6+ digits)"
        if self.kind == "id":
            return f"`{self.example}` ({self.pattern_hint or 'unique'})" if self.example is not None else "unique text"
        return ""


def _bound_text(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


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


def markdown_table(schema: "Schema | None" = None) -> str:
    """The column table of a data card (datasets/README.md for the house prices, the default),
    derived from the schema."""
    kind_text = {"id": "text", "integer": "integer", "yes_no": "yes/no", "category": "category",
                 "number": "number", "boolean": "true/false", "date": "date", "text": "text (unused)"}
    lines = ["| column | type | unit | range / values | meaning |",
             "|---|---|---|---|---|"]
    for c in (_COLUMNS if schema is None else schema.columns):
        lines.append(f"| `{c.name}` | {kind_text[c.kind]} | {c.unit or ''} | {c.values_text} "
                     f"| {c.description} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# A dataset's schema as one object, and its file

KINDS = ("id", "integer", "number", "yes_no", "category", "boolean", "date", "text")
TASKS = ("regression", "classification")
# Names of the time columns of the kit's generated traffic files (requests, then late labels).
TIME_COLUMNS = (DAY, DAY_SOLD)


class SchemaError(ClinicError):
    """A schema file (or a Schema built in code) that cannot describe a dataset."""


@dataclass(frozen=True)
class Schema:
    """The columns of one dataset, which of them is the target, and the task.

    task: "regression" (the target is a number) or "classification" (the target is one of a few
    values, `classes`). `layouts` names the column orders of the dataset's files: "data"
    (labelled rows), and for the kit's generated datasets "traffic" (requests after go-live, no
    target) and "labels" (the target, which arrives later).
    """

    name: str
    columns: tuple[Column, ...]
    target: str
    task: str
    description: str = ""
    layouts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            repeated = sorted({n for n in names if names.count(n) > 1})
            raise SchemaError(f"schema {self.name!r} names a column twice: {', '.join(repeated)}",
                              fix="give every column a different name")
        if self.target not in names:
            raise SchemaError(f"schema {self.name!r}: the target {self.target!r} is not one of its "
                              f"columns ({', '.join(names)})", fix="name an existing column as target")
        if self.task not in TASKS:
            raise SchemaError(f"schema {self.name!r}: task {self.task!r} is not known",
                              fix="write task: regression or task: classification")
        target = self.by_name[self.target]
        if self.task == "regression" and not target.is_numeric:
            raise SchemaError(f"schema {self.name!r}: a regression target must be a number, and "
                              f"{self.target!r} is {target.kind}",
                              fix="make the target an integer or number column, or the task classification")
        if self.task == "classification" and target.allowed is None:
            raise SchemaError(f"schema {self.name!r}: a classification target needs its classes, "
                              f"and {self.target!r} is {target.kind}",
                              fix="make the target a category (or boolean) column with its values")
        if not self.features:
            raise SchemaError(f"schema {self.name!r} has no feature column",
                              fix="keep at least one column that is not the target, an id or ignored")
        if not self.layouts:
            object.__setattr__(self, "layouts", {"data": self.data_header})

    @property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    def column(self, name: str) -> Column:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"unknown column {name!r}; known columns: "
                           f"{', '.join(self.by_name)}") from None

    @property
    def id(self) -> str | None:
        """The identifier column, if the dataset has one."""
        return next((c.name for c in self.columns if c.role == "identifier"), None)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.role == "feature")

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.role == "feature" and c.is_numeric)

    @property
    def categorical_features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.role == "feature" and c.allowed is not None)

    @property
    def classes(self) -> tuple[str, ...] | None:
        """The target's values, for classification."""
        return self.by_name[self.target].allowed if self.task == "classification" else None

    @property
    def data_header(self) -> tuple[str, ...]:
        """The columns of a labelled data file, in order (ignored columns included)."""
        return tuple(c.name for c in self.columns if c.role != "time")

    def layout_of(self, columns) -> str:
        """Which of the layouts a header belongs to: one with a time column the header has, else
        "data" (or "houses" for the house prices)."""
        cols = set(columns)
        for name in sorted(self.layouts, key=lambda n: n != "labels"):  # labels first, as layout_of
            layout = self.layouts[name]
            if any(t in cols for t in layout if self.by_name[t].role == "time"):
                return name
        return next(iter(self.layouts))

    # --- the schema file ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The schema as plain data (what a schema file holds)."""
        columns = []
        for c in self.columns:
            if c.role == "time":
                continue
            entry = {"name": c.name, "type": "category" if c.kind == "yes_no" else c.kind}
            if c.role == "ignore" and c.kind != "text":
                entry["role"] = "ignore"
            for key, value in (("unit", c.unit), ("min", c.min), ("max", c.max)):
                if value is not None:
                    entry[key] = value
            if c.allowed is not None:
                entry["values"] = list(c.allowed)
            if c.pattern is not None:
                entry["pattern"] = c.pattern
            if c.nullable:
                entry["nullable"] = True
            if c.example is not None:
                entry["example"] = c.example
            if c.description:
                entry["description"] = c.description
            columns.append(entry)
        return {"name": self.name, "task": self.task, "target": self.target,
                "description": self.description, "columns": columns}

    def to_yaml(self, notes: dict[str, str] | None = None) -> str:
        """The schema file's text: a header that says how to review it, and one block per column
        (with `notes[name]` as a comment above it, e.g. what inference saw)."""
        import yaml

        notes = notes or {}
        data = self.to_dict()
        lines = [SCHEMA_FILE_HEADER.rstrip(), ""]
        for key in ("name", "task", "target", "description"):
            lines.append(_yaml_line({key: data[key]}))
        lines += ["", "columns:"]
        for entry in data["columns"]:
            if entry["name"] in notes:
                lines.append(f"  # {notes[entry['name']]}")
            block = yaml.dump([entry], Dumper=_lists_on_one_line(), allow_unicode=True, sort_keys=False,
                              width=100)
            lines += ["  " + line for line in block.rstrip().splitlines()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_dict(cls, data, source: str = "schema.yaml") -> Schema:
        """A Schema from a schema file's data; SchemaError names what to fix."""
        if not isinstance(data, dict):
            raise SchemaError(f"{source}: the file must be a YAML mapping with name, task, target "
                              "and columns", fix="start from `clinic schema infer DATA --target COLUMN`")
        missing = [key for key in ("task", "target", "columns") if key not in data]
        if missing:
            raise SchemaError(f"{source}: the key{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing",
                              fix="add them (see the comments at the top of a file written by "
                                  "`clinic schema infer`)")
        if not isinstance(data["columns"], list) or not data["columns"]:
            raise SchemaError(f"{source}: `columns` must be a list of columns",
                              fix="write one `- name: ...` entry per column of the CSV file")
        target = str(data["target"])
        columns = tuple(_column_from_dict(entry, i, target, source)
                        for i, entry in enumerate(data["columns"], 1))
        return cls(name=str(data.get("name") or Path(source).stem), columns=columns,
                   target=target, task=str(data["task"]), description=str(data.get("description") or ""))


SCHEMA_FILE_HEADER = """\
# The data contract of this dataset: every file of it must have these columns, with these types
# and values. The pipeline refuses data that breaks it (file, line, column and the fix), and the
# service builds its request schema from it.
#
#   task      regression (the target is a number) or classification (one of a few values)
#   target    the column the model learns to predict
#   columns   one entry per column of the CSV file, in any order:
#     type      id (unique text, not a feature) | integer | number | category | boolean | date
#               | text (free text, kept in the file, not checked, not used by the model)
#     role      ignore: keep the column in the file but not in the model
#     min, max  the plausible range (dates as YYYY-MM-DD); values outside are refused
#     values    category: the allowed values, spelled exactly; boolean: [true, false] spellings
#     unit      shown in error messages and the service's documentation
#     nullable  true: empty cells are allowed and filled in by the model
#     example   a typical value, used in the service's example request
"""


def _lists_on_one_line():
    import yaml

    class Dumper(yaml.SafeDumper):
        """Mappings as blocks, lists of values on one line: `values: [low, medium, high]`."""

    def flow_list(dumper, data):
        flow = all(not isinstance(item, (dict, list)) for item in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    Dumper.add_representer(list, flow_list)
    return Dumper


def _yaml_line(mapping: dict) -> str:
    import yaml

    return yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False, width=100).rstrip()


def _column_from_dict(entry, position: int, target: str, source: str) -> Column:
    where = f"{source}: column {position}"
    if not isinstance(entry, dict) or "name" not in entry:
        raise SchemaError(f"{where} must be a mapping with at least `name` and `type`",
                          fix="write it as `- name: price` then `type: integer` on the next line")
    name = str(entry["name"])
    where = f"{source}: column {name!r}"
    kind = str(entry.get("type", ""))
    if kind == "yes_no":
        kind = "category"
    if kind not in KINDS:
        raise SchemaError(f"{where}: type {kind or '(none)'!r} is not known",
                          fix="use one of id, integer, number, category, boolean, date, text")
    role = "identifier" if kind == "id" else ("target" if name == target else "feature")
    if entry.get("role") == "ignore" or kind == "text":
        role = "ignore"
    elif entry.get("role") not in (None, "feature", "target", "identifier"):
        raise SchemaError(f"{where}: role {entry['role']!r} is not known",
                          fix="leave role out, or write role: ignore")
    allowed = entry.get("values")
    if kind in ("category", "boolean"):
        if not isinstance(allowed, list) or not allowed:
            raise SchemaError(f"{where}: a {kind} column needs its `values`",
                              fix="list them, e.g. values: [low, medium, high]")
        allowed = tuple(str(v) for v in allowed)
        if kind == "boolean" and len(allowed) != 2:
            raise SchemaError(f"{where}: a boolean column has exactly two values (true, false)",
                              fix='write e.g. values: ["true", "false"], the true spelling first')
        if len(set(allowed)) != len(allowed):
            raise SchemaError(f"{where}: a value is listed twice", fix="list each value once")
    elif allowed is not None:
        raise SchemaError(f"{where}: only category and boolean columns take `values`",
                          fix="remove `values`, or change the type")
    low, high = (_bound(entry.get(k), kind, f"{where}, {k}") for k in ("min", "max"))
    if low is not None and high is not None and low > high:
        raise SchemaError(f"{where}: min is above max", fix="swap them")
    return Column(name=name, kind=kind, role=role, description=str(entry.get("description") or ""),
                  unit=entry.get("unit"), min=low, max=high, allowed=allowed,
                  pattern=entry.get("pattern"), example=entry.get("example"),
                  nullable=bool(entry.get("nullable", False)))


def _bound(value, kind: str, where: str):
    if value is None:
        return None
    if kind == "date":
        text = value.isoformat() if isinstance(value, datetime.date) else str(value)
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            raise SchemaError(f"{where}: {text!r} is not a date", fix="write it as YYYY-MM-DD") from None
        return text
    if kind not in ("integer", "number") or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{where}: {value!r} is not a bound of a {kind} column",
                          fix="give min and max only to integer, number and date columns, as numbers")
    return int(value) if kind == "integer" and float(value).is_integer() else value


def read_schema(path: str | Path) -> Schema:
    """The Schema in a schema file; SchemaError says what to fix."""
    import yaml

    path = Path(path)
    shown = path.name
    if not path.is_file():
        raise SchemaError(f"{shown}: no such schema file",
                          fix="draft one with `clinic schema infer DATA.csv --target COLUMN`")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SchemaError(f"{shown}: not a readable YAML file{where}",
                          fix="check the indentation and quotes there") from None
    return Schema.from_dict(data, source=shown)


HOUSES = Schema(
    name="houses", columns=_COLUMNS, target=TARGET, task="regression",
    description="Synthetic house prices (GBP), the MLOps Clinic lessons' dataset",
    layouts=LAYOUTS)
