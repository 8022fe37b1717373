"""Reading and validating the kit's CSV files, with errors a participant can act on.

Every problem names the file, the line, the column and what to fix. Line numbers are the ones a
text editor or spreadsheet shows: the header is line 1, the first data row is line 2, so the row
at position i of the DataFrame is line i + 2. (A quoted value spanning several lines would shift
this; the kit's files have none.)

    load("houses_reference")                  # a kit dataset by name, validated, proper dtypes
    load("my_houses.csv")                     # any file; DataValidationError lists what to fix
    df = load("traffic/data_quality", strict=False)
    df.attrs["problems"]                      # the incident's problems, rows kept
    load("my_data.csv", schema=read_schema("schema.yaml"))   # any dataset, by its schema

Without `schema`, every function checks the house prices (schema.HOUSES).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlops_clinic.data.schema import HOUSES, Column, Schema, _bound_text
from mlops_clinic.paths import DATASETS_DIR

MAX_SHOWN = 10  # problems spelled out in a DataValidationError message; the rest are counted
# Problems listed one by one per column (and for empty lines); beyond that they are counted. Big
# enough to list every problem of a real incident (the kit's 100k-row one has at most 3,564 in a
# column); small enough that a column wrong on every row of a big file costs megabytes, not
# gigabytes (a Problem and its message take about 400 bytes).
KEPT_PER_COLUMN = 5_000
COUNTED = "counted"  # the kind of a Problem that stands for `count` problems not listed one by one
# Cells that mean "no value" when someone typed them; counted as missing, not as unknown text.
NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})
EMPTY_LINE_FIX = "the line is empty; delete it"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file. row is the file's line number (header = line 1) or
    None for a problem of the whole file or column; kind is a short code for counting. A Problem
    of kind COUNTED stands for `count` problems of one column that are not listed one by one."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    kind: str = "invalid"
    count: int = 1

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} line {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


def total_problems(problems) -> int:
    """How many problems there are, counting those not listed one by one."""
    return sum(p.count for p in problems)


class Problems(tuple):
    """The problems of a loaded file, as kept in df.attrs["problems"]. Immutable and shared, not
    copied: pandas deep-copies attrs on every operation, which would cost seconds per step for
    an incident with 100k problems."""

    def __deepcopy__(self, memo):
        return self

    @property
    def total(self) -> int:
        return total_problems(self)


class DataValidationError(ValueError):
    """A data file cannot be used as it is. `.problems` lists the Problems found (up to
    KEPT_PER_COLUMN per column, then one COUNTED Problem for the rest); `.total` counts them all."""

    def __init__(self, message: str, problems: list[Problem] | tuple[Problem, ...] = ()):
        super().__init__(message)
        self.problems = list(problems)

    @property
    def total(self) -> int:
        return total_problems(self.problems)

    @classmethod
    def from_problems(cls, problems: list[Problem], source: str) -> DataValidationError:
        return cls(summarise(problems, source), problems)


def summarise(problems: list[Problem], source: str) -> str:
    """A message listing up to MAX_SHOWN problems, counting the rest, and giving each column's
    COUNTED problems (lines, what is wrong and the fix) in one line."""
    listed = [p for p in problems if p.kind != COUNTED]
    counted = [p for p in problems if p.kind == COUNTED]
    total = total_problems(problems)
    if total == 1:
        return str(problems[0])
    lines = [f"{source}: {total:,} problems found; fix them and load the file again:"]
    lines += [f"  {p}" for p in listed[:MAX_SHOWN]]
    rest = total - len(listed[:MAX_SHOWN])
    if rest and not counted:
        lines.append(f"  ... and {rest:,} more (load(..., strict=False) returns the rows with every "
                     "problem in df.attrs['problems'])")
    elif rest:
        lines.append(f"  ... and {rest:,} more (load(..., strict=False) returns the rows with the problems "
                     f"in df.attrs['problems']: up to {KEPT_PER_COLUMN:,} per column one by one, the "
                     "others counted as below)")
        lines += [f"  {p}" for p in counted]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Where files are

def available_datasets() -> list[str]:
    """Names of the kit's datasets, e.g. 'houses_reference', 'traffic/stable_labels'."""
    return sorted(p.relative_to(DATASETS_DIR).with_suffix("").as_posix()
                  for p in DATASETS_DIR.rglob("*.csv"))


