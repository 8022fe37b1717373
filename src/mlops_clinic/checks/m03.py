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

QUESTIONS = (q1, q2, q3)
