"""The shared clinic server: a real PostgreSQL and a real `mlflow server` on loopback, 20 clients at once;
and `python -m mlops_clinic.shared_server serve` as an instructor runs it: secrets kept off command
lines, roles kept apart, everything stopped when the terminal closes, a leftover PostgreSQL handled.

Skipped only when PostgreSQL's programs are absent (.ci/run installs them). The basic-auth tests also
need Flask-WTF (`mlflow[auth]`); they are skipped, with that reason, when it is not installed.

As root, PostgreSQL runs as the `postgres` user, which cannot enter pytest's 0700 temporary folders:
its clusters then live in private folders under the system's temporary folder (`scratch_postgres`,
`--postgres-folder`), removed afterwards.
"""

from __future__ import annotations

import fcntl
import os
import queue
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import types
from pathlib import Path

import httpx
import psutil
import psycopg2
import pytest

from mlops_clinic.servers import BackgroundServer, free_port
from mlops_clinic.shared_server import (
    ACCOUNTS_DATABASE,
    TRACKING_DATABASE,
    TRACKING_ROLE,
    Postgres,
    auth_available,
    create_accounts,
    mlflow_server_command,
    postgres_bin_dir,
    postgres_cannot_enter,
    private_postgres_folder,
    run_load,
    scratch_postgres,
    server_env,
    verify_runs,
    socket_fits,
    write_auth_config,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin_dir() is None,
                       reason="PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql; "
                              ".ci/run installs them)"),
]
needs_auth = pytest.mark.skipif(
    not auth_available(),
    reason="MLflow's basic-auth app needs Flask-WTF: install mlflow[auth] (pip install 'mlflow[auth]')")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="checks what another local user sees; needs root")

CLIENTS = 20
RUNS_PER_CLIENT = 5
AS_NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
URI_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("shared-server")


@pytest.fixture(scope="module")
def postgres(work):
    with scratch_postgres(work / "postgres") as pg:
        pid = pg.pid
        yield pg
    assert _ended(pid), "PostgreSQL is still running"


def _ended(pid: int, timeout: float = 10) -> bool:
    """The process is gone (a zombie counts: only its parent can collect it) within `timeout` s."""
    try:
        process = psutil.Process(pid)
        process.wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return process.status() == psutil.STATUS_ZOMBIE
    return True


def _server(name, root, uri, *, auth=False, auth_config=None, **kwargs):
    logs = types.SimpleNamespace(servers_dir=root)  # the server's log and PID file go to the test folder
    command = mlflow_server_command(root / f"{name}-artifacts", workers=2, auth=auth)
    return BackgroundServer(name, command, ready_path="/health", ready_timeout=240, workspace=logs,
                            env=server_env(uri, auth_config), **kwargs)


def test_postgres_lives_in_the_chosen_folder_on_loopback(postgres):
    assert postgres.pid and (postgres.data / "PG_VERSION").exists()
    assert any(postgres.socket_dir.iterdir()), "the Unix socket belongs in the chosen folder"
    assert postgres.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    assert postgres.psql("SHOW data_directory").strip() == str(postgres.data)


def test_twenty_clients_log_runs_and_none_is_lost(postgres, work):
    uri = postgres.create_database("mlflow_load", "clinic", "load-test-password")
    with _server("mlflow-pg", work, uri) as server:
        result = run_load(server.url, "room", clients=CLIENTS, runs_per_client=RUNS_PER_CLIENT)
        problems = verify_runs(server.url, "room", result.run_ids)
        log = server.log_path.read_text(errors="replace")
    assert result.errors == [], result.errors[:5]
    assert len(result.run_ids) == len(set(result.run_ids)) == CLIENTS * RUNS_PER_CLIENT
    assert problems == [], problems[:5]
    assert "database is locked" not in log
    # Every run is in PostgreSQL itself, not only in the server's answers.
    rows = postgres.psql("SELECT count(*) FROM runs WHERE status = 'FINISHED'", database="mlflow_load")
    assert int(rows) == CLIENTS * RUNS_PER_CLIENT
    artifacts = list((work / "mlflow-pg-artifacts").rglob("run.txt"))
    assert len(artifacts) == CLIENTS * RUNS_PER_CLIENT, "artifacts are received by the server's proxy"