def dataset_path(name: str, must_exist: bool = True) -> Path:
    """Path of a kit dataset: 'houses_reference', 'traffic/stable' or 'traffic/stable_labels'
    (a '.csv' suffix is accepted)."""
    stem = name[:-4] if name.endswith(".csv") else name
    parts = Path(stem.replace("\\", "/")).parts
    if not parts or Path(stem).is_absolute() or ".." in parts:
        raise ValueError(f"{name!r} is not a dataset name; use one of: "
                         f"{', '.join(available_datasets())}")
    path = DATASETS_DIR.joinpath(*parts).with_suffix(".csv")
    if must_exist and not path.is_file():
        raise DataValidationError(
            f"{name!r} is not one of the kit's datasets; use one of: "
            f"{', '.join(available_datasets())} (or give the path of a CSV file)",
            [Problem(f"{stem}.csv", None, None, None, "no such dataset", "file_not_found")])
    return path


def _display_name(path: Path) -> str:
    # Kit datasets are named as in the datasets folder; anything else by its file name, so
    # messages (and committed notebook outputs) carry no machine-specific paths.
    try:
        return path.resolve().relative_to(DATASETS_DIR.resolve()).as_posix()
    except ValueError:
        return path.name


def _resolve(path_or_name: str | Path) -> Path:
    path = Path(path_or_name)
    if isinstance(path_or_name, Path) or path.exists():
        return path
    try:
        return dataset_path(str(path_or_name))
    except (ValueError, DataValidationError):
        pass
    given = path.name if path.is_absolute() else path.as_posix()
    raise DataValidationError(
        f"{given}: file not found; check the name and folder, or use one of the kit's "
        f"datasets: {', '.join(available_datasets())}",
        [Problem(path.name, None, None, None, "file not found", "file_not_found")])


# ---------------------------------------------------------------------------------------------
# Reading

def _fail(name: str, message: str, kind: str, row: int | None = None) -> DataValidationError:
    problem = Problem(name, row, None, None, message, kind)
    return DataValidationError(str(problem), [problem])


def read_csv(path: str | Path, *, source: str | None = None, schema: Schema | None = None) -> pd.DataFrame:
    """Read a CSV as text (every cell a str, empty cells NaN), turning every parse failure into
    a DataValidationError that names the file, the line and the fix. Values are not checked
    here; see validate(). `schema` only shapes the messages (the header to write)."""
    path = Path(path)
    name = source or _display_name(path)
    header = ",".join(next(iter((schema or HOUSES).layouts.values())))
    if not path.exists():
        # Echo a relative path as given; an absolute one would print this machine's folders.
        given = "" if path.is_absolute() else f" (looked for {path.as_posix()})"
        raise _fail(name, f"file not found{given}; check the file name and folder",
                    "file_not_found")
    if not path.is_file():
        raise _fail(name, "this is a folder, not a file; give the path of a .csv file",
                    "not_a_file")
    with path.open("rb") as fh:
        head = fh.read(65_536)
    if head.startswith(b"PK\x03\x04"):
        raise _fail(name, "this is an Excel workbook (or another zip file), not CSV text; in Excel "
                    "use File > Save As > 'CSV UTF-8 (Comma delimited)'", "not_csv")
    if b"\x00" in head:
        raise _fail(name, "this is a binary file, not CSV text; export the data as a .csv file",
                    "not_csv")
    if not head.strip():
        raise _fail(name, "the file is empty; a CSV needs a header line first, e.g. "
                    + header, "empty_file")
    try:
        # Everything as text and only empty cells as missing: validate() then sees the raw
        # values ('NA', 'YES', '4,500') and can say exactly what is wrong with each.
        # Blank lines are kept (as all-empty rows) so line numbers stay those of the file.
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                         skip_blank_lines=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        data = path.read_bytes()
        try:
            data.decode("utf-8")
            raise _fail(name, "could not be decoded as UTF-8 text", "encoding") from None
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise _fail(name, f"this line is not UTF-8 text (byte 0x{data[err.start]:02x}, "
                        "often a £ sign or accent saved by Excel as Windows-1252); save the "
                        "file as 'CSV UTF-8'",
                        "encoding", row=line) from None
    except pd.errors.EmptyDataError:
        raise _fail(name, "the file holds only blank lines; a CSV needs a header line first, "
                    "e.g. " + header, "empty_file") from None
    except pd.errors.ParserError as err:
        problems = _scan_structure(path, name)
        if problems:
            raise DataValidationError.from_problems(problems, name) from None
        # The scan found nothing the C parser objected to: say so in plain words.
        raise _fail(name, "the file could not be read as CSV (" + str(err).strip().replace(
            "Error tokenizing data. C error: ", "") + "); check the quotes and commas there",
                    "parse_error") from None

    if len(df.columns) == 1 and re.search(r"[;\t|]", str(df.columns[0])):
        sep = {";": "';'", "\t": "tabs", "|": "'|'"}[re.search(r"[;\t|]", df.columns[0]).group()]
        raise _fail(name, f"the file separates values with {sep}, not commas; save it as "
                    "comma-separated (in Excel: 'CSV UTF-8 (Comma delimited)')",
                    "wrong_separator", row=1)
    # pandas pads a row with too FEW values with empty cells instead of failing; find such rows
    # (they can only be rows whose last cell is empty) and report them like rows with too many.
    last = df.iloc[:, -1].isna() & df.notna().any(axis=1)
    if last.any():
        problems = _scan_structure(path, name)
        if problems:
            raise DataValidationError.from_problems(problems, name)
    return df


