"""`clinic batch` throughput: the same batch of runs at concurrency 1 and 2.

    .venv/bin/python benchmarks/batch.py                                  # 30 runs of notebooks/00
    .venv/bin/python benchmarks/batch.py --runs 10 --concurrency 1 2 3
    .venv/bin/python benchmarks/batch.py --notebook path/to/tiny.ipynb

Each run is the notebook with its own `seed` parameter and its own fresh workspace, through the
local process pool (the default executor). For each concurrency: wall time, runs per minute, the
speed-up over concurrency 1, the highest peak of one run (papermill + kernel + what the notebook
starts), the peak of the whole batch (every run's tree at once, sampled every 0.5 s), kernel-start
retries (a run that needed more than one attempt) and kernel-start failures (a run whose kernel
never started). On a shared machine wall times move with the other load: compare the ratio.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import psutil

from mlops_clinic.batch.cli import run_batch
from mlops_clinic.batch.plan import Grid, NotebookEntry, plan

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "batch"


class TreePeak:
    """The highest total RSS of this process's descendants, sampled in a thread."""

    def __init__(self, every_s: float = 0.5):
        self.every_s, self.peak_mb = every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in me.children(recursive=True):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(notebook: Path, runs: int, concurrency: int, timeout_s: float) -> dict:
    out = WORK / f"c{concurrency}"
    grid = Grid(notebooks=[NotebookEntry(notebook)], parameter_sets=[{"seed": i} for i in range(runs)],
                timeout_s=timeout_s, cell_timeout_s=timeout_s)
    with TreePeak() as tree:
        records, wall = run_batch(plan(grid, out), out, concurrency=concurrency, force=True, progress=True)
    start_failures = sum("did not start" in (r.get("error") or "") for r in records)
    return {
        "concurrency": concurrency,
        "runs": len(records),
        "ok": sum(r["status"] == "ok" for r in records),
        "wall_s": wall,
        "run_peak_mb": max(float(r.get("peak_mb") or 0) for r in records),
        "batch_peak_mb": tree.peak_mb,
        "mean_run_s": sum(float(r.get("duration_s") or 0) for r in records) / max(1, len(records)),
        "start_retries": sum(max(0, int(r.get("attempts") or 1) - 1) for r in records),
        "start_failures": start_failures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / "notebooks" / "00_welcome.ipynb")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=600, help="whole-run limit per run (s)")
    args = parser.parse_args(argv)
    notebook = args.notebook.resolve()
    print(f"{args.runs} runs of {notebook.relative_to(ROOT) if notebook.is_relative_to(ROOT) else notebook}, "
          f"{psutil.cpu_count()} cores, load average {psutil.getloadavg()[0]:.1f}", flush=True)
    results = []
    for concurrency in args.concurrency:
        r = measure(notebook, args.runs, concurrency, args.timeout)
        results.append(r)
        print(f"concurrency {concurrency}: {r['ok']}/{r['runs']} ok in {r['wall_s']:.1f} s wall "
              f"({60 * r['runs'] / r['wall_s']:.1f} runs/min, mean run {r['mean_run_s']:.1f} s); "
              f"peak one run {r['run_peak_mb']:.0f} MB, whole batch {r['batch_peak_mb']:.0f} MB; "
              f"kernel-start retries {r['start_retries']}, failures {r['start_failures']}", flush=True)
    base = results[0]
    for r in results[1:]:
        print(f"speed-up concurrency {r['concurrency']} vs {base['concurrency']}: "
              f"{base['wall_s'] / r['wall_s']:.2f}x")
    return 0 if all(r["ok"] == r["runs"] and r["start_failures"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
