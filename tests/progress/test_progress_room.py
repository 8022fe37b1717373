"""The room's view: two participants share their progress with a real `mlflow server` (basic auth,
SQLite store, on 127.0.0.1) and the instructor sees who is stuck on which question; no answer and no
code reaches the server, and each participant's run stays their own."""

import json
import os
import stat
import types

import httpx
import pytest

from checking import course_question_count
from mlops_clinic.checks.m00 import q1, q2
from mlops_clinic.cli import main as clinic
from mlops_clinic.data import load
from mlops_clinic.maturity import ENV_VAR as ANSWERS_ENV_VAR
from mlops_clinic.maturity.widget import checkpoint
from mlops_clinic.progress import join_room, leave_room
from mlops_clinic.progress.room import EXPERIMENT_PREFIX, RoomError, read_room
from mlops_clinic.servers import BackgroundServer
from mlops_clinic.shared_server import (
    auth_available, create_accounts, mlflow_server_command, server_env, write_auth_config,
)
from mlops_clinic.workspace import WORKSPACE_ENV_VAR, Workspace

ALL_CHECKS = str(course_question_count())  # each module's QUESTIONS but its open question
ALL_OPEN = str(course_question_count(open_questions=True))  # optional: a column of their own

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not auth_available(), reason="MLflow's basic-auth app needs Flask-WTF: install mlflow[auth]"),
]
ADMIN = ("admin", "instructor-secret-1")
WRONG_COUNTS = {"p01": 987_601, "p02": 987_602}  # wrong answers that must not reach the server


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The room's server as an instructor runs it (basic auth, NO_PERMISSIONS), on SQLite, stopped
    by PID afterwards; the participants' accounts p01 and p02."""
    root = tmp_path_factory.mktemp("room")
    config = write_auth_config(root / "basic_auth.ini", f"sqlite:///{root / 'accounts.db'}", ADMIN[1])
    logs = types.SimpleNamespace(servers_dir=root)  # the server's log and PID file go to the test folder
    with BackgroundServer("mlflow-room", mlflow_server_command(root / "artifacts", workers=1, auth=True),
                          ready_path="/health", ready_timeout=240, workspace=logs,
                          env=server_env(f"sqlite:///{root / 'mlflow.db'}", config)) as server:
        yield types.SimpleNamespace(url=server.url, accounts=create_accounts(server.url, ADMIN, ["p01", "p02"]))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", ANSWERS_ENV_VAR):
        monkeypatch.delenv(name, raising=False)


def as_participant(monkeypatch, room, tmp_path, account) -> Workspace:
    """A participant's kernel: their workspace active, the password of their slip in the environment."""
    workspace = Workspace(tmp_path / account / "workspace").create()
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(workspace.root))
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", account)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", room.accounts[account])
    return workspace


