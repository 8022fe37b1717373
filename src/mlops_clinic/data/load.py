"""Reading and validating the kit's CSV files, with errors a participant can act on.

Every problem names the file, the line, the column and what to fix. Line numbers are the ones a
text editor or spreadsheet shows: the header is line 1, the first data row is line 2, so the row
at position i of the DataFrame is line i + 2. (A quoted value spanning several lines would shift
this; the kit's files have none.)

    load("houses_reference")                  # a kit dataset by name, validated, proper dtypes
    load("my_houses.csv")                     # any file; DataValidationError lists what to fix
    df = load("traffic/data_quality", strict=False)
    df.attrs["problems"]                      # the incident's problems, rows kept
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlops_clinic.data.schema import COLUMNS, LAYOUTS, TARGET, Column, layout_of
from mlops_clinic.paths import DATASETS_DIR

MAX_SHOWN = 10  # problems spelled out in a DataValidationError message; the rest are counted
# Cells that mean "no value" when someone typed them; counted as missing, not as unknown text.
NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file. row is the file's line number (header = line 1) or
    None for a problem of the whole file or column; kind is a short code for counting."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    kind: str = "invalid"

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} line {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class Problems(tuple):
    """The problems of a loaded file, as kept in df.attrs["problems"]. Immutable and shared, not
    copied: pandas deep-copies attrs on every operation, which would cost seconds per step for
    an incident with 100k problems."""

    def __deepcopy__(self, memo):
        return self


class DataValidationError(ValueError):
    """A data file cannot be used as it is. `.problems` lists every Problem found."""

    def __init__(self, message: str, problems: list[Problem] | tuple[Problem, ...] = ()):
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def from_problems(cls, problems: list[Problem], source: str) -> DataValidationError:
        return cls(summarise(problems, source), problems)


def summarise(problems: list[Problem], source: str) -> str:
    """A message listing up to MAX_SHOWN problems and counting the rest."""
    if len(problems) == 1:
        return str(problems[0])
    lines = [f"{source}: {len(problems)} problems found; fix them and load the file again:"]
    lines += [f"  {p}" for p in problems[:MAX_SHOWN]]
    if len(problems) > MAX_SHOWN:
        lines.append(f"  ... and {len(problems) - MAX_SHOWN} more (load(..., strict=False) "
                     "returns the rows with every problem in df.attrs['problems'])")
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


def read_csv(path: str | Path, *, source: str | None = None) -> pd.DataFrame:
    """Read a CSV as text (every cell a str, empty cells NaN), turning every parse failure into
    a DataValidationError that names the file, the line and the fix. Values are not checked
    here; see validate()."""
    path = Path(path)
    name = source or _display_name(path)
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
                    + ",".join(LAYOUTS["houses"]), "empty_file")
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
                    "e.g. " + ",".join(LAYOUTS["houses"]), "empty_file") from None
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
    if col.min is not None and col.max is not None:
        return f"between {col.min:,} and {col.max:,}{_unit(col)}"
    if col.min is not None:
        return f"{col.min:,} or more{_unit(col)}"
    return f"at most {col.max:,}{_unit(col)}"


def _allowed_text(col: Column) -> str:
    if col.kind == "yes_no":
        return "use exactly 'yes' or 'no' (lower case)"
    return "use one of " + ", ".join(f"'{v}'" for v in col.allowed)


def validate(df: pd.DataFrame, source: str = "data.csv", require_target: bool | None = None,
             layout: str | None = None) -> list[Problem]:
    """Every problem in df, in file order. Rows are numbered as lines of the CSV file: the row
    at position i is line i + 2 (header = line 1).

    layout: "houses", "traffic" or "labels" (schema.LAYOUTS); guessed from the columns if None.
    require_target: whether `price` must be present; None = as the layout says (houses and labels
    files have it, traffic files do not). Checks: missing, misnamed and extra columns; empty
    lines; missing values; non-numbers, fractions and out-of-range numbers; unknown categories;
    wrong case or stray spaces; malformed and duplicate house_id.
    """
    layout = layout or layout_of(df.columns)
    expected = list(LAYOUTS[layout])
    if require_target is None:
        require_target = TARGET in expected
    required = [c for c in expected if c != TARGET or require_target]
    if require_target and TARGET not in required:
        required.append(TARGET)
    allowed = set(expected) | {TARGET}
    if layout != "labels":
        allowed |= set(LAYOUTS["houses"]) | set(LAYOUTS["traffic"])

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

    checked = [c for c in present if c in allowed and c not in renamed]
    if not checked:
        return problems
    lines = np.arange(len(df)) + 2
    # Rows where every cell is empty: one problem per line, not one per cell.
    empty = df.isna().all(axis=1).to_numpy()
    cells: list[tuple[int, int, Problem]] = []
    for line in lines[empty]:
        cells.append((line, -1, Problem(source, int(line), None, None,
                                        "the line is empty; delete it", "empty_line")))
    order = {c: i for i, c in enumerate(present)}
    for name in checked:
        col = COLUMNS[name]
        for line, problem in _check_column(df[name], col, source, lines, empty):
            cells.append((line, order[name], problem))
    cells.sort(key=lambda t: (t[0], t[1]))
    return problems + [p for _, _, p in cells]


def _numbers(values: pd.Series) -> np.ndarray:
    """Column as float64, NaN where a cell is not a number. Tries the strict whole-number
    parse first: ~10x faster than pd.to_numeric on text, and it succeeds for clean columns."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64").to_numpy()
    try:
        return values.astype("int64").to_numpy().astype("float64")
    except (ValueError, TypeError, OverflowError):
        return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()


