"""The room's view: each participant's outcomes as tags of one MLflow run on the shared server.

A participant opts in, once, from a notebook (the server's address is on their slip):

    from mlops_clinic import progress
    progress.join_room("http://192.168.1.20:5000")     # asks for the password if the server wants one

From then on every check and every lesson end in that workspace also updates their run, and the
instructor sees the room with `clinic progress --server URL`. `progress.leave_room()` stops it.

Why opt-in, and not automatic when MLFLOW_TRACKING_URI is an http(s) server: the workspace always
points MLFLOW_TRACKING_URI at its own SQLite store (the lessons need it), so the variable says
nothing about the room; and a participant who later points MLflow at their employer's server would
send course records there unasked. One explicit call says what is shared, with whom, and how to stop.

What is sent: per question its outcome (correct / wrong / not attempted), the number of tries and
the time of the last one; the lessons that reached their end; how many questions of each
checkpoint were answered. Never an answer, a feedback message, code, or a maturity level.

Where: experiment "clinic-progress/<account>", one run named after the account. One experiment per
participant because with the shared server's basic auth (default permission NO_PERMISSIONS) an
experiment belongs to whoever created it: a single shared one would take the first participant's
run only. The instructor's admin account reads them all.

The account is the MLflow user name (MLFLOW_TRACKING_USERNAME, as the slip says) or else the
login name: on a JupyterHub, one account per participant. The password (MLFLOW_TRACKING_PASSWORD,
or typed at the prompt) is kept in the workspace's progress/room.json, created 0600, so that later
kernels can publish too. Calls go through MLflow's REST API with a short timeout and no retries: a
server that is down delays a check by seconds, never minutes, and the outcome is saved locally and
sent with the next one.
"""

from __future__ import annotations

import getpass
import json
import os
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic.errors import ClinicError
from mlops_clinic.files import write_private
from mlops_clinic.progress.store import FOLDER, OUTCOMES, CheckRecord, Progress
from mlops_clinic.progress.views import Snapshot
from mlops_clinic.workspace import Workspace

ROOM_FILE = "room.json"
EXPERIMENT_PREFIX = "clinic-progress/"
TAG = "clinic."  # every tag the kit writes starts with it
PUBLISH_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
BATCH = 100  # MLflow's limit of tags per log-batch call
API = "/api/2.0/mlflow"


class RoomError(ClinicError):
    """The room's server could not be used; the message says why and what to do."""


@dataclass(frozen=True)
class Room:
    server: str
    account: str
    password: str | None = None


# --- the participant's side -------------------------------------------------------------------------


def room_path(workspace: Workspace) -> Path:
    return workspace.root / FOLDER / ROOM_FILE


