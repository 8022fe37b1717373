"""The sector datasets (construction: regression, transport: classification): reproducible byte for
byte, covered by `clinic data generate --check`, valid against their schemas, with the drift
scenarios their data cards describe."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_clinic.data import generate, load, schema
from mlops_clinic.data.sectors import (DAY, DAY_KNOWN, SAMPLE_CLOSENESS, SCENARIOS, SECTORS, SECTORS_DIR,
                                       file_path, sector)

FILES = ["reference"] + [f"traffic/{s}{suffix}" for s in SCENARIOS for suffix in ("", "_labels")]
CLEAN = [(name, f) for name in SECTORS for f in FILES if f != "traffic/data_quality"]


def _committed() -> dict[str, bytes]:
    return {p.relative_to(SECTORS_DIR).as_posix(): p.read_bytes()
            for p in sorted(SECTORS_DIR.rglob("*")) if p.is_file() and p.name != "README.md"}


# --- reproducibility -------------------------------------------------------------------------

def test_regeneration_is_byte_for_byte_identical(tmp_path):
    generate.write_sectors(tmp_path)
    fresh = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    committed = _committed()
    assert sorted(fresh) == sorted(committed)
    assert [name for name in fresh if fresh[name] != committed[name]] == []
    assert len(fresh) == len(SECTORS) * (1 + 2 * len(SCENARIOS)) + 1


def test_sha256sums_lists_every_sector_csv_with_its_hash():
    lines = (SECTORS_DIR / "SHA256SUMS").read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    csvs = {p.relative_to(SECTORS_DIR).as_posix(): p for p in SECTORS_DIR.rglob("*.csv")}
    assert sorted(listed) == sorted(csvs)
    for name, path in csvs.items():
        assert listed[name] == hashlib.sha256(path.read_bytes()).hexdigest(), name


def test_files_are_plain_ascii_with_unix_line_ends():
    for name, data in _committed().items():
        assert b"\r" not in data and data.endswith(b"\n"), name
        data.decode("ascii")


def test_clinic_data_generate_check_covers_the_sector_datasets(tmp_path, capsys):
    assert generate.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "sector_datasets/ are identical" in out and "datasets/ are identical" in out

    generate.write_sectors(tmp_path)
    stable = tmp_path / "transport" / "traffic" / "stable.csv"
    stable.write_bytes(stable.read_bytes().replace(b",van,", b",VAN,", 1))
    (tmp_path / "construction" / "reference.csv").unlink()
    assert generate.main(["--check", "--sectors-out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "transport/traffic/stable.csv differs" in out
    assert "construction/reference.csv is missing" in out
    assert "house" not in out and "datasets/ are identical" not in out  # --sectors-out alone: only those


def test_generation_is_deterministic_per_seed():
    s = SECTORS["construction"]
    a, la = s.traffic("concept_drift", 200, seed=7)
    b, lb = s.traffic("concept_drift", 200, seed=7)
    c, _ = s.traffic("concept_drift", 200, seed=8)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(la, lb)
    assert not a.equals(c)
    with pytest.raises(ValueError, match="choose one of: stable, covariate_drift"):
        s.traffic("winter")
    with pytest.raises(ValueError, match="construction, transport"):
        sector("farming")


# --- the files against their schemas ----------------------------------------------------------

@pytest.mark.parametrize("name,file", CLEAN)
def test_committed_file_validates_clean_with_proper_dtypes(name, file):
    s = SECTORS[name]
    df = load(file_path(name, file), schema=s.schema)
    assert df.attrs["problems"] == ()
    assert tuple(df.columns) == s.schema.layouts[s.schema.layout_of(df.columns)]
    for column in df.columns:
        if s.schema.by_name[column].kind == "integer":
            assert df[column].dtype == np.int64, column
    assert len(df) == {"reference": 2000, "traffic/data_quality_labels": 990}.get(file, 1000)


@pytest.mark.parametrize("name", SECTORS)
def test_data_quality_incident_has_the_counts_of_its_data_card(name):
    s = SECTORS[name]
    df = load(file_path(name, "traffic/data_quality"), strict=False, schema=s.schema)
    kinds = pd.Series([p.kind for p in df.attrs["problems"]]).value_counts().to_dict()
    upper_case_cells = 30 * len(s.faults.upper_case)
    assert kinds == {"missing_value": 30, "unknown_category": 20, "out_of_range": 20,
                     "wrong_case": upper_case_cells, "not_a_number": 10, "duplicate_id": 10}
    every = {p.kind: p for p in df.attrs["problems"]}
    assert every["duplicate_id"].column == s.schema.id and "already appears on line" in every["duplicate_id"].message
    assert every["unknown_category"].value == s.faults.unknown_category[1]


@pytest.mark.parametrize("name", SECTORS)
def test_ids_are_unique_across_files_and_outcomes_come_after_requests(name):
    s = SECTORS[name]
    id_column = s.schema.id
    ids = [load(file_path(name, "reference"), schema=s.schema)[id_column]]
    for scenario in SCENARIOS:
        requests = load(file_path(name, f"traffic/{scenario}"), strict=False, schema=s.schema)
        labels = load(file_path(name, f"traffic/{scenario}_labels"), schema=s.schema)
        ids.append(requests[id_column].drop_duplicates())
        merged = requests.drop_duplicates(id_column).merge(labels, on=id_column)
        assert len(merged) == len(labels) and (merged[DAY_KNOWN] >= merged[DAY]).all()
        assert (merged[DAY_KNOWN] - merged[DAY]).max() <= s.label_delay
        assert list(labels.sort_values([DAY_KNOWN, id_column]).index) == list(labels.index)
    assert pd.concat(ids).is_unique


@pytest.mark.parametrize("name", SECTORS)
def test_data_card_column_table_matches_the_schema(name):
    text = (SECTORS_DIR / name / "README.md").read_text()
    block = text.split("<!-- schema-table:start -->\n")[1].split("\n<!-- schema-table:end -->")[0]
    assert block == schema.markdown_table(SECTORS[name].schema)


# --- the scenarios behave as their data cards say ----------------------------------------------

def _distances(s, reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """Normed Wasserstein (numbers) and Jensen-Shannon (categories), as Evidently measures them
    on a reference of more than 1,000 rows."""
    out = {}
    for column in s.schema.numeric_features:
        out[column] = wasserstein_distance(reference[column], current[column]) / reference[column].std()
    for column in s.schema.categorical_features:
        values = s.schema.by_name[column].allowed
        p = reference[column].value_counts(normalize=True).reindex(values, fill_value=0)
        q = current[column].value_counts(normalize=True).reindex(values, fill_value=0)
        out[column] = jensenshannon(p, q, base=2)
    return out


@pytest.mark.parametrize("name", SECTORS)
def test_covariate_drift_moves_inputs_while_stable_and_concept_drift_do_not(name):
    s = SECTORS[name]
    reference = s.generate()
    closeness = max(SAMPLE_CLOSENESS.values())
    for scenario in ("stable", "concept_drift"):
        distances = _distances(s, reference, s.traffic(scenario)[0])
        assert max(distances.values()) < closeness, (scenario, distances)
    drifted = {c for c, d in _distances(s, reference, s.traffic("covariate_drift")[0]).items() if d >= 0.1}
    expected = {"construction": {"contract_value_gbp", "steel_index", "project_type"},
                "transport": {"distance_km", "weather", "roadworks"}}[name]
    assert expected <= drifted, drifted


def _model(s, reference: pd.DataFrame):
    numeric, categorical = list(s.schema.numeric_features), list(s.schema.categorical_features)
    prepare = ColumnTransformer([("numbers", StandardScaler(), numeric),
                                 ("categories", OneHotEncoder(handle_unknown="ignore"), categorical)])
    estimator = (HistGradientBoostingRegressor(random_state=0, max_leaf_nodes=15, min_samples_leaf=40,
                                               learning_rate=0.05, early_stopping=False)
                 if s.schema.task == "regression" else LogisticRegression(max_iter=2000))
    return make_pipeline(prepare, estimator).fit(reference[numeric + categorical], reference[s.schema.target])


@pytest.mark.parametrize("name", SECTORS)
def test_concept_drift_hurts_a_model_more_each_day(name):
    s = SECTORS[name]
    model = _model(s, s.generate())
    features = list(s.schema.numeric_features) + list(s.schema.categorical_features)

    def error(scenario: str, days: range) -> float:
        requests, labels = s.traffic(scenario)
        rows = requests.merge(labels, on=s.schema.id)
        rows = rows[rows[DAY].isin(days)]
        if s.schema.task == "regression":
            return mean_absolute_error(rows[s.schema.target], model.predict(rows[features]))
        return log_loss(rows[s.schema.target], model.predict_proba(rows[features]), labels=model.classes_)

    early, late = range(1, 4), range(8, 11)
    assert error("concept_drift", late) > 1.25 * error("concept_drift", early)
    assert error("concept_drift", late) > 1.3 * error("stable", late)


def test_the_targets_look_as_their_cards_say():
    construction = SECTORS["construction"].generate()
    assert 140_000 < construction["overrun_gbp"].mean() < 165_000
    assert 0.1 < (construction["overrun_gbp"] < 0).mean() < 0.25  # some projects come in under budget
    late = (SECTORS["transport"].generate()["late"] == "yes").mean()
    assert 0.2 < late < 0.35
    winter, _ = SECTORS["transport"].traffic("covariate_drift")
    assert winter["weather"].isin(["snow", "fog"]).mean() > 0.25
