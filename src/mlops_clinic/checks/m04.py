"""Module 04 questions: an adapter that makes upstream records valid requests (without guessing),
the business metric from the inference log with late labels, and the API contract.

The checkers use the service's own request model (so "valid" means what the service accepts) and
the workspace's inference log (the `inference_log` stage fills it if the lesson has not).
"""

from __future__ import annotations

import math

from mlops_clinic.checks.core import Question, Wrong, as_number, describe, run_participant, wrong_unit
from mlops_clinic.data import SCENARIOS

KNOWN_BY_DAY = 10

# Records as the estate agents' system exports them: every value is text, and the incident batch's
# faults are in them (thousands separators, upper-case yes/no, a negative area).
UPSTREAM = [
    {"ref": "H500011", "day": "1", "area": "3,850", "bedrooms": "2", "bathrooms": "1",
     "stories": "1", "mainroad": "yes", "guestroom": "no", "basement": "yes",
     "hotwaterheating": "no", "airconditioning": "no", "parking": "0", "prefarea": "no",
     "furnishingstatus": "unfurnished"},
    {"ref": "H500027", "day": "1", "area": "5200", "bedrooms": "3", "bathrooms": "2",
     "stories": "2", "mainroad": "YES", "guestroom": "no", "basement": "no",
     "hotwaterheating": "no", "airconditioning": "NO", "parking": "1", "prefarea": "yes",
     "furnishingstatus": "semi-furnished"},
    {"ref": "H500042", "day": "2", "area": "12,400", "bedrooms": "5", "bathrooms": "3",
     "stories": "3", "mainroad": "Yes", "guestroom": "yes", "basement": "no",
     "hotwaterheating": "no", "airconditioning": "yes", "parking": "2", "prefarea": "no",
     "furnishingstatus": "furnished"},
    {"ref": "H500058", "day": "2", "area": "-4440", "bedrooms": "3", "bathrooms": "1",
     "stories": "2", "mainroad": "yes", "guestroom": "no", "basement": "no",
     "hotwaterheating": "no", "airconditioning": "no", "parking": "1", "prefarea": "no",
     "furnishingstatus": "furnished"},
]
FIXABLE = UPSTREAM[:3]
UNFIXABLE = UPSTREAM[3]  # a negative area: nobody can know the right one


def _expected_house(record: dict) -> dict:
    from mlops_clinic.data.schema import COLUMNS, FEATURES

    return {name: (int(record[name].replace(",", "")) if COLUMNS[name].kind == "integer"
                   else record[name].strip().lower()) for name in FEATURES}


# --- q1: validate-requests --------------------------------------------------------------------------

def _request_body(to_request, record: dict) -> dict:
    """What the participant's to_request makes of a copy of `record`: a dict, or a Wrong."""
    body = run_participant(to_request, (dict(record),), what=f"to_request, on {record['ref']},")
    if not isinstance(body, dict):
        raise Wrong(f"to_request should return the request body as a dict, got {describe(body)} "
                    f"for {record['ref']}.")
    return body


def _check_adapter(to_request) -> str:
    from pydantic import ValidationError

    from mlops_clinic.service.http import describe as describe_errors
    from mlops_clinic.service.schema import EstimateRequest

    if not callable(to_request):
        raise Wrong("expected your function itself (its name, without calling it).")
    ids = []
    for record in FIXABLE:
        body = _request_body(to_request, record)
        try:
            request = EstimateRequest.model_validate(body)
        except ValidationError as error:
            raise Wrong(f"the service would refuse {record['ref']}: "
                        f"{describe_errors(error.errors(include_input=False))}") from None
        if request.house.model_dump() != _expected_house(record):
            wrong = {k: v for k, v in request.house.model_dump().items()
                     if _expected_house(record)[k] != v}
            raise Wrong(f"{record['ref']} becomes a valid request, but with other values than the "
                        f"record's: {wrong}. Convert, do not change.")
        if request.house_id != record["ref"]:
            raise Wrong(f"keep the record's reference as house_id ({record['ref']!r}), so the "
                        "estimate can be traced back to the listing.")
        if not request.request_id:
            raise Wrong("give each request an id made from the record (e.g. from ref and day): "
                        "a retry of the same record must carry the same id, so the service answers "
                        "it from the log instead of counting it twice.")
        again = _request_body(to_request, record).get("request_id")
        if again != request.request_id:
            raise Wrong("the same record got two different request ids: a retry would be "
                        "predicted and logged twice. Make the id from the record, not at random.")
        ids.append(request.request_id)
    if len(set(ids)) != len(ids):
        raise Wrong("two different records got the same request id; include the reference.")
    try:
        body = run_participant(to_request, (dict(UNFIXABLE),),
                               what=f"to_request, on {UNFIXABLE['ref']},", let_through=(Exception,))
    except Exception:  # noqa: BLE001 - refusing it at the adapter (raise, assert) is fine too
        body = None
    if body is not None:
        try:
            request = EstimateRequest.model_validate(body)
        except ValidationError:
            request = None
        if request is not None:
            raise Wrong(f"{UNFIXABLE['ref']}'s area is -4440 and your adapter turned it into "
                        f"{request.house.area}: a guess, not a fix. Pass it on (the service refuses "
                        "it and logs why) or raise an error, and get the upstream system fixed.")
    return ("the three records become valid requests with their own values and stable ids, and "
            "the impossible area is left for the service to refuse: fixed formats, no guesses.")


