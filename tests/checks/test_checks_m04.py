"""Module 04's questions: each proven not attempted, wrong (plausible mistakes) and correct, against
the test session's workspace and its inference log (filled by the `inference_log` stage)."""

import os
import uuid
import warnings

import numpy as np
import pytest

from checking import assert_outcome as _assert
from mlops_clinic import stages
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m04 import q1, q2, q3
from mlops_clinic.data import COLUMNS, FEATURES
from mlops_clinic.service import inference_log

pytestmark = pytest.mark.slow

SCENARIOS = ("stable", "covariate_drift", "concept_drift", "data_quality")


@pytest.fixture(scope="module")
def ws(session_workspace):
    workspace = session_workspace
    stages.ensure("inference_log", workspace)
    saved = os.environ.get(inference_log.LOG_ENV_VAR)
    os.environ[inference_log.LOG_ENV_VAR] = str(inference_log.log_path(workspace))
    yield workspace
    if saved is None:
        os.environ.pop(inference_log.LOG_ENV_VAR, None)
    else:
        os.environ[inference_log.LOG_ENV_VAR] = saved


def adapter(*, lower=True, separators=True, guess=False, ids="stable"):
    """A participant's to_request, right or with one plausible mistake."""
    def to_request(record):
        house = {}
        for name in FEATURES:
            text = record[name].strip()
            if COLUMNS[name].kind == "integer":
                value = int(text.replace(",", "")) if separators else text
                house[name] = abs(value) if guess and isinstance(value, int) else value
            else:
                house[name] = text.lower() if lower else text
        body = {"house_id": record["ref"], "day": int(record["day"]), "house": house}
        if ids == "stable":
            body["request_id"] = f"agents-{record['ref']}-d{record['day']}"
        elif ids == "random":
            body["request_id"] = f"agents-{uuid.uuid4().hex[:8]}"
        return body
    return to_request


def test_q1_requests_from_upstream_records():
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate("to_request"), Status.WRONG, "function")
    _assert(q1.evaluate(adapter(lower=False)), Status.WRONG, "would refuse H500027", "'YES' is not accepted")
    _assert(q1.evaluate(adapter(separators=False)), Status.WRONG, "would refuse H500011", "whole number")
    _assert(q1.evaluate(adapter(ids=None)), Status.WRONG, "an id made from the record")
    _assert(q1.evaluate(adapter(ids="random")), Status.WRONG, "two different request ids")
    _assert(q1.evaluate(adapter(guess=True)), Status.WRONG, "a guess, not a fix")
    _assert(q1.evaluate(adapter()), Status.CORRECT, "no guesses")


def test_q2_mae_from_the_log_with_late_labels(ws):
    log = inference_log.read_predictions()
    log = log[log["batch"].isin(SCENARIOS) & log["actual_price_gbp"].notna()]
    error = log["prediction_gbp"] - log["actual_price_gbp"]
    known = log["day_sold"] <= 10
    right = error[known].abs().groupby(log["batch"][known]).mean().to_dict()
    everything = error.abs().groupby(log["batch"]).mean().to_dict()
    signed = error[known].groupby(log["batch"][known]).mean().to_dict()
    assert right != everything, "some labels must arrive after day 10"
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(list(right.values())), Status.WRONG, "dict")
    _assert(q2.evaluate({k: right[k] for k in SCENARIOS[:3]}), Status.WRONG, "missing ['data_quality']")
    _assert(q2.evaluate(everything), Status.WRONG, "after day 10")
    _assert(q2.evaluate(signed), Status.WRONG, "bias")
    _assert(q2.evaluate({k: v * 2 for k, v in right.items()}), Status.WRONG, "not the mean absolute errors", "per batch")
    _assert(q2.evaluate(right), Status.CORRECT, "concept_drift")


