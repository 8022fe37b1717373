"""`clinic reset` stops what runs in the workspace without a PID file (the launcher cards that
jupyter-server-proxy starts, a kernel's tools), by PID, and never the process that called it or
that process's ancestors. Real servers on 127.0.0.1."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mlops_clinic.reset import reset
from mlops_clinic.servers import LOOPBACK, free_port
from mlops_clinic.workspace_lock import HOLDER_FILE

CLINIC = str(Path(sys.executable).with_name("clinic"))


def _http_server(*, cwd, directory=None) -> subprocess.Popen:
    """`python -m http.server` on a free loopback port, answering before this returns."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", LOOPBACK, str(port)]
    if directory is not None:
        command[3:3] = ["--directory", str(directory)]
    server = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://{LOOPBACK}:{port}/", timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None, "the test's HTTP server did not start"
            time.sleep(0.1)
    raise AssertionError("the test's HTTP server did not answer")


@pytest.fixture
def started():
    """Processes a test starts; whatever reset left running is stopped afterwards."""
    processes = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_reset_stops_servers_without_pid_files_and_spares_its_caller(tmp_path, workspace, started):
    elsewhere = tmp_path / "workspace-old"  # a sibling whose name starts like the workspace's
    elsewhere.mkdir()
    in_its_folder = _http_server(cwd=workspace.project)
    on_its_command_line = _http_server(cwd=tmp_path, directory=workspace.tmp)
    bystander = _http_server(cwd=elsewhere)
    started += [in_its_folder, on_its_command_line, bystander]

    # `!clinic reset --yes` from a notebook: the shell that runs it has its folder in the project.
    began = time.monotonic()
    result = subprocess.run(["bash", "-c", f'"{CLINIC}" reset --yes --workspace "{workspace.root}" '
                             "&& echo the caller survived"],
                            cwd=workspace.project, capture_output=True, text=True, timeout=120)
    print(f"clinic reset with two servers running: {time.monotonic() - began:.1f} s")

    assert result.returncode == 0, result.stderr
    assert "the caller survived" in result.stdout
    for server in (in_its_folder, on_its_command_line):
        assert f"PID {server.pid} (" in result.stdout, result.stdout
        assert server.poll() is not None, f"PID {server.pid} still runs after clinic reset"
    assert f"PID {bystander.pid}" not in result.stdout and bystander.poll() is None
    assert "http.server" in result.stdout  # named so the participant recognises it
    assert workspace.project.is_dir() and not any(workspace.tmp.iterdir())


def test_reset_stops_the_bentoml_card_while_it_builds_the_champion(tmp_path, workspace, started):
    # jupyter-server-proxy starts the card in the Jupyter server's folder, with the lab's environment.
    card = subprocess.Popen([sys.executable, "-m", "mlops_clinic.proxy", "bentoml", str(free_port())],
                            cwd=tmp_path, env={**os.environ, **workspace.env()},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started.append(card)
    holder = workspace.root / HOLDER_FILE
    for _ in range(1200):
        if holder.exists():  # it holds the workspace lock: it is building
            break
        assert card.poll() is None, card.communicate()[0][-3000:]
        time.sleep(0.1)
    else:
        pytest.fail("the BentoML card did not start preparing the workspace within 120 s")
    assert json.loads(holder.read_text())["pid"] == card.pid

    began = time.monotonic()
    stopped = reset(workspace)
    print(f"reset with the card building: {time.monotonic() - began:.1f} s")

    assert any(entry.startswith(f"PID {card.pid} (") for entry in stopped), stopped
    assert card.poll() is not None, f"the card (PID {card.pid}) still runs after reset"
    assert not holder.exists() and not (workspace.project / ".git").exists()
    assert workspace.project.is_dir()  # a fresh, empty workspace


def test_clinic_stop_stops_the_servers_and_deletes_nothing(tmp_path, workspace, started):
    kept = workspace.project / "notes.txt"
    kept.write_text("my work")
    server = _http_server(cwd=workspace.project)
    started.append(server)

    result = subprocess.run([CLINIC, "stop", "--workspace", str(workspace.root)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert f"PID {server.pid} (" in result.stdout and "http.server" in result.stdout
    assert server.poll() is not None, f"PID {server.pid} still runs after clinic stop"
    assert kept.read_text() == "my work"
    again = subprocess.run([CLINIC, "stop", "--workspace", str(workspace.root)], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert "Nothing was running" in again.stdout
