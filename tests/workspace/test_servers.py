import os
import socket
import sys
import urllib.request

import psutil
import pytest

from mlops_clinic.servers import BackgroundServer, ServerError, free_port, stop_all_recorded

HTTP_SERVER = [sys.executable, "-m", "http.server", "{port}", "--bind", "{host}"]


def test_server_starts_answers_and_stops_by_pid(workspace):
    with BackgroundServer("web", HTTP_SERVER, workspace=workspace, cwd=workspace.root) as server:
        pid = server.pid
        assert (workspace.servers_dir / "web.pid").read_text() == str(pid)
        with urllib.request.urlopen(server.url + "/") as response:
            assert response.status == 200
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (workspace.servers_dir / "web.pid").exists()


# A leader that serves HTTP and spawns a worker in a session of its own, as BentoML's serve does.
SERVER_WITH_OWN_SESSION_WORKER = [
    sys.executable, "-c",
    "import subprocess, sys, http.server;"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True);"
    "http.server.test(http.server.SimpleHTTPRequestHandler, port={port}, bind='{host}')",
]


def test_stopping_a_server_stops_a_worker_in_its_own_session(workspace):
    with BackgroundServer("web", SERVER_WITH_OWN_SESSION_WORKER, workspace=workspace,
                          cwd=workspace.root) as server:
        workers = psutil.Process(server.pid).children()
        assert len(workers) == 1 and os.getsid(workers[0].pid) != os.getsid(server.pid)
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"worker {alive} outlived its server"


def test_busy_port_gets_a_clear_message(workspace):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"Port {port} .* already in use"):
            BackgroundServer("web", HTTP_SERVER, port=port, workspace=workspace).start()


def test_server_that_never_gets_ready_is_stopped_and_its_log_quoted(workspace):
    never_ready = [sys.executable, "-c", "import time; print('warming up forever', flush=True); time.sleep(60)"]
    server = BackgroundServer("stuck", never_ready, ready_timeout=2, workspace=workspace)
    with pytest.raises(ServerError, match="did not answer .* within 2 s(.|\n)*warming up forever"):
        with server:
            pass
    assert server.process is None


def test_server_that_dies_says_so(workspace):
    crash = [sys.executable, "-c", "raise SystemExit('model missing from the store')"]
    with pytest.raises(ServerError, match="exited \\(code 1\\)(.|\n)*model missing from the store"):
        with BackgroundServer("crash", crash, workspace=workspace):
            pass


def test_missing_program_is_named(workspace):
    with pytest.raises(ServerError, match="not-a-real-program"):
        BackgroundServer("x", ["not-a-real-program"], workspace=workspace).start()


def test_left_behind_server_is_stopped_from_its_pid_file(workspace):
    server = BackgroundServer("orphan", HTTP_SERVER, workspace=workspace).start().wait_ready()
    pid = server.pid
    try:
        # A crashed kernel forgets the object; the PID file remains.
        assert stop_all_recorded(workspace.servers_dir) == ["orphan"]
        server.process.wait(timeout=10)
    finally:
        server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_stale_pid_file_of_another_process_is_left_alone(workspace):
    # Our own PID leads no process group of ours: it must not be signalled.
    (workspace.servers_dir / "stale.pid").write_text(str(psutil.Process().pid))
    assert stop_all_recorded(workspace.servers_dir) == []


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
