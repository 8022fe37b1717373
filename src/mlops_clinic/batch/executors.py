"""Where the runs execute, through the standard `concurrent.futures.Executor` interface.

- Default: a local `ProcessPoolExecutor` with `concurrency` workers. Each worker only waits on
  its papermill subprocess (execute.py), so a notebook that fails, hangs, runs out of memory or
  kills its kernel costs that run alone.
- With a scheduler address: a Dask distributed cluster, `Client(address).get_executor()`: the
  same interface, so a course team with many machines uses their cluster, not a home-made engine.
  The workers must see the same paths (a shared folder for the kit, the notebooks and --out) and
  have the kit installed.

Whatever the executor, at most `concurrency` runs are in flight at once (on Dask too: the cluster
may have more threads than the machines' memory can hold kernels). A run whose worker dies (a
broken pool, a Dask KilledWorker) gets an "error" record and the batch goes on, on a fresh pool.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from mlops_clinic.batch.plan import Run
from mlops_clinic.execute import ExecutionOptions
from mlops_clinic.batch.run import error_record, run_one, write_record

Record = dict[str, Any]


@contextlib.contextmanager
def local_pool(concurrency: int) -> Iterator[cf.Executor]:
    # Linux: fork, which starts no resource-tracker process that would outlive the pool (the pool is
    # made before the progress bar starts its thread). Elsewhere the platform's default (spawn).
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with cf.ProcessPoolExecutor(max_workers=concurrency, mp_context=context) as pool:
        yield pool


@contextlib.contextmanager
def dask_executor(address: str, *, connect_timeout_s: float = 30) -> Iterator[cf.Executor]:
    """The executor of a Dask cluster at `address` (e.g. tcp://10.0.0.5:8786); the client is closed
    at the end (the cluster is the course team's and keeps running)."""
    from distributed import Client

    client = Client(address, timeout=connect_timeout_s)
    try:
        # pure=False: two submissions of the same run (a retry) are two tasks, not one cached result.
        yield client.get_executor(pure=False)
    finally:
        client.close()


def execute_runs(
    runs: list[Run],
    *,
    concurrency: int = 1,
    scheduler: str | None = None,
    executor_factory: Callable[[], contextlib.AbstractContextManager[cf.Executor]] | None = None,
    options: ExecutionOptions = ExecutionOptions(),
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> list[Record]:
    """Run `runs` at most `concurrency` at a time; return their records in the order of `runs`.

    `executor_factory` (a context manager giving any concurrent.futures.Executor) overrides the
    choice between the local pool and `scheduler`.
    """
    if concurrency < 1:
        raise ValueError("concurrency is 1 or more")
    if executor_factory is None:
        if scheduler:
            executor_factory = lambda: dask_executor(scheduler)  # noqa: E731
        else:
            executor_factory = lambda: local_pool(min(concurrency, max(1, len(runs))))  # noqa: E731
    records: dict[str, Record] = {}
    pending = deque(runs)
    bar = None
    counts = {"ok": 0, "not ok": 0}
    try:
        while pending:
            with executor_factory() as executor:
                bar = bar or _progress_bar(len(runs), progress)
                say = echo or bar.write
                broken = _drain(executor, pending, records, concurrency, bar, say, counts,
                                {"options": options})
            if not broken:
                break
            say("the worker pool broke (a worker process died); going on with a fresh pool")
    finally:
        if bar is not None:
            bar.close()
    return [records[r.id] for r in runs if r.id in records]


def _drain(executor, pending, records, concurrency, bar, say, counts, options) -> bool:
    """Submit and collect until nothing is pending; True if the pool broke and must be replaced."""
    in_flight: dict[cf.Future, Run] = {}
    broken = False
    try:
        while pending or in_flight:
            while pending and len(in_flight) < concurrency and not broken:
                run = pending.popleft()
                try:
                    in_flight[executor.submit(run_one, run, **options)] = run
                except BrokenProcessPool:
                    pending.appendleft(run)
                    broken = True
            if not in_flight:
                return broken
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for future in done:
                run = in_flight.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken = True
                    record = _failed_to_run(run, "the worker running it died (broken process pool); "
                                                 "rerun the batch to retry it")
                except Exception as exc:  # noqa: BLE001 - a run's failure is its record, not the batch's
                    record = _failed_to_run(run, f"{type(exc).__name__}: {exc}")
                records[run.id] = record
                ok = record["status"] == "ok"
                counts["ok" if ok else "not ok"] += 1
                if not ok:
                    where = f" at cell {record['failing_cell']}" if record.get("failing_cell") is not None else ""
                    say(f"{run.id}: {record['status']}{where}: {record.get('error', '')}")
                bar.set_postfix(counts, refresh=False)
                bar.update(1)
    except BaseException:
        for future in in_flight:
            future.cancel()
        raise
    return broken


def _failed_to_run(run: Run, error: str) -> Record:
    record = error_record(run, error)
    try:
        write_record(run.record_path, record)
    except OSError:
        pass
    return record


class _NoBar:
    def update(self, n=1): pass
    def set_postfix(self, *a, **k): pass
    def close(self): pass
    def write(self, text): print(text, file=sys.stderr)


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="batch", file=sys.stderr, dynamic_ncols=True)
