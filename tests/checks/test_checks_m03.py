"""Module 03's questions: each proven not attempted, wrong (plausible mistakes) and correct, against
the test session's workspace: its registry, its BentoML store, the service in-process."""

import json
import warnings

import pytest

from checking import assert_outcome as _assert
from checking import assert_rules_missed, rules_met
from mlops_clinic import stages
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m03 import EXERCISE_HOUSE, q1, q2, q3

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def ws(session_workspace):
    stages.ensure("bento_model", session_workspace)  # the service answers in-process
    return session_workspace


@pytest.fixture(scope="module")
def champion(ws):
    from mlops_clinic.stages.training import champion_version

    return champion_version(ws)


@pytest.fixture(scope="module")
def client(ws):
    from mlops_clinic.service.service import HousePrice

    with TestClient(HousePrice.to_asgi()) as test_client:
        yield test_client


@pytest.fixture
def scratch_models():
    """Models a wrong answer puts in the store, deleted afterwards (never under house-price)."""
    import bentoml

    made = []
    yield made
    for tag in made:
        bentoml.models.delete(tag)


def test_q1_champion_in_the_store(ws, champion, scratch_models):
    import bentoml
    import mlflow.sklearn

    uri = f"models:/house-price/{champion.version}"
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate(f"house-price:v{champion.version}"), Status.WRONG, "text")
    copy = bentoml.sklearn.save_model("house-price-copy", mlflow.sklearn.load_model(uri))
    scratch_models.append(copy.tag)
    _assert(q1.evaluate(copy), Status.WRONG, "bentoml.sklearn", "Import the registered model")
    bare = bentoml.mlflow.import_model("house-price-nolabels:v1", model_uri=uri)
    scratch_models.append(bare.tag)
    _assert(q1.evaluate(bare), Status.WRONG, "lineage")
    renamed = bentoml.mlflow.import_model(
        "house-price-renamed:v1", model_uri=uri,
        labels={"registered_model": "house-price", "version": str(champion.version), "run_id": champion.run_id})
    scratch_models.append(renamed.tag)
    _assert(q1.evaluate(renamed), Status.WRONG, "another name", f"house-price:v{champion.version}")
    _assert(q1.evaluate(bentoml.models.get(f"house-price:v{champion.version}")), Status.CORRECT, "lineage")


def test_q2_the_service_over_http(client, champion):
    good = client.post("/predict", json={"house": EXERCISE_HOUSE})
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(good), Status.WRONG, ".json()")
    _assert(q2.evaluate(client.post("/predict_batch", json={"houses": [EXERCISE_HOUSE]}).json()),
            Status.WRONG, "/predict_batch")
    _assert(q2.evaluate(client.post("/predict", json=EXERCISE_HOUSE).json()), Status.WRONG,
            "refused", "house")
    other = client.post("/predict", json={"house": {**EXERCISE_HOUSE, "area": 5_000}}).json()
    _assert(q2.evaluate(other), Status.WRONG, "not the champion's price")
    _assert(q2.evaluate({**good.json(), "model_version": "999"}), Status.WRONG, "champion is version")
    _assert(q2.evaluate(good.json()), Status.CORRECT, f"version {champion.version}")


def test_q3_a_test_that_catches_skew(ws):
    import mlflow.sklearn
    import pandas as pd

    from mlops_clinic.data import FEATURES, load

    model = mlflow.sklearn.load_model("models:/house-price@champion")
    houses = json.loads(load("traffic/stable")[list(FEATURES)].head(20).to_json(orient="records"))

    def only_shape(client):  # the plausible mistake: status and keys, not values
        answers = client.post("/predict_batch", json={"houses": houses})
        assert answers.status_code == 200
        assert all("price" in answer for answer in answers.json())

    def wrong_expectation(client):  # compares with the wrong thing: fails on the real service too
        for answer in client.post("/predict_batch", json={"houses": houses}).json():
            assert answer["price"] == 0

    def right(client):
        answers = client.post("/predict_batch", json={"houses": houses}).json()
        for answer, expected in zip(answers, model.predict(pd.DataFrame(houses))):
            assert abs(answer["price"] - expected) < 0.01

    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate("not a function"), Status.WRONG, "function")
    _assert(q3.evaluate(only_shape), Status.WRONG, "also passes", "BridgeAI")
    _assert(q3.evaluate(wrong_expectation), Status.WRONG, "fails against the real service")
    _assert(q3.evaluate(right), Status.CORRECT, "upper-case")