def _scan_structure(path: Path, name: str) -> list[Problem]:
    """Find rows whose number of values differs from the header's, and broken quoting, with
    exact line numbers (the csv module counts physical lines; pandas' messages do not)."""
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, strict=True)
        start, width = 1, None
        try:
            for record in reader:
                if width is None:
                    width = len(record)
                elif record and len(record) != width:
                    fix = ("a value probably contains a comma: put that value in double quotes "
                           "or remove the extra comma" if len(record) > width else
                           "fill in the missing values (an empty cell is written as ,,) or "
                           "delete the line")
                    problems.append(Problem(name, start, None, None,
                                            f"this line has {len(record)} values but the "
                                            f"header has {width} columns; {fix}",
                                            "wrong_field_count"))
                start = reader.line_num + 1
        except csv.Error as err:
            problems.append(Problem(name, start, None, None,
                                    f'a double quote (") here is not closed, or other characters '
                                    f"follow it ({err}); close the quote, or remove it if it is "
                                    "part of the value", "bad_quoting"))
    return problems


# ---------------------------------------------------------------------------------------------
# Validation

def _text(value) -> str:
    """A cell as the participant would see it in the file."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unit(col: Column) -> str:
    return f" ({col.unit})" if col.unit else ""


def _range_text(col: Column) -> str:
    low, high = _bound_text(col.min), _bound_text(col.max)
    if col.min is not None and col.max is not None:
        return f"between {low} and {high}{_unit(col)}"
    if col.min is not None:
        return f"{low} or more{_unit(col)}"
    return f"at most {high}{_unit(col)}"


def _allowed_text(col: Column) -> str:
    if col.kind == "yes_no":
        return "use exactly 'yes' or 'no' (lower case)"
    if col.kind == "boolean":
        return f"use exactly '{col.allowed[0]}' (true) or '{col.allowed[1]}' (false)"
    return "use one of " + ", ".join(f"'{v}'" for v in col.allowed)


def validate(df: pd.DataFrame, source: str = "data.csv", require_target: bool | None = None,
             layout: str | None = None, *, schema: Schema | None = None) -> list[Problem]:
    """Every problem in df, in file order. Rows are numbered as lines of the CSV file: the row
    at position i is line i + 2 (header = line 1). A column with more than KEPT_PER_COLUMN bad
    cells lists the first ones, and one COUNTED Problem at the end counts the rest (their lines,
    kinds and fixes); total_problems() counts everything.

    schema: the dataset's Schema (default: the house prices). layout: one of schema.layouts
    ("houses", "traffic" or "labels" for the house prices); guessed from the columns if None.
    require_target: whether the target must be present; None = as the layout says (houses and
    labels files have it, traffic files do not). Checks: missing, misnamed and extra columns;
    empty lines; missing values (unless the column is nullable); non-numbers, fractions,
    non-dates and out-of-range values; unknown categories; wrong case or stray spaces; malformed
    and duplicate identifiers.
    """
    schema = schema or HOUSES
    target, layouts, columns = schema.target, schema.layouts, schema.by_name
    layout = layout or schema.layout_of(df.columns)
    expected = list(layouts[layout])
    if require_target is None:
        require_target = target in expected
    required = [c for c in expected if c != target or require_target]
    if require_target and target not in required:
        required.append(target)
    allowed = set(expected) | {target}
    if layout != "labels":  # request-like files may carry any column of the other such layouts
        for name, cols in layouts.items():
            if name != "labels":
                allowed |= set(cols)

    problems: list[Problem] = []
    present = [str(c) for c in df.columns]
    extra = [c for c in present if c not in allowed]
    # A column present under a near-miss name ('Area', ' area') is one problem, not two.
    renamed = {}
    for c in required:
        if c not in present:
            near = [e for e in extra if e.strip().lower() == c]
            if near:
                renamed[near[0]] = c
                problems.append(Problem(source, None, c, near[0],
                                        f"the column is missing; the header has {near[0]!r} "
                                        f"instead: rename it to exactly '{c}'",
                                        "missing_column"))
            else:
                problems.append(Problem(source, None, c, None,
                                        "the column is missing; the header must contain: "
                                        + ",".join(expected), "missing_column"))
    for c in extra:
        if c in renamed:
            continue
        base = re.sub(r"\.\d+$", "", c)
        if c.startswith("Unnamed: "):
            msg = "the header has an empty column name (a trailing comma?); remove it"
        elif base != c and base in present:
            msg = f"'{base}' appears twice in the header; remove the repeated column"
        else:
            msg = ("this column is not part of the schema; remove it (expected columns: "
                   + ",".join(expected) + ")")
        problems.append(Problem(source, None, c, None, msg, "extra_column"))

    if len(df) == 0:
        problems.append(Problem(source, None, None, None,
                                "the file has a header but no data rows", "no_rows"))
        return problems

    checked = [c for c in present if c in allowed and c not in renamed and columns[c].kind != "text"]
    if not checked:
        return problems
    lines = np.arange(len(df)) + 2
    isna = df.isna()  # once for the whole frame: it is a pass over every cell
    # Rows where every cell is empty: one problem per line, not one per cell.
    empty = isna.all(axis=1).to_numpy()
    empty_at = np.flatnonzero(empty)
    cells: list[tuple[int, int, Problem]] = [
        (int(lines[i]), -1, Problem(source, int(lines[i]), None, None, EMPTY_LINE_FIX, "empty_line"))
        for i in empty_at[:KEPT_PER_COLUMN]]
    counted = [_counted_empty_lines(source, lines[empty_at[KEPT_PER_COLUMN:]])] \
        if len(empty_at) > KEPT_PER_COLUMN else []
    order = {c: i for i, c in enumerate(present)}
    for name in checked:
        found = _check_column(df[name], columns[name], isna[name].to_numpy() & ~empty, empty)
        for i in range(min(len(found), KEPT_PER_COLUMN)):
            cells.append((int(lines[found.at[i]]), order[name], found.problem(i, source, lines)))
        if len(found) > KEPT_PER_COLUMN:
            counted.append(found.counted(KEPT_PER_COLUMN, source, lines))
    cells.sort(key=lambda t: (t[0], t[1]))
    return problems + [p for _, _, p in cells] + counted


def _counted_empty_lines(source: str, lines: np.ndarray) -> Problem:
    return Problem(source, None, None, None,
                   f"{len(lines):,} more empty lines, from line {int(lines[0]):,} to line "
                   f"{int(lines[-1]):,}, counted but not listed one by one; delete them", COUNTED,
                   len(lines))


def _numbers(values: pd.Series) -> np.ndarray:
    """Column as float64, NaN where a cell is not a number. Tries the strict whole-number
    parse first: ~10x faster than pd.to_numeric on text, and it succeeds for clean columns."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64").to_numpy()
    try:
        return values.astype("int64").to_numpy().astype("float64")
    except (ValueError, TypeError, OverflowError):
        return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()