def test_q3_the_api_contract(ws):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from mlops_clinic.service.prediction import PredictionService

    with TestClient(PredictionService.to_asgi()) as client:
        spec = client.get("/docs.json").json()
    house = spec["components"]["schemas"]["House"]["required"]
    request = list(spec["components"]["schemas"]["EstimateRequest"]["properties"])
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate("area"), Status.WRONG, "not one string")
    _assert(q3.evaluate(request), Status.WRONG, "fields of the request around the house")
    _assert(q3.evaluate(house[:-1]), Status.WRONG, "missing")
    _assert(q3.evaluate(house, spec), Status.CORRECT, "twelve features")


# --- answers in other forms (issue 15) ---------------------------------------------------------------


def test_q1_an_adapter_that_refuses_the_impossible_record_with_assert():
    convert = adapter()

    def asserting(record):
        assert not record["area"].startswith("-"), f"{record['ref']}: negative area"
        return convert(record)

    _assert(q1.evaluate(asserting), Status.CORRECT, "no guesses")


def test_q1_an_adapter_that_stops_on_a_record_it_should_convert_is_told_which():
    def no_separators(record):  # int("3,850") raises ValueError
        body = adapter(separators=False)(record)
        body["house"] = {k: int(v) if COLUMNS[k].kind == "integer" else v for k, v in body["house"].items()}
        return body

    outcome = q1.evaluate(no_separators)
    _assert(outcome, Status.WRONG, "to_request, on H500011, raised ValueError: invalid literal for int()",
            "in a cell of its own")
    assert "Check its type" not in outcome.message


def _right_maes():
    log = inference_log.read_predictions()
    log = log[log["batch"].isin(SCENARIOS) & log["actual_price_gbp"].notna() & (log["day_sold"] <= 10)]
    return (log["prediction_gbp"] - log["actual_price_gbp"]).abs().groupby(log["batch"]).mean().to_dict()


def test_q2_pence_thousands_and_text_are_named(ws):
    right = _right_maes()
    _assert(q2.evaluate({k: v * 100 for k, v in right.items()}), Status.WRONG, "pence", "give it in pounds")
    _assert(q2.evaluate({k: round(v / 1000, 1) for k, v in right.items()}), Status.WRONG, "thousands of pounds")
    _assert(q2.evaluate({k: f"{v:.0f}" for k, v in right.items()}), Status.WRONG, "got the text", "write ")
    _assert(q2.evaluate({k: np.float32(v) for k, v in right.items()}), Status.CORRECT)


# --- the state the work leaves, alternatives and mistakes (issue 15, item 2) --------------------------


def _refusing(record):
    if record["area"].startswith("-"):
        raise ValueError(f"{record['ref']}: area {record['area']} is impossible; ask upstream to fix it")
    return adapter()(record)


def test_q1_an_adapter_that_silently_drops_the_impossible_record_is_wrong():
    def dropping(record):
        return None if record["area"].startswith("-") else adapter()(record)

    def empty_body(record):
        return {} if record["area"].startswith("-") else adapter()(record)

    def without_area(record):
        body = adapter()(record)
        if record["area"].startswith("-"):
            del body["house"]["area"]
        return body

    def zeroed(record):
        body = adapter()(record)
        if record["area"].startswith("-"):
            body["house"]["area"] = 0
        return body

    _assert(q1.evaluate(dropping), Status.WRONG, "returned None for H500058", "without a trace")
    _assert(q1.evaluate(empty_body), Status.WRONG, "H500058", "drops the area")
    _assert(q1.evaluate(without_area), Status.WRONG, "drops the area")
    _assert(q1.evaluate(zeroed), Status.WRONG, "sends area 0", "as it is")


def test_q1_other_correct_adapters():
    import hashlib

    from mlops_clinic.service.schema import EstimateRequest

    def hashed_ids(record):
        body = adapter()(record)
        body["request_id"] = "agents-" + hashlib.sha256(f"{record['ref']}/{record['day']}".encode()).hexdigest()[:16]
        return body

    def request_model(record):  # the service's own model: the impossible record raises ValidationError
        return EstimateRequest.model_validate(adapter()(record))

    _assert(q1.evaluate(_refusing), Status.CORRECT, "no guesses")
    _assert(q1.evaluate(hashed_ids), Status.CORRECT, "no guesses")
    _assert(q1.evaluate(request_model), Status.CORRECT, "no guesses")