def _check_column(values: pd.Series, col: Column, source: str, lines: np.ndarray,
                  skip: np.ndarray):
    """(line, Problem) for every bad cell of one column. The whole column is checked with
    vectorised operations and text is examined only for the cells that fail, so a clean
    100k-row file costs little and Problems are made only for bad cells."""
    raw = values.to_numpy(dtype=object)
    isna = values.isna().to_numpy() & ~skip
    live = ~skip & ~isna

    def cell(i, message, kind, value=True):
        shown = _text(raw[i]) if value else None
        return int(lines[i]), Problem(source, int(lines[i]), col.name, shown, message, kind)

    def typed_missing(idx):
        # Cells someone typed as 'NA', 'null', '-', or only spaces: missing, not unknown text.
        text = [str(raw[i]).strip() for i in idx]
        return np.array([t.lower() in NA_TOKENS for t in text], dtype=bool)

    missing = isna.copy()
    if col.kind == "integer":
        num = _numbers(values)
        failed = np.flatnonzero(live & np.isnan(num))
        typed = typed_missing(failed)
        missing[failed[typed]] = True
        bad = [(i, "not_a_number") for i in failed[~typed]]
        with np.errstate(invalid="ignore"):
            low = (num < col.min) if col.min is not None else np.zeros(len(num), dtype=bool)
            high = (num > col.max) if col.max is not None else np.zeros(len(num), dtype=bool)
            fraction = np.isfinite(num) & (np.mod(num, 1) != 0) & ~low & ~high
        bad += [(i, "not_a_whole_number") for i in np.flatnonzero(live & fraction)]
        bad += [(i, "out_of_range") for i in np.flatnonzero(live & (low | high))]
    elif col.allowed is not None:
        failed = np.flatnonzero(live & ~values.isin(col.allowed).to_numpy())
        typed = typed_missing(failed)
        missing[failed[typed]] = True
        bad = []
        for i in failed[~typed]:
            text = str(raw[i])
            if text.strip().lower() in col.allowed:
                bad.append((i, "extra_spaces" if text.strip() != text
                            and text.strip() in col.allowed else "wrong_case"))
            else:
                bad.append((i, "unknown_category"))
    else:  # id
        text = values.astype(str)
        good = text.str.fullmatch(col.pattern.strip("^$")).to_numpy(dtype=bool)
        failed = np.flatnonzero(live & ~good)
        typed = typed_missing(failed)
        missing[failed[typed]] = True
        bad = [(i, "bad_format") for i in failed[~typed]]
        valid = live & good
        repeated = np.flatnonzero(valid & values.duplicated(keep="first").to_numpy())
        if len(repeated):
            first: dict = {}
            for i in np.flatnonzero(valid):
                first.setdefault(raw[i], i)
            bad += [(i, "duplicate_id", first[raw[i]]) for i in repeated]

    for i in np.flatnonzero(missing):
        how = "" if isna[i] or not str(raw[i]).strip() else f" (written as {_text(raw[i])!r})"
        yield cell(i, f"value is missing{how}; fill it in or remove the row", "missing_value",
                   value=bool(how))
    for i, kind, *extra in bad:
        shown = _text(raw[i])
        if kind == "not_a_number":
            msg = (f"{shown!r} is not a number; write digits only, without thousands "
                   f"separators or units (e.g. {col.example})")
        elif kind == "not_a_whole_number":
            msg = f"{shown} is not a whole number; {col.name} counts whole units{_unit(col)}"
        elif kind == "out_of_range":
            msg = f"{shown} is out of range; {col.name} must be {_range_text(col)}"
        elif kind == "extra_spaces":
            msg = f"{shown!r} has spaces around it; use exactly '{shown.strip()}'"
        elif kind == "wrong_case":
            lower = shown.strip().lower()
            msg = f"{shown!r} is not allowed; {_allowed_text(col)}" + (
                "" if col.kind == "yes_no" else f" (here '{lower}', in lower case)")
        elif kind == "unknown_category":
            msg = f"{shown!r} is not allowed; {_allowed_text(col)}"
        elif kind == "bad_format":
            msg = (f"{shown!r} is not a valid {col.name}; use 'H' followed by six digits, "
                   f"e.g. '{col.example}'")
        else:  # duplicate_id
            msg = (f"{shown!r} already appears on line {int(lines[extra[0]])}; each {col.name} "
                   "must appear once (remove the repeated row)")
        yield cell(i, msg, kind)


