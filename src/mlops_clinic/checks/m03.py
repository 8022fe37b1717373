"""Module 03 questions: the champion in the BentoML store, the service over HTTP, and a test that
would have caught BridgeAI's upper-case skew.

The checkers read the workspace's real MLflow registry and BentoML store, and run the service
in-process (its ASGI app) where a question needs it.
"""

from __future__ import annotations

import json as _json
import math

from mlops_clinic.checks.core import (
    Question, Wrong, as_number, describe, describe_exception, failure_types, pounds, run_participant,
)
from mlops_clinic.names import MODEL_NAME

# The house the serve-http exercise asks about: the first request of the stable traffic (H200001).
EXERCISE_HOUSE = {"area": 7100, "bedrooms": 4, "bathrooms": 2, "stories": 2, "mainroad": "no",
                  "guestroom": "no", "basement": "yes", "hotwaterheating": "no",
                  "airconditioning": "no", "parking": 1, "prefarea": "no",
                  "furnishingstatus": "furnished"}


def _champion():
    from mlops_clinic.service import store

    version = store.registry_client().get_model_version_by_alias(MODEL_NAME, "champion")
    return version


def _offline_prices(houses: list[dict]) -> list[float]:
    """The champion's own predictions, loaded from the registry as module 02 left it."""
    import pandas as pd

    model = _offline_model()
    return [float(p) for p in model.predict(pd.DataFrame(houses))]


_MODEL_CACHE: dict[str, object] = {}


def _offline_model():
    import mlflow.sklearn

    version = _champion().version
    if version not in _MODEL_CACHE:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[version] = mlflow.sklearn.load_model(f"models:/{MODEL_NAME}/{version}")
    return _MODEL_CACHE[version]


# --- q1: save-model ---------------------------------------------------------------------------------

def _check_store(bento_model) -> str:
    import bentoml

    if isinstance(bento_model, str):
        raise Wrong("that is text, not a model: keep what bentoml.mlflow.import_model (or "
                    "bentoml.models.get) returns.")
    if not isinstance(bento_model, bentoml.Model):
        raise Wrong(f"expected a BentoML model, got {describe(bento_model)}. "
                    "bentoml.mlflow.import_model returns one.")
    champion = _champion()
    expected = f"{MODEL_NAME}:v{champion.version}"
    if bento_model.info.module != "bentoml.mlflow":
        raise Wrong(f"{bento_model.tag} was saved with {bento_model.info.module}: a copy of an object "
                    "loaded in this notebook. Import the registered model itself, "
                    "bentoml.mlflow.import_model(..., model_uri='models:/house-price/<version>'), so "
                    "the store holds exactly what the registry holds.")
    labels = bento_model.info.labels
    if labels.get("run_id") != champion.run_id or labels.get("version") != str(champion.version):
        if labels.get("version") and labels.get("version") != str(champion.version):
            raise Wrong(f"its labels say version {labels.get('version')}, but the champion is "
                        f"version {champion.version}: import the version the alias names.")
        raise Wrong("the labels must carry the lineage back to the registry: "
                    "labels={'registered_model': 'house-price', 'version': <the champion's "
                    "version>, 'run_id': <its run id>}.")
    copied_from = _copied_run_id(bento_model)
    if copied_from is not None and copied_from != champion.run_id:
        raise Wrong(f"{bento_model.tag} holds the model of run {copied_from}, not the champion's "
                    f"(run {champion.run_id}), whatever its labels say: import "
                    f"model_uri='models:/{MODEL_NAME}/{champion.version}'.")
    if str(bento_model.tag) != expected:
        raise Wrong(f"{bento_model.tag} is the right model under another name: tag it "
                    f"{expected!r}, so the tag alone says which registered version it is.")
    if not _in_store(expected):
        raise Wrong(f"{expected} is not in the model store (deleted since?): import it again; "
                    "the service loads it from the store, not from your notebook.")
    return (f"{expected} is in the store with its lineage: from any prediction's version you can "
            "go back to the registry, the run and the data.")


def _copied_run_id(bento_model) -> str | None:
    """The run that the MLflow model inside a bentoml.mlflow model was logged in (its MLmodel
    file says so), or None where the file does not say."""
    from mlflow.models import Model

    mlmodel = bento_model.path_of("mlflow_model/MLmodel")
    try:
        return Model.load(mlmodel).run_id
    except (OSError, ValueError):
        return None


