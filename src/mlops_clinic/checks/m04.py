"""Module 04 questions: an adapter that makes upstream records valid requests (without guessing),
the business metric from the inference log with late labels, and the API contract.

The checkers use the service's own request model (so "valid" means what the service accepts) and
the workspace's inference log (the `inference_log` stage fills it if the lesson has not).
"""

from __future__ import annotations

import math

from mlops_clinic.checks.core import (
    Question, Wrong, as_number, describe, describe_exception, participant_namespace, run_participant,
    wrong_unit,
)
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
    if hasattr(body, "model_dump") and callable(body.model_dump):
        body = body.model_dump()  # the service's own request model, built by the adapter: fine
    if not isinstance(body, dict):
        raise Wrong(f"to_request should return the request body as a dict, got {describe(body)} "
                    f"for {record['ref']}.")
    return body


def _passed_on_area(body) -> object:
    """The area a body carries for the impossible record, as a number where it is one."""
    house = body.get("house") if isinstance(body, dict) else None
    area = house.get("area", "missing") if isinstance(house, dict) else "missing"
    try:
        return int(str(area).replace(",", ""))
    except ValueError:
        return area


def _check_unfixable(to_request) -> None:
    """The impossible record is refused at the adapter (an exception, an assert) or passed on with
    its own values: never guessed, never silently dropped."""
    from pydantic import ValidationError

    from mlops_clinic.service.schema import EstimateRequest

    ref, area = UNFIXABLE["ref"], int(UNFIXABLE["area"])
    try:
        body = run_participant(to_request, (dict(UNFIXABLE),), what=f"to_request, on {ref},",
                               let_through=(Exception,))
    except Exception:  # noqa: BLE001 - refusing it at the adapter (raise, assert) is fine too
        return
    if hasattr(body, "model_dump") and callable(body.model_dump):
        body = body.model_dump()
    if not isinstance(body, dict):
        raise Wrong(f"to_request returned {describe(body)} for {ref}, whose area is {area}: the record "
                    "vanishes without a trace, and nobody learns that upstream sends impossible "
                    "areas. Pass it on as it is (the service refuses it and logs why) or raise an "
                    "error that names it.")
    try:
        request = EstimateRequest.model_validate(body)
    except ValidationError:
        request = None
    if request is not None:
        raise Wrong(f"{ref}'s area is {area} and your adapter turned it into "
                    f"{request.house.area}: a guess, not a fix. Pass it on (the service refuses "
                    "it and logs why) or raise an error, and get the upstream system fixed.")
    passed_on = _passed_on_area(body)
    if passed_on == "missing":
        raise Wrong(f"{ref}'s area is {area}, and your adapter drops the area from the request: "
                    "the service's log would record a missing field instead of the fault upstream "
                    "made. Pass the value on as it is (converted, not changed) or raise an error.")
    if passed_on != area:
        raise Wrong(f"{ref}'s area is {area}, but your adapter sends area {passed_on!r}: the "
                    "service's log would record another fault than the one upstream made. Pass "
                    "the value on as it is (converted, not changed) or raise an error.")


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
    _check_unfixable(to_request)
    return ("the three records become valid requests with their own values and stable ids, and "
            "the impossible area is left for the service to refuse: fixed formats, no guesses.")


# --- q2: inference-log ------------------------------------------------------------------------------

def _errors_by_scenario(keep=None, squared: bool = False):
    """(mean absolute error, mean signed error) per scenario, of the rows `keep(frame)` selects
    among those with a known sale price (all of them without `keep`); with `squared`, the root mean
    squared error instead of the mean absolute one."""
    from mlops_clinic.service import inference_log

    frame = inference_log.read_predictions()
    frame = frame[frame["batch"].isin(SCENARIOS) & frame["actual_price_gbp"].notna()]
    if keep is not None:
        frame = frame[keep(frame)]
    error = frame["prediction_gbp"] - frame["actual_price_gbp"]
    if squared:
        return (error.pow(2).groupby(frame["batch"]).mean().pow(0.5).to_dict(), {})
    return (error.abs().groupby(frame["batch"]).mean().to_dict(),
            error.groupby(frame["batch"]).mean().to_dict())


