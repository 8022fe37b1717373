"""The model server in-process, as a participant would test it in their own CI: starlette's
TestClient on `HousePrice.to_asgi()` (the ASGI app `bentoml serve` runs, lifespan included).

Every bad request gets a 4xx with a sentence that names the field and the fix, never a 5xx; a
schema-driven fuzz run (hypothesis) checks that on a few hundred generated requests.
"""

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_clinic import stages
from mlops_clinic.data import CATEGORIES, COLUMNS, FEATURES, NUMERIC_FEATURES, load
from mlops_clinic.service.http import describe, where
from mlops_clinic.service.schema import EXAMPLE_HOUSE, MAX_BATCH, House

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "Using httpx with TestClient is deprecated"
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(ws):
    from mlops_clinic.service.service import HousePrice

    with TestClient(HousePrice.to_asgi()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def offline(ws):
    """The champion as module 02 registered it, loaded by MLflow: what the service must match."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model("models:/house-price@champion")


def houses(n=20, scenario="stable"):
    return json.loads(load(f"traffic/{scenario}")[list(FEATURES)].head(n).to_json(orient="records"))


# --- the schema is derived, not re-typed ----------------------------------------------------------

def test_house_fields_follow_the_data_schema():
    schema = House.model_json_schema()
    assert list(schema["properties"]) == list(FEATURES)
    assert schema["additionalProperties"] is False
    for name in NUMERIC_FEATURES:
        prop = schema["properties"][name]
        assert (prop["type"], prop["minimum"], prop["maximum"]) == (
            "integer", COLUMNS[name].min, COLUMNS[name].max)
    for name, allowed in CATEGORIES.items():
        assert tuple(schema["properties"][name]["enum"]) == allowed


def test_error_sentences_name_the_field_and_the_fix():
    assert where(("houses", 3, "mainroad")) == "houses[3].mainroad"
    text = describe([{"type": "missing", "loc": ["house", "area"], "msg": "Field required"}])
    assert text == "house.area: is missing; every feature is required (the model was trained without gaps)"
    many = [{"type": "int_type", "loc": ["houses", i, "area"], "msg": "x"} for i in range(8)]
    assert describe(many).endswith("and 3 more")


def test_limits_are_said_plainly_not_in_pydantic_words():
    """BentoML passes pydantic's errors on without their context: the limit is read back from
    pydantic's message and said as a person would."""
    said = {kind: describe([{"type": kind, "loc": ["house", "area"], "msg": msg}]) for kind, msg in [
        ("greater_than_equal", "Input should be greater than or equal to 1500"),
        ("less_than_equal", "Input should be less than or equal to 16000"),
        ("literal_error", "Input should be 'yes' or 'no'"),
        ("too_long", "List should have at most 1000 items after validation, not 1001"),
    ]}
    assert said == {
        "greater_than_equal": "house.area: must be at least 1,500",
        "less_than_equal": "house.area: must be at most 16,000",
        "literal_error": "house.area: must be exactly 'yes' or 'no'",
        "too_long": "house.area: has 1,001 items, and at most 1,000 are taken in one request: "
                    "split it into smaller batches",
    }
    # A message pydantic words differently one day is passed on, not lost.
    assert describe([{"type": "less_than_equal", "loc": ["day"], "msg": "Too big"}]) == "day: Too big"


def test_a_refusal_is_answered_even_when_logging_it_fails(caplog):
    """The inference log may fail (a full disk, a locked file): the caller still gets the 4xx at
    once, and the server log says the refusal was not logged."""
    from mlops_clinic.service.http import RequestLimits

    async def refusing_app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps({"detail": [
            {"type": "missing", "loc": ["house"], "msg": "Field required"}]}).encode()})

    def failing_log(route, status, error, body):
        raise OSError("disk full")

    client = TestClient(RequestLimits(refusing_app, on_reject=failing_log))  # no lifespan here
    with caplog.at_level("WARNING", logger="bentoml"):
        answer = client.post("/estimate", json={})
        too_large = client.post("/estimate", content=b"x" * 1_000_001,
                                headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "house: is missing" in answer.json()["error"]
    assert too_large.status_code == 413
    assert [r.getMessage() for r in caplog.records] == [
        "A refused request (400 /estimate) could not be logged",
        "A refused request (413 /estimate) could not be logged"]


# --- good requests ----------------------------------------------------------------------------------

def test_predict_matches_the_registered_model_and_names_its_version(client, offline, ws):
    import pandas as pd

    from mlops_clinic.stages.training import champion_version

    version = champion_version(ws).version
    for house in houses(10):
        answer = client.post("/predict", json={"house": house})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model"] == "house-price" and body["model_version"] == str(version)
        assert body["price"] == pytest.approx(offline.predict(pd.DataFrame([house]))[0], abs=0.01)


def test_batch_answers_in_order_with_the_version_in_every_item(client, offline):
    import pandas as pd

    batch = houses(50)
    answer = client.post("/predict_batch", json={"houses": batch})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body) == 50 and {item["model_version"] for item in body} == {body[0]["model_version"]}
    expected = offline.predict(pd.DataFrame(batch))
    assert [item["price"] for item in body] == pytest.approx(list(expected), abs=0.01)


