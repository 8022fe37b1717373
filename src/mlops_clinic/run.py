"""`clinic run`: the whole course, headless, in one workspace, as a participant would take it.

Order: 00 lesson, 00 solution, 01 lesson, 01 solution ... A failing notebook is reported and the
rest still run, so one run shows every problem; the exit code is 1 if any notebook was not ok.

Ctrl-C, SIGTERM and SIGHUP stop the run cleanly: the notebook running is stopped with its kernel and
everything it started, the summary of what ran is printed, and the exit code is 128 + the signal's
number. Even kill -9 leaves nothing running on the workspace (mlops_clinic.supervisor).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from . import paths
from .catalogue import course
from .execute import (
    ExecutionOptions, RunResult, add_execution_arguments, execute_notebook, options_from, summary_csv,
    summary_table,
)
from .files import write_atomic
from .workspace import add_workspace_argument
from .workspace_lock import workspace_lock

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A signal asked `clinic run` to stop; `results` holds what ran, the stopped notebook last.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows it.
    """

    def __init__(self, signum: int, results: list[RunResult] | None = None):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.results = results or []


def _module_ids(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    ids = []
    for value in values:
        for part in value.replace(",", " ").split():
            if not part.isdigit():
                raise SystemExit(f"clinic run: --only takes module numbers such as 03, not {part!r}")
            ids.append(f"{int(part):02d}")
    return ids


def run_course(notebooks: list[Path], output: Path, *, workspace=None,
               options: ExecutionOptions = ExecutionOptions(), echo=print) -> list[RunResult]:
    """Execute `notebooks` one after the other into `output`, all in the same workspace.

    Raises Stopped (with the results so far) when a signal stops the run.
    """
    from .workspace import Workspace  # written alongside this module; imported when needed

    ws = Workspace.resolve(workspace).create()  # idempotent: tool dirs exist before the kernel starts
    # The whole course holds the workspace: a notebook opened meanwhile waits instead of building
    # the same stages. The kernels run below this process, so their own setup goes on.
    with workspace_lock(ws, "clinic run"):
        return _run_in(ws, notebooks, output, options=options, echo=echo)


def _run_in(ws, notebooks: list[Path], output: Path, *, options: ExecutionOptions, echo) -> list[RunResult]:
    env, ws_dir = ws.env(), str(ws.root)
    results: list[RunResult] = []
    running = None
    try:
        for i, nb in enumerate(notebooks, 1):
            running = nb
            target = output / nb.parent.name / nb.name  # a lesson and a solution may share a name
            echo(f"[{i}/{len(notebooks)}] {nb.parent.name}/{nb.name} ...", end=" ", flush=True)
            r = execute_notebook(nb, target, parameters={"workspace": ws_dir}, env=env, cwd=nb.parent,
                                 options=options)
            results.append(r)
            running = None
            echo(f"{r.status} in {r.duration_s:.1f} s" + (f": {r.error}" if r.error else ""))
    except Stopped as stop:  # execute_notebook stopped the run's processes on its way out
        if running is not None:
            echo(f"stopped ({stop})")
            results.append(RunResult(f"{running.parent.name}/{running.name}", "stopped", 0.0, 0.0,
                                     error=f"Stopped: clinic run received {stop}"))
        stop.results = results
        raise
    return results


def hold_signals() -> None:
    """From here on the stop signals are ignored (until stop_on_signals ends): the run is ending."""
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


@contextlib.contextmanager
def stop_on_signals():
    """Turn SIGINT, SIGTERM and SIGHUP into Stopped, once: while the run is being stopped, further
    signals are ignored, so the clean-up and the summary are not cut short."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return

    def stop(signum, frame):
        hold_signals()
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for the executed notebooks, logs and summary.csv (default build/run)")
    add_workspace_argument(parser)
    parser.add_argument("--only", action="append", metavar="NN",
                        help="run only these modules (repeat, or 01,02)")
    add_execution_arguments(parser)


def run(args: argparse.Namespace) -> int:
    notebooks = course().in_order(_module_ids(args.only))
    if not notebooks:
        print("clinic run: no notebook matches" + (f" --only {' '.join(args.only)}" if args.only else ""),
              file=sys.stderr)
        return 1
    output = (args.output or paths.REPO_ROOT / "build" / "run").resolve()
    output.mkdir(parents=True, exist_ok=True)
    stopped = None
    with stop_on_signals():
        try:
            results = run_course(notebooks, output, workspace=args.workspace, options=options_from(args))
        except Stopped as stop:
            results, stopped = stop.results, stop
        hold_signals()
        write_atomic(output / "summary.csv", summary_csv(results))
        _report(results, output, stopped)
    if stopped is not None:
        return 128 + stopped.signum
    return 0 if all(r.ok for r in results) else 1


def _report(results: list[RunResult], output: Path, stopped: Stopped | None) -> None:
    """The summary on stdout; after a SIGHUP the terminal may be gone, and summary.csv is enough."""
    try:
        print()
        print(summary_table(results), end="")
        if stopped is not None:
            print(f"clinic run: stopped by {stopped}; the notebooks after it did not run.")
        print(f"Executed notebooks, logs and summary.csv are in {output}")
        sys.stdout.flush()
    except OSError:
        pass


def main(argv=None) -> int:
    from mlops_clinic import cli

    return cli.main(["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
