"""The prediction service in-process (its ASGI app; the model server as a local dependency): request
ids, pounds, checks beyond the schema, and the inference log that module 05 reads."""

import json
import os
import sqlite3
import warnings

import pandas as pd
import pytest

from mlops_clinic import stages
from mlops_clinic.data import FEATURES, load
from mlops_clinic.service import inference_log, replay
from mlops_clinic.service.schema import EXAMPLE_HOUSE

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "inference.sqlite"
    saved = os.environ.get(inference_log.LOG_ENV_VAR)
    os.environ[inference_log.LOG_ENV_VAR] = str(path)
    yield path
    if saved is None:
        os.environ.pop(inference_log.LOG_ENV_VAR, None)
    else:
        os.environ[inference_log.LOG_ENV_VAR] = saved


@pytest.fixture(scope="module")
def client(ws, log_file):
    from mlops_clinic.service.prediction import PredictionService

    with TestClient(PredictionService.to_asgi()) as test_client:
        yield test_client


def logged(path, request_id):
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM predictions WHERE request_id = ?", (request_id,)).fetchall()
    return [dict(row) for row in rows]


def test_an_estimate_is_in_pounds_with_its_id_and_version_and_logged_before_it_is_seen(client, log_file):
    answer = client.post("/estimate", json={"house": EXAMPLE_HOUSE, "request_id": "t-one",
                                            "house_id": "H000123", "batch": "tests"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["request_id"] == "t-one" and body["currency"] == "GBP"
    assert body["price_gbp"] % 1_000 == 0 and body["model"] == "house-price"
    assert body["repeated"] is False and body["warnings"] == []
    [row] = logged(log_file, "t-one")
    assert {name: row[name] for name in FEATURES} == EXAMPLE_HOUSE
    assert row["price_gbp"] == body["price_gbp"]
    assert abs(row["prediction_gbp"] - row["price_gbp"]) <= 500
    assert row["model_version"] == body["model_version"] and row["latency_ms"] > 0
    assert (row["batch"], row["house_id"], json.loads(row["warnings"])) == ("tests", "H000123", [])


def test_without_an_id_the_service_makes_one(client, log_file):
    body = client.post("/estimate", json={"house": EXAMPLE_HOUSE}).json()
    assert body["request_id"].startswith("req-") and logged(log_file, body["request_id"])


def test_a_retry_is_answered_from_the_log_and_not_counted_twice(client, log_file):
    request = {"house": EXAMPLE_HOUSE, "request_id": "t-retry"}
    first = client.post("/estimate", json=request).json()
    again = client.post("/estimate", json=request).json()
    assert again["repeated"] is True and again["price_gbp"] == first["price_gbp"]
    assert len(logged(log_file, "t-retry")) == 1


def test_an_id_reused_for_another_house_is_refused_with_409_and_logged(client, log_file):
    client.post("/estimate", json={"house": EXAMPLE_HOUSE, "request_id": "t-clash"})
    answer = client.post("/estimate", json={"house": dict(EXAMPLE_HOUSE, area=5_000),
                                            "request_id": "t-clash"})
    assert answer.status_code == 409
    assert "already used for a different house" in answer.json()["error"]
    refused = inference_log.read_rejections(log_file)
    last = refused.iloc[-1]
    assert (last["status"], last["request_id"], last["route"]) == (409, "t-clash", "/estimate")


def test_a_schema_refusal_is_logged_with_the_ids_it_carried(client, log_file):
    answer = client.post("/estimate", json={"house": dict(EXAMPLE_HOUSE, mainroad="YES"),
                                            "request_id": "t-yes", "batch": "tests", "day": 4})
    assert answer.status_code == 400 and "'YES' is not accepted" in answer.json()["error"]
    last = inference_log.read_rejections(log_file).iloc[-1]
    assert (last["status"], last["request_id"], last["batch"], last["day"]) == (400, "t-yes", "tests", 4)
    assert "'YES' is not accepted" in last["error"] and '"YES"' in last["body"]
    assert not logged(log_file, "t-yes")


JSON_TYPE = {"content-type": "application/json"}
REFUSED = [
    # (name, body, headers, status, words the error sentence must contain)
    ("a day too large to log", json.dumps({"house": EXAMPLE_HOUSE, "day": 2**63}), JSON_TYPE, 400,
     ["day", "must be at most 36,600"]),
    ("a bad house with a day too large to log",
     json.dumps({"house": dict(EXAMPLE_HOUSE, mainroad="YES"), "day": 2**63, "request_id": "t-big-day"}),
     JSON_TYPE, 400, ["'YES' is not accepted", "day"]),
    ("nested 100,000 levels deep", "[" * 100_000 + "]" * 100_000, JSON_TYPE, 400, ["too deeply"]),
    ("a body of almost 1 MB, all nesting", '{"house": ' + "[" * 499_990 + "]" * 499_990 + "}",
     JSON_TYPE, 400, ["too deeply"]),
    ("multipart without a boundary", "house=1", {"content-type": "multipart/form-data"}, 415,
     ["multipart/form-data", "Content-Type: application/json"]),
    ("multipart", '--b\r\nContent-Disposition: form-data; name="house"\r\n\r\n{}\r\n--b--\r\n',
     {"content-type": "multipart/form-data; boundary=b"}, 415, ["multipart/form-data"]),
    ("a form", "house=1", {"content-type": "application/x-www-form-urlencoded"}, 415,
     ["application/x-www-form-urlencoded"]),
    ("text", json.dumps({"house": EXAMPLE_HOUSE}), {"content-type": "text/plain;charset=UTF-8"}, 415,
     ["sent as text/plain", "Content-Type: application/json"]),
    ("no content type", json.dumps({"house": EXAMPLE_HOUSE}), {}, 415, ["without a Content-Type"]),
]


@pytest.mark.parametrize("name,body,headers,status,words", REFUSED, ids=[r[0] for r in REFUSED])
def test_every_refusal_is_a_4xx_sentence_and_is_logged(client, log_file, name, body, headers,
                                                      status, words):
    before = len(inference_log.read_rejections(log_file)) if log_file.exists() else 0
    answer = client.post("/estimate", content=body.encode(), headers=headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    for word in words:
        assert word in error, error
    refused = inference_log.read_rejections(log_file)
    assert len(refused) == before + 1
    last = refused.iloc[-1]
    assert (last["status"], last["route"], last["error"]) == (status, "/estimate", error)
    assert last["body"] == body[:inference_log.BODY_KEPT]
    assert pd.isna(last["day"])  # none of these carries a day that can be a day


def test_unknown_fields_of_the_request_are_refused(client):
    answer = client.post("/estimate", json={"house": EXAMPLE_HOUSE, "requestid": "x"})
    assert answer.status_code == 400 and "requestid: is not a field" in answer.json()["error"]


def test_a_house_unlike_the_training_data_is_answered_with_a_warning(client, log_file):
    body = client.post("/estimate", json={"house": dict(EXAMPLE_HOUSE, area=16_000),
                                          "request_id": "t-big"}).json()
    assert len(body["warnings"]) == 1 and body["warnings"][0].startswith("area is more than 3 standard")
    assert json.loads(logged(log_file, "t-big")[0]["warnings"]) == body["warnings"]


def test_batch_answers_in_order(client):
    requests = [{"house": dict(EXAMPLE_HOUSE, area=area), "request_id": f"t-batch-{area}"}
                for area in (2_000, 4_000, 8_000)]
    body = client.post("/estimate_batch", json={"requests": requests}).json()
    assert [a["request_id"] for a in body] == [r["request_id"] for r in requests]
    assert body[0]["price_gbp"] < body[2]["price_gbp"]


def test_late_labels_join_the_predictions_by_request_id(client, log_file):
    rep = replay.replay(client, "stable", bodies=replay.requests_of("stable", limit=30))
    assert rep.answered == 30
    log = inference_log.shared(log_file)
    known = [o for o in replay.outcomes_of("stable") if o["request_id"] in set(rep.answered_ids)]
    assert log.add_outcomes(known[:20]) == 20
    frame = inference_log.read_predictions(log_file, batch="stable")
    assert len(frame) == 30 and frame["actual_price_gbp"].notna().sum() == 20
    joined = frame.dropna(subset=["actual_price_gbp"]).set_index("request_id")["actual_price_gbp"]
    truth = {o["request_id"]: o["price_gbp"] for o in known[:20]}
    assert joined.to_dict() == truth


def test_the_service_refuses_exactly_the_rows_that_data_validation_flags(client, log_file):
    """Training and serving share one schema: replaying the incident batch, the service refuses
    the rows load() reports (all but the re-sent ones, which are answered from the log)."""
    incident = load("traffic/data_quality", strict=False)
    problems = incident.attrs["problems"]
    bad_lines = {p.row for p in problems if p.kind != "duplicate_id"}
    resent_lines = {p.row for p in problems if p.kind == "duplicate_id"}
    rep = replay.replay_batched(client, "data_quality")
    assert (rep.refused, rep.repeated, rep.answered) == (len(bad_lines), len(resent_lines),
                                                         len(incident) - len(bad_lines))
    refused_ids = set(inference_log.read_rejections(log_file, batch="data_quality")["house_id"])
    assert refused_ids == {incident.iloc[line - 2]["house_id"] for line in bad_lines}
    assert rep.failed == 0


def test_the_inference_log_stage_replays_every_scenario_with_outcomes(ws):
    path = inference_log.log_path(ws)
    stages.ensure("inference_log", ws)
    assert inference_log.has_scenarios(path, replay.SCENARIOS)
    counts = inference_log.counts(path).set_index("batch")
    assert counts.loc["stable", "answered"] == 1_000 and counts.loc["stable", "with_outcome"] == 1_000
    assert counts.loc["data_quality", "refused"] == 110
    assert stages.ensure("inference_log", ws) == []  # done: nothing rebuilt
