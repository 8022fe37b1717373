"""The prediction service: the champion behind the data contract, every answer logged.

    bentoml serve serving.service:Predictor --host 127.0.0.1 --port 3000

Endpoints (JSON over POST; Swagger UI at /, /readyz, /livez, /metrics):

    /predict        {"features": {...}, "request_id": "optional"}
    /predict_batch  {"requests": [{"features": {...}, "request_id": "..."}, ...]}   (1 to 1,000)

Answers: regression {"request_id", "prediction", "unit", "model", "model_version"};
classification {"request_id", "class", "probability" (of that class), "probabilities" (every
class), "model", "model_version"}. A request that breaks schema.yaml gets HTTP 400 with a
sentence naming the field and the fix; serving/example.json is a valid request.
"""

import uuid

import bentoml
import numpy as np

from contract import SCHEMA, json_value, model_input
from serving import sockets
from serving.champion import Champion
from serving.http import RequestLimits, quiet_client_errors
from serving.inference_log import Log
from serving.request import Features, RequestId, Requests, rows

CLASSIFICATION = SCHEMA.task == "classification"
UNIT = SCHEMA.by_name[SCHEMA.target].unit
_log: list = []


def inference_log() -> Log:
    if not _log:
        _log.append(Log())
    return _log[0]


def log_refusal(route: str, status: int, error: str) -> None:
    inference_log().rejection(route, status, error)


@bentoml.service(workers=1, traffic={"timeout": 30})
class Predictor:
    # Before the server starts: its control sockets become Unix sockets only you can reach.
    private_sockets = bentoml.on_deployment(sockets.make_private)

    def __init__(self) -> None:
        self.champion = Champion()

    @bentoml.on_shutdown
    def stop_following(self) -> None:
        self.champion.stop()

    def _answer(self, features: list, request_ids: list) -> list[dict]:
        model = self.champion.current  # one model for the whole batch, even if a swap happens now
        frame = rows(features)
        X = model_input(frame)
        ids = [request_id or f"req-{uuid.uuid4().hex[:20]}" for request_id in request_ids]
        answers, logged = [], []
        if CLASSIFICATION:
            probabilities = model.pipeline.predict_proba(X)
            classes = [str(c) for c in model.pipeline.classes_]
            for request_id, p in zip(ids, probabilities):
                best = int(np.argmax(p))
                shares = {c: round(float(v), 6) for c, v in zip(classes, p)}
                answers.append({"request_id": request_id, "class": classes[best],
                                "probability": shares[classes[best]], "probabilities": shares})
        else:
            for request_id, value in zip(ids, model.pipeline.predict(X)):
                answers.append({"request_id": request_id, "prediction": round(float(value), 6), "unit": UNIT})
        for answer, (_, row) in zip(answers, frame.iterrows()):
            answer.update(model=model.name, model_version=model.version)
            logged.append({"request_id": answer["request_id"], "model": model.name,
                           "model_version": model.version,
                           "features": {n: json_value(row[n], SCHEMA.by_name[n]) for n in SCHEMA.features},
                           "prediction": answer.get("class", answer.get("prediction")),
                           "probabilities": answer.get("probabilities")})
        inference_log().predictions(logged)  # committed before the answer is sent
        return answers

    @bentoml.api
    def predict(self, features: Features, request_id: RequestId | None = None) -> dict:
        """The prediction for one row."""
        return self._answer([features], [request_id])[0]

    @bentoml.api
    def predict_batch(self, requests: Requests) -> list[dict]:
        """Predictions for 1 to 1,000 rows, in the order given."""
        return self._answer([r.features for r in requests], [r.request_id for r in requests])


Predictor.add_asgi_middleware(RequestLimits, on_reject=log_refusal)
quiet_client_errors()