def test_q2_day_10_is_known_on_day_10(ws):
    log = inference_log.read_predictions()
    log = log[log["batch"].isin(SCENARIOS) & log["actual_price_gbp"].notna()]
    before = log[log["day_sold"] < 10]
    strict = (before["prediction_gbp"] - before["actual_price_gbp"]).abs().groupby(before["batch"]).mean().to_dict()
    assert strict != _right_maes(), "some sales must complete on day 10"
    outcome = q2.evaluate(strict)
    _assert(outcome, Status.WRONG, "sales of day 10 itself", "not < 10")
    assert "request_id" not in outcome.message


def test_q2_squared_errors_and_swapped_scenarios_are_named(ws):
    log = inference_log.read_predictions()
    known = log[log["batch"].isin(SCENARIOS) & (log["day_sold"] <= 10)]
    rmse = (known["prediction_gbp"] - known["actual_price_gbp"]).pow(2).groupby(known["batch"]).mean().pow(0.5).to_dict()
    right = _right_maes()
    swapped = {**right, "stable": right["concept_drift"], "concept_drift": right["stable"]}
    _assert(q2.evaluate(rmse), Status.WRONG, "root mean squared error", "|prediction_gbp - actual_price_gbp|")
    _assert(q2.evaluate(swapped), Status.WRONG, "covariate_drift, data_quality are right", "scenario names")


def test_q2_a_series_or_numpy_values_are_the_same_answer(ws):
    import pandas as pd

    log = inference_log.read_predictions()
    known = log[log["batch"].isin(SCENARIOS) & (log["day_sold"] <= 10)]
    series = (known["prediction_gbp"] - known["actual_price_gbp"]).abs().groupby(known["batch"]).mean()
    assert isinstance(series, pd.Series)
    _assert(q2.evaluate(series), Status.CORRECT, "concept_drift")
    _assert(q2.evaluate({k: np.float64(v) for k, v in reversed(_right_maes().items())}), Status.CORRECT)


def _published():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from mlops_clinic.service.prediction import PredictionService

    with TestClient(PredictionService.to_asgi()) as client:
        return client.get("/docs.json").json()


def test_q3_fields_copied_from_the_kits_constant_are_not_the_contract(ws, monkeypatch):
    from mlops_clinic.checks import m04

    monkeypatch.setattr(m04, "participant_namespace", lambda: {"FEATURES": FEATURES})
    _assert(q3.evaluate(list(FEATURES)), Status.WRONG, "spec = client.get('/docs.json').json()",
            "the contract is the document")
    spec = _published()
    stale = {**spec, "components": {"schemas": {"House": {"required": list(FEATURES)[:-1]}}}}
    _assert(q3.evaluate(list(FEATURES), stale), Status.WRONG, "not the one the service publishes")
    _assert(q3.evaluate(list(FEATURES), {"House": FEATURES}), Status.WRONG, "OpenAPI document")


def test_q3_the_document_in_the_notebook_or_given_is_accepted_in_any_order(ws, monkeypatch):
    from mlops_clinic.checks import m04

    spec = _published()
    required = spec["components"]["schemas"]["House"]["required"]
    monkeypatch.setattr(m04, "participant_namespace", lambda: {"spec": spec, "required": required})
    _assert(q3.evaluate(required), Status.CORRECT, "twelve features")
    _assert(q3.evaluate(set(required)), Status.CORRECT, "twelve features")
    _assert(q3.evaluate(tuple(sorted(required)), spec), Status.CORRECT, "twelve features")


def test_q3_plausible_mistakes_with_the_document(ws):
    spec = _published()
    required = spec["components"]["schemas"]["House"]["required"]
    _assert(q3.evaluate(["price", *required], spec), Status.WRONG, "price is what the service answers")
    _assert(q3.evaluate(spec["components"]["schemas"]["House"], spec), Status.WRONG, "got a dict")
    _assert(q3.evaluate(list(spec["components"]["schemas"]["House"]["properties"])[:5], spec),
            Status.WRONG, "missing")
    _assert(q3.evaluate(len(required), spec), Status.WRONG, "expected a list")
