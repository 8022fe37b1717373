"""The services as real processes: `bentoml serve` on a free 127.0.0.1 port, started and stopped by
PID with the kit's BackgroundServer. What a participant sees when things go wrong: a port already
taken, a model missing from the store, the service killed in the middle of traffic. And the hot
swap: the registry's champion moves while traffic runs, and no request fails."""

import signal
import socket
import sqlite3
import threading
import time

import httpx
import psutil
import pytest

from mlops_clinic import stages
from mlops_clinic.servers import BackgroundServer, ServerError
from mlops_clinic.service import replay
from mlops_clinic.service.schema import EXAMPLE_HOUSE

pytestmark = pytest.mark.slow

MODEL_SERVER = ["bentoml", "serve", "mlops_clinic.service.service:HousePrice",
                "--host", "{host}", "--port", "{port}"]
PREDICTION_SERVICE = ["bentoml", "serve", "mlops_clinic.service.prediction:PredictionService",
                      "--host", "{host}", "--port", "{port}"]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def state(pid: int) -> str:
    try:
        process = psutil.Process(pid)
        return f"{pid} {process.status()} {' '.join(process.cmdline()[:3])}"
    except psutil.NoSuchProcess:
        return f"{pid} gone"


def logged_ids(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT request_id FROM predictions")}


def test_model_server_answers_shows_metrics_and_swagger_and_stops_by_pid(ws):
    server = BackgroundServer("house-price-test", MODEL_SERVER, ready_path="/readyz", workspace=ws,
                              ready_timeout=120)
    with server:
        pid, workers = server.pid, psutil.Process(server.pid).children(recursive=True)
        assert (ws.servers_dir / "house-price-test.pid").read_text() == str(pid)
        one = httpx.post(f"{server.url}/predict", json={"house": EXAMPLE_HOUSE})
        assert one.status_code == 200 and one.json()["model"] == "house-price"
        batch = httpx.post(f"{server.url}/predict_batch", json={"houses": [EXAMPLE_HOUSE] * 3})
        assert [a["price"] for a in batch.json()] == [one.json()["price"]] * 3
        bad = httpx.post(f"{server.url}/predict", json={"house": dict(EXAMPLE_HOUSE, mainroad="YES")})
        assert bad.status_code == 400 and "'YES' is not accepted" in bad.json()["error"]
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'bentoml_service_request_total{endpoint="/predict"' in metrics
        assert "bentoml_service_adaptive_batch_size" in metrics
        assert "<html" in httpx.get(f"{server.url}/").text.lower()
        assert "/predict_batch" in httpx.get(f"{server.url}/docs.json").json()["paths"]
        # Its process manager's command socket is not a TCP port any local user could reach
        # (tests/service/test_service_security.py probes the prediction service's sockets).
        listening = {c.laddr.port for p in [psutil.Process(pid), *workers]
                     for c in p.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        assert listening == {server.port}
    assert gone(pid) and all(gone(w.pid) for w in workers)
    assert not (ws.servers_dir / "house-price-test.pid").exists()
    log = server.log_path.read_text()
    assert "Traceback" not in log  # the 400 above is the client's mistake, not a server error


def test_a_port_already_taken_gets_a_clear_message(ws):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"Port {port} on 127.0.0.1 is already in use"):
            BackgroundServer("taken", MODEL_SERVER, port=port, ready_path="/readyz", workspace=ws).start()


def test_a_model_missing_from_the_store_is_named(ws):
    server = BackgroundServer("missing-model", MODEL_SERVER, ready_path="/readyz", workspace=ws,
                              env={"MLOPS_CLINIC_MODEL": "house-price:v999"}, ready_timeout=120)
    with pytest.raises(ServerError, match="(?s)exited.*house-price:v999 could not be found locally"):
        with server:
            pass
    assert server.process is None


def test_killed_mid_traffic_loses_no_request_that_got_an_answer(ws, tmp_path):
    log = tmp_path / "inference.sqlite"
    server = BackgroundServer("killed", PREDICTION_SERVICE, ready_path="/readyz", workspace=ws,
                              env={"MLOPS_CLINIC_INFERENCE_LOG": str(log)}, ready_timeout=120)
    bodies = [dict(body, request_id=f"kill-{body['house_id']}", batch="kill-test")
              for body in replay.requests_of("stable")]
    reports = []
    with server:
        pid = server.pid
        sender = threading.Thread(target=lambda: reports.append(
            replay.replay(server.url, "kill-test", bodies=bodies, concurrency=8, timeout=10)))
        sender.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not log.exists() or len(logged_ids(log)) < 100):
            time.sleep(0.05)
        # The whole service, mid-traffic: its workers (circus gives each a session of its own, so
        # they are not in the server's process group) and the server itself, each by PID.
        service = [*psutil.Process(pid).children(recursive=True), psutil.Process(pid)]
        for process in service:
            process.send_signal(signal.SIGKILL)
        sender.join(timeout=60)
    [report] = reports
    assert report.answered >= 100 and report.answered < len(bodies)
    assert "stopped answering" in report.stopped and "Is the server still running?" in report.stopped
    assert set(report.answered_ids) <= logged_ids(log)  # every answer was committed first
    deadline = time.monotonic() + 10  # SIGKILL is delivered at once, but a process under heavy I/O dies a little later
    while time.monotonic() < deadline and not all(gone(process.pid) for process in service):
        time.sleep(0.2)
    assert all(gone(process.pid) for process in service), [state(process.pid) for process in service]


def test_hot_swap_under_traffic_fails_no_request_and_rolls_back(ws, tmp_path):
    from mlops_clinic.stages.training import ALIAS, MODEL_NAME, champion_version, client

    registry = client(ws)
    champion = champion_version(ws)
    # A new registered version of the same model: enough to see the service follow the alias.
    new = registry.create_model_version(MODEL_NAME, champion.source, run_id=champion.run_id)
    server = BackgroundServer("hot-swap", PREDICTION_SERVICE, ready_path="/readyz", workspace=ws,
                              env={"MLOPS_CLINIC_INFERENCE_LOG": str(tmp_path / "log.sqlite")},
                              ready_timeout=120)
    bodies = replay.requests_of("stable", limit=100)
    for body in bodies:
        body.pop("request_id")
        body["batch"] = "hot-swap-test"
    reports, stop = [], threading.Event()

    def traffic(url):
        while not stop.is_set():
            reports.append(replay.replay(url, "hot-swap-test", bodies=bodies, concurrency=4))

    def serving(url, version):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answer = httpx.post(f"{url}/estimate", json={"house": EXAMPLE_HOUSE}).json()
            if answer["model_version"] == str(version):
                return True
            time.sleep(0.2)
        return False

    try:
        with server:
            sender = threading.Thread(target=traffic, args=(server.url,))
            sender.start()
            try:
                assert serving(server.url, champion.version)
                registry.set_registered_model_alias(MODEL_NAME, ALIAS, new.version)
                assert serving(server.url, new.version), "the service did not follow the alias"
                registry.set_registered_model_alias(MODEL_NAME, ALIAS, champion.version)
                assert serving(server.url, champion.version), "the service did not roll back"
            finally:
                stop.set()
                sender.join(timeout=60)
    finally:
        registry.set_registered_model_alias(MODEL_NAME, ALIAS, champion.version)
        registry.delete_model_version(MODEL_NAME, new.version)
    assert sum(r.failed for r in reports) == 0 and sum(r.refused for r in reports) == 0
    seen = set().union(*(r.versions for r in reports))
    assert {str(champion.version), str(new.version)} <= seen
    assert "now serving house-price:v" in server.log_path.read_text()
