"""One MLflow tracking server for a whole room: PostgreSQL behind it, artifacts proxied, basic auth.

For instructors (docs/instructors/shared-server.md) and for the kit's load test. Everything lives in
one folder the instructor chooses, never in /var:

    <folder>/postgres/data      the PostgreSQL cluster (initdb); --postgres-folder puts it elsewhere
    <folder>/postgres/socket    its Unix socket
    <folder>/postgres/postgres.log
    <folder>/artifacts          what participants log, received by the server (--serve-artifacts)
    <folder>/basic_auth.ini     the auth app's configuration (default permission NO_PERMISSIONS)
    <folder>/database-password.txt, admin-password.txt   secrets, 0600 from the first byte

    with Postgres(folder / "postgres") as pg:
        uri = pg.create_database("mlflow", "mlflow", password)
        with BackgroundServer("mlflow-shared", mlflow_server_command(folder / "artifacts"),
                              env=server_env(uri), ready_path="/health") as server:
            ...

Secrets never go on a command line, which every local user can read (`ps`): the database URI
reaches MLflow through MLFLOW_BACKEND_STORE_URI, the auth app reads its ini file, and SQL with a
password reaches psql on stdin. The runs and the accounts are in two databases owned by two roles,
and neither role can connect to the other's database: the tracking role's password alone does not
open the table of password hashes and admin flags.

PostgreSQL refuses to run as root. When this runs as root (a CI container), the cluster is owned by
and run as the `postgres` system user; otherwise as the current user. PostgreSQL is stopped with
`pg_ctl stop`, or by the PID in its postmaster.pid if that fails; never by name.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Iterator

import psutil

from mlops_clinic.errors import ClinicError
from mlops_clinic.files import write_atomic, write_private
from mlops_clinic.servers import LOOPBACK, ServerError, free_port
from mlops_clinic.workspace import TELEMETRY_OFF

POSTGRES_SYSTEM_USER = "postgres"
TRACKING_DATABASE, TRACKING_ROLE = "mlflow", "mlflow"
ACCOUNTS_DATABASE, ACCOUNTS_ROLE = "mlflow_users", "mlflow_accounts"


class SharedServerError(ClinicError, RuntimeError):
    """PostgreSQL or the tracking server could not be set up (the message names the fix)."""


# --- PostgreSQL ---------------------------------------------------------------------------------
def postgres_bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
                        if p.split("/")[4].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _run_as() -> str | None:
    """The system user to run PostgreSQL as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError as exc:
        raise SharedServerError(
            "PostgreSQL refuses to run as root, and there is no `postgres` user to run it as. "
            "Run as an ordinary user, or install PostgreSQL's package (it creates that user)."
        ) from exc
    return POSTGRES_SYSTEM_USER


def postgres_cannot_enter(folder: Path) -> Path | None:
    """As root: the outermost existing folder on the way to `folder` that the `postgres` user may
    not enter (a 0700 home such as /root, or pytest's 0700 temporary folders). None when it can
    enter them all, or when we are not root (PostgreSQL then runs as ourselves)."""
    user = _run_as()
    if user is None:
        return None
    import pwd

    account = pwd.getpwnam(user)
    for path in reversed([Path(folder), *Path(folder).parents]):
        if not path.exists():
            break  # folders still to be made: the kit creates them enterable
        info = path.stat()
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & 0o100
        elif info.st_gid == account.pw_gid:  # PostgreSQL runs with its primary group only
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            return path
    return None


# PostgreSQL's socket is <root>/socket/.s.PGSQL.<port>, and a Unix socket's path has at most 107
# bytes on Linux (103 on macOS): a cluster in a deep folder cannot open its socket.
SOCKET_TAIL = len("/socket/.s.PGSQL.65535")
MAX_SOCKET_PATH = 103


def socket_fits(root: Path) -> bool:
    return len(str(Path(root).resolve()).encode()) + SOCKET_TAIL <= MAX_SOCKET_PATH