def _as_mapping(mae_by_scenario) -> dict:
    """The answer as a dict: a pandas Series indexed by scenario (a groupby's result) is one too."""
    import pandas as pd

    if isinstance(mae_by_scenario, pd.Series):
        return mae_by_scenario.to_dict()
    if not isinstance(mae_by_scenario, dict):
        raise Wrong(f"expected a dict {{scenario: MAE in pounds}}, got {describe(mae_by_scenario)}.")
    return mae_by_scenario


def _check_mae(mae_by_scenario) -> str:
    mae_by_scenario = _as_mapping(mae_by_scenario)
    keys = set(mae_by_scenario)
    if keys != set(SCENARIOS):
        missing, extra = set(SCENARIOS) - keys, keys - set(SCENARIOS)
        raise Wrong("one entry per scenario, named as the log's batch column: "
                    + (f"missing {sorted(missing)}" if missing else "")
                    + ("; " if missing and extra else "") + (f"unexpected {sorted(extra, key=str)}" if extra else ""))
    answer = {k: as_number(v, f"the MAE of {k}, a number of pounds") for k, v in mae_by_scenario.items()}
    known, signed = _errors_by_scenario(lambda f: f["day_sold"] <= KNOWN_BY_DAY)

    def same(truth):
        return all(math.isclose(answer[k], truth[k], abs_tol=600) for k in SCENARIOS)

    if same(known):
        return (f"on day {KNOWN_BY_DAY}, stable is off by £{known['stable']:,.0f} on average and "
                f"concept_drift by £{known['concept_drift']:,.0f}: the gap module 05 watches.")
    units = {wrong_unit(answer[k], known[k], 600, subject="each MAE") for k in SCENARIOS}
    if len(units) == 1 and None not in units:
        raise Wrong(units.pop())
    if same(_errors_by_scenario()[0]):
        raise Wrong(f"that uses every sale, including those known only after day {KNOWN_BY_DAY}: "
                    f"keep the outcomes with day_sold <= {KNOWN_BY_DAY}.")
    if same(_errors_by_scenario(lambda f: f["day_sold"] < KNOWN_BY_DAY)[0]):
        raise Wrong(f"that leaves out the sales of day {KNOWN_BY_DAY} itself: on day {KNOWN_BY_DAY} "
                    f"they are known too. Keep day_sold <= {KNOWN_BY_DAY}, not < {KNOWN_BY_DAY}.")
    if same(_errors_by_scenario(lambda f: f["day_sold"] <= KNOWN_BY_DAY, squared=True)[0]):
        raise Wrong("that is the root mean squared error: it weighs the big misses more. The "
                    "business metric is the mean of |prediction_gbp - actual_price_gbp|.")
    if all(math.isclose(answer[k], signed[k], abs_tol=600)
           or math.isclose(answer[k], -signed[k], abs_tol=600) for k in SCENARIOS):
        raise Wrong("that is the average signed error (bias): over- and under-estimates cancel "
                    "out. Take the absolute value of each error first.")
    right = [k for k in SCENARIOS if math.isclose(answer[k], known[k], abs_tol=600)]
    if right:
        wrong = [k for k in SCENARIOS if k not in right]
        raise Wrong(f"{', '.join(right)} {'is' if len(right) == 1 else 'are'} right, "
                    f"{', '.join(wrong)} not: are the entries under the right scenario names, each "
                    "one the mean of its own batch's errors?")
    raise Wrong("those are not the mean absolute errors: read_predictions() already joins the "
                "predictions to their outcomes; keep the scenarios' rows with day_sold <= "
                f"{KNOWN_BY_DAY}, then average |prediction_gbp - actual_price_gbp| per batch.")


# --- q3: api-contract -------------------------------------------------------------------------------

