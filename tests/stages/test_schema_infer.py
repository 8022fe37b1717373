"""`clinic schema infer`: a draft schema from a participant's own CSV (types, units, ranges,
categories, the target and the task), which the kit's loader then validates the data against;
and bad files or a wrong target get a sentence naming the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops_clinic import cli
from mlops_clinic.data import DataValidationError, load, read_schema
from mlops_clinic.data.infer import InferError, infer, unit_from_name
from mlops_clinic.data.schema import Schema, SchemaError

TARGET = "Cost (£)"


def unusual_frame(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """Column names with spaces, punctuation and accents; a boolean, a date, a unicode category,
    an identifier, free text and a numeric target."""
    rng = np.random.default_rng(seed)
    area = np.round(rng.uniform(20, 250, n), 1)
    region = rng.choice(["Île-de-France", "Bretagne", "Grand Est"], n, p=[0.5, 0.3, 0.2])
    delivered = rng.random(n) < 0.6
    rooms = rng.integers(1, 7, n)
    return pd.DataFrame({
        "Kunden-Nr id": [f"C-{i:05d}" for i in range(n)],
        "Floor area (m²)": area,
        "Région": region,
        "Survey date": (pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")).strftime("%Y-%m-%d"),
        "delivered on time?": np.where(delivered, "true", "false"),
        "rooms": rooms,
        "notes": [f"free text {i}" for i in range(n)],
        TARGET: np.round(1000 + 35 * area + 400 * rooms + 900 * delivered + rng.normal(0, 300, n), 2),
    })


@pytest.fixture
def unusual_csv(tmp_path):
    path = tmp_path / "unusual.csv"
    unusual_frame().to_csv(path, index=False)
    return path


def test_infers_types_units_ranges_categories_target_and_task(unusual_csv):
    draft = infer(unusual_csv, TARGET)
    schema, frame = draft.schema, unusual_frame()
    kinds = {c.name: (c.kind, c.role) for c in schema.columns}
    assert kinds == {"Kunden-Nr id": ("id", "identifier"), "Floor area (m²)": ("number", "feature"),
                     "Région": ("category", "feature"), "Survey date": ("date", "feature"),
                     "delivered on time?": ("boolean", "feature"), "rooms": ("integer", "feature"),
                     "notes": ("text", "ignore"), TARGET: ("number", "target")}
    assert schema.task == "regression" and schema.target == TARGET and schema.id == "Kunden-Nr id"
    area = schema.by_name["Floor area (m²)"]
    assert (area.unit, area.min, area.max) == ("square metres", frame["Floor area (m²)"].min(),
                                               frame["Floor area (m²)"].max())
    assert schema.by_name[TARGET].unit == "GBP"
    assert schema.by_name["Région"].allowed == ("Île-de-France", "Bretagne", "Grand Est")  # by frequency
    assert schema.by_name["delivered on time?"].allowed == ("true", "false")
    survey = schema.by_name["Survey date"]
    assert (survey.min, survey.max) == (frame["Survey date"].min(), frame["Survey date"].max())
    assert (schema.by_name["rooms"].min, schema.by_name["rooms"].max) == (1, 6)
    assert draft.warnings == []


def test_the_draft_file_reads_back_and_the_loader_validates_the_data_with_it(unusual_csv, tmp_path):
    draft = infer(unusual_csv, TARGET)
    path = tmp_path / "unusual.schema.yaml"
    path.write_text(draft.to_yaml(), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert "# 300 values, observed" in text and "widen the range" in text  # notes for the reviewer
    again = read_schema(path)
    assert again.to_dict() == draft.schema.to_dict()
    frame = load(unusual_csv, schema=again)
    assert str(frame["Survey date"].dtype).startswith("datetime64") and frame["rooms"].dtype == np.int64
    assert frame.attrs["problems"] == ()


def test_classification_for_a_category_target_and_on_request_for_an_integer_one(tmp_path):
    frame = unusual_frame()
    frame["grade"] = np.where(frame[TARGET] > frame[TARGET].median(), "high", "low")
    frame.to_csv(tmp_path / "graded.csv", index=False)
    schema = infer(tmp_path / "graded.csv", "grade").schema
    assert schema.task == "classification" and set(schema.classes) == {"high", "low"}

    draft = infer(tmp_path / "graded.csv", "rooms")
    assert draft.schema.task == "regression" and "--task classification" in draft.notes["rooms"]
    classes = infer(tmp_path / "graded.csv", "rooms", task="classification").schema
    assert classes.task == "classification" and classes.classes == ("1", "2", "3", "4", "5", "6")


def test_nullable_columns_and_a_mixed_column_the_loader_then_lists(tmp_path):
    frame = unusual_frame().astype(str)
    frame.loc[[4, 9], "Floor area (m²)"] = ""
    frame.loc[7, "rooms"] = "three"
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    draft = infer(path, TARGET)
    assert draft.schema.by_name["Floor area (m²)"].nullable
    assert draft.schema.by_name["rooms"].kind == "integer"
    (warning,) = draft.warnings
    assert "'rooms' is mostly numbers, but 1 cells are not (e.g. line 9: 'three')" in warning
    with pytest.raises(DataValidationError) as refused:
        load(path, schema=draft.schema)
    assert str(refused.value) == ("mixed.csv line 9, column 'rooms': 'three' is not a number; write digits "
                                  "only, without thousands separators or units (e.g. 4)")


def test_a_wrong_target_names_the_columns_and_the_closest_one(unusual_csv):
    with pytest.raises(InferError) as wrong:
        infer(unusual_csv, "cost")
    assert "there is no column 'cost'; its columns are: 'Kunden-Nr id', 'Floor area (m²)'" in wrong.value.message
    assert wrong.value.fix.startswith("did you mean --target 'Cost (£)'?")
    with pytest.raises(InferError, match="free text or identifiers"):
        infer(unusual_csv, "notes")


def test_empty_and_header_only_files_are_refused_with_a_fix(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InferError) as empty:
        infer(tmp_path / "empty.csv", TARGET)
    assert empty.value.message == "empty.csv: the file is empty"
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(InferError, match="a header but no data rows"):
        infer(tmp_path / "header.csv", "b")


@pytest.mark.parametrize("name,unit", [("cost (GBP)", "GBP"), ("distance_km", "km"), ("weight [kg]", "kg"),
                                       ("price £", "GBP"), ("rooms", None), ("km", None), ("share %", "%")])
def test_units_come_from_the_column_name(name, unit):
    assert unit_from_name(name) == unit


def test_cli_writes_the_draft_refuses_to_overwrite_and_explains_a_wrong_target(unusual_csv, capsys):
    assert cli.main(["schema", "infer", str(unusual_csv), "--target", TARGET]) == 0
    out = capsys.readouterr().out
    written = unusual_csv.with_name("unusual.schema.yaml")
    assert written.is_file() and f"target '{TARGET}' (regression)" in out
    assert "clinic export DEST --data unusual.csv --schema unusual.schema.yaml" in out

    written.write_text("# reviewed\n" + written.read_text())
    assert cli.main(["schema", "infer", str(unusual_csv), "--target", TARGET]) == 1
    err = capsys.readouterr().err
    assert "unusual.schema.yaml already exists" in err and "--force" in err
    assert written.read_text().startswith("# reviewed")

    assert cli.main(["schema", "infer", str(unusual_csv), "--target", "cost"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Fix: did you mean --target 'Cost (£)'?" in err


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("target"), "the key target is missing"),
    (lambda d: d["columns"][1].update(type="float"), "type 'float' is not known"),
    (lambda d: d["columns"][2].pop("values"), "a category column needs its `values`"),
    (lambda d: d["columns"][1].update(min=300.0, max=20.0), "min is above max"),
    (lambda d: d.update(task="ranking"), "task 'ranking' is not known"),
    (lambda d: d.update(target="notes"), "a regression target must be a number"),
])
def test_a_broken_schema_file_says_what_to_fix(unusual_csv, tmp_path, change, message):
    data = infer(unusual_csv, TARGET).schema.to_dict()
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(SchemaError) as broken:
        read_schema(path)
    assert message in broken.value.message and broken.value.fix


def test_house_schema_round_trips_through_its_file():
    from mlops_clinic.data import HOUSES

    again = Schema.from_dict(yaml.safe_load(HOUSES.to_yaml()))
    assert again.features == HOUSES.features and again.target == "price" and again.id == "house_id"
    assert again.by_name["furnishingstatus"].allowed == HOUSES.by_name["furnishingstatus"].allowed
