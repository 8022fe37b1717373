"""The shared clinic server under a room's load: PostgreSQL against SQLite behind `mlflow server`.

    .venv/bin/python benchmarks/shared_server.py                 # 20 clients x 10 runs, both backends
    .venv/bin/python benchmarks/shared_server.py --clients 40 --runs 5 --workers 4

For each backend: a real `mlflow server` on 127.0.0.1 (artifacts proxied, job runner off), then the
same load twice: 20 clients (threads, one MlflowClient each) start together and log runs; each run
has 3 params, 2 metrics, a tag, a small artifact through the server, and is set FINISHED.

- "batch":  one log_batch call per run (what the guide recommends)
- "single": one call per param and per metric step, 25 calls per run (what a naive notebook does)

Prints runs/s, the slowest run, errors, "database is locked" count (client errors and server log),
and lost runs (runs the clients were told were created but that the server does not hold whole).
Needs PostgreSQL's programs (initdb, pg_ctl); everything is written under build/bench/shared-server
(as root, when the `postgres` user cannot enter that folder, the cluster lives in a private
temporary folder for the run, removed afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shutil
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlops_clinic.servers import BackgroundServer  # noqa: E402
from mlops_clinic.shared_server import (  # noqa: E402
    mlflow_server_command,
    postgres_bin_dir,
    run_load,
    scratch_postgres,
    server_env,
    verify_runs,
)

WORK = ROOT / "build" / "bench" / "shared-server"


def measure(name: str, uri: str, args) -> list[dict]:
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    logs = types.SimpleNamespace(servers_dir=folder)
    command = mlflow_server_command(folder / "artifacts", workers=args.workers)
    rows = []
    started = time.perf_counter()
    with BackgroundServer(f"mlflow-{name}", command, env=server_env(uri), ready_path="/health",
                          ready_timeout=300, workspace=logs) as server:
        ready = time.perf_counter() - started
        for calls in ("batch", "single"):
            experiment = f"room-{calls}"
            with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints a link for every finished run
                result = run_load(server.url, experiment, clients=args.clients, runs_per_client=args.runs,
                                  calls_per_run=calls)
                problems = verify_runs(server.url, experiment, result.run_ids)
            lost = result.expected - len(result.run_ids) + sum("missing" in p for p in problems)
            rows.append({
                "backend": name, "calls": calls, "ready_s": ready, "runs": len(result.run_ids),
                "expected": result.expected, "seconds": result.seconds, "runs_per_s": result.runs_per_second,
                "median_run_s": statistics.median(result.run_seconds), "max_run_s": max(result.run_seconds),
                "errors": len(result.errors), "locked_client": result.locked, "lost": lost,
                "incomplete": len(problems), "first_error": result.errors[0] if result.errors else "",
            })
        log = server.log_path.read_text(errors="replace")
    for row in rows:
        row["locked_server_log"] = log.count("database is locked")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10, help="runs per client")
    parser.add_argument("--workers", type=int, default=2, help="mlflow server workers (-w)")
    args = parser.parse_args(argv)
    if postgres_bin_dir() is None:
        print("PostgreSQL's programs (initdb, pg_ctl) are not installed: apt-get install postgresql")
        return 1
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)

    rows = []
    # As root, PostgreSQL runs as `postgres`; if it cannot reach WORK, the cluster goes to a private
    # temporary folder for the run.
    with scratch_postgres(WORK / "postgres") as pg:
        uri = pg.create_database("mlflow", "clinic", "benchmark-password")
        rows += measure("postgresql", uri, args)
    rows += measure("sqlite", f"sqlite:///{WORK / 'sqlite' / 'mlflow.db'}", args)

    print(f"\n{args.clients} clients x {args.runs} runs, mlflow server -w {args.workers}, "
          f"{os.cpu_count()} cores shared with the clients\n")
    header = (f"{'backend':<11} {'calls/run':<10} {'runs':>8} {'runs/s':>7} {'median s':>9} {'max s':>7} "
              f"{'errors':>7} {'locked':>7} {'lost':>5}")
    print(header)
    print("-" * len(header))
    for r in rows:
        calls = "1 (batch)" if r["calls"] == "batch" else "25"
        print(f"{r['backend']:<11} {calls:<10} {r['runs']:>4}/{r['expected']:<3} {r['runs_per_s']:>7.2f} "
              f"{r['median_run_s']:>9.2f} {r['max_run_s']:>7.1f} {r['errors']:>7} "
              f"{r['locked_client'] + r['locked_server_log']:>7} {r['lost']:>5}")
    for r in rows:
        if r["first_error"]:
            print(f"\n{r['backend']} {r['calls']}: first error: {r['first_error']}")
    print(f"\nserver ready after: " + ", ".join(f"{r['backend']} {r['ready_s']:.0f} s" for r in rows[::2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