# --- answers in other forms (issue 15) ---------------------------------------------------------------


def _houses():
    from mlops_clinic.data import FEATURES, load

    return json.loads(load("traffic/stable")[list(FEATURES)].head(20).to_json(orient="records"))


def test_q3_a_test_that_fails_by_pytest_fail_is_a_test_that_fails(ws):
    import mlflow.sklearn
    import pandas as pd

    model = mlflow.sklearn.load_model("models:/house-price@champion")
    houses = _houses()

    def with_pytest_fail(client):
        answers = client.post("/predict_batch", json={"houses": houses}).json()
        for answer, expected in zip(answers, model.predict(pd.DataFrame(houses))):
            if abs(answer["price"] - expected) >= 0.01:
                pytest.fail(f"the service says {answer['price']}, the model {expected}")

    def fails_everywhere(client):
        pytest.fail("not written yet")

    _assert(q3.evaluate(with_pytest_fail), Status.CORRECT, "upper-case")
    _assert(q3.evaluate(fails_everywhere), Status.WRONG, "fails against the real service",
            "Failed (pytest.fail): not written yet")


def test_q3_a_test_that_stops_on_an_error_is_told_which(ws):
    import mlflow.sklearn
    import pandas as pd

    model = mlflow.sklearn.load_model("models:/house-price@champion")
    houses = _houses()

    def unpacks_one_answer(client):  # /predict_batch answers a list of 20
        (answer,) = client.post("/predict_batch", json={"houses": houses}).json()
        assert abs(answer["price"] - model.predict(pd.DataFrame(houses[:1]))[0]) < 0.01

    def raises_instead_of_asserting(client):
        answers = client.post("/predict_batch", json={"houses": houses}).json()
        for answer, expected in zip(answers, model.predict(pd.DataFrame(houses))):
            if abs(answer["price"] - expected) >= 0.01:
                raise ValueError("the prices differ")

    outcome = q3.evaluate(unpacks_one_answer)
    _assert(outcome, Status.WRONG, "your test, against the real service, raised ValueError: too many values",
            "assert (or pytest.fail)")
    assert "Traceback" not in outcome.message and "Check its type" not in outcome.message
    _assert(q3.evaluate(raises_instead_of_asserting), Status.WRONG,
            "against a service with the upper-case skew, raised ValueError: the prices differ",
            "assert (or pytest.fail)")


# --- each question: valid alternatives accepted, plausible mistakes named (issue 15) ----------------


def _another_run_with_a_model(champion):
    """A run of the experiment, other than the champion's, that logged a model."""
    from mlflow import MlflowClient

    client = MlflowClient()
    for version in client.search_model_versions("name = 'house-price'"):
        if version.run_id and version.run_id != champion.run_id:
            return version.run_id
    experiment = client.get_experiment_by_name("house-price")
    for run in client.search_runs([experiment.experiment_id], max_results=200):
        if run.info.run_id != champion.run_id and client.list_artifacts(run.info.run_id, "model"):
            return run.info.run_id
    raise AssertionError("the workspace should have another run with a model")


def test_q1_a_model_of_another_run_labelled_as_the_champion_is_named(ws, champion, scratch_models):
    import bentoml

    other = _another_run_with_a_model(champion)
    impostor = bentoml.mlflow.import_model(
        f"house-price:v{champion.version}-copy", model_uri=f"runs:/{other}/model",
        labels={"registered_model": "house-price", "version": str(champion.version), "run_id": champion.run_id})
    scratch_models.append(impostor.tag)
    _assert(q1.evaluate(impostor), Status.WRONG, f"model of run {other}", "whatever its labels say")