def _in_store(tag: str) -> bool:
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        bentoml.models.get(tag)
    except NotFound:
        return False
    return True


# --- q2: serve-http ---------------------------------------------------------------------------------

def _check_answer(answer) -> str:
    if hasattr(answer, "status_code") and hasattr(answer, "json"):
        raise Wrong("that is the HTTP response object: store response.json(), the answer's body.")
    if isinstance(answer, list):
        raise Wrong("a list is what /predict_batch answers; send the one house to /predict as "
                    '{"house": EXERCISE_HOUSE}.')
    if not isinstance(answer, dict):
        raise Wrong(f"expected the JSON answer as a dict, got {describe(answer)}.")
    if "error" in answer:
        raise Wrong(f"the service refused the request: {answer['error']}")
    missing = {"price", "model", "model_version", "unusual"} - set(answer)
    if missing:
        raise Wrong(f"the answer has no {', '.join(sorted(missing))}: is it the service's answer "
                    "to /predict?")
    champion = _champion()
    if str(answer["model_version"]) != str(champion.version):
        raise Wrong(f"version {answer['model_version']} answered, but the champion is version "
                    f"{champion.version}: is the server serving an older model?")
    expected = _offline_prices([EXERCISE_HOUSE])[0]
    price = as_number(answer["price"], "the answer's price, a number of pounds")
    if not math.isclose(price, expected, abs_tol=0.01):
        raise Wrong(f"{pounds(price)} is not the champion's price for EXERCISE_HOUSE: "
                    "did you send another house, or change one of its values?")
    return (f"£{expected:,.0f} from version {champion.version}, the same as the model in the "
            "notebook: the service adds no skew for this house.")


# --- q3: test-service -------------------------------------------------------------------------------

SUBTLE_SKEW = 0.02  # the second faulty service's prices are 2% off: a loose tolerance misses it


def _endpoint(path) -> str:
    """"/predict_batch", whichever way a test spells it: "predict_batch", "/predict_batch/", or a
    whole URL such as "http://testserver/predict_batch"."""
    import httpx

    return "/" + httpx.URL(str(path)).path.strip("/")


class SkewedClient:
    """A test client for a service with a skew: it validates requests as the real one does, then
    answers 200 with prices that are not the model's. `skew` names the fault; `prices(houses,
    real_prices)` gives the wrong prices. Answers are real httpx responses (raise_for_status,
    .json(), .status_code all work), whatever spelling of the path the test uses."""

    def __init__(self, good_client, skew: str, prices):
        self.good = good_client
        self.skew = skew
        self._prices = prices

    def post(self, path, json=None, **kwargs):
        answer = self.good.post(path, json=json, **kwargs)
        endpoint = _endpoint(path)
        if answer.status_code != 200 or endpoint not in ("/predict", "/predict_batch"):
            return answer
        sent, body = _json.loads(answer.request.content), answer.json()  # json= or content=
        if endpoint == "/predict":
            body["price"] = self._prices([sent["house"]], [body["price"]])[0]
        else:
            for one, price in zip(body, self._prices(sent["houses"], [one["price"] for one in body])):
                one["price"] = price
        return _response(answer, body)

    def request(self, method: str, path, **kwargs):
        if method.upper() == "POST":
            return self.post(path, **kwargs)
        return self.good.request(method, path, **kwargs)

    def __getattr__(self, name):  # get, headers, base_url...: the real client's
        return getattr(self.good, name)


def _response(like, body):
    import httpx

    return httpx.Response(like.status_code, json=body, request=like.request)


def _upper_case_prices(houses: list[dict], real_prices: list[float]) -> list[float]:
    """BridgeAI's bug: the yes/no values reach the model upper-cased, and it answers anyway."""
    import pandas as pd

    from mlops_clinic.data import FEATURES

    skewed = [{k: (v.upper() if v in ("yes", "no") else v) for k, v in house.items()} for house in houses]
    return [round(float(p), 2) for p in _offline_model().predict(pd.DataFrame(skewed)[list(FEATURES)])]