def test_two_participants_publish_and_the_instructor_sees_who_is_stuck(room, tmp_path, monkeypatch, capsys):
    medians = load("houses_reference").groupby("furnishingstatus")["price"].median()
    premium = float(medians["furnished"] - medians["unfurnished"])

    p01 = as_participant(monkeypatch, room, tmp_path, "p01")
    join_room(room.url, workspace=p01)
    assert "shared with the room" in capsys.readouterr().out
    room_file = p01.root / "progress" / "room.json"
    assert stat.S_IMODE(room_file.stat().st_mode) == 0o600, "the password is kept readable by its owner only"
    q1.check(WRONG_COUNTS["p01"])
    q2.check(premium)
    checkpoint("business", answers={"business": {"use_cases": 3, "value": 3, "continuity": 3}}, workspace=p01)

    p02 = as_participant(monkeypatch, room, tmp_path, "p02")
    join_room(room.url, workspace=p02)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")  # a later kernel: the saved settings are enough
    q1.check(WRONG_COUNTS["p02"])
    q1.check(WRONG_COUNTS["p02"] + 1)
    out = capsys.readouterr().out
    assert "not yet shared" not in out, out

    # The instructor, with the admin's account in the environment (never on the command line).
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    assert clinic(["progress", "--server", room.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:14] == ["p01", "1", "of", "8", "1", "of", ALL_CHECKS, "0", "of", ALL_OPEN, "done",
                                     "1", "of", "7"]
    assert lines[1].split()[14:17] == ["m00.q1", "(1", "try)"]
    assert lines[2].split()[:7] == ["p02", "0", "of", "8", "0", "of", ALL_CHECKS] and "m00.q1 (2 tries)" in lines[2]
    assert "  m00.q1: 2 (p01, p02)" in lines

    # Outcomes only: no answer (nor the levels chosen) in anything the server holds.
    runs = httpx.post(f"{room.url}/api/2.0/mlflow/runs/search", auth=ADMIN, json={
        "experiment_ids": [e["experiment_id"] for e in httpx.post(
            f"{room.url}/api/2.0/mlflow/experiments/search", auth=ADMIN,
            json={"max_results": 100}).json()["experiments"]]}).json()["runs"]
    assert sorted(r["info"]["run_name"] for r in runs) == ["p01", "p02"]
    held = json.dumps(runs)
    for answer in [*WRONG_COUNTS.values(), WRONG_COUNTS["p02"] + 1, premium]:
        assert f"{answer:g}" not in held and f"{answer:,.0f}" not in held and str(int(answer)) not in held
    assert "automated" not in held
    assert not any("params" in r["data"] or "metrics" in r["data"] for r in runs), "tags only"


def test_a_participant_sees_only_their_own_run(room, tmp_path, monkeypatch):
    p01 = as_participant(monkeypatch, room, tmp_path, "p01")
    join_room(room.url, workspace=p01)
    p02 = as_participant(monkeypatch, room, tmp_path, "p02")
    join_room(room.url, workspace=p02)
    assert [seat.participant for seat in read_room(room.url)] == ["p02"]
    other = httpx.get(f"{room.url}/api/2.0/mlflow/experiments/get-by-name", auth=("p02", room.accounts["p02"]),
                      params={"experiment_name": EXPERIMENT_PREFIX + "p01"})
    assert other.status_code == 403


def test_a_wrong_password_is_said_at_once_and_nothing_is_saved(room, tmp_path, monkeypatch):
    workspace = as_participant(monkeypatch, room, tmp_path, "p01")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-the-password")
    with pytest.raises(RoomError, match="did not accept the account name and password"):
        join_room(room.url, workspace=workspace)
    assert not (workspace.root / "progress" / "room.json").exists()
    with pytest.raises(RoomError, match="is not a server address"):
        join_room("192.168.1.20:5000", workspace=workspace)


def test_leaving_the_room_stops_publishing(room, tmp_path, monkeypatch, capsys):
    workspace = as_participant(monkeypatch, room, tmp_path, "p01")
    join_room(room.url, workspace=workspace)
    leave_room(workspace=workspace)
    assert "no longer sent" in capsys.readouterr().out
    assert not (workspace.root / "progress" / "room.json").exists()
    before = {s.participant: s.updated for s in _as_admin(monkeypatch, room)}
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(workspace.root))
    q1.check(WRONG_COUNTS["p01"])
    assert {s.participant: s.updated for s in _as_admin(monkeypatch, room)} == before


def _as_admin(monkeypatch, room):
    with monkeypatch.context() as admin:
        admin.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
        admin.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
        return read_room(room.url)


def test_clinic_progress_server_without_the_admin_account_says_what_to_set(room, capsys):
    assert clinic(["progress", "--server", room.url]) == 1
    err = capsys.readouterr().err
    assert "did not accept the account name and password" in err and "MLFLOW_TRACKING_PASSWORD" in err
    assert "Traceback" not in err and os.environ.get("MLFLOW_TRACKING_PASSWORD") is None
