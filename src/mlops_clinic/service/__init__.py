"""The house-price services of modules 03 and 04, and the inference log they write.

    schema.py         request and response models, derived from mlops_clinic.data.schema
    service.py        HousePrice: the model server (BentoML), module 03
    prediction.py     PredictionService: request ids, pounds, checks, the log; module 04
    store.py          the champion between the MLflow registry and the BentoML model store
    http.py           body-size limit, JSON only, readable 4xx bodies (ASGI middleware)
    sockets.py        the sockets `bentoml serve` opens besides the public port: Unix sockets in
                      private folders, so no other local user can make the services run code
    inference_log.py  the log: writing (the service) and reading (monitoring)
    replay.py         the traffic scenarios replayed through the service; late labels
    hot_swap.py       module 04's challenger and hot-swap traffic, replayed (the hot_swap stage)
    bentofile.yaml    `bentoml build` configuration of the model server

Serve them from the workspace's project (a notebook does it with mlops_clinic.servers):

    bentoml serve mlops_clinic.service.service:HousePrice --host 127.0.0.1 --port 3000
    bentoml serve mlops_clinic.service.prediction:PredictionService --host 127.0.0.1 --port 3000

The inference log (read by module 05)
-------------------------------------

Location: `Workspace.inference_dir / "inference.sqlite"`, i.e. `<workspace>/inference/inference.sqlite`
($MLOPS_CLINIC_INFERENCE_LOG overrides it). SQLite in WAL mode: read it while the service writes.
`inference_log.read_predictions()`, `read_rejections()` and `counts()` return DataFrames.

Table `predictions`, one row per answered request, committed before the answer is sent:

    request_id      TEXT PRIMARY KEY   the caller's id, or "req-<20 hex>" made by the service;
                                       replayed traffic uses "<scenario>-<house_id>"
    received_at     TEXT               ISO 8601 UTC with milliseconds (when it was answered)
    batch           TEXT               where it came from: the scenario name for replayed traffic
                                       (stable, covariate_drift, concept_drift, data_quality),
                                       other labels for other traffic (e.g. "hot-swap"); NULL live
    house_id        TEXT               the caller's house id, if given
    day             INTEGER            the traffic file's day (1-10) for replayed traffic, else NULL
                                       (a request may send 1 to 36,600)
    area ... furnishingstatus          the twelve features as received (schema-valid values)
    price_gbp       INTEGER            the estimate as answered, GBP rounded to £1,000
    prediction_gbp  REAL               the model's unrounded estimate (use it for error metrics)
    model           TEXT               registered model name (house-price)
    model_version   TEXT               registered version that made the prediction
    latency_ms      REAL               service time: validated request in, answer ready (includes
                                       the model server call; not the network or JSON parsing)
    warnings        TEXT               JSON list of sentences (unusual features, implausible price)

Table `rejections`, one row per refused request (4xx: 400 schema, 409 request-id conflict,
413 size, 415 not sent as JSON): id, received_at, route, status, error (the sentence the caller
got), batch, request_id, house_id, day (when they could be read from the body; the ids cut to
64 characters, a day only if it is 1 to 36,600), body (its first 2,000 characters).

Table `outcomes`, the true sale prices, recorded when they arrive: request_id (PRIMARY KEY),
price_gbp (the sale price), day_sold, recorded_at. Labels are joined to predictions BY REQUEST ID:
the view `predictions_with_outcomes` is `predictions LEFT JOIN outcomes USING (request_id)` with
`actual_price_gbp` and `day_sold` (NULL until the sale is known). For replayed traffic the
request id is `<scenario>-<house_id>`, so `replay.record_outcomes(scenario, until_day=...)` turns
datasets/traffic/<scenario>_labels.csv into outcomes; `until_day` keeps only the labels known by
then (late labels).

The `inference_log` stage (`stages.ensure("inference_log")`) fills the log with lesson 04's first
requests and all four scenarios with all their outcomes, and the `hot_swap` stage adds the
"hot-swap" traffic, when module 05 is opened first.
"""