def private_postgres_folder(prefix: str = "mlops-clinic-postgres-") -> Path:
    """A new, empty, private (0700) folder for a throw-away cluster, in a temporary folder whose
    parents PostgreSQL's user can enter and whose path leaves room for the socket, owned by that
    user. The caller removes it."""
    user = _run_as()
    room = len(prefix) + len("XXXXXXXX") + 1
    for parent in dict.fromkeys((tempfile.gettempdir(), "/tmp")):
        if Path(parent).is_dir() and postgres_cannot_enter(Path(parent)) is None \
                and socket_fits(Path(parent) / ("x" * room)):
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))  # 0700 from the start
            if user:
                import pwd

                account = pwd.getpwnam(user)
                os.chown(folder, account.pw_uid, account.pw_gid)
            return folder
    raise SharedServerError(f"No temporary folder that the `{user}` user can enter: set TMPDIR to one.")


@dataclass(frozen=True)
class Postmaster:
    """A running PostgreSQL server, as its postmaster.pid describes it."""

    pid: int
    port: int
    socket_dir: Path
    listen_addresses: str


@dataclass
class Postgres:
    """A private PostgreSQL cluster in `root`, listening on 127.0.0.1 only.

    `start` reuses a postmaster that already runs for this cluster (left by a start that never
    stopped it) when it listens where this one would; `reused` then says so. `stop` stops only a
    server this object started or reused.
    """

    root: Path
    port: int | None = None
    bin_dir: Path | None = None
    reused: bool = False
    _user: str | None = field(default=None, repr=False)
    _started_pid: int | None = field(default=None, repr=False)
    _owned: bool = field(default=False, repr=False)

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        self.bin_dir = Path(self.bin_dir) if self.bin_dir else postgres_bin_dir()
        if self.bin_dir is None:
            raise SharedServerError(
                "PostgreSQL's programs (initdb, pg_ctl) were not found. Install them: "
                "`apt-get install postgresql` (Debian/Ubuntu), `brew install postgresql` (macOS), "
                "or `conda install -c conda-forge postgresql`.")
        self._user = _run_as()

    data = property(lambda self: self.root / "data")
    socket_dir = property(lambda self: self.root / "socket")
    log_path = property(lambda self: self.root / "postgres.log")

    def _cmd(self, program: str, *args: str, check: bool = True, timeout: float = 60,
             stdin_text: str | None = None) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._user:
            import pwd

            pw = pwd.getpwnam(self._user)
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        if stdin_text is None:
            kwargs["stdin"] = subprocess.DEVNULL
        result = subprocess.run([str(self.bin_dir / program), *args], capture_output=True, text=True,
                                input=stdin_text, timeout=timeout, cwd=self.root,
                                env={**os.environ, "LC_ALL": "C"}, **kwargs)
        if check and result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
            raise SharedServerError(f"{program} {' '.join(args[:2])} failed (code {result.returncode}):\n{tail}"
                                    + self._log_tail())
        return result

    def _log_tail(self, lines: int = 10) -> str:
        if not self.log_path.exists():
            return ""
        return "\nLast lines of postgres.log:\n" + "\n".join(
            self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _prepare_folders(self) -> None:
        blocked = postgres_cannot_enter(self.root)
        if blocked:
            raise SharedServerError(
                f"PostgreSQL refuses to run as root, so it runs as the `{self._user}` user, which cannot "
                f"enter {blocked} on the way to {self.root}. Give the cluster a folder it can reach, "
                f"e.g. `--postgres-folder /srv/clinic-postgres` (the kit creates it, owned by "
                f"`{self._user}`), or choose a --folder outside {blocked}.")
        if not socket_fits(self.root):
            raise SharedServerError(
                f"{self.root} is too deep a folder for PostgreSQL: the path of its socket inside "
                f"would pass {MAX_SOCKET_PATH} characters. Choose a shorter one with "
                "--postgres-folder (e.g. /srv/clinic-postgres).")
        for folder in (self.root, self.data, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        if self._user:
            import pwd

            pw = pwd.getpwnam(self._user)
            for folder in (self.root, self.data, self.socket_dir):
                os.chown(folder, pw.pw_uid, pw.pw_gid)
            if self.log_path.exists():
                os.chown(self.log_path, pw.pw_uid, pw.pw_gid)

    def init(self) -> "Postgres":
        """initdb, once: local socket connections trusted (the socket folder is private),
        TCP connections need a password (SCRAM)."""
        self._prepare_folders()
        if not (self.data / "PG_VERSION").exists():
            self._cmd("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
                      "--auth-local=trust", "--auth-host=scram-sha-256")
        return self

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def running(self) -> Postmaster | None:
        """The postmaster serving this cluster now, if one runs (a stale postmaster.pid gives None)."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
            if str(self.data) not in " ".join(psutil.Process(pid).cmdline()):
                return None  # the PID of a crashed server, now used by another process
            return Postmaster(pid, int(lines[3]), Path(lines[4]), lines[5].strip())
        except (FileNotFoundError, ValueError, IndexError, psutil.Error):
            return None

    def stop_command(self) -> str:
        """The shell command that stops this cluster's server, for messages."""
        command = shlex.join([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"])
        return f"runuser -u {self._user} -- {command}" if self._user else command

    def start(self) -> "Postgres":
        self.init()
        if self._reuse(self.running()):
            return self
        if self.port is None:
            self.port = free_port()
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses={LOOPBACK} -c max_connections=200"
        self._owned = True  # from here on, even an interrupted start leaves a server that stop() ends
        self._cmd("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log_path), "-w", "-t", "60",
                  "start")
        self._started_pid = self.pid
        return self

    def _reuse(self, left: Postmaster | None) -> bool:
        """Adopt a server already running for this cluster if it listens where ours would."""
        if left is None:
            return False
        differences = []
        if self.port is not None and left.port != self.port:
            differences.append(f"it listens on port {left.port}, not {self.port}")
        if left.socket_dir != self.socket_dir:
            differences.append(f"its socket is in {left.socket_dir}")
        if left.listen_addresses != LOOPBACK:
            differences.append(f"it listens on {left.listen_addresses!r}, not {LOOPBACK} only")
        if differences:
            raise SharedServerError(
                f"PostgreSQL already runs for {self.data} (PID {left.pid}), but {'; '.join(differences)}. "
                f"Stop it, then start again:\n    {self.stop_command()}")
        self.port, self._started_pid, self._owned, self.reused = left.port, left.pid, True, True
        return True

    def stop(self) -> None:
        """pg_ctl stop (fast: open sessions are rolled back); if that fails, the postmaster by its PID."""
        if not self._owned:
            return
        self._owned = False
        pid = self.pid or self._started_pid
        if pid is None:
            return
        if (self.data / "postmaster.pid").exists():
            result = self._cmd("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop", check=False)
            if result.returncode == 0:
                self._started_pid = None
                return
        try:
            postmaster = psutil.Process(pid)
            if str(self.data) not in " ".join(postmaster.cmdline()):
                return  # a recycled PID, not our server
            postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown of the postmaster and its children
            postmaster.wait(timeout=15)
        except psutil.TimeoutExpired:
            postmaster.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        self._started_pid = None

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the private socket. The SQL goes on stdin: a password in it
        would be on psql's command line, which every local user can read, if it went with -c."""
        return self._cmd("psql", "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
                         "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", stdin_text=sql).stdout

    def create_database(self, name: str, owner: str, password: str) -> str:
        """A database that only `owner` (a role with `password`) may connect to, created if missing;
        returns the SQLAlchemy URI for MLflow. An existing database with another owner is handed
        over to `owner`, tables included."""
        for value in (name, owner):
            if not value.replace("_", "").isalnum():
                raise SharedServerError(f"{value!r}: use letters, digits and _ for database and user names.")
        quoted = password.replace("'", "''")
        verb = "ALTER" if self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'").strip() else "CREATE"
        self.psql(f"{verb} ROLE {owner} LOGIN PASSWORD '{quoted}'")
        current = self.psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{name}'").strip()
        if not current:
            self.psql(f"CREATE DATABASE {name} OWNER {owner}")
        elif current != owner:
            self._hand_over(name, owner)
        # Every role may connect to every database unless told otherwise (PUBLIC has CONNECT).
        self.psql(f"REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC;\n"
                  f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {owner};")
        return self.uri(name, owner, password)

    def _hand_over(self, name: str, owner: str) -> None:
        # A folder from an earlier version of the kit: one role owned both databases. The tables move
        # with the database (sequences of serial columns follow their tables).
        self.psql(f"ALTER DATABASE {name} OWNER TO {owner}")
        self.psql(f"""
SELECT format('ALTER %s %I.%I OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              n.nspname, c.relname, '{owner}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm') AND pg_get_userbyid(c.relowner) <> '{owner}'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
\\gexec
""", database=name)

    def uri(self, name: str, user: str, password: str) -> str:
        # +psycopg2: plain postgresql:// makes SQLAlchemy 2.1 look for psycopg 3, which the kit does not pin.
        return f"postgresql+psycopg2://{user}:{password}@{LOOPBACK}:{self.port}/{name}"

    def __enter__(self) -> "Postgres":
        try:
            return self.start()
        except BaseException:  # a failed or interrupted start leaves nothing running
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def scratch_postgres(preferred_root: Path) -> Iterator[Postgres]:
    """A started throw-away cluster, for tests and benchmarks: stopped afterwards.

    It lives in `preferred_root` unless we are root and the `postgres` user cannot reach it, or its
    path is too deep for PostgreSQL's socket; then in
    a private folder under the system's temporary folder, removed afterwards. Not inside the
    workspace: that would mean opening every folder above it (a home, pytest's 0700 folders) to
    every local account.
    """
    unusable = postgres_cannot_enter(Path(preferred_root)) or not socket_fits(preferred_root)
    temporary = private_postgres_folder() if unusable else None
    pg = Postgres(temporary or preferred_root)
    try:
        with pg:
            yield pg
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


# --- the tracking server ------------------------------------------------------------------------
def write_auth_config(path: Path, database_uri: str, admin_password: str, *, admin_username: str = "admin",
                      default_permission: str = "NO_PERMISSIONS") -> Path:
    """basic_auth.ini for `mlflow server --app-name basic-auth` (pass it as MLFLOW_AUTH_CONFIG_PATH).
    It holds the admin password and the accounts database's: written 0600 from the first byte.

    NO_PERMISSIONS: a participant sees and changes only what they created (the creator of an
    experiment gets MANAGE on it) or what the admin shares. MLflow's own default is READ.
    """
    return write_private(path, (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {admin_username}\n"
        f"admin_password = {admin_password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"))


def _mlflow_program() -> str:
    # The `mlflow` next to this Python (a venv that is not activated), else the one on PATH.
    beside = Path(sys.executable).parent / "mlflow"
    return str(beside) if beside.exists() else "mlflow"


def mlflow_server_command(artifacts_dir: Path, *, workers: int = 2, auth: bool = False,
                          host: str = "{host}", port: str = "{port}",
                          allowed_hosts: str | None = None) -> list[str]:
    """`mlflow server` for a room: runs in the database, artifacts received and served by the server
    (participants need no access to the artifact store), optionally behind basic auth.

    The database URI is not an argument: it holds a password, and `server_env` passes it.
    `host`/`port` default to BackgroundServer's placeholders (loopback, a free port). For a room, pass
    host="0.0.0.0" and allowed_hosts="<the server's name or address>:5000".
    """
    command = [_mlflow_program(), "server", "--host", host, "--port", str(port), "-w", str(workers),
               "--artifacts-destination", str(Path(artifacts_dir).resolve()), "--serve-artifacts"]
    if allowed_hosts:
        command += ["--allowed-hosts", allowed_hosts]
    if auth:
        command += ["--app-name", "basic-auth"]
    return command


def server_env(backend_store_uri: str, auth_config: Path | None = None,
               secret_key: str | None = None) -> dict[str, str]:
    """Environment for the server: its database (MLflow reads --backend-store-uri from
    MLFLOW_BACKEND_STORE_URI; only the server's own user can read a process's environment),
    telemetry off, no job runner (about 2 GB less memory), the auth config."""
    env = {**TELEMETRY_OFF, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
           "MLFLOW_BACKEND_STORE_URI": backend_store_uri}
    if auth_config is not None:
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(auth_config)
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = secret_key or secrets.token_hex(16)
    return env


def auth_available() -> bool:
    """True when the basic-auth app can start (it needs Flask-WTF: `pip install mlflow[auth]`)."""
    try:
        import flask_wtf  # noqa: F401
    except ImportError:
        return False
    return True


# --- the load: N clients logging runs at once ---------------------------------------------------
@dataclass
class LoadResult:
    clients: int
    runs_per_client: int
    seconds: float
    run_ids: list[str]
    errors: list[str]
    run_seconds: list[float]

    @property
    def expected(self) -> int:
        return self.clients * self.runs_per_client

    @property
    def runs_per_second(self) -> float:
        return len(self.run_ids) / self.seconds if self.seconds else 0.0

    @property
    def locked(self) -> int:
        return sum("database is locked" in e for e in self.errors)


def _one_client(tracking_uri: str, experiment_id: str, client_no: int, runs: int, barrier: threading.Barrier,
                out_ids: list, out_errors: list, out_seconds: list, calls_per_run: str) -> None:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    barrier.wait()
    for run_no in range(runs):
        began = time.perf_counter()
        try:
            run = client.create_run(experiment_id, run_name=f"client-{client_no:02d}-run-{run_no:02d}",
                                    tags={"client": str(client_no), "run_no": str(run_no)})
            run_id = run.info.run_id
            now = int(time.time() * 1000)
            params = {"model": "gradient_boosting", "learning_rate": "0.1", "client": str(client_no)}
            metrics = {"val_mae": 36000.0 + client_no * 100 + run_no, "val_r2": 0.8}
            if calls_per_run == "batch":
                client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()],
                                 metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
                                 tags=[RunTag("source", "load-test")])
            else:
                for key, value in params.items():
                    client.log_param(run_id, key, value)
                for step in range(10):
                    for key, value in metrics.items():
                        client.log_metric(run_id, key, value, timestamp=now, step=step)
                client.set_tag(run_id, "source", "load-test")
            client.log_text(run_id, f"client {client_no} run {run_no}\n", "notes/run.txt")
            client.set_terminated(run_id, "FINISHED")
            out_ids.append(run_id)
        except Exception as error:  # recorded and counted; the load goes on
            out_errors.append(f"client {client_no} run {run_no}: {type(error).__name__}: {str(error)[:300]}")
        out_seconds.append(time.perf_counter() - began)


def run_load(tracking_uri: str, experiment_name: str, *, clients: int = 20, runs_per_client: int = 5,
             calls_per_run: str = "batch") -> LoadResult:
    """`clients` threads, each with its own MlflowClient, start together and log `runs_per_client`
    runs each: params, metrics, a tag, a small artifact through the server's proxy, FINISHED.

    calls_per_run: "batch" (one log_batch per run, what the guide recommends) or "single"
    (one request per param and per metric step: 25 calls per run, what naive notebooks do).
    """
    from mlflow.tracking import MlflowClient

    experiment_id = MlflowClient(tracking_uri).create_experiment(experiment_name)
    barrier = threading.Barrier(clients + 1)
    ids, errors, seconds = [], [], []
    threads = [threading.Thread(target=_one_client, daemon=True,
                                args=(tracking_uri, experiment_id, n, runs_per_client, barrier, ids, errors,
                                      seconds, calls_per_run)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return LoadResult(clients, runs_per_client, time.perf_counter() - began, ids, errors, seconds)


def verify_runs(tracking_uri: str, experiment_name: str, run_ids: list[str]) -> list[str]:
    """What is wrong with the runs the server holds: missing, not FINISHED, or without their metrics
    or artifact. An empty list means every run arrived whole."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    held = {}
    token = None
    while True:
        page = client.search_runs([experiment.experiment_id], max_results=1000, page_token=token)
        held.update({run.info.run_id: run for run in page})
        token = page.token
        if not token:
            break
    problems = [f"run {run_id} is missing" for run_id in run_ids if run_id not in held]
    for run_id in run_ids:
        run = held.get(run_id)
        if run is None:
            continue
        if run.info.status != "FINISHED":
            problems.append(f"run {run_id} is {run.info.status}")
        if "val_mae" not in run.data.metrics or run.data.params.get("model") != "gradient_boosting":
            problems.append(f"run {run_id} lacks its params or metrics")
    for run_id in run_ids[:: max(1, len(run_ids) // 10)]:  # a sample of the artifacts, through the proxy
        if [a.path for a in client.list_artifacts(run_id, "notes")] != ["notes/run.txt"]:
            problems.append(f"run {run_id} lacks its artifact")
    return problems


# --- accounts -----------------------------------------------------------------------------------
def create_accounts(server_url: str, admin: tuple[str, str], names: list[str]) -> dict[str, str]:
    """Create a basic-auth user for each name, with a random password; returns {name: password}.
    A name that already exists is left as it is (and not returned)."""
    import httpx

    created = {}
    for name in names:
        password = secrets.token_urlsafe(9)
        answer = httpx.post(f"{server_url}/api/2.0/mlflow/users/create", auth=admin, timeout=30,
                            json={"username": name, "password": password})
        if answer.status_code == 200:
            created[name] = password
        elif "RESOURCE_ALREADY_EXISTS" not in answer.text:
            raise SharedServerError(f"could not create the user {name!r}: HTTP {answer.status_code} {answer.text[:200]}")
    return created


def append_private(path: Path, text: str) -> None:
    """Append to a file of secrets: created 0600 (os.open's mode applies at creation, so no moment
    when others could read it); an existing file that others could read is closed to them first."""
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(handle, "a", encoding="utf-8") as file:
        if os.fstat(handle).st_mode & 0o077:
            os.fchmod(handle, 0o600)
        file.write(text)


def _secret_file(path: Path, make) -> str:
    """The secret kept in `path`, made by `make()` and written 0600 the first time."""
    if not path.exists():
        write_private(path, make())
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # written by an earlier version or by hand: close it to others now
    return path.read_text(encoding="utf-8").strip()


# --- `python -m mlops_clinic.shared_server` -----------------------------------------------------
class _StopRequested(Exception):
    """Ctrl+C, `kill` (TERM) or a closed terminal (HUP): unwind, stopping the server and PostgreSQL."""


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _stop_on_signals() -> dict:
    """Turn INT, TERM and HUP into _StopRequested, so that the `with` blocks stop what they started.
    Without it, a closed terminal (HUP) or `kill` (TERM) ended this process alone and left MLflow and
    PostgreSQL running. Returns the previous handlers."""

    def stop(signum, frame):
        for sig in _STOP_SIGNALS:  # a second signal must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        raise _StopRequested(signal.Signals(signum).name)

    return {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}


def _say(message: str) -> None:
    """Print, unless the terminal is gone (after HUP, writing to it fails with EIO)."""
    try:
        print(message, flush=True)
    except OSError:
        sys.stdout = open(os.devnull, "w")  # nothing left to show it: keep exit quiet as well


def _claim_folder(folder: Path) -> Path:
    """serve.pid: one `serve` per folder. A second one would stop the first one's server (its PID
    file) and share its PostgreSQL."""
    lock = folder / "serve.pid"
    try:
        other = psutil.Process(int(lock.read_text().strip()))
        if other.pid != os.getpid() and "shared_server" in " ".join(other.cmdline()):
            raise SharedServerError(
                f"Another `serve` already runs on {folder} (PID {other.pid}). Stop it first: "
                f"`kill {other.pid}` stops its tracking server, then its PostgreSQL.")
    except (FileNotFoundError, ValueError, psutil.Error):
        pass  # none, or one that died without tidying up
    write_atomic(lock, str(os.getpid()))
    return lock


def _serve(args) -> int:
    folder = Path(args.folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    auth = not args.no_auth
    if auth and not auth_available():
        raise SharedServerError("basic auth needs Flask-WTF: pip install 'mlflow[auth]' "
                                "(or start with --no-auth on a network you trust).")
    lock = _claim_folder(folder)
    previous = _stop_on_signals()
    try:
        return _run_room_server(args, folder, auth)
    except _StopRequested as stop:
        _say(f"{stop}: the tracking server and PostgreSQL are stopped.")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        lock.unlink(missing_ok=True)


def _run_room_server(args, folder: Path, auth: bool) -> int:
    from mlops_clinic.servers import BackgroundServer

    db_password = _secret_file(folder / "database-password.txt", lambda: secrets.token_urlsafe(16))
    postgres_root = Path(args.postgres_folder) if args.postgres_folder else folder / "postgres"
    with Postgres(postgres_root, port=args.postgres_port) as pg:
        if pg.reused:
            _say(f"PostgreSQL was still running for {pg.data} (PID {pg.pid}, port {pg.port}), left by an "
                 "earlier start that was not stopped: using it; it stops with this server.")
        env = server_env(pg.create_database(TRACKING_DATABASE, TRACKING_ROLE, db_password))
        if auth:
            # The first start sets the admin's password for good.
            admin_password = _secret_file(folder / "admin-password.txt", lambda: (
                os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD") or secrets.token_urlsafe(12)))
            # The accounts role gets a new password at every start; only basic_auth.ini holds it.
            users_uri = pg.create_database(ACCOUNTS_DATABASE, ACCOUNTS_ROLE, secrets.token_urlsafe(16))
            config = write_auth_config(folder / "basic_auth.ini", users_uri, admin_password)
            env = server_env(env["MLFLOW_BACKEND_STORE_URI"], config, secret_key=secrets.token_hex(16))
        command = mlflow_server_command(folder / "artifacts", workers=args.workers, auth=auth,
                                        host=args.host, port=str(args.port), allowed_hosts=args.allowed_hosts)
        logs = type("Logs", (), {"servers_dir": folder})()
        server = BackgroundServer("mlflow-shared", command, port=args.port, env=env, ready_path="/health",
                                  ready_timeout=300, workspace=logs)
        with server:
            _say(f"MLflow tracking server ready on port {args.port} (PID {server.pid}); "
                 f"PostgreSQL PID {pg.pid} on {LOOPBACK}:{pg.port}, data in {pg.data}.")
            if auth:
                _say(f"Admin user: admin; its password is in {folder / 'admin-password.txt'}.")
            _say("Ctrl+C (or closing this terminal, or `kill` of this process) stops the server, then PostgreSQL.")
            while server.process.poll() is None:
                time.sleep(1)
            _say(f"The server exited (code {server.process.returncode}); see {server.log_path}.")
            return 1


def _accounts(args) -> int:
    password = os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD")
    if not password:
        raise SharedServerError("set MLFLOW_AUTH_ADMIN_PASSWORD to the admin's password first.")
    names = [f"{args.prefix}{n:02d}" for n in range(1, args.count + 1)]
    created = create_accounts(args.server.rstrip("/"), ("admin", password), names)
    out = Path(args.out)
    append_private(out, "".join(f"{name},{secret},{args.server}\n" for name, secret in created.items()))
    print(f"{len(created)} accounts created ({len(names) - len(created)} existed already); "
          f"user,password,server lines appended to {out}.")
    return 0


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlops_clinic.shared_server",
                                     description="One MLflow tracking server for the room (see "
                                                 "docs/instructors/shared-server.md).")
    sub = parser.add_subparsers(dest="action", required=True)
    serve = sub.add_parser("serve", help="PostgreSQL + mlflow server (artifacts proxied, basic auth) until Ctrl+C")
    serve.add_argument("--folder", required=True, help="where the database, artifacts and logs live")
    serve.add_argument("--host", default=LOOPBACK, help="0.0.0.0 to accept the room (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--allowed-hosts", help="the name or address participants use, e.g. 192.168.1.20:5000")
    serve.add_argument("--workers", type=int, default=4)
    serve.add_argument("--postgres-port", type=int, default=None)
    serve.add_argument("--postgres-folder", default=None,
                       help="where the PostgreSQL cluster lives (default FOLDER/postgres); as root, a "
                            "folder the `postgres` user can enter")
    serve.add_argument("--no-auth", action="store_true", help="no user accounts (a network you trust)")
    accounts = sub.add_parser("accounts", help="create participant accounts p01, p02, ... with random passwords")
    accounts.add_argument("--server", required=True, help="the server's URL, e.g. http://192.168.1.20:5000")
    accounts.add_argument("--count", type=int, required=True)
    accounts.add_argument("--prefix", default="p")
    accounts.add_argument("--out", default="accounts.csv")
    args = parser.parse_args(argv)
    try:
        return _serve(args) if args.action == "serve" else _accounts(args)
    except (SharedServerError, ServerError) as error:  # ServerError: the port is taken, or MLflow did not start
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
