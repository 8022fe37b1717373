"""Production traffic, replayed: the kit's traffic batches sent to the prediction service, and their
true prices recorded when they "arrive".

    report = replay(server.url, "stable", concurrency=16)   # one request per house, over HTTP
    record_outcomes("stable")                                 # the late labels, by request id

Each row of datasets/traffic/<scenario>.csv becomes one /estimate request, sent as an upstream
system would send it: numbers as JSON numbers, any other text as it is (so "3,850" or "YES" reach
the service and are refused there), empty cells left out. The request id is
`<scenario>-<house_id>`: the labels file names the same house, so the true price joins the logged
prediction by request id, and a re-sent row (data_quality has ten) is answered from the log
instead of being predicted and counted twice. Replaying a scenario again adds nothing new.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mlops_clinic.data import SCENARIOS
from mlops_clinic.data.schema import COLUMNS, DAY, FEATURES, ID

_WHOLE = re.compile(r"^-?[0-9]+$")


class ServiceStopped(RuntimeError):
    """The service stopped answering during a replay."""


def request_id(scenario: str, house_id: str) -> str:
    return f"{scenario}-{house_id}"


def _value(name: str, text) -> Any:
    if COLUMNS[name].kind == "integer" and isinstance(text, str) and _WHOLE.match(text.strip()):
        return int(text)
    return text


def requests_of(scenario: str, limit: int | None = None) -> list[dict]:
    """The scenario's rows as /estimate request bodies, in file order."""
    from mlops_clinic.data import dataset_path, read_csv

    frame = read_csv(dataset_path(f"traffic/{scenario}"))
    if limit is not None:
        frame = frame.head(limit)
    return bodies_of(frame, scenario)


def bodies_of(frame, scenario: str) -> list[dict]:
    """A traffic frame read as text (every cell a str, as `read_csv` reads it) as /estimate request
    bodies: what an upstream system sends, bad cells and all."""
    bodies = []
    for row in frame.to_dict("records"):
        house = {name: _value(name, row[name]) for name in FEATURES if isinstance(row[name], str)}
        body = {"request_id": request_id(scenario, row[ID]), "house_id": row[ID],
                "batch": scenario, "house": house}
        if isinstance(row[DAY], str) and _WHOLE.match(row[DAY]):
            body["day"] = int(row[DAY])
        bodies.append(body)
    return bodies


@dataclass
class Report:
    """What a replay did: one status per request sent, in order."""

    scenario: str
    statuses: list[int] = field(default_factory=list)  # 0: no answer (connection failed)
    answered_ids: list[str] = field(default_factory=list)  # request ids that got a 200
    versions: Counter = field(default_factory=Counter)
    repeated: int = 0
    seconds: float = 0.0
    stopped: str = ""  # why the replay stopped early, if it did

    @property
    def answered(self) -> int:
        return sum(200 <= s < 300 for s in self.statuses)

    @property
    def refused(self) -> int:
        return sum(400 <= s < 500 for s in self.statuses)

    @property
    def failed(self) -> int:
        return sum(s == 0 or s >= 500 for s in self.statuses)

    def __str__(self) -> str:
        versions = ", ".join(f"v{v}: {n}" for v, n in sorted(self.versions.items()))
        text = (f"{self.scenario}: {len(self.statuses):,} requests sent, {self.answered:,} answered "
                f"({self.repeated} of them repeats answered from the log), {self.refused} refused "
                f"(4xx), {self.failed} failed; model versions: {versions or 'none'}")
        return text + (f"\n{self.stopped}" if self.stopped else "")


def _post(client, path: str, body: dict) -> tuple[int, dict | list | None]:
    import httpx

    try:
        response = client.post(path, json=body)
    except (httpx.TransportError, OSError) as error:
        return 0, {"error": f"{type(error).__name__}: {error}"}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def replay(target, scenario: str, *, concurrency: int = 8, limit: int | None = None,
           bodies: list[dict] | None = None, timeout: float = 30.0) -> Report:
    """Send the scenario's requests to /estimate, `concurrency` at a time.

    `target` is the service's URL, or an httpx-style client (e.g. starlette's TestClient on the
    service's ASGI app). If the service stops answering, the replay stops at once with a Report
    that says so (`report.stopped`); every request that was answered is in the inference log.
    """
    import httpx

    bodies = bodies if bodies is not None else requests_of(scenario, limit)
    report = Report(scenario)
    own = isinstance(target, str)
    client = httpx.Client(base_url=target, timeout=timeout) if own else target
    started = time.perf_counter()
    try:
        results = _send_all(client, bodies, concurrency if own else 1)
    finally:
        if own:
            client.close()
    report.seconds = time.perf_counter() - started
    for result in results:
        if result is None:
            continue  # not sent: the service had stopped answering
        status, answer = result
        report.statuses.append(status)
        if status == 200 and isinstance(answer, dict):
            report.answered_ids.append(answer.get("request_id"))
            report.versions[answer.get("model_version")] += 1
            report.repeated += bool(answer.get("repeated"))
    unanswered = sum(result is None for result in results)
    failures = [r[1] for r in results if r is not None and r[0] == 0]
    if failures or unanswered:
        reason = failures[0]["error"] if failures else "no answer"
        report.stopped = (
            f"The service stopped answering after {report.answered:,} answered requests "
            f"({reason}); {unanswered + len(failures):,} requests got no answer. Is the server "
            "still running? Every answered request is in the inference log, and replaying again "
            "is safe: requests already answered are answered from the log, not counted twice.")
    return report


