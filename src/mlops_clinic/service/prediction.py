"""The prediction service: the business-facing layer around the model server (module 04).

    bentoml serve mlops_clinic.service.prediction:PredictionService --host 127.0.0.1 --port 3000

One command starts both services, each in its own process: this one, and the model server
(`HousePrice`) it depends on. This one answers callers; the model server only predicts, and merges
the concurrent calls it receives into batches.

    /estimate        one EstimateRequest  -> an Estimate
    /estimate_batch  {"requests": [...]}  -> a list of Estimates, in order (1 to 1,000)

What it adds to the model server's answer:

- a request id (the caller's, or a new one) in every answer and every log row;
- the price in whole pounds (GBP), rounded to the nearest £1,000 like the sale prices the model
  learnt from;
- checks beyond the schema: a request id used again for the same house returns the first answer
  (a retry must not count twice), for a different house it is refused with 409; a house far from
  the training data, or a price outside £50,000 to £5,000,000, is answered with a warning;
- the inference log: every answer, with the features as received, the model version and the
  latency, is committed before the caller sees it; every refused request is logged too.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from http import HTTPStatus

import bentoml
from bentoml.exceptions import BentoMLException, ServiceUnavailable

from mlops_clinic.data.schema import COLUMNS, TARGET
from mlops_clinic.service import inference_log, sockets
from mlops_clinic.service.http import RequestLimits, quiet_client_errors
from mlops_clinic.service.schema import (
    UNUSUAL_SD, Estimate, EstimateRequest, EstimateRequests, Prediction,
)
from mlops_clinic.service.service import HousePrice

logger = logging.getLogger("bentoml.prediction_service")
PRICE = COLUMNS[TARGET]  # the range of sale prices the data (and the model) knows


class RequestIdConflict(BentoMLException):
    """A request id sent again with a different house: answered 409."""

    error_code = HTTPStatus.CONFLICT


def rounded_pounds(price: float) -> int:
    return int(round(price / 1_000) * 1_000)


def warnings_for(prediction: Prediction) -> list[str]:
    found = [f"{feature} is more than {UNUSUAL_SD:g} standard deviations from the houses the "
             "model learnt from: treat this estimate with care" for feature in prediction.unusual]
    if not PRICE.min <= prediction.price <= PRICE.max:
        found.append(f"the model's estimate (£{prediction.price:,.0f}) is outside the range of "
                     f"sale prices it knows (£{PRICE.min:,} to £{PRICE.max:,})")
    return found


def answer_from_log(logged: dict, request: EstimateRequest) -> Estimate:
    """The first answer to a request id, if the house is the same; 409 otherwise."""
    same = all(logged[name] == value for name, value in request.house.model_dump().items())
    if not same:
        raise RequestIdConflict(
            f"request id {request.request_id!r} was already used for a different house; give "
            "each new request a new id (or leave request_id out and the service makes one)")
    return Estimate(request_id=logged["request_id"], price_gbp=logged["price_gbp"],
                    model=logged["model"], model_version=logged["model_version"],
                    warnings=json.loads(logged["warnings"]), repeated=True)


def log_row(request: EstimateRequest, request_id: str, prediction: Prediction,
            estimate: Estimate, latency_ms: float) -> dict:
    return {"request_id": request_id, "received_at": inference_log.now(),
            "batch": request.batch, "house_id": request.house_id, "day": request.day,
            **request.house.model_dump(), "price_gbp": estimate.price_gbp,
            "prediction_gbp": prediction.price, "model": prediction.model,
            "model_version": prediction.model_version, "latency_ms": round(latency_ms, 3),
            "warnings": estimate.warnings}


def log_refused(route: str, status: int, error: str, body: bytes) -> None:
    """RequestLimits calls this for every 4xx answer: refused requests are logged too."""
    inference_log.shared().add_rejection(route, status, error, body)


@bentoml.service(
    workers=1,
    traffic={"timeout": 30},
    # No trace collector runs here: skip OpenTelemetry's spans on the API routes (measured:
    # ~0.8 ms of CPU per request, a quarter of the cost of a batched request).
    tracing={"excluded_urls": ["/estimate", "/estimate_batch"]},
)
class PredictionService:
    model = bentoml.depends(HousePrice)  # a separate process when served; its own batching
    # The two services exchange pickled Python objects, which run code when unpickled: the hop
    # is a Unix socket in a private folder, that no other local user can connect to (sockets.py).
    private_sockets = bentoml.on_deployment(sockets.make_private)

    def __init__(self) -> None:
        self.log = inference_log.shared()

    @bentoml.on_shutdown
    def stop_local_model_server(self) -> None:
        # In-process (tests, the inference_log stage) the model server is a plain object in this
        # process, which BentoML does not shut down: stop its registry follower here.
        local = getattr(type(self).__dict__.get("model"), "_resolved", None)
        if hasattr(local, "stop_following"):
            local.stop_following()

    async def _estimate(self, requests: list[EstimateRequest]) -> list[Estimate]:
        started = time.perf_counter()
        answers: list[Estimate | None] = [None] * len(requests)
        todo = []
        for i, request in enumerate(requests):
            logged = self.log.find(request.request_id) if request.request_id else None
            if logged is not None:
                answers[i] = answer_from_log(logged, request)
            else:
                todo.append(i)
        if todo:
            try:
                predictions = await self.model.to_async.predict_batch(
                    [requests[i].house for i in todo])
            except Exception as error:  # noqa: BLE001 - the caller gets a 503 it can retry
                logger.warning("The model server failed: %s: %s", type(error).__name__, error)
                raise ServiceUnavailable(
                    "the model server did not answer (it may be overloaded or restarting); "
                    "nothing was logged for this request: send it again in a moment") from error
            latency_ms = (time.perf_counter() - started) * 1000
            rows = []
            for i, prediction in zip(todo, predictions):
                request_id = requests[i].request_id or f"req-{uuid.uuid4().hex[:20]}"
                answers[i] = Estimate(request_id=request_id,
                                      price_gbp=rounded_pounds(prediction.price),
                                      model=prediction.model,
                                      model_version=prediction.model_version,
                                      warnings=warnings_for(prediction))
                rows.append(log_row(requests[i], request_id, prediction, answers[i], latency_ms))
            # Committed before anyone sees an answer: no answered request is missing from the log.
            added = self.log.add_predictions(rows)
            for i, row, new in zip(todo, rows, added):
                if not new:  # the same id raced in from another call: its answer stands
                    answers[i] = answer_from_log(self.log.find(row["request_id"]), requests[i])
        return answers

    @bentoml.api(input_spec=EstimateRequest)
    async def estimate(self, **request) -> Estimate:
        """Estimate the sale price of one house, in pounds; logged with the model version."""
        return (await self._estimate([EstimateRequest(**request)]))[0]

    @bentoml.api
    async def estimate_batch(self, requests: EstimateRequests) -> list[Estimate]:
        """Estimates for several houses at once (1 to 1,000), in the order given."""
        return await self._estimate(requests)


PredictionService.add_asgi_middleware(RequestLimits, on_reject=log_refused)
quiet_client_errors()
PredictionService.apis["estimate_batch"].output_spec.media_type = "application/json"  # see service.py