# What can be wrong with a cell; a column's findings hold these as small integer codes.
KINDS = ("missing_value", "not_a_number", "not_a_whole_number", "out_of_range", "extra_spaces",
         "wrong_case", "unknown_category", "bad_format", "duplicate_id", "not_a_date")
_CODE = {kind: code for code, kind in enumerate(KINDS)}


@dataclass(frozen=True, eq=False)
class ColumnFindings:
    """The bad cells of one column, in file order: positions in the frame, the kind of each
    (a code into KINDS), and for a repeated id the position of its first appearance (-1
    otherwise). Arrays, not Problems: a Problem is made only for the cells that are listed."""

    values: np.ndarray  # the column's cells, as read
    column: Column
    isna: np.ndarray  # cells with no value at all (as opposed to typed 'NA')
    at: np.ndarray
    kind: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.at)

    def problem(self, i: int, source: str, lines: np.ndarray) -> Problem:
        """The Problem of the i-th bad cell."""
        position, kind = self.at[i], KINDS[self.kind[i]]
        line = int(lines[position])
        shown = None if self.isna[position] else _text(self.values[position])
        first_line = int(lines[self.first[i]]) if self.first[i] >= 0 else None
        message = _message(kind, shown, self.column, first_line)
        if kind == "missing_value" and shown is not None and not shown.strip():
            shown = None  # only spaces: nothing worth echoing
        return Problem(source, line, self.column.name, shown, message, kind)

    def counted(self, start: int, source: str, lines: np.ndarray) -> Problem:
        """One Problem that counts the bad cells from the start-th on: their lines, and each
        kind with its fix, shown on its first cell."""
        codes, first_of_code, counts = np.unique(self.kind[start:], return_index=True, return_counts=True)
        parts = []
        for code, first, count in sorted(zip(codes, first_of_code, counts), key=lambda t: -t[2]):
            example = self.problem(start + int(first), source, lines)
            parts.append(f"{int(count):,} {KINDS[code].replace('_', ' ')} (e.g. line {example.row:,}: "
                         f"{example.message})")
        n = len(self) - start
        rows = lines[self.at[start:]]
        return Problem(source, None, self.column.name, None,
                       f"{n:,} more problems, from line {int(rows[0]):,} to line {int(rows[-1]):,}, "
                       "counted but not listed one by one: " + "; ".join(parts), COUNTED, n)