def _subtle_prices(houses: list[dict], real_prices: list[float]) -> list[float]:
    """A skew small enough to look plausible: every price 2% above the model's."""
    return [round(float(p) * (1 + SUBTLE_SKEW), 2) for p in real_prices]


def faulty_services(good_client) -> list[SkewedClient]:
    """The services a sound test must fail against: BridgeAI's upper-case bug, which moves each
    price by its own amount, and a skew that moves every price by 2%."""
    return [SkewedClient(good_client, "a service that upper-cases yes/no before the model "
                                      "(BridgeAI's bug)", _upper_case_prices),
            SkewedClient(good_client, f"a service whose prices are all {SUBTLE_SKEW:.0%} off the "
                                      "model's", _subtle_prices)]


def _test_client():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from mlops_clinic.service.service import HousePrice

    return TestClient(HousePrice.to_asgi())


def _test_failure(test_function, client, against: str) -> BaseException | None:
    """None if the participant's test passes against `client`; the failure if it fails the way a
    test should (an assert, or pytest.fail). Any other exception is named as a Wrong."""
    try:
        run_participant(test_function, (client,), what=f"your test, against {against},",
                        advice="A test should pass or fail by assert (or pytest.fail), not stop on "
                               "an error: run it on the client in a cell of its own to see where.",
                        let_through=failure_types())
    except failure_types() as failure:
        return failure
    return None


def _check_test(test_function) -> str:
    if not callable(test_function):
        raise Wrong("expected your test function itself (its name, without calling it).")
    with _test_client() as good:
        failure = _test_failure(test_function, good, "the real service")
        if failure is not None:
            said = describe_exception(failure) if str(failure) else "an assert failed"
            raise Wrong(f"your test fails against the real service ({said}): "
                        "compare its prices with the model's own, with a tolerance of a penny.")
        upper_case, subtle = faulty_services(good)
        if _test_failure(test_function, upper_case, "a service with the upper-case skew") is None:
            raise Wrong("your test also passes against a service that upper-cases yes/no before the "
                        "model (BridgeAI's bug): it checks the answers' shape, not their values. "
                        "Compare the service's prices for several houses with model.predict on the "
                        "same houses.")
        if _test_failure(test_function, subtle, f"a service {SUBTLE_SKEW:.0%} off") is None:
            raise Wrong(f"your test catches the upper-case bug but passes against a service whose "
                        f"prices are all {SUBTLE_SKEW:.0%} off the model's: its tolerance lets a "
                        "skew through. Compare to the penny: abs(service - model) < 0.01.")
    return ("your test passes against the service and fails against one with BridgeAI's "
            "upper-case bug and one 2% off: run it in CI and no skew reaches production.")


q1 = Question("q1", "03", _check_store, hints=[
    "Do what the lesson did in section 'From the registry to the model store'. First ask the "
    "registry which version holds the alias champion: client.get_model_version_by_alias(name, alias) "
    "returns a ModelVersion, with .version and .run_id.",
    "bentoml.mlflow.import_model(tag, model_uri=..., labels={...}) copies a registered model into the "
    "store. The URI models:/<name>/<version> names one version; the labels are a dict of text: the "
    "registered model's name, the version and the run id.",
    "Import a version only once: bentoml.models.get(tag) returns the model if the store has it, and "
    "raises bentoml.exceptions.NotFound if not. The lesson's cell tries get first and imports in "
    "the except branch.",
])

q2 = Question("q2", "03", _check_answer, hints=[
    "httpx.post(url, json=body) sends a JSON body; the running service's address is server.url, and "
    "the endpoint's path goes after it.",
    "The body is a dict whose key is the name of the API method's argument, as in the lesson's "
    "section 'A first service'; response.json() turns the answer into a dict.",
])

q3 = Question("q3", "03", _check_test, hints=[
    "A test receives a client and uses client.post(path, json=...) like httpx; assert on what "
    "comes back.",
    "The lesson's section 'Test the service in-process, as your CI would' has a test of this kind: "
    "it sends several houses to /predict_batch and compares each answer's price with the model's "
    "own prediction for the same house.",
    "json.loads(frame.to_json(orient='records')) turns rows into plain dicts for the request, and "
    "model.predict takes a DataFrame of the same dicts. Compare to the penny: a service only 2% off "
    "must fail too. Let the AssertionError out: the check needs your test to fail.",
])