def test_q1_the_stored_model_found_in_other_ways(ws, champion):
    import bentoml

    tag = f"house-price:v{champion.version}"
    _assert(q1.evaluate(next(m for m in bentoml.models.list() if str(m.tag) == tag)), Status.CORRECT)
    _assert(q1.evaluate(bentoml.models.get(bentoml.Tag("house-price", f"v{champion.version}"))), Status.CORRECT)


def test_q2_answers_sent_in_other_ways(client, champion):
    by_content = client.post("/predict", content=json.dumps({"house": EXERCISE_HOUSE}),
                             headers={"content-type": "application/json"})
    _assert(q2.evaluate(by_content.json()), Status.CORRECT)
    _assert(q2.evaluate(client.post("predict", json={"house": EXERCISE_HOUSE}).json()), Status.CORRECT)


def test_q2_a_typed_answer_is_not_the_service_s(client, champion):
    import mlflow.sklearn
    import pandas as pd

    model = mlflow.sklearn.load_model("models:/house-price@champion")
    typed = {"price": float(model.predict(pd.DataFrame([EXERCISE_HOUSE]))[0]),
             "model_version": str(champion.version)}
    _assert(q2.evaluate(typed), Status.WRONG, "model, unusual", "service's answer")


def _model_and_houses():
    import mlflow.sklearn

    return mlflow.sklearn.load_model("models:/house-price@champion"), _houses()


def test_q3_the_faulty_services_move_every_price(ws):
    # The condition for "any sound test catches it": each price moves by more than a penny.
    import pandas as pd

    from mlops_clinic.checks.m03 import _subtle_prices, _upper_case_prices

    model, houses = _model_and_houses()
    real = [float(p) for p in model.predict(pd.DataFrame(houses))]
    for skewed in (_upper_case_prices(houses, real), _subtle_prices(houses, real)):
        assert all(abs(a - b) > 1 for a, b in zip(skewed, real)), (skewed, real)


def test_q3_tests_written_in_other_ways_are_accepted(ws):
    import pandas as pd

    model, houses = _model_and_houses()

    def with_raise_for_status(client):
        response = client.post("/predict_batch", json={"houses": houses})
        response.raise_for_status()
        for answer, expected in zip(response.json(), model.predict(pd.DataFrame(houses))):
            assert abs(answer["price"] - expected) < 0.01

    def without_leading_slash(client):
        answers = client.post("predict_batch", json={"houses": houses}).json()
        assert [a["price"] for a in answers] == pytest.approx(list(model.predict(pd.DataFrame(houses))), abs=0.01)

    def one_house_at_a_time(client):
        for house in houses[:3]:
            answer = client.post("/predict/", json={"house": house}).json()
            assert answer["price"] == pytest.approx(model.predict(pd.DataFrame([house]))[0], rel=1e-6)

    for test in (with_raise_for_status, without_leading_slash, one_house_at_a_time):
        _assert(q3.evaluate(test), Status.CORRECT, "upper-case")


def test_q3_a_loose_tolerance_is_named(ws):
    import pandas as pd

    model, houses = _model_and_houses()

    def within_ten_percent(client):
        answers = client.post("/predict_batch", json={"houses": houses}).json()
        for answer, expected in zip(answers, model.predict(pd.DataFrame(houses))):
            assert abs(answer["price"] - expected) < 0.10 * expected

    def status_only(client):
        response = client.post("/predict_batch", json={"houses": houses})
        response.raise_for_status()

    def service_against_itself(client):  # /predict and /predict_batch agree, skewed or not
        batch = client.post("/predict_batch", json={"houses": houses[:3]}).json()
        for house, answer in zip(houses[:3], batch):
            assert client.post("/predict", json={"house": house}).json()["price"] == answer["price"]

    _assert(q3.evaluate(within_ten_percent), Status.WRONG, "2% off", "tolerance", "penny")
    _assert(q3.evaluate(status_only), Status.WRONG, "also passes", "BridgeAI")
    _assert(q3.evaluate(service_against_itself), Status.WRONG, "also passes", "model.predict")