def _check_column(values: pd.Series, col: Column, isna: np.ndarray, skip: np.ndarray) -> ColumnFindings:
    """The bad cells of one column (skip: rows not to check, the empty lines). Every check is a
    vectorised operation over the column and text is examined only for the cells that fail, so
    a clean 100k-row file costs little, and a column wrong on every row costs no Python work per
    cell."""
    raw = values.to_numpy(dtype=object)
    live = ~skip & ~isna
    found: dict[str, np.ndarray] = {}  # kind -> positions

    def split_typed_missing(failed: np.ndarray) -> np.ndarray:
        # Cells someone typed as 'NA', 'null', '-', or only spaces: missing, not unknown text.
        typed = _per_distinct(raw[failed], lambda value: str(value).strip().lower() in NA_TOKENS)
        found["typed_missing"] = failed[typed]
        return failed[~typed]

    if col.kind in ("integer", "number"):
        num = _numbers(values)
        found["not_a_number"] = split_typed_missing(np.flatnonzero(live & ~np.isfinite(num)))
        with np.errstate(invalid="ignore"):
            low = (num < col.min) if col.min is not None else np.zeros(len(num), dtype=bool)
            high = (num > col.max) if col.max is not None else np.zeros(len(num), dtype=bool)
            fraction = np.isfinite(num) & (np.mod(num, 1) != 0) & ~low & ~high
        if col.kind == "integer":
            found["not_a_whole_number"] = np.flatnonzero(live & fraction)
        found["out_of_range"] = np.flatnonzero(live & (low | high))
    elif col.kind == "date":
        days = _dates(values)
        found["not_a_date"] = split_typed_missing(np.flatnonzero(live & np.isnan(days)))
        with np.errstate(invalid="ignore"):
            low = days < _day_number(col.min) if col.min is not None else np.zeros(len(days), dtype=bool)
            high = days > _day_number(col.max) if col.max is not None else np.zeros(len(days), dtype=bool)
        found["out_of_range"] = np.flatnonzero(live & (low | high))
    elif col.allowed is not None:
        failed = split_typed_missing(np.flatnonzero(live & ~values.isin(col.allowed).to_numpy()))
        kinds = _per_distinct(raw[failed], lambda value: _category_problem(str(value), col))
        for kind in ("extra_spaces", "wrong_case", "unknown_category"):
            found[kind] = failed[kinds == kind]
    else:  # id
        pattern = col.pattern.strip("^$") if col.pattern else r".*\S.*"
        good = values.astype(str).str.fullmatch(pattern).to_numpy(dtype=bool)
        found["bad_format"] = split_typed_missing(np.flatnonzero(live & ~good))
        valid = np.flatnonzero(live & good)
        codes, _ = pd.factorize(raw[valid])
        _, first_of_code = np.unique(codes, return_index=True)  # factorize numbers ids in order of appearance
        repeated = np.flatnonzero(pd.Series(codes).duplicated(keep="first").to_numpy())
        found["duplicate_id"] = valid[repeated]
        first_seen = valid[first_of_code[codes[repeated]]]
    found["missing_value"] = np.union1d(np.flatnonzero(isna), found.pop("typed_missing"))
    if col.nullable:  # empty (or typed 'NA') is a value this column may have
        found["missing_value"] = np.zeros(0, dtype=np.int64)

    at = np.concatenate([found[k] for k in KINDS if k in found]).astype(np.int64)
    kind = np.concatenate([np.full(len(found[k]), _CODE[k], dtype=np.int8) for k in KINDS if k in found])
    first = np.full(len(at), -1, dtype=np.int64)
    if "duplicate_id" in found and len(first_seen):
        first[kind == _CODE["duplicate_id"]] = first_seen
    order = np.argsort(at, kind="stable")
    return ColumnFindings(raw, col, isna, at[order], kind[order], first[order])