# --- q4: open question: the checks a house must pass before the model -----------------------------
#
# The first service takes `house: dict` and lets anything through. The participant writes the
# checks in front of the model: `problems(house) -> list[str]`, empty when the model may see the
# house. The rules try it on houses the lessons never show, drawn from the kit's own generator with
# a seed of their own, and on faulty copies of them. Whether each one is legal is what the service's
# schema (`service.schema.House`) says, not a copy of its rules.

from dataclasses import dataclass as _dataclass  # noqa: E402

from mlops_clinic.checks.open_questions import OpenQuestion, Rule  # noqa: E402

HIDDEN_SEED = 20261204  # no lesson, exercise or dataset file uses it
HIDDEN_VALID = {"stable": 120, "covariate_drift": 60}  # houses per scenario's market


@_dataclass(frozen=True)
class Case:
    """One house to try: `kind` says which rule it belongs to ("valid", "spelling", "range",
    "type", "fields"), `field` the feature at fault, `said` the fault in words."""

    kind: str
    house: dict
    field: str = ""
    said: str = ""


def _fields_at_fault(house: dict) -> set[str]:
    """What the service itself says: the fields its House schema refuses (none: a legal house)."""
    from pydantic import ValidationError

    from mlops_clinic.service.schema import House

    try:
        House.model_validate(house)
    except ValidationError as error:
        return {str(e["loc"][0]) if e.get("loc") else "house" for e in error.errors()}
    return set()


def _generated_houses() -> list[dict]:
    """Valid houses from two markets of the kit's generator (the stable one and the one with much
    bigger houses, whose areas reach the schema's upper bound), with the hidden seed."""
    from mlops_clinic.data import FEATURES, generate_traffic

    houses = []
    for offset, (scenario, rows) in enumerate(HIDDEN_VALID.items()):
        features, _ = generate_traffic(scenario, rows, seed=HIDDEN_SEED + offset)
        houses += _json.loads(features[list(FEATURES)].to_json(orient="records"))
    return houses


def _boundary_houses(base: dict) -> list[Case]:
    """Each end of every range, and every allowed category: legal, so they must pass."""
    from mlops_clinic.data.schema import COLUMNS, FEATURES

    cases = []
    for name in FEATURES:
        column = COLUMNS[name]
        values = [column.min, column.max] if column.kind == "integer" else list(column.allowed)
        for value in values:
            cases.append(Case("valid", {**base, name: value}, name, f"{name} {value!r}"))
    return cases


def _faulty(base: dict, name: str, value, kind: str, said: str) -> Case:
    return Case(kind, {**base, name: value}, name, said)


def _faulty_houses(bases: list[dict]) -> list[Case]:
    """Faulty copies of generated houses, one fault each: spellings, ranges, types, fields."""
    import numpy as np

    from mlops_clinic.data.schema import COLUMNS, FEATURES, NUMERIC_FEATURES, YES_NO_COLUMNS

    rng = np.random.default_rng(HIDDEN_SEED)
    pick = iter(rng.permutation(len(bases)).tolist())
    cases = []
    spellings = ["YES", "Yes", " no", "NO", "y", "true"]
    for name, spelt in zip(YES_NO_COLUMNS, rng.permutation(spellings).tolist()):
        base = bases[next(pick)]
        cases.append(_faulty(base, name, spelt, "spelling", f"{name} {spelt!r}"))
    for spelt in ("Furnished", "part-furnished", "semi furnished", ""):
        cases.append(_faulty(bases[next(pick)], "furnishingstatus", spelt, "spelling",
                             f"furnishingstatus {spelt!r}"))
    for name in NUMERIC_FEATURES:
        low, high = COLUMNS[name].min, COLUMNS[name].max
        for value in (low - 1, high + 1):
            cases.append(_faulty(bases[next(pick)], name, value, "range", f"{name} {value:,}"))
    base = bases[next(pick)]
    cases.append(_faulty(base, "area", -base["area"], "range", f"area {-base['area']:,}"))
    base = bases[next(pick)]
    cases.append(_faulty(base, "area", base["area"] * 100, "range", f"area {base['area'] * 100:,}"))
    for name, value in (("area", "4600"), ("area", "3,850"), ("bathrooms", 1.5), ("bedrooms", "three"),
                        ("parking", True), ("stories", None), ("bedrooms", [3])):
        cases.append(_faulty(bases[next(pick)], name, value, "type", f"{name} {value!r}"))
    for name in rng.choice(list(FEATURES), size=3, replace=False).tolist():
        base = bases[next(pick)]
        cases.append(Case("fields", {k: v for k, v in base.items() if k != name}, name,
                          f"no {name}"))
    for name, value in (("price", 312_000), ("garden", "yes"), ("house_id", "H000123")):
        cases.append(_faulty(bases[next(pick)], name, value, "fields", f"an extra field {name}"))
    return cases