def _published_document() -> dict:
    """The OpenAPI document the prediction service publishes, fetched in-process as the lesson does."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from mlops_clinic.service.prediction import PredictionService

    with TestClient(PredictionService.to_asgi()) as client:
        return client.get("/docs.json").json()


def _house_required(document) -> list | None:
    """The House schema's required fields in an OpenAPI document, or None if it is not one."""
    try:
        required = document["components"]["schemas"]["House"]["required"]
    except (KeyError, TypeError):
        return None
    return required if isinstance(required, list) and "openapi" in document else None


def _fetched_document(spec) -> dict:
    """The participant's copy of the service's OpenAPI document: the one given, else the one their
    notebook holds. A caller has the document, not the kit's constants: the answer must come from it."""
    if spec is not None:
        if _house_required(spec) is None:
            raise Wrong(f"the second answer should be the OpenAPI document (a dict with 'openapi' and "
                        f"'components'), got {describe(spec)}: the JSON the service answers on /docs.json.")
        return spec
    documents = [value for value in participant_namespace().values()
                 if isinstance(value, dict) and _house_required(value) is not None]
    if not documents:
        raise Wrong("read the fields from the document the service publishes, as a caller would: "
                    "ask the test client for /docs.json, then look inside it. A caller has no "
                    "access to the kit's constants (FEATURES): the contract is the document.")
    return documents[-1]


def _check_contract(required, spec=None) -> str:
    from mlops_clinic.data.schema import FEATURES

    if isinstance(required, str):
        raise Wrong("expected a list (or set) of field names, not one string.")
    if isinstance(required, dict):
        raise Wrong("expected the list of field names, got a dict: the House's 'required' entry is "
                    "a list; its 'properties' describe each field.")
    try:
        names = set(required)
    except TypeError:
        raise Wrong(f"expected a list (or set) of field names, got {describe(required)}.") from None
    if names & {"house", "request_id", "house_id", "batch", "day"}:
        raise Wrong("those are the fields of the request around the house: look inside the House "
                    "schema, under components and schemas: its required list.")
    if names != set(FEATURES):
        missing, extra = set(FEATURES) - names, names - set(FEATURES)
        if "price" in extra:
            raise Wrong("price is what the service answers, not a field a caller sends: take the "
                        "House's 'required' list from the document, not the CSV's columns.")
        raise Wrong("not the House's required fields: "
                    + (f"missing {sorted(missing)}" if missing else "")
                    + ("; " if missing and extra else "")
                    + (f"unexpected {sorted(extra, key=str)}" if extra else ""))
    document = _fetched_document(spec)
    if _house_required(document) != _house_required(_published_document()):
        raise Wrong("that document is not the one the service publishes now: fetch /docs.json again "
                    "with the test client.")
    return ("the twelve features, all required: the contract callers build against, "
            "published by the service itself and versioned with it.")


q1 = Question("q1", "04", _check_adapter, hints=[
    "Each value is text. Numbers: remove the thousands separator and int() them. Yes/no and "
    "furnishing: strip() and lower(). Leave impossible values as they are.",
    "The body has four keys: request_id, house_id, day and house (a dict of the twelve features). "
    "The lesson's section 'Production traffic, replayed' builds such bodies from rows of traffic.",
    "COLUMNS[name].kind (mlops_clinic.data) says whether a feature is an 'integer' or a category, so "
    "one loop over FEATURES converts them all. An id made only from the record's own values (its ref "
    "and day, in an f-string) is the same on a retry, which is the point.",
])

q2 = Question("q2", "04", _check_mae, hints=[
    "inference_log.read_predictions() already joins outcomes by request id: actual_price_gbp and "
    "day_sold are NaN until the sale is known.",
    f"Keep the rows of the four scenarios (column.isin([...])) whose sale was known on day "
    f"{KNOWN_BY_DAY} (day_sold on that day or before); combine two conditions with &, each in "
    "brackets.",
    "The absolute error of each row is (prediction - actual).abs(); .groupby(a column) then .mean() "
    "averages it per scenario, and .to_dict() turns the Series into {scenario: MAE}. The lesson's "
    "section 'The truth arrives later' computed the same in SQL, AVG(ABS(...)) with GROUP BY.",
])

