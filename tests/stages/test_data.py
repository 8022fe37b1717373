"""The kit's datasets: reproducible byte for byte, valid, with the properties the lessons rely on,
and bad files rejected with messages a participant can act on."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlops_clinic.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    LAYOUTS,
    NUMERIC_FEATURES,
    TARGET,
    DataValidationError,
    available_datasets,
    dataset_path,
    generate_houses,
    generate_traffic,
    load,
    validate,
    write_all,
)
from mlops_clinic.data import generate, schema
from mlops_clinic.data.load import COUNTED, KEPT_PER_COLUMN, Problems, total_problems
from mlops_clinic.paths import DATASETS_DIR

CLEAN = [n for n in available_datasets() if n != "traffic/data_quality"]


def _committed() -> dict[str, bytes]:
    return {p.relative_to(DATASETS_DIR).as_posix(): p.read_bytes()
            for p in sorted(DATASETS_DIR.rglob("*")) if p.is_file() and p.name != "README.md"}


# --- reproducibility ---------------------------------------------------------------------------

def test_regeneration_is_byte_for_byte_identical(tmp_path):
    write_all(tmp_path)
    fresh = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
             for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    committed = _committed()
    assert sorted(fresh) == sorted(committed)
    differ = [name for name in fresh if fresh[name] != committed[name]]
    assert not differ, f"regenerated files differ from the committed ones: {differ}"
    assert len(fresh) == 2 + 2 * len(generate.SCENARIOS) + 1


def test_sha256sums_lists_every_csv_with_its_hash():
    lines = (DATASETS_DIR / "SHA256SUMS").read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    csvs = {p.relative_to(DATASETS_DIR).as_posix(): p for p in DATASETS_DIR.rglob("*.csv")}
    assert sorted(listed) == sorted(csvs) == [line.split("  ", 1)[1] for line in lines]
    for name, path in csvs.items():
        assert listed[name] == hashlib.sha256(path.read_bytes()).hexdigest(), name


def test_committed_files_use_plain_bytes():
    for name, data in _committed().items():
        assert b"\r" not in data and data.endswith(b"\n"), name
        data.decode("ascii")  # integers and fixed strings only: no locale or platform in sight


def test_check_says_identical_then_names_what_differs(tmp_path, capsys):
    assert generate.main(["--check"]) == 0
    assert "identical" in capsys.readouterr().out

    write_all(tmp_path)
    stable = tmp_path / "traffic" / "stable.csv"
    stable.write_bytes(stable.read_bytes().replace(b",yes,", b",YES,", 1))
    (tmp_path / "houses_new.csv").unlink()
    (tmp_path / "traffic" / "old_scenario.csv").write_text("house_id\n")
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"traffic/stable\.csv differs", out)
    assert re.search(r"houses_new\.csv is missing", out)
    assert re.search(r"traffic/old_scenario\.csv is not produced by the generator", out)
    assert "are identical" not in out


def test_generation_is_deterministic_per_seed():
    a, la = generate_traffic("concept_drift", 300, seed=7)
    b, lb = generate_traffic("concept_drift", 300, seed=7)
    c, _ = generate_traffic("concept_drift", 300, seed=8)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(la, lb)
    assert not a[list(FEATURES)].equals(c[list(FEATURES)])


# --- committed files are clean and consistent ------------------------------------------------

@pytest.mark.parametrize("name", CLEAN)
def test_committed_file_validates_clean_with_proper_dtypes(name):
    df = load(name)
    assert df.attrs["problems"] == ()
    layout = schema.layout_of(df.columns)
    assert tuple(df.columns) == LAYOUTS[layout]
    for col in df.columns:
        if schema.COLUMNS[col].kind == "integer":
            assert df[col].dtype == np.int64, col
    expected_rows = {"houses_reference": 2000, "traffic/data_quality_labels": 990}
    assert len(df) == expected_rows.get(name, 1000)


def test_house_ids_identify_one_house_across_all_files():
    request_files = ["houses_reference", "houses_new"] + [f"traffic/{s}" for s in
                                                          generate.SCENARIOS]
    ids = pd.concat([load(n, strict=False)["house_id"].drop_duplicates() for n in request_files])
    assert ids.is_unique
    for scenario in generate.SCENARIOS:
        requests = load(f"traffic/{scenario}", strict=False)
        labels = load(f"traffic/{scenario}_labels")
        assert set(labels["house_id"]) == set(requests["house_id"])
        merged = requests.drop_duplicates("house_id").merge(labels, on="house_id")
        assert (merged["day_sold"] >= merged["day"]).all()
        assert sorted(requests["day"].unique()) == list(range(1, 11))
        assert list(labels.sort_values(["day_sold", "house_id"]).index) == list(labels.index)


def test_readme_column_table_matches_schema():
    text = (DATASETS_DIR / "README.md").read_text()
    block = text.split("<!-- schema-table:start -->\n")[1].split("\n<!-- schema-table:end -->")[0]
    assert block == schema.markdown_table(), (
        "datasets/README.md is out of date: paste the output of "
        "`python -c 'from mlops_clinic.data.schema import markdown_table as t; print(t())'` "
        "between the schema-table markers")


def test_schema_constants():
    assert len(FEATURES) == 12 and TARGET == "price"
    assert set(NUMERIC_FEATURES) == {"area", "bedrooms", "bathrooms", "stories", "parking"}
    assert schema.CATEGORIES["mainroad"] == ("yes", "no")
    assert schema.CATEGORIES["furnishingstatus"] == ("furnished", "semi-furnished", "unfurnished")
    assert set(schema.YES_NO_COLUMNS) | {"furnishingstatus"} == set(CATEGORICAL_FEATURES)
    assert schema.COLUMNS["area"].python_type is int


# --- the data_quality incident -----------------------------------------------------------------

def test_data_quality_batch_reports_every_kind_with_line_and_column():
    df = load("traffic/data_quality", strict=False)
    problems = df.attrs["problems"]
    kinds = {p.kind for p in problems}
    assert kinds == {"missing_value", "not_a_number", "out_of_range", "unknown_category",
                     "wrong_case", "duplicate_id"}
    assert len(problems) == 150 and len({p.row for p in problems}) == 120
    lines = (DATASETS_DIR / "traffic" / "data_quality.csv").read_text().splitlines()
    header = lines[0].split(",")
    for p in problems:
        assert p.file == "traffic/data_quality.csv" and p.column in header
        cells = next(csv.reader([lines[p.row - 1]]))  # row is the line number: header = 1
        assert cells[header.index(p.column)] == ("" if p.kind == "missing_value" else p.value)
        assert str(p).startswith(f"traffic/data_quality.csv line {p.row}, column '{p.column}': ")


def test_data_quality_strict_load_lists_ten_and_counts_the_rest():
    with pytest.raises(DataValidationError) as err:
        load("traffic/data_quality")
    message = str(err.value)
    assert "150 problems" in message and "and 140 more" in message
    assert len(err.value.problems) == 150
    assert len(re.findall(r"^  traffic/data_quality\.csv line \d+", message, re.M)) == 10


def test_non_strict_load_keeps_rows_and_raw_values():
    df = load("traffic/data_quality", strict=False)
    assert len(df) == 1000
    assert (df["mainroad"] == "YES").any() and (df["furnishingstatus"] == "part-furnished").any()
    assert (df["area"] < 0).any() and (df["area"] > 100_000).any()
    assert df["area"].dtype == np.float64 and df["area"].isna().sum() == 5 + 10  # missing, "3,850"
    assert df["bedrooms"].dtype == np.int64  # untouched columns keep their integer dtype
    assert not df["house_id"].is_unique
    assert df[["area"]].attrs["problems"] is df.attrs["problems"]  # shared, never deep-copied


# --- bad files get clear errors ----------------------------------------------------------------

def _good_lines() -> list[str]:
    return dataset_path("houses_reference").read_text().splitlines(keepends=True)[:6]


def _replace_cell(line: str, column: str, value: str) -> str:
    cells = line.rstrip("\n").split(",")
    cells[LAYOUTS["houses"].index(column)] = value
    return ",".join(cells) + "\n"


def _drop_column(line: str, column: str) -> str:
    cells = line.rstrip("\n").split(",")
    del cells[LAYOUTS["houses"].index(column)]
    return ",".join(cells) + "\n"


g = _good_lines
MALFORMED = {
    # name: (file text, fragments the message must contain)
    "ragged.csv": (lambda: "".join(g()[:3] + [g()[3].rstrip("\n") + ",7\n"] + g()[4:]),
                   ["ragged.csv line 4", "15 values", "14 columns", "double quotes"]),
    "short_row.csv": (lambda: "".join(g()[:2] + [g()[2].rsplit(",", 2)[0] + "\n"] + g()[3:]),
                      ["short_row.csv line 3", "12 values", "fill in the missing values"]),
    "non_numeric.csv": (lambda: "".join(g()[:4] + [_replace_cell(g()[4], "area", "lots")]
                                        + g()[5:]),
                        ["non_numeric.csv line 5, column 'area'", "'lots' is not a number",
                         "write digits only"]),
    "unknown_category.csv": (lambda: "".join(g()[:2] + [_replace_cell(
        g()[2], "furnishingstatus", "part-furnished")] + g()[3:]),
        ["unknown_category.csv line 3, column 'furnishingstatus'", "'part-furnished'",
         "use one of 'furnished', 'semi-furnished', 'unfurnished'"]),
    "upper_case.csv": (lambda: "".join(g()[:5] + [_replace_cell(g()[5], "mainroad", "YES")]),
                       ["upper_case.csv line 6, column 'mainroad'", "'YES' is not allowed",
                        "use exactly 'yes' or 'no' (lower case)"]),
    "missing_column.csv": (lambda: "".join(_drop_column(line, "bedrooms") for line in g()),
                           ["missing_column.csv, column 'bedrooms'", "the column is missing",
                            "the header must contain"]),
    "empty.csv": (lambda: "", ["empty.csv", "the file is empty", "header line"]),
    "open_quote.csv": (lambda: "".join(g()[:3] + ['"' + g()[3]] + g()[4:]),
                       ["open_quote.csv line 4", "double quote", "close the quote"]),
    "semicolons.csv": (lambda: "".join(line.replace(",", ";") for line in g()),
                       ["semicolons.csv line 1", "';'", "comma-separated"]),
    "renamed.csv": (lambda: "".join([g()[0].replace("parking", "Parking")] + g()[1:]),
                    ["renamed.csv, column 'parking'", "'Parking'", "rename it to exactly"]),
    "header_only.csv": (lambda: g()[0], ["header_only.csv", "no data rows"]),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_gives_a_clear_error(tmp_path, name):
    make_text, fragments = MALFORMED[name]
    path = tmp_path / name
    path.write_text(make_text())
    with pytest.raises(DataValidationError) as err:
        load(path)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    assert err.value.problems and all(p.file == name for p in err.value.problems)
    # Not a pandas error in disguise: no pandas wording, no chained pandas traceback.
    assert not re.search(r"Error tokenizing|C error|ParserError|EmptyDataError", message)
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
    assert str(tmp_path) not in message  # names the file, not this machine's folders


def test_excel_and_non_utf8_files_get_clear_errors(tmp_path):
    xlsx = tmp_path / "houses.csv"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataValidationError, match=r"houses\.csv: this is an Excel workbook"):
        load(xlsx)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("".join(g()[:3]).encode() + "price £\n".encode("cp1252"))
    with pytest.raises(DataValidationError, match=r"latin\.csv line 4: .*CSV UTF-8"):
        load(latin)


def test_missing_file_and_unknown_dataset_name(tmp_path):
    with pytest.raises(DataValidationError, match=r"^nope\.csv: file not found; check") as err:
        load(tmp_path / "nope.csv")
    assert str(tmp_path) not in str(err.value)
    with pytest.raises(DataValidationError, match=r"traffic/stable_label.*traffic/stable_labels"):
        load("traffic/stable_label")
    assert dataset_path("traffic/stable.csv") == DATASETS_DIR / "traffic" / "stable.csv"
    with pytest.raises(ValueError):
        dataset_path("../pyproject")


def test_validate_in_memory_frames_and_require_target():
    houses = generate_houses(50, seed=1)
    assert validate(houses, "houses.csv") == []
    houses["bedrooms"] = houses["bedrooms"].astype(float)
    houses.loc[7, "bedrooms"] = 2.5
    (p,) = validate(houses, "houses.csv")
    assert (p.row, p.column, p.kind) == (9, "bedrooms", "not_a_whole_number")

    requests, _ = generate_traffic("stable", 20)
    assert validate(requests, "requests.csv") == []
    (p,) = validate(requests, "requests.csv", require_target=True)
    assert (p.column, p.kind) == ("price", "missing_column")


def test_a_column_wrong_on_every_row_lists_a_bounded_number_and_counts_the_rest():
    # A file that went through a spreadsheet: 'YES' / 'No' in mainroad on all 200,000 rows.
    houses = generate_houses(200_000, seed=2).astype(str)
    houses["mainroad"] = houses["mainroad"].map({"yes": "YES", "no": "No"})
    problems = validate(houses, "big.csv")
    assert len(problems) == KEPT_PER_COLUMN + 1 and total_problems(problems) == 200_000
    listed, counted = problems[:-1], problems[-1]
    assert [p.row for p in listed] == list(range(2, KEPT_PER_COLUMN + 2))
    assert {(p.column, p.kind) for p in listed} == {("mainroad", "wrong_case")}
    assert (counted.kind, counted.column, counted.count) == (COUNTED, "mainroad", 200_000 - KEPT_PER_COLUMN)
    assert str(counted).startswith(f"big.csv, column 'mainroad': {200_000 - KEPT_PER_COLUMN:,} more problems, "
                                   f"from line {KEPT_PER_COLUMN + 2:,} to line 200,001")
    assert "use exactly 'yes' or 'no' (lower case)" in counted.message  # the fix, for the counted ones too

    error = DataValidationError.from_problems(problems, "big.csv")
    assert error.total == 200_000 and error.problems == problems
    message = str(error)
    assert message.startswith("big.csv: 200,000 problems found")
    assert "and 199,990 more" in message and message.endswith(str(counted))
    assert len(message.splitlines()) == 1 + 10 + 1 + 1  # head, ten listed, "and more", the count
    assert Problems(problems).total == 200_000


def test_counted_problems_keep_every_kind_and_empty_lines_are_bounded_too():
    houses = generate_houses(KEPT_PER_COLUMN + 300, seed=5).astype(str)
    houses.loc[:KEPT_PER_COLUMN + 99, "area"] = "4,500"  # not a number on the first rows
    houses.loc[KEPT_PER_COLUMN + 100:, "area"] = "NA"  # then typed as missing
    blank = pd.DataFrame(np.nan, index=range(KEPT_PER_COLUMN + 7), columns=houses.columns, dtype=object)
    problems = validate(pd.concat([houses, blank], ignore_index=True), "mixed.csv")
    by_column = {}
    for p in problems:
        by_column.setdefault(p.column, []).append(p)
    area, empty = by_column["area"], by_column[None]
    assert len(area) == len(empty) == KEPT_PER_COLUMN + 1
    assert area[-1].count == 300 and empty[-1].count == 7
    assert "100 not a number (e.g. line 5,002: '4,500' is not a number" in area[-1].message
    assert "200 missing value (e.g. line 5,102: value is missing (written as 'NA')" in area[-1].message
    assert empty[-1].message.startswith("7 more empty lines") and "delete them" in empty[-1].message
    assert total_problems(problems) == len(houses) + len(blank)


# --- the properties the lessons rely on --------------------------------------------------------

def _model(estimator):
    encode = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"),
                                 list(CATEGORICAL_FEATURES))], remainder="passthrough")
    return make_pipeline(encode, estimator)


@pytest.fixture(scope="module")
def reference():
    return load("houses_reference")


@pytest.fixture(scope="module")
def boosted_on_reference(reference):
    return _model(GradientBoostingRegressor(random_state=0)).fit(
        reference[list(FEATURES)], reference[TARGET])


def test_boosting_beats_linear_which_still_explains_a_lot(reference):
    X_train, X_test, y_train, y_test = train_test_split(
        reference[list(FEATURES)], reference[TARGET], test_size=0.25, random_state=0)
    scores = {}
    for name, estimator in [("linear", LinearRegression()),
                            ("boosting", GradientBoostingRegressor(random_state=0))]:
        predicted = _model(estimator).fit(X_train, y_train).predict(X_test)
        scores[name] = r2_score(y_test, predicted), mean_absolute_error(y_test, predicted)
    (lin_r2, lin_mae), (gb_r2, gb_mae) = scores["linear"], scores["boosting"]
    assert lin_r2 > 0.5
    assert gb_r2 > lin_r2 + 0.05, scores
    assert gb_mae < 0.8 * lin_mae, scores


def test_new_release_is_dearer_and_slightly_bigger(reference):
    new = load("houses_new")
    ratio = new[TARGET].mean() / reference[TARGET].mean()
    assert 1.08 <= ratio <= 1.15, ratio
    assert 1.0 < new["area"].mean() / reference["area"].mean() < 1.10


def test_covariate_drift_moves_inputs_concept_drift_does_not(reference):
    covariate = load("traffic/covariate_drift")
    concept = load("traffic/concept_drift")
    assert ks_2samp(reference["area"], covariate["area"]).pvalue < 0.01
    assert (covariate["airconditioning"] == "yes").mean() > \
        (reference["airconditioning"] == "yes").mean() + 0.2
    for column in NUMERIC_FEATURES:
        assert ks_2samp(reference[column], concept[column]).pvalue > 0.01, column


def _late_mae(model, scenario):
    requests = load(f"traffic/{scenario}")
    sold = requests.merge(load(f"traffic/{scenario}_labels"), on="house_id")
    late = sold[sold["day"] >= 8]
    return mean_absolute_error(late[TARGET], model.predict(late[list(FEATURES)]))


def test_concept_drift_hurts_the_model_on_late_days(boosted_on_reference):
    stable = _late_mae(boosted_on_reference, "stable")
    concept = _late_mae(boosted_on_reference, "concept_drift")
    assert concept > 1.5 * stable, (stable, concept)


def test_generate_traffic_scales_to_100k_rows():
    features, labels = generate_traffic("stable", n_rows=100_000)
    assert len(features) == len(labels) == 100_000
    assert features["house_id"].is_unique
    assert features["day"].value_counts().tolist() == [10_000] * 10
    assert validate(features, "big.csv") == [] and validate(labels, "big_labels.csv") == []
    dq, dq_labels = generate_traffic("data_quality", n_rows=100_000, days=30)
    assert dq["day"].max() == 30 and len(dq_labels) == 99_000
    assert len(validate(dq, "big_incident.csv")) == 15_000


def test_unknown_scenario_names_the_choices():
    with pytest.raises(ValueError, match="stable, covariate_drift, concept_drift, data_quality"):
        generate_traffic("drifty", 10)


def test_csv_bytes_round_trip_through_load(tmp_path):
    # What the generator writes is exactly what load() reads back.
    houses = generate_houses(30, seed=3)
    path = tmp_path / "houses.csv"
    path.write_bytes(generate.to_csv_bytes(houses))
    pd.testing.assert_frame_equal(load(path), houses, check_dtype=True)
    assert io.StringIO(path.read_text()).readline().strip() == ",".join(LAYOUTS["houses"])