def hidden_cases() -> list[Case]:
    """Every house the rules try, each labelled by the service's own schema. The labels are
    asserted, so a change of the schema that makes a case mean something else fails loudly."""
    houses = _generated_houses()
    cases = [Case("valid", house) for house in houses] + _boundary_houses(houses[0])
    cases += _faulty_houses(houses[1:])
    for case in cases:
        legal = not _fields_at_fault(case.house)
        if legal != (case.kind == "valid"):
            raise AssertionError(f"the schema says {case.said or 'a generated house'} is "
                                 f"{'legal' if legal else 'not legal'}")
        if case.kind != "valid" and case.field not in _fields_at_fault(case.house):
            raise AssertionError(f"the schema refuses {case.said} for another field")
    return cases


@_dataclass(frozen=True)
class Tried:
    """What the participant's checks said about one case: their problems, or what they raised."""

    case: Case
    problems: tuple[str, ...] = ()
    raised: str = ""
    returned: str = ""  # what came back instead of a list, in words

    @property
    def refused(self) -> bool:
        return bool(self.problems) or bool(self.raised)


def _pydantic_problems(model):
    """A pydantic model class as the checks: its validation errors, as sentences."""
    from pydantic import ValidationError

    def problems(house):
        try:
            model.model_validate(house)
        except ValidationError as error:
            return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return []

    return problems


def _as_checks(answer):
    """The participant's checks as a function of a house: theirs, or their pydantic model's."""
    from pydantic import BaseModel

    from mlops_clinic.service.schema import House

    if answer is House:
        raise Wrong("that is the service's own House model, the answer key: write the checks "
                    "yourself, as a function problems(house) or a pydantic model of your own.")
    if isinstance(answer, type) and issubclass(answer, BaseModel):
        return _pydantic_problems(answer)
    if not callable(answer):
        raise Wrong(f"expected your function itself (its name, without calling it), got "
                    f"{describe(answer)}: def problems(house): ... returns a list of sentences.")
    return answer


def _try(checks, case: Case) -> Tried:
    """Run the checks on a copy of the case's house; never let their failure out."""
    import copy

    try:
        said = checks(copy.deepcopy(case.house))
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - their failure is what the rules look at
        return Tried(case, raised=describe_exception(error))
    if isinstance(said, (list, tuple)) and all(isinstance(p, str) for p in said):
        return Tried(case, problems=tuple(said))
    return Tried(case, returned=describe(said))


def _tried_all(answer) -> list[Tried]:
    """The work: every hidden case through the participant's checks. A first valid house that does
    not come back as a list says the function cannot be read at all."""
    checks = _as_checks(answer)
    cases = hidden_cases()
    tried = [_try(checks, case) for case in cases]
    first = tried[0]
    if first.returned:
        raise Wrong(f"problems(house) should return a list of sentences, empty when the house may "
                    f"reach the model; for a valid house it returned {first.returned}.")
    return tried


def _example(tried: Tried) -> str:
    """The case in words: its fault, or, for a valid house, the value its refusal names."""
    if tried.case.said:
        return tried.case.said
    text = " ".join(tried.problems).lower()
    named = [name for name in tried.case.house if name.lower() in text]
    if named:
        name = max(named, key=len)  # "bedrooms" rather than a shorter name inside it
        return f"{name} {tried.case.house[name]!r}"
    return f"the house {_json.dumps(tried.case.house)}"


