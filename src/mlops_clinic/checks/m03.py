"""Module 03 questions: the champion in the BentoML store, the service over HTTP, and a test that
would have caught BridgeAI's upper-case skew.

The checkers read the workspace's real MLflow registry and BentoML store, and run the service
in-process (its ASGI app) where a question needs it.
"""

from __future__ import annotations

import json
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
    if str(bento_model.tag) != expected:
        raise Wrong(f"{bento_model.tag} is the right model under another name: tag it "
                    f"{expected!r}, so the tag alone says which registered version it is.")
    return (f"{expected} is in the store with its lineage: from any prediction's version you can "
            "go back to the registry, the run and the data.")


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
    missing = {"price", "model_version"} - set(answer)
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

class _Answer:
    def __init__(self, status_code: int, body):
        self.status_code = status_code
        self._body = body
        self.text = json.dumps(body)

    def json(self):
        return self._body


class SkewedClient:
    """A test client for a service with BridgeAI's bug: it upper-cases the yes/no values before
    they reach the model, which answers anyway (200), with the wrong prices."""

    def __init__(self, good_client):
        self.good = good_client

    @staticmethod
    def _skew(house: dict) -> dict:
        return {k: (v.upper() if v in ("yes", "no") else v) for k, v in house.items()}

    def post(self, path: str, json=None, **kwargs):
        import pandas as pd

        model = _offline_model()
        version = str(_champion().version)
        if path.rstrip("/") == "/predict" and isinstance(json, dict) and "house" in json:
            price = float(model.predict(pd.DataFrame([self._skew(json["house"])]))[0])
            return _Answer(200, {"price": round(price, 2), "model": MODEL_NAME,
                                 "model_version": version, "unusual": []})
        if path.rstrip("/") == "/predict_batch" and isinstance(json, dict) and json.get("houses"):
            prices = model.predict(pd.DataFrame([self._skew(h) for h in json["houses"]]))
            return _Answer(200, [{"price": round(float(p), 2), "model": MODEL_NAME,
                                  "model_version": version, "unusual": []} for p in prices])
        return self.good.post(path, json=json, **kwargs)

    def get(self, path: str, **kwargs):
        return self.good.get(path, **kwargs)


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
        if _test_failure(test_function, SkewedClient(good), "a service with the upper-case skew") is not None:
            return ("your test passes against the service and fails against one with BridgeAI's "
                    "upper-case bug: run it in CI and that skew never reaches production.")
    raise Wrong("your test also passes against a service that upper-cases yes/no before the model "
                "(BridgeAI's bug): it checks the answers' shape, not their values. Compare the "
                "service's prices for several houses with model.predict on the same houses.")


q1 = Question("q1", "03", _check_store, hints=[
    "MlflowClient().get_model_version_by_alias('house-price', 'champion') tells you the version.",
    "bentoml.mlflow.import_model(f'house-price:v{version}', model_uri=f'models:/house-price/{version}', "
    "labels={...}) copies it into the store; bentoml.models.get(tag) finds it if it is there already.",
])

q2 = Question("q2", "03", _check_answer, hints=[
    "httpx.post(f'{server.url}/predict', json=...) sends a request; the body names the argument.",
    "The body is {'house': EXERCISE_HOUSE}; keep response.json().",
])

q3 = Question("q3", "03", _check_test, hints=[
    "A test receives a client and uses client.post(path, json=...) like httpx; assert on what "
    "comes back.",
    "Send 20 houses of load('traffic/stable') to /predict_batch and compare each price with "
    "model.predict(pandas.DataFrame(houses)) (abs difference < 0.01).",
])

QUESTIONS = (q1, q2, q3)