# --- q2: inference-log ------------------------------------------------------------------------------

def _errors_by_scenario(day: int | None):
    from mlops_clinic.service import inference_log

    frame = inference_log.read_predictions()
    frame = frame[frame["batch"].isin(SCENARIOS) & frame["actual_price_gbp"].notna()]
    if day is not None:
        frame = frame[frame["day_sold"] <= day]
    error = frame["prediction_gbp"] - frame["actual_price_gbp"]
    return (error.abs().groupby(frame["batch"]).mean().to_dict(),
            error.groupby(frame["batch"]).mean().to_dict())


def _check_mae(mae_by_scenario) -> str:
    if not isinstance(mae_by_scenario, dict):
        raise Wrong(f"expected a dict {{scenario: MAE in pounds}}, got {describe(mae_by_scenario)}.")
    keys = set(mae_by_scenario)
    if keys != set(SCENARIOS):
        missing, extra = set(SCENARIOS) - keys, keys - set(SCENARIOS)
        raise Wrong("one entry per scenario, named as the log's batch column: "
                    + (f"missing {sorted(missing)}" if missing else "")
                    + ("; " if missing and extra else "") + (f"unexpected {sorted(extra)}" if extra else ""))
    answer = {k: as_number(v, f"the MAE of {k}, a number of pounds") for k, v in mae_by_scenario.items()}
    known, signed = _errors_by_scenario(KNOWN_BY_DAY)
    everything, _ = _errors_by_scenario(None)

    def same(answer, truth):
        return all(math.isclose(answer[k], truth[k], abs_tol=600) for k in SCENARIOS)

    if same(answer, known):
        return (f"on day {KNOWN_BY_DAY}, stable is off by £{known['stable']:,.0f} on average and "
                f"concept_drift by £{known['concept_drift']:,.0f}: the gap module 05 watches.")
    units = {wrong_unit(answer[k], known[k], 600, subject="each MAE") for k in SCENARIOS}
    if len(units) == 1 and None not in units:
        raise Wrong(units.pop())
    if same(answer, everything):
        raise Wrong(f"that uses every sale, including those known only after day {KNOWN_BY_DAY}: "
                    f"keep the outcomes with day_sold <= {KNOWN_BY_DAY}.")
    if all(math.isclose(answer[k], signed[k], abs_tol=600)
           or math.isclose(answer[k], -signed[k], abs_tol=600) for k in SCENARIOS):
        raise Wrong("that is the average signed error (bias): over- and under-estimates cancel "
                    "out. Take the absolute value of each error first.")
    raise Wrong("those are not the mean absolute errors: join the predictions to their outcomes by "
                "request_id (read_predictions() does), keep the scenarios' rows, then average "
                "|prediction_gbp - actual_price_gbp| per batch.")


# --- q3: api-contract -------------------------------------------------------------------------------

def _check_contract(required) -> str:
    from mlops_clinic.data.schema import FEATURES

    if isinstance(required, str):
        raise Wrong("expected a list (or set) of field names, not one string.")
    names = set(required)
    if names == set(FEATURES):
        return ("the twelve features, all required: the contract callers build against, "
                "published by the service itself and versioned with it.")
    if names & {"house", "request_id", "house_id", "batch", "day"}:
        raise Wrong("those are the fields of the request around the house: look inside the House "
                    "schema (spec['components']['schemas']['House']['required']).")
    missing, extra = set(FEATURES) - names, names - set(FEATURES)
    raise Wrong("not the House's required fields: "
                + (f"missing {sorted(missing)}" if missing else "")
                + ("; " if missing and extra else "") + (f"unexpected {sorted(extra)}" if extra else ""))


q1 = Question("q1", "04", _check_adapter, hints=[
    "Each value is text. Numbers: remove the thousands separator and int() them. Yes/no and "
    "furnishing: strip() and lower(). Leave impossible values as they are.",
    "Return {'request_id': f\"agents-{record['ref']}-d{record['day']}\", 'house_id': record['ref'], "
    "'day': int(record['day']), 'house': {...the twelve features...}}.",
])

q2 = Question("q2", "04", _check_mae, hints=[
    "inference_log.read_predictions() already joins outcomes by request id: actual_price_gbp and "
    "day_sold are NaN until the sale is known.",
    f"Keep rows whose batch is one of the four scenarios and day_sold <= {KNOWN_BY_DAY}, then "
    "(prediction_gbp - actual_price_gbp).abs().groupby(batch).mean().to_dict().",
])

q3 = Question("q3", "04", _check_contract, hints=[
    "The service publishes its OpenAPI document at /docs.json; client.get('/docs.json').json().",
    "spec['components']['schemas'] holds one entry per model; the House's 'required' list is the answer.",
])

QUESTIONS = (q1, q2, q3)