def test_a_house_far_from_the_training_data_is_flagged(client):
    big = dict(EXAMPLE_HOUSE, area=16_000)
    assert client.post("/predict", json={"house": big}).json()["unusual"] == ["area"]
    assert client.post("/predict", json={"house": EXAMPLE_HOUSE}).json()["unusual"] == []


def test_health_and_swagger(client):
    # (/metrics needs the multiprocess set-up of `bentoml serve`: tests/service/test_service_server.py)
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 200
    spec = client.get("/docs.json").json()
    assert {"/predict", "/predict_batch"} <= set(spec["paths"])


# --- following the registry's alias -----------------------------------------------------------------

def test_a_version_that_cannot_be_served_is_reported_once_and_a_good_one_still_swaps_in(
        ws, tmp_path, caplog):
    import bentoml

    from mlops_clinic.service import store
    from mlops_clinic.stages.training import MODEL_NAME, champion_version, client

    registry = client(ws)
    champion = champion_version(ws)
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    broken = registry.create_model_version(MODEL_NAME, str(empty))
    good = registry.create_model_version(MODEL_NAME, champion.source, run_id=champion.run_id)
    alias = "follow-test"  # the champion alias stays where it is for the other tests
    swapped = []
    # retry_s=0: the broken version is tried again at every poll, and must stay quiet all the same.
    follower = store.AliasFollower(alias, str(champion.version), swapped.append, retry_s=0)
    try:
        registry.set_registered_model_alias(MODEL_NAME, alias, broken.version)
        with caplog.at_level("INFO", logger="bentoml"):
            assert [follower.check(registry) for _ in range(5)] == [False] * 5
            registry.set_registered_model_alias(MODEL_NAME, alias, good.version)
            assert follower.check(registry) is True
            registry.set_registered_model_alias(MODEL_NAME, alias, broken.version)
            assert follower.check(registry) is False  # the alias moved back: reported again
    finally:
        registry.delete_registered_model_alias(MODEL_NAME, alias)
        for version in (broken, good):
            registry.delete_model_version(MODEL_NAME, version.version)
        if store.stored(store.bento_tag(good.version)) is not None:
            bentoml.models.delete(store.bento_tag(good.version))
    assert [loaded.version for loaded in swapped] == [str(good.version)]
    ours = [r for r in caplog.records if r.name == store.logger.name]
    warnings_ = [r.getMessage() for r in ours if r.levelname == "WARNING"]
    assert len(warnings_) == 2, warnings_
    assert f"points at version {broken.version}, which cannot be served" in warnings_[0]
    assert "not a MLflow model" in warnings_[0]
    assert f"still serving version {champion.version}" in warnings_[0]
    assert f"still serving version {good.version}" in warnings_[1]
    assert not [r for r in ours if r.levelname == "ERROR" or r.exc_info]
    assert any(f"now serving house-price:v{good.version}" in r.getMessage() for r in ours)


# --- bad requests: 4xx with a sentence, never 5xx ---------------------------------------------------

def without(field):
    return {k: v for k, v in EXAMPLE_HOUSE.items() if k != field}


