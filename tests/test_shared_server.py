"""The shared clinic server: a real PostgreSQL and a real `mlflow server` on loopback, 20 clients at once.

Skipped only when PostgreSQL's programs are absent (.ci/run installs them). The basic-auth test also
needs Flask-WTF (`mlflow[auth]`); it is skipped, with that reason, when it is not installed.
"""

from __future__ import annotations

import os
import types

import httpx
import pytest

from mlops_clinic import paths
from mlops_clinic.servers import BackgroundServer
from mlops_clinic.shared_server import (
    Postgres,
    auth_available,
    create_accounts,
    mlflow_server_command,
    postgres_bin_dir,
    run_load,
    server_env,
    verify_runs,
    write_auth_config,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin_dir() is None,
                       reason="PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql; "
                              ".ci/run installs them)"),
]

CLIENTS = 20
RUNS_PER_CLIENT = 5


def _reachable_by_postgres(folder):
    # As root, PostgreSQL runs as the `postgres` user, which must be able to enter the test's folder;
    # pytest makes its temporary folders 0700. Add o+x (enter, not list) up to the repository.
    if os.geteuid() != 0:
        return
    for path in [folder, *folder.parents]:
        if path == paths.REPO_ROOT or not str(path).startswith(str(paths.REPO_ROOT)):
            break
        path.chmod(path.stat().st_mode | 0o001)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared-server")
    _reachable_by_postgres(root)
    pg = Postgres(root / "postgres")
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
    assert not (pg.data / "postmaster.pid").exists(), "PostgreSQL is still running"


def _server(name, root, uri, **kwargs):
    logs = types.SimpleNamespace(servers_dir=root)  # the server's log and PID file go to the test folder
    command = mlflow_server_command(uri, root / f"{name}-artifacts", workers=2, auth=kwargs.pop("auth", False))
    return BackgroundServer(name, command, ready_path="/health", ready_timeout=240, workspace=logs, **kwargs)


def test_postgres_lives_in_the_chosen_folder_on_loopback(postgres):
    assert postgres.pid and (postgres.data / "PG_VERSION").exists()
    assert any(postgres.socket_dir.iterdir()), "the Unix socket belongs in the chosen folder"
    assert postgres.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    assert postgres.psql("SHOW data_directory").strip() == str(postgres.data)


def test_twenty_clients_log_runs_and_none_is_lost(postgres):
    uri = postgres.create_database("mlflow_load", "clinic", "load-test-password")
    with _server("mlflow-pg", postgres.root.parent, uri, env=server_env()) as server:
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
    artifacts = list((postgres.root.parent / "mlflow-pg-artifacts").rglob("run.txt"))
    assert len(artifacts) == CLIENTS * RUNS_PER_CLIENT, "artifacts are received by the server's proxy"


@pytest.mark.skipif(not auth_available(),
                    reason="MLflow's basic-auth app needs Flask-WTF: install mlflow[auth] (pip install 'mlflow[auth]')")
def test_basic_auth_keeps_participants_apart(postgres, monkeypatch):
    root = postgres.root.parent
    uri = postgres.create_database("mlflow_auth", "clinic", "auth-test-password")
    auth_uri = postgres.create_database("mlflow_users", "clinic", "auth-test-password")
    admin = ("admin", "instructor-secret")
    config = write_auth_config(root / "basic_auth.ini", auth_uri, admin[1])
    with _server("mlflow-auth", root, uri, auth=True, env=server_env(config)) as server:
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
