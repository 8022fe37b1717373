"""Background servers (MLflow UI, BentoML, ...) on a free loopback port, stopped by their PID.

A notebook starts a server, waits until it answers, uses it and stops it:

    with BackgroundServer("mlflow-ui", ["mlflow", "server", "--port", "{port}", ...],
                          ready_path="/health", workspace=ws) as server:
        print(server.url)

Each server runs in its own process group; stopping it stops that group and every descendant (some
workers start their own session). A PID file in the workspace lets `clinic reset` (or the next run
of the notebook) stop a server that a crashed kernel left behind, still by PID, never by name.
Servers with no PID file (the launcher cards jupyter-server-proxy starts) are found by their
working folder or command line inside the workspace (`processes.processes_inside`), also by PID.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


from mlops_clinic.errors import DOCTOR, ClinicError
from mlops_clinic.processes import group_of, pid_alive, stop_group

LOOPBACK = "127.0.0.1"


class ServerError(ClinicError, RuntimeError):
    """A server could not start, or did not become ready."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


class BackgroundServer:
    """A server process on 127.0.0.1, started in its own process group and stopped by PID.

    `command` may contain "{port}" and "{host}", filled in at start. `ready_path` is polled over
    HTTP until it answers 200 (or `ready_timeout` seconds pass, then a ServerError quotes the log).
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        ready_path: str = "/",
        port: int | None = None,
        ready_timeout: float = 60.0,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        workspace=None,
    ):
        self.name = name
        self.command_template = list(command)
        self.ready_path = ready_path
        self.requested_port = port
        self.ready_timeout = ready_timeout
        self.env = env
        self.cwd = cwd
        self.workspace = workspace
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        log_dir = Path(workspace.servers_dir) if workspace is not None else None
        self.log_path = (log_dir / f"{name}.log") if log_dir else None
        self.pid_path = (log_dir / f"{name}.pid") if log_dir else None

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> "BackgroundServer":
        if self.process is not None:
            raise ServerError(f"{self.name} is already running (PID {self.process.pid}).")
        if self.pid_path is not None:
            stop_pid_file(self.pid_path)  # a server a crashed kernel left behind
        port = self.requested_port or free_port()
        if not port_is_free(port):
            raise ServerError(
                f"Port {port} on {LOOPBACK} is already in use, so {self.name} cannot start there. "
                "Stop whatever uses it, or leave the port out to let the kit pick a free one."
            )
        self.port = port
        command = [part.format(port=port, host=LOOPBACK) for part in self.command_template]
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})},
                cwd=self.cwd,
                start_new_session=True,  # its own process group: stopping it stops its workers
            )
        except FileNotFoundError as exc:
            raise ServerError(
                f"Cannot start {self.name}: {command[0]!r} was not found; {DOCTOR}."
            ) from exc
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        if self.pid_path is not None:
            self.pid_path.write_text(str(self.process.pid))
        _RUNNING.add(self)
        return self

    def wait_ready(self) -> "BackgroundServer":
        """Poll until `ready_path` answers 200; a clear ServerError if the server dies or stalls."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise ServerError(
                    f"{self.name} exited (code {code}) before it was ready.\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise ServerError(
            f"{self.name} did not answer {self.url}{self.ready_path} within "
            f"{self.ready_timeout:.0f} s and was stopped.\n{self._log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server's process group, SIGKILL it if it lingers; idempotent."""
        if self.process is None:
            return
        stop_group(self.process.pid, timeout, self.process)
        self.process = None
        _RUNNING.discard(self)
        if self.pid_path is not None and self.pid_path.exists():
            self.pid_path.unlink()

    def __enter__(self) -> "BackgroundServer":
        self.start()
        try:
            return self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def _log_tail(self, lines: int = 15) -> str:
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"Last lines of {self.log_path.name}:\n" + "\n".join(tail)

    def __repr__(self) -> str:
        state = f"PID {self.pid} at {self.url}" if self.process else "stopped"
        return f"<{self.name}: {state}>"


def stop_pid_file(pid_path: Path) -> bool:
    """Stop the process group recorded in a PID file, if it still runs. True if one was stopped."""
    try:
        pid = int(Path(pid_path).read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    Path(pid_path).unlink(missing_ok=True)
    # Only a group leader of our making: a recycled PID of an unrelated process is left alone.
    if not pid_alive(pid) or group_of(pid) != pid:
        return False
    stop_group(pid, timeout=10.0)
    return True


def stop_all_recorded(servers_dir: Path) -> list[str]:
    """Stop every server with a PID file in `servers_dir` (used by `clinic reset`)."""
    stopped = []
    for pid_file in sorted(Path(servers_dir).glob("*.pid")):
        if stop_pid_file(pid_file):
            stopped.append(pid_file.stem)
    return stopped


_RUNNING: set[BackgroundServer] = set()


@atexit.register
def _stop_running_servers() -> None:
    # A kernel shutting down takes its servers with it.
    for server in list(_RUNNING):
        server.stop()