@needs_auth
def test_basic_auth_keeps_participants_apart(postgres, work, monkeypatch):
    uri = postgres.create_database("mlflow_auth", "clinic", "auth-test-password")
    auth_uri = postgres.create_database("mlflow_auth_users", "clinic_accounts", "accounts-test-password")
    admin = ("admin", "instructor-secret")
    config = write_auth_config(work / "basic_auth.ini", auth_uri, admin[1])
    with _server("mlflow-auth", work, uri, auth=True, auth_config=config) as server:
        api = f"{server.url}/api/2.0/mlflow"
        assert httpx.get(f"{api}/experiments/search?max_results=1").status_code == 401
        accounts = create_accounts(server.url, admin, ["alice", "bob"])
        assert sorted(accounts) == ["alice", "bob"]
        assert create_accounts(server.url, admin, ["alice"]) == {}, "an existing account is left alone"
        wrong = httpx.get(f"{api}/experiments/search?max_results=1", auth=("alice", "not-her-password"))
        assert wrong.status_code == 401

        # A participant works the way the guide says: two variables, then plain MLflow calls.
        import mlflow

        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", accounts["alice"])
        alice = mlflow.MlflowClient(server.url)
        experiment_id = alice.create_experiment("alice")
        run_id = alice.create_run(experiment_id).info.run_id
        alice.log_metric(run_id, "val_mae", 36000.0)

        bob = ("bob", accounts["bob"])
        assert httpx.get(f"{api}/runs/get", params={"run_id": run_id}, auth=bob).status_code == 403
        changed = httpx.post(f"{api}/runs/log-metric", auth=bob,
                             json={"run_id": run_id, "key": "val_mae", "value": 1.0, "timestamp": 0})
        assert changed.status_code == 403
        deleted = httpx.post(f"{api}/runs/delete", auth=bob, json={"run_id": run_id})
        assert deleted.status_code == 403
        own = httpx.post(f"{api}/experiments/create", auth=bob, json={"name": "bob"})
        assert own.status_code == 200, "a participant can still create and use an experiment of their own"
        assert alice.get_run(run_id).data.metrics["val_mae"] == 36000.0

        # For the debrief, the admin lets bob read alice's experiment: reading, still not changing.
        from mlflow.server import get_app_client

        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", admin[0])
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", admin[1])
        get_app_client("basic-auth", tracking_uri=server.url).grant_user_permission(
            "bob", "experiment", experiment_id, "READ")
        assert httpx.get(f"{api}/runs/get", params={"run_id": run_id}, auth=bob).status_code == 200
        changed = httpx.post(f"{api}/runs/log-metric", auth=bob,
                             json={"run_id": run_id, "key": "val_mae", "value": 1.0, "timestamp": 0})
        assert changed.status_code == 403


def _connect(pg_port: int, database: str, user: str, password: str):
    return psycopg2.connect(host="127.0.0.1", port=pg_port, dbname=database, user=user, password=password,
                            connect_timeout=10)


def test_an_accounts_database_of_an_earlier_version_moves_to_its_own_role(postgres):
    # Earlier versions let the tracking role own the accounts database and its tables.
    postgres.create_database("old_users", "old_tracking", "old-tracking-password")
    postgres.psql("SET ROLE old_tracking; CREATE TABLE users (id serial PRIMARY KEY, username text);"
                  "INSERT INTO users (username) VALUES ('p01');", database="old_users")

    postgres.create_database("old_users", "old_accounts", "old-accounts-password")

    with _connect(postgres.port, "old_users", "old_accounts", "old-accounts-password") as db, db.cursor() as sql:
        sql.execute("INSERT INTO users (username) VALUES ('p02')")  # the table and its sequence moved
        sql.execute("SELECT username FROM users ORDER BY id")
        assert [row[0] for row in sql.fetchall()] == ["p01", "p02"], "nothing saved is lost"
    db.close()
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        _connect(postgres.port, "old_users", "old_tracking", "old-tracking-password")