def _accepts_valid(tried: list[Tried]) -> str | None:
    valid = [t for t in tried if t.case.kind == "valid"]
    refused = [t for t in valid if t.refused or t.returned]
    if not refused:
        return None
    first = refused[0]
    why = (f"it raised {first.raised}" if first.raised else f"it returned {first.returned}"
           if first.returned else f"it says {first.problems[0]!r}")
    return (f"it refuses {len(refused)} of {len(valid)} valid houses, such as one with "
            f"{_example(first)} ({why}): the schema allows it; compare with the data card's ranges "
            "and values, both ends included.")


def _refuses(kind: str, advice: str):
    """The rule that every faulty house of `kind` gets at least one problem (or an error)."""
    def test(tried: list[Tried]) -> str | None:
        faulty = [t for t in tried if t.case.kind == kind]
        through = [t for t in faulty if not t.refused]
        if not through:
            return None
        examples = ", ".join(t.case.said for t in through[:3])
        return (f"it lets {len(through)} of {len(faulty)} such houses through, such as {examples}: "
                f"{advice}")
    return test


def _names_the_field(tried: list[Tried]) -> str | None:
    refused = [t for t in tried if t.case.kind != "valid" and t.problems]
    silent = [t for t in refused if t.case.field.lower() not in " ".join(t.problems).lower()]
    if not refused:
        return "it gives no sentence for any faulty house: return one per problem, naming its field."
    if not silent:
        return None
    first = silent[0]
    return (f"{len(silent)} of {len(refused)} refusals do not name the field at fault, such as "
            f"{first.case.said} (it says {first.problems[0]!r}): start each sentence with the "
            "field's name, so the caller knows what to fix.")


def _never_raises(tried: list[Tried]) -> str | None:
    broken = [t for t in tried if t.raised or t.returned]
    if not broken:
        return None
    first = broken[0]
    what = f"raised {first.raised}" if first.raised else f"returned {first.returned}, not a list"
    return (f"on {len(broken)} of {len(tried)} houses it {what}, such as {_example(first)}: in a "
            "service that is a 500; check a value's type before comparing it, and always return a "
            "list.")


q4 = OpenQuestion(
    "q4", "03", work=_tried_all,
    rules=[
        Rule("accepts every valid house it has not seen, the ends of each range included",
             _accepts_valid, points=3),
        Rule("refuses yes/no and furnishing values spelt any other way (YES, ' no', part-furnished)",
             _refuses("spelling", "accept exactly the values the model learnt, as they are spelt "
                                   "in the data card, and nothing else."), points=2),
        Rule("refuses numbers outside the data card's ranges (a negative area, 100 times the area)",
             _refuses("range", "compare each number with its column's minimum and maximum."),
             points=2),
        Rule("refuses numbers sent as text, decimals, true/false and empty values",
             _refuses("type", "check that each number is a whole number, an int and not a bool "
                              "(True is an int in Python), before its range."), points=2),
        Rule("refuses a house with a feature missing or a field the model does not use",
             _refuses("fields", "compare the house's keys with the twelve features, both ways."),
             points=2),
        Rule("names the field at fault in each refusal", _names_the_field),
        Rule("never raises, whatever a house holds, and always returns a list", _never_raises),
    ],
    look_for=[
        "why refuse rather than repair (lower-casing YES would hide the upstream fault)",
        "what a 400 that names the field gives the caller, against a 500 or a silent wrong price",
        "where the rules come from: the data card or schema, one source, not a second copy that drifts",
        "what the checks cannot see (a plausible but wrong value), and what catches that instead",
    ],
    hints=[
        "Start from the data card (section 3 of the lesson printed it): for each feature, what is "
        "legal? Return one sentence per problem, starting with the field's name.",
        "Four families of fault: a key missing or extra; a value of the wrong type (text, a "
        "decimal, True, None); a number out of its range; a text value not exactly one of the "
        "allowed ones. Check the type before the range, or the comparison raises.",
        "COLUMNS from mlops_clinic.data.schema gives each feature's kind, min, max and allowed "
        "values (section 3 of the lesson printed the same rules from House); "
        "isinstance(value, bool) must be tested "
        "before isinstance(value, int). A pydantic model of your own (strict ints, Literal, "
        "extra='forbid') is a good answer too.",
    ],
)

QUESTIONS = (q1, q2, q3, q4)