BAD_REQUESTS = [
    # (name, route, body or raw bytes, status, words the error sentence must contain)
    ("missing field", "/predict", {"house": without("area")}, 400, ["house.area", "missing"]),
    ("wrong type", "/predict", {"house": dict(EXAMPLE_HOUSE, bedrooms="three")}, 400,
     ["house.bedrooms", "whole number"]),
    ("decimal", "/predict", {"house": dict(EXAMPLE_HOUSE, area=4600.5)}, 400, ["house.area", "whole number"]),
    ("negative area", "/predict", {"house": dict(EXAMPLE_HOUSE, area=-4440)}, 400,
     ["house.area", "must be at least 1,500"]),
    ("absurd area", "/predict", {"house": dict(EXAMPLE_HOUSE, area=476_000)}, 400,
     ["house.area", "must be at most 16,000"]),
    ("unknown category", "/predict", {"house": dict(EXAMPLE_HOUSE, furnishingstatus="part-furnished")},
     400, ["house.furnishingstatus", "must be exactly 'furnished', 'semi-furnished' or 'unfurnished'"]),
    ("upper-case yes", "/predict", {"house": dict(EXAMPLE_HOUSE, mainroad="YES")}, 400,
     ["house.mainroad", "'YES' is not accepted", "lower case", "training/serving skew"]),
    ("padded no", "/predict", {"house": dict(EXAMPLE_HOUSE, basement=" no")}, 400, ["house.basement"]),
    ("typo in a feature", "/predict", {"house": dict(without("bedrooms"), bedroom=3)}, 400,
     ["house.bedroom", "not one of the model's features", "house.bedrooms", "missing"]),
    ("no house", "/predict", {"houses": [EXAMPLE_HOUSE]}, 400, ["house", "missing from the request body"]),
    ("empty list", "/predict_batch", {"houses": []}, 400, ["houses", "empty"]),
    ("batch over the limit", "/predict_batch", {"houses": [EXAMPLE_HOUSE] * (MAX_BATCH + 1)}, 400,
     ["houses", f"has {MAX_BATCH + 1:,} items", f"at most {MAX_BATCH:,}", "split it"]),
    ("bad row in a batch", "/predict_batch", {"houses": [EXAMPLE_HOUSE, dict(EXAMPLE_HOUSE, parking=9)]},
     400, ["houses[1].parking: must be at most 3"]),
    ("not JSON", "/predict", b"area=4600&bedrooms=3", 400, ["not valid JSON"]),
    ("JSON list", "/predict", b"[1, 2]", 400, ["JSON object"]),
    ("empty body", "/predict", b"", 400, ["house", "missing"]),
    ("huge body", "/predict", b'{"house": "' + b"x" * 2_000_000 + b'"}', 413, ["limit", "1,000,000"]),
]


@pytest.mark.parametrize("name,route,body,status,words", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_gets_a_4xx_naming_the_fix(client, name, route, body, status, words):
    if isinstance(body, bytes):
        answer = client.post(route, content=body, headers={"content-type": "application/json"})
    else:
        answer = client.post(route, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert isinstance(error, str) and "Traceback" not in error
    for word in words:
        assert word in error, error


def test_bad_requests_leave_no_traceback_in_the_server_log(client, caplog):
    with caplog.at_level("INFO", logger="bentoml"):
        client.post("/predict", json={"house": dict(EXAMPLE_HOUSE, mainroad="YES")})
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# --- fuzz: requests generated from the schema, valid and broken -------------------------------------

def valid_house():
    fields = {}
    for name in FEATURES:
        column = COLUMNS[name]
        fields[name] = (st.integers(column.min, column.max) if column.kind == "integer"
                        else st.sampled_from(column.allowed))
    return st.fixed_dictionaries(fields)


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                 st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@st.composite
def maybe_broken_house(draw):
    house = draw(valid_house())
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["junk", "drop", "extra", "case"]))
        name = draw(st.sampled_from(FEATURES))
        if action == "junk":
            house[name] = draw(JUNK)
        elif action == "drop":
            house.pop(name, None)
        elif action == "extra":
            house[draw(st.text(min_size=1, max_size=10))] = draw(JUNK)
        elif isinstance(house.get(name), str):
            house[name] = house[name].upper()
    return house


def is_valid(house) -> bool:
    from pydantic import ValidationError

    try:
        House.model_validate_json(json.dumps(house))
        return True
    except ValidationError:
        return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(house=maybe_broken_house())
def test_fuzz_single_house_never_5xx_and_valid_means_200(client, house):
    answer = client.post("/predict", json={"house": house})
    assert answer.status_code < 500, answer.text
    if is_valid(house):
        assert answer.status_code == 200, answer.text
        assert answer.json()["price"] > 0
    else:
        assert answer.status_code == 400 and answer.json()["error"], answer.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(maybe_broken_house(), min_size=0, max_size=12))
def test_fuzz_batches_never_5xx(client, batch):
    answer = client.post("/predict_batch", json={"houses": batch})
    assert answer.status_code < 500, answer.text
    expect_ok = bool(batch) and all(is_valid(house) for house in batch)
    assert (answer.status_code == 200) == expect_ok, answer.text
    if expect_ok:
        assert len(answer.json()) == len(batch)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_fuzz_raw_bytes_get_a_4xx(client, raw):
    answer = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