# ---------------------------------------------------------------------------------------------
# Loading

def _to_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Integer columns become int64 when every value is a whole number, else float64 (cells
    that are not numbers become NaN; their raw text is in the problems). Text stays as read."""
    df = df.copy()
    for name in df.columns:
        col = COLUMNS.get(name)
        if col is None or col.kind != "integer":
            continue
        num = _numbers(df[name])  # 'NA', '4,500' -> NaN
        whole = np.isfinite(num).all() and (np.mod(num, 1) == 0).all()
        df[name] = pd.Series(num, index=df.index).astype(np.int64 if whole else np.float64)
    return df


def validated(path_or_name: str | Path, require_target: bool | None = None,
              ) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and validate; returns (DataFrame of raw text, problems). Bad values never raise
    here; files that cannot be read as CSV at all still raise DataValidationError."""
    path = _resolve(path_or_name)
    name = _display_name(path)
    df = read_csv(path, source=name)
    df.attrs["source"] = name
    return df, validate(df, name, require_target=require_target)


def load(path_or_name: str | Path, strict: bool = True,
         require_target: bool | None = None) -> pd.DataFrame:
    """Read and validate a kit dataset (by name, e.g. 'traffic/stable') or any CSV file.

    strict=True: any problem raises DataValidationError naming up to MAX_SHOWN of them (file,
    line, column, fix) and counting the rest; `.problems` holds all of them.
    strict=False: returns every row, values as in the file (integer columns numeric where the
    text is a number), with the problems in df.attrs["problems"] so monitoring can report an
    incident batch (a tuple; empty when the file is clean). Either way df.attrs["source"]
    names the file.
    """
    df, problems = validated(path_or_name, require_target=require_target)
    source = df.attrs["source"]
    if strict and problems:
        raise DataValidationError.from_problems(problems, source)
    df = _to_dtypes(df)
    df.attrs["source"] = source
    df.attrs["problems"] = Problems(problems)
    return df