# --- `serve`, as an instructor runs it ----------------------------------------------------------
class Serve:
    """`python -m mlops_clinic.shared_server serve` in a session of its own (a signal sent to it
    reaches it alone). With terminal=True its output goes to a pseudo-terminal that is its
    controlling terminal, as in an instructor's terminal window: closing it hangs the session up."""

    def __init__(self, folder: Path, *options: str, env: dict | None = None, terminal: bool = False):
        self.folder = folder
        self.port = free_port()
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        self.seen: list[psutil.Process] = []  # what serve said it runs, for the teardown
        self._hang_up = threading.Event()
        command = [sys.executable, "-m", "mlops_clinic.shared_server", "serve", "--folder", str(folder),
                   "--port", str(self.port), "--workers", "1", *options]
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        if terminal:
            self.terminal, child_end = os.openpty()
            self.process = subprocess.Popen(command, stdin=child_end, stdout=child_end, stderr=child_end,
                                            env=environment, start_new_session=True,
                                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
            os.close(child_end)
            reader = self._read_terminal
        else:
            self.terminal = None
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True, env=environment,
                                            start_new_session=True)
            reader = self._read_pipe
        threading.Thread(target=reader, daemon=True).start()

    def _read_pipe(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read_terminal(self):
        # This thread alone reads and closes the terminal: a close from another thread while a read
        # waits would keep the terminal open (the pending read holds it) and hang nobody up.
        pending = b""
        while not self._hang_up.is_set():
            if not select.select([self.terminal], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(self.terminal, 4096)
            except OSError:  # serve and everything it started have let go of the terminal
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                self.lines.put(line.decode(errors="replace") + "\n")
        os.close(self.terminal)
        self.lines.put(None)

    def close_terminal(self):
        """Close the terminal window: its session is hung up, and the kernel sends serve SIGHUP."""
        self._hang_up.set()

    def wait_for(self, text: str, timeout: float = 420) -> str:
        """The first output line containing `text`; fails with the output if serve ends first."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"serve printed no {text!r} in {timeout:.0f} s:\n{''.join(self.output)}")
            if line is None:
                pytest.fail(f"serve ended (code {self.process.wait(30)}) before printing {text!r}:\n"
                            f"{''.join(self.output)}{self._log()}")
            self.output.append(line)
            if text in line:
                return line

    def ready(self) -> tuple[int, int]:
        """Wait for the ready line; the PIDs of the tracking server and of PostgreSQL it names."""
        line = self.wait_for("ready on port")
        mlflow_pid, postgres_pid = map(int, re.search(r"\(PID (\d+)\); PostgreSQL PID (\d+)", line).groups())
        self.seen += [psutil.Process(mlflow_pid), psutil.Process(postgres_pid)]
        assert "mlflow" in " ".join(self.seen[0].cmdline()) and "postgres" in self.seen[1].name()
        return mlflow_pid, postgres_pid

    def rest_of_output(self, timeout: float = 60) -> str:
        while (line := self.lines.get(timeout=timeout)) is not None:
            self.output.append(line)
        return "".join(self.output)

    def _log(self) -> str:
        log = self.folder / "mlflow-shared.log"
        return f"\nmlflow-shared.log:\n{log.read_text(errors='replace')[-3000:]}" if log.exists() else ""

    def stop_everything(self):
        """Teardown, by PID, whatever the test did: serve (TERM, as `kill` would), then anything it
        was seen to run that is still there."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        for process in self.seen:
            _end(process)
        self._hang_up.set()


def _end(process: psutil.Process) -> None:
    """Stop a process and its descendants (SIGTERM, then SIGKILL). psutil refuses to signal a PID
    that a new process has taken since."""
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.terminate()
        except psutil.NoSuchProcess:
            pass
    _, lingering = psutil.wait_procs(family, timeout=20)
    for member in lingering:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass


def _gone(pid: int, timeout: float = 30) -> bool:
    """True once `pid` has ended (a zombie has ended too: only its parent can collect it)."""
    try:
        process = psutil.Process(pid)
        if process.status() != psutil.STATUS_ZOMBIE:
            process.wait(timeout=timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        return False
    return True


@pytest.fixture
def cluster_folder(tmp_path):
    """Where serve's PostgreSQL lives: FOLDER/postgres; as root, when the `postgres` user cannot
    reach pytest's 0700 folder, or when that folder is too deep for PostgreSQL's socket, a private
    temporary folder, removed afterwards (the guide's --postgres-folder)."""
    if postgres_cannot_enter(tmp_path) or not socket_fits(tmp_path / "room" / "postgres"):
        folder = private_postgres_folder()
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path / "room" / "postgres"


def _folder_others_can_enter(tmp_path_factory) -> Path:
    """As root, a folder that `nobody` can enter (and not list), so that a read it is refused is
    refused by the file's own mode; pytest's folders are 0700 and would refuse everything."""
    if os.geteuid() != 0:
        return tmp_path_factory.mktemp("room-parent")
    for parent in (tempfile.gettempdir(), "/tmp"):
        if all(path.stat().st_mode & 0o001 for path in [Path(parent), *Path(parent).parents]) \
                and socket_fits(Path(parent) / "mlops-clinic-room-XXXXXXXX" / "room" / "postgres"):
            folder = Path(tempfile.mkdtemp(prefix="mlops-clinic-room-", dir=parent))
            folder.chmod(0o711)
            return folder
    pytest.fail("no temporary folder that other users can enter")


def _recording_programs(folder: Path) -> Path:
    """initdb, pg_ctl and psql that write their command line to folder/argv.log, then run the real
    program. `serve` finds them first on PATH: every command line it gives PostgreSQL's programs,
    however short-lived, is on record."""
    real = postgres_bin_dir()
    for program in ("initdb", "pg_ctl", "psql"):
        wrapper = folder / program
        wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0 $*" >> {shlex.quote(str(folder / "argv.log"))}\n'
                           f'exec {shlex.quote(str(real / program))} "$@"\n')
        wrapper.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """serve with basic auth, as the guide starts it, PostgreSQL's programs on record."""
    if not auth_available():
        pytest.skip("MLflow's basic-auth app needs Flask-WTF: install mlflow[auth]")
    parent = _folder_others_can_enter(tmp_path_factory)
    programs = _recording_programs(private_postgres_folder(prefix="mlops-clinic-programs-"))
    postgres_port = free_port()
    serve = Serve(parent / "room", "--postgres-port", str(postgres_port),
                  env={"PATH": f"{programs}{os.pathsep}{os.environ['PATH']}"})
    try:
        mlflow_pid, postgres_pid = serve.ready()
        yield types.SimpleNamespace(serve=serve, folder=parent / "room", programs=programs,
                                    mlflow_pid=mlflow_pid, postgres_pid=postgres_pid, postgres_port=postgres_port)
    finally:
        serve.stop_everything()
        shutil.rmtree(programs, ignore_errors=True)
        if os.geteuid() == 0:
            shutil.rmtree(parent, ignore_errors=True)


def _process_tree(*roots: int) -> list[psutil.Process]:
    tree = []
    for pid in roots:
        root = psutil.Process(pid)
        tree += [root, *root.children(recursive=True)]
    return tree


def _ini_password(config: Path) -> str:
    uri = re.search(r"^database_uri = (\S+)$", config.read_text(), re.M)[1]
    return re.search(r"://[^:]+:([^@]+)@", uri)[1]


@needs_auth
def test_secrets_stay_off_command_lines_and_in_private_files(room):
    folder = room.folder
    admin_password = (folder / "admin-password.txt").read_text().strip()
    accounts = subprocess.run(
        [sys.executable, "-m", "mlops_clinic.shared_server", "accounts", "--server",
         f"http://127.0.0.1:{room.serve.port}", "--count", "2", "--out", str(folder / "accounts.csv")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password})
    assert accounts.returncode == 0, accounts.stderr
    credential_files = ["database-password.txt", "admin-password.txt", "basic_auth.ini", "accounts.csv"]
    for name in credential_files:
        assert (folder / name).stat().st_mode & 0o777 == 0o600, f"{name} must be readable by its owner only"
    secrets = {
        "database password": (folder / "database-password.txt").read_text().strip(),
        "admin password": admin_password,
        "accounts database password": _ini_password(folder / "basic_auth.ini"),
        **{f"participant {line.split(',')[0]}": line.split(",")[1]
           for line in (folder / "accounts.csv").read_text().splitlines()},
    }
    assert len(secrets) == 5 and all(len(value) >= 12 for value in secrets.values())

    # Every command line serve gave PostgreSQL's programs, even those that ran for milliseconds.
    recorded = (room.programs / "argv.log").read_text()
    assert {"initdb", "pg_ctl", "psql"} <= {Path(line.split()[0]).name for line in recorded.splitlines()}
    # And every process running now: serve, mlflow server and its workers, PostgreSQL and its backends.
    tree = _process_tree(room.serve.process.pid, room.postgres_pid)
    assert len(tree) >= 6
    live = "\n".join(" ".join(process.cmdline()) for process in tree)
    for where, text in (("PostgreSQL's programs", recorded), ("running processes", live)):
        leaked = [name for name, value in secrets.items() if value in text]
        assert not leaked, f"{', '.join(leaked)} on the command line of {where}"
        assert not URI_WITH_PASSWORD.search(text), f"a URI with a password among {where}"


@needs_auth
@as_root
def test_another_local_user_sees_no_secret(room):
    folder = room.folder
    secrets = [(folder / "database-password.txt").read_text().strip(),
               (folder / "admin-password.txt").read_text().strip(), _ini_password(folder / "basic_auth.ini")]
    tree = _process_tree(room.serve.process.pid, room.postgres_pid)
    seen = subprocess.run([*AS_NOBODY, "cat", *(f"/proc/{p.pid}/cmdline" for p in tree)],
                          capture_output=True, timeout=60)
    everyone = subprocess.run([*AS_NOBODY, "ps", "-eww", "-o", "args="], capture_output=True, text=True, timeout=60)
    seen_text = seen.stdout.replace(b"\0", b" ").decode(errors="replace")
    assert "mlflow" in seen_text and "postgres" in seen_text, "nobody can read command lines (else this proves nothing)"
    assert not any(secret in seen_text for secret in secrets) and not URI_WITH_PASSWORD.search(seen_text)
    # The whole machine's `ps`, as any user types it (other people's processes are theirs to fix:
    # only this server's own secrets are looked for).
    assert everyone.returncode == 0 and "mlflow server" in everyone.stdout
    assert not any(secret in everyone.stdout for secret in secrets)

    control = folder / "not-a-secret.txt"
    control.write_text("anyone may read this")
    control.chmod(0o644)
    assert subprocess.run([*AS_NOBODY, "cat", str(control)], capture_output=True).returncode == 0, \
        "nobody can reach the folder (else the refusals below prove nothing)"
    for name in ("database-password.txt", "admin-password.txt", "basic_auth.ini"):
        refused = subprocess.run([*AS_NOBODY, "cat", str(folder / name)], capture_output=True, text=True)
        assert refused.returncode != 0 and "Permission denied" in refused.stderr, name


@needs_auth
def test_the_tracking_role_cannot_open_the_accounts_database(room):
    tracking_password = (room.folder / "database-password.txt").read_text().strip()
    accounts_password = _ini_password(room.folder / "basic_auth.ini")
    accounts_role = re.search(r"://([^:]+):", (room.folder / "basic_auth.ini").read_text())[1]
    assert accounts_role != TRACKING_ROLE

    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        _connect(room.postgres_port, ACCOUNTS_DATABASE, TRACKING_ROLE, tracking_password)
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        _connect(room.postgres_port, TRACKING_DATABASE, accounts_role, accounts_password)
    # Each role opens its own: the refusals above are about the database, not a wrong password.
    for database, role, password in ((TRACKING_DATABASE, TRACKING_ROLE, tracking_password),
                                     (ACCOUNTS_DATABASE, accounts_role, accounts_password)):
        connection = _connect(room.postgres_port, database, role, password)
        connection.close()


def test_closing_the_terminal_stops_mlflow_and_postgres(tmp_path, cluster_folder):
    # Closing a terminal window hangs up its session: the kernel sends SIGHUP to serve.
    serve = Serve(tmp_path / "room", "--no-auth", "--postgres-folder", str(cluster_folder), terminal=True)
    try:
        mlflow_pid, postgres_pid = serve.ready()
        workers = _process_tree(mlflow_pid)
        serve.close_terminal()
        assert serve.process.wait(timeout=120) == 0
        assert _gone(mlflow_pid), "the tracking server outlived its terminal"
        assert all(_gone(worker.pid) for worker in workers), "a worker of the tracking server outlived it"
        assert _gone(postgres_pid), "PostgreSQL outlived its terminal"
        assert not (Postgres(cluster_folder).data / "postmaster.pid").exists()
    finally:
        serve.stop_everything()


def test_serve_uses_a_postgres_left_running_and_stops_it_on_term(tmp_path, cluster_folder):
    left = Postgres(cluster_folder).start()  # as a `serve` killed with -9 would have left it
    left_pid = left.pid
    serve = Serve(tmp_path / "room", "--no-auth", "--postgres-folder", str(cluster_folder))
    try:
        notice = serve.wait_for("PostgreSQL was still running")
        assert f"PID {left_pid}" in notice and "it stops with this server" in notice
        mlflow_pid, postgres_pid = serve.ready()
        assert postgres_pid == left_pid

        # A second serve on the same folder would stop the first one's server: it is refused.
        second = subprocess.run([sys.executable, "-m", "mlops_clinic.shared_server", "serve", "--no-auth",
                                 "--folder", str(tmp_path / "room"), "--postgres-folder", str(cluster_folder)],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert f"Another `serve` already runs on {tmp_path / 'room'} (PID {serve.process.pid})" in second.stderr
        assert psutil.Process(mlflow_pid).is_running() and psutil.Process(postgres_pid).is_running()

        serve.process.send_signal(signal.SIGTERM)
        assert serve.process.wait(timeout=120) == 0
        assert "SIGTERM: the tracking server and PostgreSQL are stopped." in serve.rest_of_output()
        assert _gone(mlflow_pid) and _gone(postgres_pid)
    finally:
        serve.stop_everything()
        left.stop()


def test_a_postgres_left_running_elsewhere_gets_the_exact_command_that_stops_it(tmp_path, cluster_folder):
    left = Postgres(cluster_folder).start()
    left_pid = left.pid
    try:
        other_port = free_port()
        refused = subprocess.run([sys.executable, "-m", "mlops_clinic.shared_server", "serve", "--no-auth",
                                  "--folder", str(tmp_path / "room"), "--postgres-folder", str(cluster_folder),
                                  "--postgres-port", str(other_port)], capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert f"PostgreSQL already runs for {left.data} (PID {left_pid})" in refused.stderr
        assert f"port {left.port}, not {other_port}" in refused.stderr
        assert psutil.Process(left_pid).is_running(), "serve leaves a server it did not start alone"

        command = refused.stderr.strip().splitlines()[-1].strip()
        assert subprocess.run(shlex.split(command), capture_output=True, timeout=60).returncode == 0
        assert _gone(left_pid), f"the command serve printed did not stop PostgreSQL: {command}"
    finally:
        left.stop()


def test_serve_on_a_port_in_use_says_so_and_leaves_nothing_running(tmp_path, cluster_folder):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = subprocess.run([sys.executable, "-m", "mlops_clinic.shared_server", "serve", "--no-auth",
                                  "--folder", str(tmp_path / "room"), "--postgres-folder", str(cluster_folder),
                                  "--port", str(port)], capture_output=True, text=True, timeout=180)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in refused.stderr
    cluster = Postgres(cluster_folder)
    assert (cluster.data / "PG_VERSION").exists() and "database system is shut down" in cluster.log_path.read_text()
    assert cluster.running() is None, "PostgreSQL, started before the port was found taken, was stopped again"
    assert (tmp_path / "room" / "database-password.txt").exists(), "what was saved is kept"


@as_root
def test_serve_says_where_to_put_the_cluster_when_postgres_cannot_reach_the_folder(tmp_path):
    assert postgres_cannot_enter(tmp_path), "pytest's folders are 0700: the `postgres` user cannot enter them"
    refused = subprocess.run([sys.executable, "-m", "mlops_clinic.shared_server", "serve", "--no-auth",
                              "--folder", str(tmp_path / "room")], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "runs as the `postgres` user, which cannot enter" in refused.stderr
    assert "--postgres-folder" in refused.stderr
    assert not (tmp_path / "room" / "postgres" / "data" / "PG_VERSION").exists()