def _day_number(iso: str) -> float:
    return float(np.datetime64(str(iso), "D").astype(np.int64))


def _dates(values: pd.Series) -> np.ndarray:
    """Column as days since 1970-01-01 (float64), NaN where a cell is not a YYYY-MM-DD date."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        text = values.astype(str).str.strip()
        parsed = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")),
                                format="%Y-%m-%d", errors="coerce")
    days = parsed.to_numpy(dtype="datetime64[D]").astype(np.int64).astype(np.float64)
    days[parsed.isna().to_numpy()] = np.nan
    return days


def _per_distinct(cells: np.ndarray, test) -> np.ndarray:
    """test(cell) for every cell, computed once per distinct value: the bad cells of a column
    wrong on every row hold a handful of values ('YES', 'No'), so this costs a hash per cell."""
    codes, distinct = pd.factorize(cells)
    return np.array([test(value) for value in distinct])[codes] if len(cells) else np.zeros(0, dtype=bool)


def _category_problem(text: str, col: Column) -> str:
    """The kind of problem of a cell that is not one of col.allowed (and not typed as missing)."""
    stripped = text.strip()
    if stripped.lower() in {value.lower() for value in col.allowed}:
        return "extra_spaces" if stripped != text and stripped in col.allowed else "wrong_case"
    return "unknown_category"


def _message(kind: str, shown: str | None, col: Column, first_line: int | None) -> str:
    """What is wrong with one cell and how to fix it."""
    if kind == "missing_value":
        how = f" (written as {shown!r})" if shown is not None and shown.strip() else ""
        return f"value is missing{how}; fill it in or remove the row"
    if kind == "not_a_number":
        return (f"{shown!r} is not a number; write digits only, without thousands "
                f"separators or units (e.g. {col.example})")
    if kind == "not_a_whole_number":
        return f"{shown} is not a whole number; {col.name} counts whole units{_unit(col)}"
    if kind == "not_a_date":
        return (f"{shown!r} is not a date written year-month-day; write it as YYYY-MM-DD "
                f"(e.g. {col.example or '2024-03-31'})")
    if kind == "out_of_range":
        return f"{shown} is out of range; {col.name} must be {_range_text(col)}"
    if kind == "extra_spaces":
        return f"{shown!r} has spaces around it; use exactly '{shown.strip()}'"
    if kind == "wrong_case":
        spelled = next((v for v in col.allowed if v.lower() == shown.strip().lower()), shown.strip())
        return f"{shown!r} is not allowed; {_allowed_text(col)}" + (
            "" if col.kind == "yes_no" else f" (here '{spelled}', "
                                            f"{'in lower case' if spelled == spelled.lower() else 'spelled exactly'})")
    if kind == "unknown_category":
        return f"{shown!r} is not allowed; {_allowed_text(col)}"
    if kind == "bad_format":
        if col.pattern is None:
            return f"{shown!r} is not a valid {col.name}; write a non-empty identifier"
        hint = col.pattern_hint or ("'H' followed by six digits" if col.pattern == r"^H[0-9]{6,}$"
                                    else f"text matching {col.pattern}")
        return f"{shown!r} is not a valid {col.name}; use {hint}, e.g. '{col.example}'"
    # duplicate_id
    return (f"{shown!r} already appears on line {first_line}; each {col.name} "
            "must appear once (remove the repeated row)")


# ---------------------------------------------------------------------------------------------
# Loading

def _to_dtypes(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Integer columns become int64 when every value is a whole number, else float64 (cells
    that are not numbers become NaN; their raw text is in the problems); number columns
    float64; date columns datetime64 (NaT where not a date). Text stays as read."""
    df = df.copy()
    columns = schema.by_name
    for name in df.columns:
        col = columns.get(name)
        if col is None:
            continue
        if col.kind == "integer":
            num = _numbers(df[name])  # 'NA', '4,500' -> NaN
            whole = np.isfinite(num).all() and (np.mod(num, 1) == 0).all()
            df[name] = pd.Series(num, index=df.index).astype(np.int64 if whole else np.float64)
        elif col.kind == "number":
            df[name] = pd.Series(_numbers(df[name]), index=df.index)
        elif col.kind == "date":
            days = _dates(df[name])
            df[name] = pd.Series(pd.to_datetime(days, unit="D"), index=df.index)
    return df