q3 = Question("q3", "04", _check_contract, hints=[
    "The service publishes its OpenAPI document at /docs.json (module 03, section 'Metrics and the "
    "Swagger page'); the test client gets it as httpx does, and .json() turns it into a dict.",
    "In an OpenAPI document, components, then schemas, holds one JSON schema per type, by name; a "
    "JSON schema lists its mandatory fields under 'required'.",
    "Keep the document in a variable (spec = ...): the check looks for it, to see that the "
    "fields come from what the service publishes. q3.check(required, spec) names it.",
])


# --- q4: open question: is it safe to swap? -------------------------------------------------------
#
# Moving the alias swaps the served model while traffic runs (section 7 of the lesson): nothing
# asks whether the new version can answer. The participant writes that question as code,
# `safe_to_swap(candidate, champion, recent) -> bool`. The rules call it with candidates built for
# real (scikit-learn, logged and registered in MLflow, loaded back as the service loads them) and
# two days of recent traffic drawn from the kit's generator with a seed no lesson uses.

import time as _time  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402

from mlops_clinic.checks.open_questions import OpenQuestion, Rule  # noqa: E402
from mlops_clinic.names import CHAMPION, MODEL_NAME, SANDBOX_MODEL  # noqa: E402

HIDDEN_SEED = 20261205  # no lesson, exercise or dataset file uses it
RECENT_ROWS = {"stable": 1_500, "covariate_drift": 500}  # two days of recent traffic, mixed
# The candidates live under a registered model of their own, so the exercises that count the
# sandbox's versions (modules 02 and 05) never see them, and in an experiment of their own.
CANDIDATES = f"{SANDBOX_MODEL}-candidates"
RECIPE = "1"  # bump when a candidate's recipe changes: older registered versions are then ignored
BUDGET_S = 5.0  # a decision on two days of traffic; one batch prediction per model takes 0.1 s

# What each hidden candidate is, in the words the rules use.
SOUND = "sound"
NEW_COLUMN = "new_column"
PENCE = "pence"
LOG_PRICE = "log_price"
ANOTHER_MARKET = "another_market"
DESCRIBED = {
    SOUND: "a sound challenger (gradient boosting with other settings, on the same data)",
    NEW_COLUMN: "a candidate trained with a column the requests do not have (epc_rating)",
    PENCE: "a candidate trained on prices in pence",
    LOG_PRICE: "a candidate trained on the log of the price",
    ANOTHER_MARKET: "a candidate trained on another market's prices (30% lower)",
}


def recent_traffic():
    """Two days of requests the service might have answered: the twelve features, as logged."""
    import pandas as pd

    from mlops_clinic.data import FEATURES, generate_traffic

    frames = [generate_traffic(scenario, rows, seed=HIDDEN_SEED + offset, days=2)[0]
              for offset, (scenario, rows) in enumerate(RECENT_ROWS.items())]
    return pd.concat(frames, ignore_index=True)[list(FEATURES)]


