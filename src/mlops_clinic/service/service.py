"""The house-price model server: the champion behind HTTP, with BentoML (module 03).

    bentoml serve mlops_clinic.service.service:HousePrice --host 127.0.0.1 --port 3000

Endpoints (JSON over POST; Swagger UI at /, Prometheus metrics at /metrics, /readyz, /livez):

    /predict        {"house": {...}}            -> {"price", "model", "model_version", "unusual"}
    /predict_batch  {"houses": [{...}, ...]}    -> a list of those, in order (1 to 1,000 houses)

Requests are validated against the data schema (mlops_clinic.service.schema) before the model sees
them: a bad request gets HTTP 400 with a sentence that names the field and the fix.

Which model (environment variables, read when the service starts):

    MLOPS_CLINIC_MODEL   a BentoML tag, e.g. house-price:v1: serve exactly that one (roll back)
    MLOPS_CLINIC_ALIAS   otherwise, with an MLflow registry ($MLFLOW_TRACKING_URI): serve the
                        version this alias names (default champion) and follow it: when the alias
                        moves, the new version is imported and swapped in without a restart
    (neither)           the declared model, house-price:latest (in a Bento: the one packed in it)
"""

from __future__ import annotations

import os

import bentoml
import numpy as np
import pandas as pd

from mlops_clinic.service import sockets, store
from mlops_clinic.service.http import RequestLimits, quiet_client_errors
from mlops_clinic.names import MODEL_ENV, MODEL_NAME
from mlops_clinic.service.schema import MAX_BATCH, UNUSUAL_SD, House, Houses, Prediction

MODEL_TAG = os.environ.get(MODEL_ENV, f"{MODEL_NAME}:latest")


@bentoml.service(
    workers=1,  # one process: the model needs ~5 ms a call; more workers, more memory
    traffic={"timeout": 30},  # seconds before a request is answered 504
    # No trace collector runs here: skip OpenTelemetry's spans on the API routes (measured:
    # ~0.8 ms of CPU per request, a quarter of the cost of a batched request).
    tracing={"excluded_urls": ["/predict", "/predict_batch"]},
    # Callers that depend on this service (module 04) reuse one connection pool: BentoML 1.4.39
    # replaces the pool every 100 calls by default and fails the calls still in flight on it.
    runner_connection={"max_requests": 1_000_000_000, "max_age": 1e9},
)
class HousePrice:
    # The model this service needs: `bentoml build` packs it into the Bento with the code.
    bento_model = bentoml.models.BentoModel(MODEL_TAG)
    # `bentoml serve` runs this once, before it opens its sockets: its process manager's and the
    # hop from module 04's service become Unix sockets in private folders, so that no other user
    # of this machine can use them to run code as you (mlops_clinic.service.sockets).
    private_sockets = bentoml.on_deployment(sockets.make_private)

    def __init__(self) -> None:
        # The registry's champion (followed: a new champion is swapped in without a restart),
        # or the tag in $MLOPS_CLINIC_MODEL, or the declared model when there is no registry.
        self.model, alias = store.model_to_serve(default_tag=MODEL_TAG)
        self.follower = None
        if alias is not None:
            self.follower = store.AliasFollower(alias, self.model.version, self.swap).start()

    def swap(self, loaded: store.Loaded) -> None:
        self.model = loaded  # one assignment: requests in flight finish with the old model

    @bentoml.on_shutdown
    def stop_following(self) -> None:
        if self.follower is not None:
            self.follower.stop()

    def _predict(self, houses: list[House]) -> list[Prediction]:
        model = self.model  # the same model for the whole batch, even if a swap happens now
        frame = pd.DataFrame([house.model_dump() for house in houses])
        prices = model.pipeline.predict(frame)
        unusual = [[] for _ in houses]
        for column, mean in model.centre.items():
            far = np.abs(frame[column].to_numpy() - mean) > UNUSUAL_SD * model.spread[column]
            for row in np.flatnonzero(far):
                unusual[row].append(column)
        return [Prediction(price=round(float(price), 2), model=model.name,
                           model_version=model.version, unusual=flags)
                for price, flags in zip(prices, unusual)]

    # async: the ~5 ms model call runs on the event loop, without a hand-off to a worker thread
    # (measured: ~20% more requests/s). A slower model would use a plain `def` (run in a thread)
    # so that one long call does not hold up every other request.
    @bentoml.api
    async def predict(self, house: House) -> Prediction:
        """The estimated price of one house."""
        return self._predict([house])[0]

    @bentoml.api(
        batchable=True,  # concurrent requests are merged into one call of the model
        max_batch_size=MAX_BATCH,  # houses per merged call (1,000 cost ~2x one house)
        # A request that would wait longer than this is shed with 503 "overloaded". Too small
        # and a busy laptop sheds requests it could have answered (100 ms did, at 32 clients);
        # p99 at 32 clients was ~0.4 s here, and a caller kept waiting 2 s should rather retry.
        max_latency_ms=2_000,
    )
    # A plain def runs in a worker thread: the event loop keeps reading requests and forming the
    # next batch while this one is predicted.
    def predict_batch(self, houses: Houses) -> list[Prediction]:
        """Estimated prices of several houses, in the order given (1 to 1,000 per request)."""
        return self._predict(houses)


HousePrice.add_asgi_middleware(RequestLimits)  # bodies over 1 MB: 413; 4xx with a clear sentence
quiet_client_errors()  # no ERROR traceback in the server log for a client's bad request
# BentoML 1.4.39 rebuilds the JSON schema of a list answer on every response to find its media
# type (~0.8 ms each); naming it makes batched answers ~2x faster (benchmarks/serving.py).
HousePrice.apis["predict_batch"].output_spec.media_type = "application/json"