def validated(path_or_name: str | Path, require_target: bool | None = None, *,
              schema: Schema | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and validate; returns (DataFrame of raw text, problems). Bad values never raise
    here; files that cannot be read as CSV at all still raise DataValidationError."""
    path = _resolve(path_or_name)
    name = _display_name(path)
    df = read_csv(path, source=name, schema=schema)
    df.attrs["source"] = name
    return df, validate(df, name, require_target=require_target, schema=schema)


def load(path_or_name: str | Path, strict: bool = True,
         require_target: bool | None = None, *, schema: Schema | None = None) -> pd.DataFrame:
    """Read and validate a kit dataset (by name, e.g. 'traffic/stable') or any CSV file.

    strict=True: any problem raises DataValidationError naming up to MAX_SHOWN of them (file,
    line, column, fix) and counting the rest; `.problems` holds them (up to KEPT_PER_COLUMN per
    column, the rest counted) and `.total` counts them all.
    strict=False: returns every row, values as in the file (integer columns numeric where the
    text is a number), with the problems in df.attrs["problems"] so monitoring can report an
    incident batch (a tuple; empty when the file is clean). Either way df.attrs["source"]
    names the file. `schema`: the dataset's Schema (default: the house prices).
    """
    df, problems = validated(path_or_name, require_target=require_target, schema=schema)
    source = df.attrs["source"]
    if strict and problems:
        raise DataValidationError.from_problems(problems, source)
    df = _to_dtypes(df, schema or HOUSES)
    df.attrs["source"] = source
    df.attrs["problems"] = Problems(problems)
    return df
