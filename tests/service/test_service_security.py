"""The services on a shared machine (a JupyterHub: one Unix account per participant): no other local
user can make them run code, and a web page cannot post into them.

BentoML's services pass pickled Python objects to each other, and unpickling runs code; circus, the
process manager of `bentoml serve`, runs any program it is told to. The served prediction service
is probed on every socket its processes listen on, as its owner and, where the test runs as root,
as a second user (`nobody`), with a pickle whose unpickling creates a file and a circus command
that would create another."""

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import httpx
import psutil
import pytest

from mlops_clinic.servers import BackgroundServer
from mlops_clinic.service.schema import EXAMPLE_HOUSE

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PICKLE = "application/vnd.bentoml+pickle"
PREDICTION_SERVICE = ["bentoml", "serve", "mlops_clinic.service.prediction:PredictionService",
                      "--host", "{host}", "--port", "{port}"]
ROUTES = ("/predict_batch", "/estimate")


class CreatesAFile:
    """Unpickled, it opens (so creates) the file at `path`: proof that a body was unpickled."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def http_post(route: str, body: bytes, content_type: str) -> bytes:
    return (f"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


# Runs as the second user, with nothing but the standard library: tries every socket it is given.
AS_ANOTHER_USER = r"""
import json, socket, sys
payload = sys.stdin.buffer.read()
results = []
for kind, address in json.loads(sys.argv[1]):
    for route in ("/predict_batch", "/estimate"):
        sock = socket.socket(socket.AF_INET if kind == "tcp" else socket.AF_UNIX)
        sock.settimeout(5)
        try:
            sock.connect(tuple(address) if kind == "tcp" else address)
            sock.sendall((f"POST {route} HTTP/1.1\r\nHost: localhost\r\n"
                          f"Content-Type: application/vnd.bentoml+pickle\r\n"
                          f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
                         + payload)
            answer = sock.recv(100).split(b"\r\n")[0].decode("latin-1")
        except OSError as error:
            answer = type(error).__name__
        finally:
            sock.close()
        results.append([kind, address, route, answer])
print(json.dumps(results))
"""


def listening_sockets(pid: int) -> tuple[set[tuple[str, int]], set[str]]:
    """(TCP addresses listened on, Unix socket paths bound) by a process and its descendants."""
    tcp, unix = set(), set()
    parent = psutil.Process(pid)
    for process in [parent, *parent.children(recursive=True)]:
        for connection in process.net_connections(kind="all"):
            if connection.family == socket.AF_UNIX and connection.laddr:
                unix.add(connection.laddr)
            elif connection.status == psutil.CONN_LISTEN:
                tcp.add((connection.laddr.ip, connection.laddr.port))
    return tcp, unix


def post_over_tcp(address: tuple[str, int], route: str, body: bytes) -> str:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(http_post(route, body, PICKLE))
        try:
            return sock.recv(100).split(b"\r\n")[0].decode("latin-1")
        except OSError as error:  # not an HTTP server (it may not answer at all)
            return type(error).__name__


def circus_add(address: tuple[str, int], command: str) -> None:
    """Ask whatever listens at `address` to start `command` as circus would (a ZeroMQ request)."""
    import zmq

    context = zmq.Context.instance()
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://{address[0]}:{address[1]}")
    sock.send_multipart([json.dumps({"id": uuid.uuid4().hex, "command": "add", "properties": {
        "name": "intruder", "cmd": command, "start": True}}).encode()])
    if sock.poll(3_000):
        sock.recv_multipart()
    sock.close()


def as_nobody(targets: list, payload: bytes) -> list:
    """AS_ANOTHER_USER run as `nobody`: (kind, address, route, first line or error) per try."""
    command = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
               sys.executable, "-I", "-S", "-c", AS_ANOTHER_USER, json.dumps(targets)]
    done = subprocess.run(command, input=payload, capture_output=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_no_other_user_reaches_the_internal_sockets_and_no_socket_unpickles_from_tcp(ws, tmp_path):
    unpickled, started = tmp_path / "unpickled", tmp_path / "started-by-circus"
    payload = pickle.dumps(CreatesAFile(unpickled))
    log = {"MLOPS_CLINIC_INFERENCE_LOG": str(tmp_path / "log.sqlite")}
    server = BackgroundServer("security-probe", PREDICTION_SERVICE, ready_path="/readyz",
                              workspace=ws, env=log, ready_timeout=120)
    with server:
        answer = httpx.post(f"{server.url}/estimate", json={"house": EXAMPLE_HOUSE})
        assert answer.status_code == 200, answer.text  # the hop to the model server works
        tcp, unix = listening_sockets(server.pid)
        for address in sorted(tcp):
            for route in ROUTES:
                post_over_tcp(address, route, payload)
            circus_add(address, f"/usr/bin/touch {started}")
        # The owner reaching its own Unix sockets gains nothing: it is the service's user already.
        if os.geteuid() == 0:
            targets = [["tcp", list(address)] for address in sorted(tcp)]
            targets += [["unix", path] for path in sorted(unix)]
            tried = as_nobody(targets, payload)
            refused = {address for kind, address, _, answer in tried
                       if kind == "unix" and answer == "PermissionError"}
            assert refused == unix, tried
        time.sleep(1)  # a circus watcher starts its command asynchronously
        assert not unpickled.exists(), "a body sent over TCP was unpickled"
        assert not started.exists(), "circus ran a command sent over TCP"
        assert tcp == {("127.0.0.1", server.port)}, "a TCP port other than the service's is open"
        assert unix, "the model server is no longer behind a Unix socket"
    # Each socket's private folder, and the short one in /tmp that holds them when the workspace's
    # path is too long for sockets, go with the server.
    folders = {Path(path).parent for path in unix}
    folders |= {folder.parent for folder in folders if folder.parent != ws.tmp}
    assert not [folder for folder in folders if folder.exists()], "left behind"


def test_the_model_server_behind_the_hop_refuses_a_pickle_body_from_tcp(ws, tmp_path):
    """The app `bentoml serve` runs for a dependency (not BentoML's "main" server, which refuses
    pickle itself) unpickles what it is sent: the kit's middleware lets pickle in only through a
    Unix socket. The test client's connection is not one."""
    from mlops_clinic.service.service import HousePrice

    unpickled = tmp_path / "unpickled"
    payload = pickle.dumps(CreatesAFile(unpickled))
    with TestClient(HousePrice.to_asgi(is_main=False)) as client:
        plain = client.post("/predict_batch", content=payload, headers={"content-type": PICKLE})
        # Two Content-Type headers: BentoML reads the first, a careless check the last.
        doubled = client.post("/predict_batch", content=payload, headers=[
            ("content-type", PICKLE), ("content-type", "application/json")])
    assert (plain.status_code, doubled.status_code) == (415, 415), (plain.text, doubled.text)
    assert "application/json" in plain.json()["error"]
    assert not unpickled.exists()


def test_a_web_page_cannot_post_a_house_in_a_simple_request(ws):
    """Browsers send text/plain, form and multipart bodies, or a body without a Content-Type,
    to any address without asking it first (CORS "simple requests")."""
    from mlops_clinic.service.service import HousePrice

    body = json.dumps({"house": EXAMPLE_HOUSE}).encode()
    with TestClient(HousePrice.to_asgi()) as client:
        for content_type in ("text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                             "multipart/form-data", None):
            headers = {"content-type": content_type} if content_type else {}
            answer = client.post("/predict", content=body, headers=headers)
            assert answer.status_code == 415, (content_type, answer.text)
            assert "Content-Type: application/json" in answer.json()["error"]
        json_utf8 = {"content-type": "Application/JSON; charset=utf-8"}
        assert client.post("/predict", content=body, headers=json_utf8).status_code == 200


def test_the_private_socket_folder_is_the_temporary_folder_unless_its_path_is_too_long(tmp_path,
                                                                                     monkeypatch):
    import tempfile

    from mlops_clinic.service import sockets

    monkeypatch.setattr(tempfile, "tempdir", "/tmp")  # short: used as it is, nothing is made
    assert sockets.short_temp_folder() == "/tmp"
    deep = tmp_path / ("d" * 60)  # a workspace in a deep folder
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    folder = sockets.short_temp_folder()
    try:
        assert not sockets.fits(str(deep)) and sockets.fits(folder)
        assert os.stat(folder).st_mode & 0o777 == 0o700
    finally:
        os.rmdir(folder)


def test_the_next_server_removes_the_short_folders_of_killed_ones_only():
    import tempfile

    from mlops_clinic.service import sockets

    def folder_with(listening: bool | None) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=sockets.SHORT_PREFIX, dir=sockets.SHORT_PARENT))
        if listening is not None:
            server = socket.socket(socket.AF_UNIX)
            server.bind(str(folder / "control"))
            server.listen()
            if not listening:
                server.close()  # the socket file stays, as after a SIGKILL
            else:
                live.append(server)
        return folder

    live = []
    killed, running, starting = folder_with(False), folder_with(True), folder_with(None)
    try:
        sockets.remove_folders_of_killed_servers()
        assert (killed.exists(), running.exists(), starting.exists()) == (False, True, True)
    finally:
        for server in live:
            server.close()
        for folder in (killed, running, starting):
            shutil.rmtree(folder, ignore_errors=True)