def _model_code():
    """The project's model code (the template every project starts from), as a module."""
    import importlib.util
    from pathlib import Path

    import mlops_clinic

    path = Path(mlops_clinic.__file__).parent / "project_template" / "src" / "model.py"
    spec = importlib.util.spec_from_file_location("clinic_open_question_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _training_houses():
    """The kit's two data releases, as the pipeline's data/houses.csv holds them."""
    import pandas as pd

    from mlops_clinic.data import load

    return pd.concat([load("houses_reference"), load("houses_new")], ignore_index=True)


def _fitted(name: str):
    """Candidate `name`, fitted: the pipeline's own model code, with one thing changed each."""
    import numpy as np

    code = _model_code()
    houses = _training_houses()
    features, price = houses[code.FEATURES].copy(), houses[code.TARGET].astype(float)
    model = code.build_model("gradient_boosting", seed=11, n_estimators=250, learning_rate=0.08,
                             max_depth=3)
    if name == NEW_COLUMN:  # an export with an energy rating the service's requests never carry
        features["epc_rating"] = np.random.default_rng(HIDDEN_SEED).integers(1, 8, len(features))
        prepare = model.named_steps["prepare"]
        prepare.set_params(transformers=[
            (label, step, columns + ["epc_rating"] if label == "numbers" else columns)
            for label, step, columns in prepare.transformers])
    target = {PENCE: price * 100, LOG_PRICE: np.log(price), ANOTHER_MARKET: price * 0.7}.get(name, price)
    return model.fit(features, target)


def _registered_candidates(client) -> dict[str, str]:
    """{candidate: registered version} of this recipe, as the registry holds them now."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{CANDIDATES}'")
    except MlflowException:
        return {}
    found = {}
    for version in versions:
        if version.tags.get("recipe") == RECIPE and version.tags.get("candidate") in DESCRIBED:
            found.setdefault(version.tags["candidate"], str(version.version))
    return found


def _experiment_id(client) -> str:
    """The candidates' own experiment, made on first use. Not set as the active experiment: the
    participant's next run still goes where they point it."""
    experiment = client.get_experiment_by_name(CANDIDATES)
    return experiment.experiment_id if experiment else client.create_experiment(CANDIDATES)


def _register(name: str, client) -> None:
    """Fit, log and register one candidate (registering is not idempotent: callers look first).
    MLflow's own lines ("Successfully registered ...") are kept out of the check's output."""
    import contextlib
    import io
    import logging
    import warnings

    import mlflow

    model = _fitted(name)
    quiet, logger = io.StringIO(), logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            with mlflow.start_run(experiment_id=_experiment_id(client),
                                  run_name=f"open question 04: {name}"):
                mlflow.set_tag("source", "open-question-04")
                logged = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle",
                                                  pip_requirements=["scikit-learn"])
            mlflow.register_model(logged.model_uri, CANDIDATES, tags={"candidate": name, "recipe": RECIPE})
    finally:
        logger.setLevel(level)


_LOADED: dict[tuple, object] = {}


def hidden_candidates() -> dict[str, object]:
    """Every candidate, loaded from the registry with mlflow.sklearn, as the model server loads a
    version: built and registered the first time in a workspace, found by their tags afterwards."""
    import mlflow
    import mlflow.sklearn

    from mlops_clinic.service import store

    client = store.registry_client()
    versions = _registered_candidates(client)
    for name in DESCRIBED:
        if name not in versions:
            _register(name, client)
    versions = _registered_candidates(client)
    loaded = {}
    for name in DESCRIBED:
        key = (mlflow.get_tracking_uri(), name, versions[name])
        if key not in _LOADED:
            _LOADED[key] = mlflow.sklearn.load_model(f"models:/{CANDIDATES}/{versions[name]}")
        loaded[name] = _LOADED[key]
    return loaded


def served_champion():
    """The version `house-price@champion` names, loaded as the service loads it."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{MODEL_NAME}@{CHAMPION}")


@_dataclass(frozen=True)
class Decision:
    """What the participant's function said about one candidate, and how long it took."""

    candidate: str
    safe: bool | None = None
    raised: str = ""
    returned: str = ""  # what came back instead of True or False, in words
    seconds: float = 0.0


def _decide(function, name: str, candidate, champion, recent) -> Decision:
    """One call of the participant's function, on copies, timed; its failures kept as text."""
    import numpy as np

    started = _time.perf_counter()
    try:
        said = function(candidate, champion, recent.copy())
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - their failure is what the rules look at
        return Decision(name, raised=describe_exception(error), seconds=_time.perf_counter() - started)
    seconds = _time.perf_counter() - started
    if isinstance(said, (bool, np.bool_)):
        return Decision(name, safe=bool(said), seconds=seconds)
    return Decision(name, returned=describe(said), seconds=seconds)


def _decisions(function) -> dict[str, Decision]:
    """The work: the participant's decision on every hidden candidate."""
    if not callable(function):
        raise Wrong(f"expected your function itself (its name, without calling it), got "
                    f"{describe(function)}: def safe_to_swap(candidate, champion, recent): ...")
    champion, recent = served_champion(), recent_traffic()
    return {name: _decide(function, name, model, champion, recent)
            for name, model in hidden_candidates().items()}