# --- q4: the open question, checks a house must pass (issue 15, item 3) -----------------------------

from mlops_clinic.checks.m03 import q4  # noqa: E402
from mlops_clinic.data.schema import COLUMNS as _COLUMNS, FEATURES as _FEATURES  # noqa: E402

WHY = ("I refuse rather than repair: lower-casing YES would hide the upstream fault, and a 400 that "
       "names the field tells the caller what to fix, from the data card's ranges.")
ACCEPTS, SPELLING, RANGE, TYPE, FIELDS, NAMES, NEVER_RAISES, REASONS = range(8)


def checks(*, strict_ends=False, any_case=False, bool_is_int=False, extra_ok=False, no_ranges=False,
           vague=False, type_first=True):
    """A participant's problems(house): right, or with one plausible mistake."""
    def problems(house):
        found = [] if extra_ok else [f"{k}: not a feature" for k in house if k not in _FEATURES]
        for name in _FEATURES:
            column, value = _COLUMNS[name], house.get(name)
            if name not in house:
                found.append(f"{name}: missing")
            elif column.kind == "integer":
                if type_first and ((not bool_is_int and isinstance(value, bool)) or not isinstance(value, int)):
                    found.append(f"{name}: not a whole number")
                elif no_ranges:
                    continue
                elif (column.min < value < column.max) if strict_ends else (column.min <= value <= column.max):
                    continue
                else:
                    found.append(f"{name}: out of range")
            elif (value.strip().lower() if any_case else value) not in column.allowed:
                found.append(f"{name}: not allowed")
        return ["this house is not valid"] * bool(found) if vague else found
    return problems


def test_q4_not_attempted_until_both_the_checks_and_the_reasons_are_there():
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(____, ____), Status.NOT_ATTEMPTED, "replace every ____")
    _assert(q4.evaluate(checks(), ____), Status.NOT_ATTEMPTED)


def test_q4_the_solution_meets_every_rule_and_keeps_the_reasons():
    outcome = q4.evaluate(checks(), WHY)
    _assert(outcome, Status.CORRECT, "8 of 8 rules met (14 of 14 points)", "your instructor reads")
    assert outcome.justification == WHY


def test_q4_the_hidden_houses_are_labelled_by_the_service_schema_and_unseen():
    from collections import Counter

    from mlops_clinic.checks.m03 import HIDDEN_SEED, hidden_cases
    from mlops_clinic.data.generate import SEEDS

    kinds = Counter(case.kind for case in hidden_cases())  # asserts each label against House itself
    assert kinds["valid"] > 200 and min(kinds[k] for k in ("spelling", "range", "type", "fields")) >= 5
    assert HIDDEN_SEED not in SEEDS.values() and HIDDEN_SEED + 1 not in SEEDS.values()