def load_room(workspace: Workspace) -> Room | None:
    """The room this workspace shares its progress with, or None."""
    try:
        data = json.loads(room_path(workspace).read_text(encoding="utf-8"))
        return Room(str(data["server"]), str(data["account"]), data.get("password"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RoomError(f"The room settings in {FOLDER}/{ROOM_FILE} cannot be read ({exc}).",
                        fix="run progress.join_room(SERVER) again, or progress.leave_room() to stop sharing.")


def join_room(server: str, account: str | None = None, *, workspace=None) -> Room:
    """Share this workspace's progress with the room's MLflow server from now on (see the module's
    docstring for what is shared). Publishes at once, so a wrong address or password is said now;
    nothing is saved unless it worked."""
    from mlops_clinic.progress.views import workspace_snapshot

    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    url = server_url(server)
    account = (account or os.environ.get("MLFLOW_TRACKING_USERNAME") or getpass.getuser()).strip()
    if not account:
        raise RoomError("The account name is empty.", fix="pass account=\"p07\" with the name on your slip.")
    room = Room(url, account, os.environ.get("MLFLOW_TRACKING_PASSWORD"))
    if room.password is None and _asks_for_login(url):
        room = Room(url, account, _ask_password(account, url))
    publish(room, workspace_snapshot(ws)[0])
    write_private(room_path(ws), json.dumps(vars(room), indent=2) + "\n")
    print(f"Your progress is now shared with the room at {url} as {account}: for each exercise question "
          "whether it is correct, not yet right or not attempted, how many tries and when; which lessons "
          "you finished; how many checkpoint questions you answered. Never your answers, your code or your "
          "maturity levels. To stop: progress.leave_room().")
    return room


def leave_room(*, workspace=None) -> None:
    """Stop sharing this workspace's progress (what the server already has stays there)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    path = room_path(ws)
    if not path.exists():
        print("This workspace does not share its progress with a room.")
        return
    room = load_room(ws)
    path.unlink()
    print(f"Your progress is no longer sent to {room.server}. What it already has stays there: ask your "
          f"instructor to delete the run {room.account!r} if you want it gone.")


def server_url(server: str) -> str:
    """The server's base URL, checked: http(s), a host, no path, query or credentials in it."""
    text = str(server).strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RoomError(f"{server!r} is not a server address.",
                        fix="give it as on your slip, e.g. \"http://192.168.1.20:5000\".")
    if parts.username or parts.password:
        raise RoomError("The address holds a user name or password, which would be saved and shown.",
                        fix="give the address alone; the password is asked for, or read from "
                            "MLFLOW_TRACKING_PASSWORD.")
    if parts.path or parts.query or parts.fragment:
        raise RoomError(f"{server!r} has more than a server address.",
                        fix=f"give only {parts.scheme}://{parts.netloc}.")
    return text


def _ask_password(account: str, url: str) -> str:
    try:
        password = getpass.getpass(f"Password of {account} on {url}: ")
    except Exception as exc:  # noqa: BLE001 - no terminal or frontend to ask in (a headless run)
        raise RoomError(f"The server asks for a password and none could be typed here ({type(exc).__name__}).",
                        fix="set MLFLOW_TRACKING_PASSWORD in the environment, then call join_room again.") from None
    if not password:
        raise RoomError("No password was typed.", fix="call join_room again and type the password on your slip.")
    return password


def _asks_for_login(url: str) -> bool:
    with _Api(Room(url, ""), PUBLISH_TIMEOUT_S) as api:
        return api.status("GET", "/experiments/search", params={"max_results": 1}) == 401


# --- publishing -------------------------------------------------------------------------------------


def tags_of(account: str, snapshot: Snapshot) -> dict[str, str]:
    """The run's tags: outcomes, tries and times per question, lessons run, checkpoint counts."""
    tags = {f"{TAG}participant": account, f"{TAG}updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for question, record in snapshot.progress.checks.items():
        tags[f"{TAG}check.{question}"] = record.outcome
        tags[f"{TAG}attempts.{question}"] = str(record.attempts)
        if record.time:
            tags[f"{TAG}last.{question}"] = record.time
    for module, when in snapshot.progress.lessons.items():
        tags[f"{TAG}lesson.{module}"] = when
    for checkpoint, answered in snapshot.checkpoints.items():
        tags[f"{TAG}checkpoint.{checkpoint}"] = "unreadable" if answered is None else str(answered)
    return tags


def snapshot_of_tags(tags: dict[str, str]) -> Snapshot:
    """The inverse of tags_of (tags it does not know are ignored)."""
    checks, lessons, checkpoints = {}, {}, {}
    for key, value in tags.items():
        kind, _, name = key.removeprefix(TAG).partition(".")
        if not key.startswith(TAG) or not name:
            continue
        if kind == "check" and value in OUTCOMES:
            attempts = tags.get(f"{TAG}attempts.{name}", "0")
            checks[name] = CheckRecord(value, int(attempts) if attempts.isdigit() else 0,
                                       tags.get(f"{TAG}last.{name}", ""))
        elif kind == "lesson":
            lessons[name] = value
        elif kind == "checkpoint":
            checkpoints[name] = int(value) if value.isdigit() else None
    return Snapshot(Progress(checks, lessons), checkpoints)


def publish(room: Room, snapshot: Snapshot) -> None:
    """Set the participant's run's tags to this snapshot (creating the experiment and run the first
    time). Raises RoomError, with the reason, when the server cannot be used."""
    with _Api(room, PUBLISH_TIMEOUT_S) as api:
        experiment_id = _own_experiment(api, EXPERIMENT_PREFIX + room.account)
        runs = api.call("POST", "/runs/search", json={"experiment_ids": [experiment_id], "max_results": 1,
                                                       "order_by": ["attributes.start_time ASC"]}).get("runs", [])
        if runs:
            run_id = runs[0]["info"]["run_id"]
        else:
            run_id = api.call("POST", "/runs/create", json={
                "experiment_id": experiment_id, "run_name": room.account,
                "start_time": int(time.time() * 1000)})["run"]["info"]["run_id"]
        items = [{"key": k, "value": v} for k, v in tags_of(room.account, snapshot).items()]
        for start in range(0, len(items), BATCH):
            api.call("POST", "/runs/log-batch", json={"run_id": run_id, "tags": items[start:start + BATCH]})


def _own_experiment(api: "_Api", name: str) -> str:
    found = api.call("GET", "/experiments/get-by-name", params={"experiment_name": name}, missing_ok=True)
    if found:
        return found["experiment"]["experiment_id"]
    created = api.call("POST", "/experiments/create", json={"name": name}, exists_ok=True)
    if created:
        return created["experiment_id"]
    # Another kernel of the same participant created it a moment ago.
    return api.call("GET", "/experiments/get-by-name", params={"experiment_name": name})["experiment"]["experiment_id"]


# --- reading the room (instructors) -----------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    participant: str
    snapshot: Snapshot
    updated: str


def read_room(server: str) -> list[Seat]:
    """Every participant who shares their progress on `server`, by account name. The instructor's
    credentials come from MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (the admin's, to see
    everyone), never from the command line."""
    room = Room(server_url(server), os.environ.get("MLFLOW_TRACKING_USERNAME", ""),
                os.environ.get("MLFLOW_TRACKING_PASSWORD"))
    with _Api(room, READ_TIMEOUT_S) as api:
        experiments = _all_pages(api, "/experiments/search", "experiments",
                                 {"filter": f"name LIKE '{EXPERIMENT_PREFIX}%'", "max_results": 1000})
        ids = [e["experiment_id"] for e in experiments]
        runs = []
        for start in range(0, len(ids), 50):
            runs += _all_pages(api, "/runs/search", "runs",
                               {"experiment_ids": ids[start:start + 50], "max_results": 1000})
    seats: dict[str, Seat] = {}
    for run in runs:
        tags = {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}
        name = tags.get(f"{TAG}participant") or run["info"].get("run_name", "?")
        seat = Seat(name, snapshot_of_tags(tags), tags.get(f"{TAG}updated", ""))
        if name not in seats or seat.updated > seats[name].updated:
            seats[name] = seat
    return sorted(seats.values(), key=lambda s: s.participant)


def _all_pages(api: "_Api", path: str, key: str, body: dict) -> list[dict]:
    found, token = [], None
    while True:
        page = api.call("POST", path, json={**body, **({"page_token": token} if token else {})})
        found += page.get(key, [])
        token = page.get("next_page_token")
        if not token:
            return found


# --- MLflow's REST API, with short timeouts and errors in words -------------------------------------


class _Api:
    def __init__(self, room: Room, timeout: float):
        import httpx

        self._httpx = httpx
        self.server = room.server
        auth = (room.account, room.password) if room.password is not None else None
        # A server behind a TLS proxy with the room's own authority: the variable MLflow reads.
        verify = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True
        self.client = httpx.Client(base_url=room.server + API, auth=auth, timeout=timeout, verify=verify)

    def __enter__(self) -> "_Api":
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def status(self, method: str, path: str, **kwargs) -> int:
        return self._send(method, path, **kwargs).status_code

    def call(self, method: str, path: str, *, missing_ok: bool = False, exists_ok: bool = False, **kwargs) -> dict:
        response = self._send(method, path, **kwargs)
        if response.status_code == 200:
            return response.json()
        code = _error_code(response)
        if (missing_ok and code == "RESOURCE_DOES_NOT_EXIST") or (exists_ok and code == "RESOURCE_ALREADY_EXISTS"):
            return {}
        raise self._refused(response, code)

    def _send(self, method: str, path: str, **kwargs):
        try:
            return self.client.request(method, path, **kwargs)
        except self._httpx.TimeoutException:
            raise RoomError(f"The room's server {self.server} did not answer within "
                            f"{self.client.timeout.read:.0f} s.",
                            fix="check the address and that you are on the room's network.") from None
        except self._httpx.HTTPError as exc:
            raise RoomError(f"The room's server {self.server} cannot be reached ({type(exc).__name__}: {exc}).",
                            fix="check the address and that you are on the room's network.") from None

    def _refused(self, response, code: str) -> RoomError:
        if response.status_code == 401:
            return RoomError(f"{self.server} did not accept the account name and password.",
                             fix="check them against your slip (MLFLOW_TRACKING_USERNAME and "
                                 "MLFLOW_TRACKING_PASSWORD for `clinic progress --server`).")
        if response.status_code == 403:
            return RoomError(f"{self.server} does not allow this account to do that ({code}).",
                             fix="participants publish to their own experiment; to see the whole room, "
                                 "use the admin account.")
        return RoomError(f"{self.server} answered HTTP {response.status_code} {code}: {_message(response)}")


def _error_code(response) -> str:
    try:
        return str(response.json().get("error_code", ""))
    except ValueError:
        return ""


def _message(response) -> str:
    try:
        return str(response.json().get("message", ""))[:300]
    except ValueError:
        return response.text[:300]