def _send_all(client, bodies: list[dict], concurrency: int) -> list[tuple[int, Any] | None]:
    """Post every body to /estimate; stop sending new ones once a request fails to connect.
    One (status, answer) per body, in order; None for a body that was not sent."""
    results: list[tuple[int, Any] | None] = [None] * len(bodies)
    broken = False

    def send(i: int):
        nonlocal broken
        if broken:
            return
        status, answer = _post(client, "/estimate", bodies[i])
        results[i] = (status, answer)
        if status == 0:
            broken = True

    if concurrency <= 1:
        for i in range(len(bodies)):
            send(i)
            if broken:
                break
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(send, range(len(bodies))))
    return results


def replay_batched(client, scenario: str, *, size: int = 200) -> Report:
    """The same requests, fast: valid ones through /estimate_batch in chunks, the ones the schema
    refuses one by one through /estimate (so they are refused and logged exactly as live)."""
    from pydantic import ValidationError

    from mlops_clinic.service.schema import EstimateRequest

    report = Report(scenario)
    started = time.perf_counter()
    good, bad = [], []
    for body in requests_of(scenario):
        try:
            EstimateRequest.model_validate(body)
            good.append(body)
        except ValidationError:
            bad.append(body)
    for start in range(0, len(good), size):
        chunk = good[start:start + size]
        status, answers = _post(client, "/estimate_batch", {"requests": chunk})
        if status != 200:
            raise ServiceStopped(f"/estimate_batch answered {status}: {answers}")
        for answer in answers:
            report.statuses.append(200)
            report.versions[answer["model_version"]] += 1
            report.repeated += answer["repeated"]
    for body in bad:
        status, _ = _post(client, "/estimate", body)
        report.statuses.append(status)
    report.seconds = time.perf_counter() - started
    return report


def outcomes_of(scenario: str, until_day: int | None = None) -> list[dict]:
    """The true prices of a scenario's houses, as they arrive (by `day_sold`), keyed by request id."""
    from mlops_clinic.data import load

    labels = load(f"traffic/{scenario}_labels")
    if until_day is not None:
        labels = labels[labels["day_sold"] <= until_day]
    return [{"request_id": request_id(scenario, row.house_id), "price_gbp": int(row.price),
             "day_sold": int(row.day_sold)} for row in labels.itertuples()]


def record_outcomes(scenario: str, until_day: int | None = None, log=None) -> int:
    """Record the scenario's true prices in the inference log; returns how many."""
    from mlops_clinic.service import inference_log

    log = log or inference_log.shared()
    return log.add_outcomes(outcomes_of(scenario, until_day))


def test_client_class():
    """starlette's TestClient, which calls an ASGI app in this process (no server, no port)."""
    import warnings

    with warnings.catch_warnings():
        # It announces, on import, that it will need the httpx2 package in a later release.
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    return TestClient


def replay_in_process(path=None, scenarios=SCENARIOS, first: list[dict] = ()) -> dict[str, str]:
    """Every scenario missing from the inference log at `path` (default: log_path()), through the
    prediction service's ASGI app in this process (the model server too), with all outcomes:
    what the `inference_log` stage does. `first`: request bodies posted to /estimate before the
    scenarios, whatever the answers (module 04's first requests, refusals included)."""
    import os

    from mlops_clinic.service import inference_log
    from mlops_clinic.service.prediction import PredictionService

    TestClient = test_client_class()
    path = str(path or inference_log.log_path())
    saved = os.environ.get(inference_log.LOG_ENV_VAR)
    os.environ[inference_log.LOG_ENV_VAR] = path  # the service in this process logs there
    done: dict[str, str] = {}
    try:
        with TestClient(PredictionService.to_asgi()) as client:
            if first and inference_log.shared(path).find(first[0]["request_id"]) is None:
                for body in first:
                    _post(client, "/estimate", body)
            for scenario in scenarios:
                if not inference_log.has_scenarios(path, [scenario]):
                    done[scenario] = str(replay_batched(client, scenario))
                    record_outcomes(scenario, log=inference_log.shared(path))
    finally:
        if saved is None:
            os.environ.pop(inference_log.LOG_ENV_VAR, None)
        else:
            os.environ[inference_log.LOG_ENV_VAR] = saved
    return done