def test_q4_other_good_answers_a_pydantic_model_and_one_problem_at_a_time():
    from typing import Annotated, Literal

    from pydantic import BaseModel, ConfigDict, Field

    yes_no = Literal["yes", "no"]

    class Listing(BaseModel):  # written from the data card, not the service's House
        model_config = ConfigDict(extra="forbid", strict=True)
        area: Annotated[int, Field(ge=1500, le=16000)]
        bedrooms: Annotated[int, Field(ge=1, le=6)]
        bathrooms: Annotated[int, Field(ge=1, le=4)]
        stories: Annotated[int, Field(ge=1, le=4)]
        mainroad: yes_no
        guestroom: yes_no
        basement: yes_no
        hotwaterheating: yes_no
        airconditioning: yes_no
        parking: Annotated[int, Field(ge=0, le=3)]
        prefarea: yes_no
        furnishingstatus: Literal["furnished", "semi-furnished", "unfurnished"]

    def first_problem_only(house):  # stops at the first fault: one sentence is enough to refuse
        unknown = sorted(set(house) - set(_FEATURES))
        if unknown:
            return [f"{unknown[0]} is not a field the model uses"]
        for name in _FEATURES:
            if name not in house:
                return [f"{name} is required"]
            value, column = house[name], _COLUMNS[name]
            if column.allowed:
                if value not in column.allowed:
                    return [f"{name} should be one of {column.allowed}"]
            elif type(value) is not int or not column.min <= value <= column.max:
                return [f"{name} should be a whole number from {column.min} to {column.max}"]
        return []

    _assert(q4.evaluate(Listing, WHY), Status.CORRECT, "14 of 14 points")
    _assert(q4.evaluate(first_problem_only, WHY), Status.CORRECT, "14 of 14 points")


def test_q4_plausible_mistakes_each_miss_their_rule():
    assert_rules_missed(q4.evaluate(checks(strict_ends=True), WHY), ACCEPTS,
                        words=("valid houses, such as one with", "both ends included"))
    assert_rules_missed(q4.evaluate(checks(any_case=True), WHY), SPELLING,
                        words=("lets 5 of 10 such houses through", "'YES'", "exactly the values the model learnt"))
    assert_rules_missed(q4.evaluate(checks(bool_is_int=True), WHY), TYPE,
                        words=("lets 1 of 7 such houses through, such as parking True", "not a bool"))
    assert_rules_missed(q4.evaluate(checks(extra_ok=True), WHY), FIELDS,
                        words=("an extra field price", "both ways"))
    assert_rules_missed(q4.evaluate(checks(no_ranges=True), WHY), RANGE,
                        words=("lets 12 of 12 such houses through", "minimum and maximum"))
    assert_rules_missed(q4.evaluate(checks(vague=True), WHY), NAMES,
                        words=("do not name the field at fault", "'this house is not valid'"))


def test_q4_checks_that_compare_before_looking_at_the_type_raise_and_are_told_so():
    outcome = q4.evaluate(checks(type_first=False), WHY)  # "4600" < 1500 raises; 1.5 and True pass
    assert outcome.status is Status.WRONG
    assert rules_met(outcome) == [i not in (TYPE, NEVER_RAISES) for i in range(8)], outcome.text()
    assert "such as bathrooms 1.5, parking True" in outcome.rules[TYPE].note
    note = outcome.rules[NEVER_RAISES].note
    assert note.startswith("on 5 of 240 houses it raised TypeError"), note
    assert "check a value's type before comparing it" in note and "Traceback" not in outcome.text()


def test_q4_reasons_too_short_miss_only_the_reasons_rule():
    outcome = q4.evaluate(checks(), "the schema says so")
    assert_rules_missed(outcome, REASONS, words=("your reasons have 4 word(s)",))


def test_q4_answers_of_the_wrong_kind_are_named_without_a_traceback():
    from mlops_clinic.service.schema import House

    for answer, words in ((42, "expected your function itself"),
                          ("problems", "expected your function itself"),
                          (House, "the answer key"),
                          (lambda house: None, "should return a list of sentences"),
                          (lambda house: "fine", "returned the text")):
        outcome = q4.evaluate(answer, WHY)
        assert outcome.status is Status.WRONG
        assert rules_met(outcome) == [False] * 7 + [True], outcome.text()
        assert all(word in outcome.message for word in words.split("|")), outcome.text()
        assert "Traceback" not in outcome.text()


def test_q4_the_rubric_reads_well():
    text = q4.rubric_markdown()
    assert "### m03.q4 (14 points)" in text
    assert "| 3 | accepts every valid house it has not seen" in text
    assert "- why refuse rather than repair" in text