def _said(decision: Decision) -> str:
    if decision.raised:
        return f"it raised {decision.raised}"
    if decision.returned:
        return f"it returned {decision.returned}, not True or False"
    return f"it answered {decision.safe}"


def _accepts_sound(decisions: dict[str, Decision]) -> str | None:
    sound = decisions[SOUND]
    if sound.safe is True:
        return None
    if sound.safe is False:
        advice = ("its estimates stay close to the champion's for a typical house; loosen what you "
                  "call 'far', or look at a typical house, not the single worst one.")
    elif sound.raised:
        advice = "try your function on the champion itself first: safe_to_swap(champion, champion, recent)."
    else:
        advice = "answer True or False (bool(...) turns a comparison of numpy values into one)."
    return f"for {DESCRIBED[SOUND]}, {_said(sound)}: {advice}"


def _refuses(names: tuple[str, ...], advice: str):
    """The rule that each of these candidates is refused: False, not an error."""
    def test(decisions: dict[str, Decision]) -> str | None:
        for name in names:
            decision = decisions[name]
            if decision.safe is not False:
                return f"for {DESCRIBED[name]}, {_said(decision)}: {advice}"
        return None
    return test


def _in_time(decisions: dict[str, Decision]) -> str | None:
    slowest = max(decisions.values(), key=lambda d: d.seconds)
    if slowest.seconds <= BUDGET_S:
        return None
    rows = sum(RECENT_ROWS.values())
    return (f"it took {slowest.seconds:.1f} s to decide on {DESCRIBED[slowest.candidate]}, over "
            f"{rows:,} recent requests (the budget is {BUDGET_S:g} s): predict them in one call per "
            "model, model.predict(recent), not row by row.")


q4 = OpenQuestion(
    "q4", "04", work=_decisions,
    rules=[
        Rule("accepts a sound challenger (other settings, the same data)", _accepts_sound, points=3),
        Rule("refuses a candidate that cannot answer the recent requests, answering False rather "
             "than raising",
             _refuses((NEW_COLUMN,), "a candidate that fails on the requests the service receives "
                                     "would answer every caller with a 500: try its predictions, "
                                     "catch the error and answer False."), points=2),
        Rule("refuses estimates that are absurd in size (prices in pence, the log of a price)",
             _refuses((PENCE, LOG_PRICE), "compare its estimates with what a house can sell for "
                                          "(the data card's price range), or with the champion's."),
             points=2),
        Rule("refuses a candidate whose estimates move far from the champion's on recent traffic "
             "(trained on another market)",
             _refuses((ANOTHER_MARKET,), "plausible prices can still be far from what the champion "
                                         "says for the same houses: compare the two models' "
                                         "estimates house by house and choose how far is too far."),
             points=2),
        Rule(f"decides within {BUDGET_S:g} seconds on {sum(RECENT_ROWS.values()):,} recent requests",
             _in_time),
    ],
    look_for=[
        "how far is too far, in pounds or as a share, and for a typical house or the worst one",
        "why compare with the champion on recent traffic rather than on the training data",
        "what a refusal should do next (keep the champion, tell someone), and what a wrong swap costs",
        "what the check cannot see without labels (a candidate that is close but slightly worse)",
    ],
    hints=[
        "Three questions in turn: can the candidate answer the recent requests at all? Are its "
        "estimates prices a house can sell for? Are they close to what the champion says for the "
        "same houses?",
        "Call candidate.predict(recent) inside try/except: an error means False. Then compare its "
        "estimates with champion.predict(recent), house by house, as a share of the champion's.",
        "The data card's price range is COLUMNS['price'].min and .max (mlops_clinic.data.schema); "
        "the ratio of the two models' estimates for each house, summarised by its median or a "
        "high quantile (numpy.quantile), is one way to say 'far'. Choose the limit and say why.",
    ],
)

QUESTIONS = (q1, q2, q3, q4)
