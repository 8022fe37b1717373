"""Serving figures: the champion in-process, behind BentoML, and behind `mlflow models serve`.

    .venv/bin/python benchmarks/serving.py                  # ~4 minutes
    .venv/bin/python benchmarks/serving.py --seconds 4      # shorter settings, noisier figures

One run, one model (the workspace's house-price@champion), one machine, loopback only. Every
setting is measured by a separate load-generator process (`serving.py _load ...`: asyncio, one
keep-alive HTTP/1.1 connection per client, requests prebuilt, so the client spends as little CPU
as possible on the cores it shares with the server), after a warm-up:

    (a) raw model in-process: pipeline.predict on a one-row DataFrame, from 1, 8, 32 threads
        (the limit), and on 100-row DataFrames (the limit for batches)
    (b) BentoML /predict, one house per request
    (c) BentoML /predict_batch with adaptive batching, one house per request
    (d) `mlflow models serve --env-manager local --workers 1`, one house per /invocations
    (e) BentoML /predict_batch, 100 houses per request (client-side batching)

at 1, 8 and 32 concurrent clients: requests/s, rows/s, p50 and p99 latency, non-2xx answers
(503s counted apart), each throughput as a ratio to (a) and to (d); then start time (process
start to a 200 on the readiness URL) and memory (RSS of the server's process group, idle and peak
under load). It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "serving"
CLIENTS = (1, 8, 32)


# --- the load generator (a process of its own) ----------------------------------------------------

def _request(host: str, port: int, path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _read_response(reader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    match = re.search(rb"content-length:\s*(\d+)", lower)
    if match:
        await reader.readexactly(int(match.group(1)))
    elif b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, b"connection: close" in lower


async def _client(host, port, requests, offset, start_at, stop_at, out):
    conn = None
    i = offset
    while time.perf_counter() < stop_at:
        try:
            if conn is None:
                conn = await asyncio.open_connection(host, port)
            reader, writer = conn
            request = requests[i % len(requests)]
            i += 1
            t0 = time.perf_counter()
            writer.write(request)
            status, close = await _read_response(reader)
            t1 = time.perf_counter()
            if t0 >= start_at:
                out.append((t1 - t0, status))
            if close:
                writer.close()
                conn = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if time.perf_counter() >= start_at:
                out.append((0.0, 0))  # connection error
            conn = None
            await asyncio.sleep(0.01)
    if conn is not None:
        conn[1].close()


def load_main(args) -> None:
    bodies = [line.encode() for line in Path(args.bodies).read_text().splitlines() if line]
    requests = [_request(args.host, args.port, args.path, body) for body in bodies]
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    out: list[tuple[float, int]] = []

    async def run():
        now = time.perf_counter()
        start_at, stop_at = now + args.warmup, now + args.warmup + args.seconds
        await asyncio.gather(*(_client(args.host, args.port, requests, k * 37, start_at, stop_at, out)
                               for k in range(args.clients)))

    asyncio.run(run())
    print(json.dumps(summarise([(lat, status) for lat, status in out], args.seconds, args.rows)))


def summarise(samples, seconds: float, rows: int) -> dict:
    ok = [lat for lat, status in samples if 200 <= status < 300]
    statuses: dict[str, int] = {}
    for _, status in samples:
        if not 200 <= status < 300:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
    lat = sorted(ok)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")  # noqa: E731
    return {"requests": len(samples), "ok": len(ok), "rps": len(ok) / seconds,
            "rows_per_s": len(ok) * rows / seconds, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "errors": statuses}


# --- the raw model, in-process (a process of its own) ---------------------------------------------

def inprocess_main(args) -> None:
    import warnings

    import mlflow.sklearn
    import pandas as pd

    from mlops_clinic.data import FEATURES, load

    warnings.filterwarnings("ignore")
    model = mlflow.sklearn.load_model(f"models:/house-price@champion")
    houses = load("traffic/stable")[list(FEATURES)]
    frames = [houses.iloc[i:i + args.rows] for i in range(0, len(houses) - args.rows + 1, args.rows)]
    frames = [pd.DataFrame(frame.to_dict("records")) for frame in frames]  # as a server builds them
    out: list[tuple[float, int]] = []
    lock = threading.Lock()
    start_at = time.perf_counter() + args.warmup
    stop_at = start_at + args.seconds

    def work(offset: int):
        i = offset
        mine = []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            model.predict(frames[i % len(frames)])
            t1 = time.perf_counter()
            i += 1
            if t0 >= start_at:
                mine.append((t1 - t0, 200))
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=work, args=(k * 37,)) for k in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(summarise(out, args.seconds, args.rows)))


# --- the driver -----------------------------------------------------------------------------------

def _sub(argv: list[str], env: dict) -> dict:
    result = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True,
                            env=env, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class MemorySampler:
    """Peak RSS of a process group (the server and its workers), sampled every 0.2 s."""

    def __init__(self, pid: int):
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> float:
        import psutil

        total = 0
        for p in [self.root, *self.root.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _run(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.now())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def write_bodies(path: Path, records: list[dict], kind: str, rows: int = 1) -> Path:
    lines = []
    for i in range(0, len(records) - rows + 1, rows):
        chunk = records[i:i + rows]
        if kind == "bentoml-one":
            body = {"house": chunk[0]}
        elif kind == "bentoml-batch":
            body = {"houses": chunk}
        else:  # mlflow
            body = {"dataframe_records": chunk}
        lines.append(json.dumps(body, separators=(",", ":")))
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per setting")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per setting")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds over every setting, interleaved; figures are the mean")
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS))
    parser.add_argument("--workspace", type=Path, default=WORK / "workspace",
                        help="workspace with (or to build) the champion")
    args = parser.parse_args(argv)

    from mlops_clinic import stages
    from mlops_clinic.servers import BackgroundServer
    from mlops_clinic.workspace import Workspace

    ws = Workspace.resolve(args.workspace).activate()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    print(f"Preparing the champion in {ws.root.name}/ ...", flush=True)
    stages.ensure("bento_model", ws)
    env = {**os.environ}

    from mlops_clinic.data import FEATURES, load

    records = json.loads(load("traffic/stable")[list(FEATURES)].to_json(orient="records"))
    WORK.mkdir(parents=True, exist_ok=True)
    bodies = {
        "b": ("/predict", write_bodies(WORK / "one.jsonl", records, "bentoml-one"), 1),
        "c": ("/predict_batch", write_bodies(WORK / "batch1.jsonl", records, "bentoml-batch"), 1),
        "d": ("/invocations", write_bodies(WORK / "mlflow.jsonl", records, "mlflow"), 1),
        "e": ("/predict_batch", write_bodies(WORK / "batch100.jsonl", records, "bentoml-batch", rows=100), 100),
    }
    timing = ["--seconds", str(args.seconds), "--warmup", str(args.warmup)]

    # Both servers run for the whole measurement (one at a time under load), so the settings can
    # be interleaved: a slow minute on a shared machine then spreads over all of them.
    bentoml_server = BackgroundServer(
        "bench-bentoml", ["bentoml", "serve", "mlops_clinic.service.service:HousePrice",
                          "--host", "{host}", "--port", "{port}"],
        ready_path="/readyz", workspace=ws, ready_timeout=180)
    mlflow_server = BackgroundServer(
        "bench-mlflow", ["mlflow", "models", "serve", "-m", "models:/house-price@champion",
                         "--env-manager", "local", "--host", "{host}", "--port", "{port}",
                         "--workers", "1"],
        ready_path="/health", workspace=ws, ready_timeout=180)
    servers: dict[str, dict] = {}
    samples: dict[tuple[str, int], list[dict]] = {}
    inproc100: list[dict] = []
    try:
        for key, server in (("bentoml", bentoml_server), ("mlflow", mlflow_server)):
            print(f"Starting {key} ...", flush=True)
            started = time.perf_counter()
            server.start().wait_ready()
            ready_s = time.perf_counter() - started
            time.sleep(1.0)
            servers[key] = {"ready_s": ready_s, "server": server,
                            "memory": MemorySampler(server.pid).__enter__()}
            servers[key]["idle_mb"] = servers[key]["memory"].now()
        port = {"b": bentoml_server.port, "c": bentoml_server.port, "e": bentoml_server.port,
                "d": mlflow_server.port}
        for round_ in range(1, args.rounds + 1):
            for n in args.clients:
                print(f"round {round_}, {n} client(s): a b c d e", flush=True)
                samples.setdefault(("a", n), []).append(
                    _sub(["_inprocess", "--clients", str(n), "--rows", "1", *timing], env))
                for key in "bcde":
                    path, body_file, rows = bodies[key]
                    samples.setdefault((key, n), []).append(_sub(
                        ["_load", "--port", str(port[key]), "--path", path, "--bodies", str(body_file),
                         "--clients", str(n), "--rows", str(rows), *timing], env))
            inproc100.append(_sub(["_inprocess", "--clients", "1", "--rows", "100", *timing], env))
    finally:
        for key, info in servers.items():
            info["memory"].__exit__()
            info["peak_mb"] = info["memory"].peak
        bentoml_server.stop()
        mlflow_server.stop()

    results = {k: mean_result(v) for k, v in samples.items()}
    report(results, {1: mean_result(inproc100)}, servers, args)
    return 0


def mean_result(runs: list[dict]) -> dict:
    """The mean of several runs of one setting (errors summed)."""
    keys = ("requests", "ok", "rps", "rows_per_s", "p50_ms", "p99_ms")
    merged = {k: statistics.fmean(r[k] for r in runs) for k in keys}
    errors: dict[str, int] = {}
    for r in runs:
        for code, count in r["errors"].items():
            errors[code] = errors.get(code, 0) + count
    merged["errors"] = errors
    merged["rounds"] = [round(r["rows_per_s"], 1) for r in runs]
    return merged


NAMES = {
    "a": "(a) raw model in-process, 1 row",
    "b": "(b) BentoML /predict, 1 house",
    "c": "(c) BentoML /predict_batch, adaptive",
    "d": "(d) mlflow models serve, 1 house",
    "e": "(e) BentoML /predict_batch, 100 houses",
}


def report(results, inproc100, servers, args) -> None:
    import platform

    print()
    print(f"Serving benchmark: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{args.rounds} round(s) x {args.seconds:g} s per setting after {args.warmup:g} s warm-up "
          "(mean of the rounds), load generator in its own process on the same machine (loopback)")
    head = (f"{'setting':<40} {'clients':>7} {'req/s':>8} {'rows/s':>9} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'non-2xx':>8} {'x (a)':>6} {'x (d)':>6}")
    print(head)
    print("-" * len(head))
    for key in "abcde":
        for n in args.clients:
            r = results.get((key, n))
            if r is None:
                continue
            a, d = results.get(("a", n)), results.get(("d", n))
            vs_a = r["rows_per_s"] / a["rows_per_s"] if a and a["rows_per_s"] else float("nan")
            vs_d = r["rows_per_s"] / d["rows_per_s"] if d and d["rows_per_s"] else float("nan")
            bad = sum(r["errors"].values())
            bad_text = f"{bad}" + (f" ({r['errors'].get('503', 0)}x503)" if r["errors"].get("503") else "")
            print(f"{NAMES[key]:<40} {n:>7} {r['rps']:>8.1f} {r['rows_per_s']:>9.0f} "
                  f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {bad_text:>8} {vs_a:>6.2f} {vs_d:>6.2f}")
    print()
    ref = inproc100[1]["rows_per_s"]
    print(f"In-process, 100-row frames, 1 thread: {ref:,.0f} rows/s (p50 {inproc100[1]['p50_ms']:.1f} ms)")
    for n in args.clients:
        e = results.get(("e", n))
        if e:
            print(f"  (e) at {n:>2} client(s): {e['rows_per_s']:,.0f} rows/s = {e['rows_per_s'] / ref:.2f}x "
                  "the in-process 100-row rate")
    b32, c32 = results.get(("b", max(args.clients))), results.get(("c", max(args.clients)))
    if b32 and c32:
        print(f"  (c) at {max(args.clients)} clients: {c32['rows_per_s'] / b32['rows_per_s']:.1f}x (b)'s "
              "single-row rate")
    for n in args.clients:
        b, d = results.get(("b", n)), results.get(("d", n))
        if b and d:
            print(f"  (b) at {n:>2} client(s): {b['rps'] / d['rps']:.2f}x (d)")
    print()
    for key, s in servers.items():
        print(f"{key:<8} ready after {s['ready_s']:.1f} s; memory {s['idle_mb']:.0f} MB idle, "
              f"{s['peak_mb']:.0f} MB peak under load (RSS of the server's processes)")
    print()
    print("Rows/s per round (spread of the shared machine):")
    for (key, n), r in sorted(results.items()):
        print(f"  ({key}) {n:>2} client(s): {r['rounds']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("_load", "_inprocess"):
        sub = argparse.ArgumentParser()
        sub.add_argument("mode")
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int)
        sub.add_argument("--path")
        sub.add_argument("--bodies")
        sub.add_argument("--clients", type=int, default=1)
        sub.add_argument("--rows", type=int, default=1)
        sub.add_argument("--seconds", type=float, default=8.0)
        sub.add_argument("--warmup", type=float, default=2.0)
        parsed = sub.parse_args()
        (load_main if parsed.mode == "_load" else inprocess_main)(parsed)
    else:
        sys.exit(main())
