"""`clinic batch`: papermill batches for instructors, the night before a clinic and after it.

    clinic batch run GRID.yaml [--out DIR] [--concurrency N] [--scheduler ADDRESS] [--force]
    clinic batch grade SUBMISSIONS [--out DIR] [--concurrency N] [--scheduler ADDRESS] [--force]
    clinic batch rubric [MODULE ...]

Every run executes in a fresh workspace of its own under DIR/runs/<run id>/, next to its executed
notebook, papermill's log and record.json. A rerun skips the runs that left a record for the same
notebook and parameters (--retry-failed reruns those that were not ok, --force reruns all), then
rewrites DIR/summary.csv and DIR/summary.html for the whole batch (grading: also grades.csv,
grades.html and, for the open questions, rubric.html). The exit code is 1 when any run was not ok, 2 for a bad grid or folder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from mlops_clinic import paths
from mlops_clinic.batch.plan import DEFAULT_CELL_TIMEOUT_S, DEFAULT_TIMEOUT_S, GridError, Run, load_grid, plan
from mlops_clinic.batch.report import summary_line, write_summary
from mlops_clinic.batch.run import is_finished, read_record
from mlops_clinic.execute import ExecutionOptions, add_execution_arguments, options_from
from mlops_clinic.supervisor import network_isolation

GRID_HELP = """\
grid file (YAML):

  notebooks:                      # paths relative to the grid file's folder, else to the kit
    - notebooks/00_welcome.ipynb
    - {path: notebooks/05_monitoring.ipynb, timeout: 2400}   # its own whole-run limit (s)
  parameters:                     # every combination of these values; a single value is fixed
    seed: [1, 2]
    scenario: [baseline, drift]
  cases:                          # optional: sets that go together, each crossed with the grid
    - {participant: p01, maturity_answers: answers/p01.yaml}
    - {participant: p02, maturity_answers: {business: {use_cases: 2}}}
  timeout: 1800                   # optional: whole-run limit per notebook (s)
  cell_timeout: 600               # optional: limit per cell (s)
  concurrency: 2                  # optional: runs at once (--concurrency wins)

Runs = notebooks x cases x parameter combinations; `workspace` is set by the batch (one fresh
workspace per run). Output: DIR/runs/<run id>/ (executed notebook, log, record.json, workspace/),
DIR/summary.csv and DIR/summary.html. Exit code 1 when any run failed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__.split("\n\n", 1)[0] + "\n\n" + __doc__.split("\n\n", 2)[2]
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_p = sub.add_parser("run", help="run notebooks x parameters from a grid file",
                           description="Run notebooks x parameters, each in its own workspace.",
                           epilog=GRID_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    run_p.add_argument("grid", type=Path, help="the grid file (YAML, format below)")
    grade_p = sub.add_parser("grade", help="run participants' exercise notebooks and report each check",
                             description=(
                                 "Grade a folder of submissions: one folder per participant holding "
                                 "their exercise notebooks (or PARTICIPANT.ipynb files). Each runs in a "
                                 "fresh workspace, on past errors, isolated (its own HOME, TMPDIR and "
                                 "environment; no network where the platform allows it), but as your "
                                 "user: grade in a container, a VM or a throw-away account. "
                                 "grades.csv/html give each question's outcome per participant."))
    grade_p.add_argument("submissions", type=Path, help="folder of submissions")
    rubric_p = sub.add_parser("rubric", help="print the rubric of the open questions (Markdown)",
                              description=("The rules each open question is checked by, their points, and "
                                           "what to look for in the participants' reasons; grading writes "
                                           "the same next to each participant's answer in rubric.html."))
    rubric_p.add_argument("modules", nargs="*", metavar="MODULE", help="module numbers (default: all)")
    for p in (run_p, grade_p):
        p.add_argument("--out", type=Path, default=None,
                       help="folder for everything the batch writes (default build/batch/<grid or folder name>)")
        p.add_argument("--concurrency", "-j", type=positive_int, default=None,
                       help="runs at once (default: the grid's, else 1; each run is a kernel, often 300-1000 MB)")
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on a Dask cluster (e.g. tcp://10.0.0.5:8786) instead of a local process pool")
        # --timeout and --cell-timeout replace the grid's limits (default: the grid's, else
        # DEFAULT_TIMEOUT_S and DEFAULT_CELL_TIMEOUT_S of batch/plan.py)
        add_execution_arguments(p, whole_run=True)
        p.add_argument("--force", action="store_true", help="rerun every run, even those already finished")
        p.add_argument("--retry-failed", action="store_true", help="rerun the finished runs that were not ok")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more (0 runs at once would never finish)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of runs at once, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"1 or more runs at once, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    if args.action == "rubric":
        from mlops_clinic.checks.open_questions import course_rubric

        print(course_rubric([m.zfill(2) for m in args.modules]), end="")
        return 0
    try:
        if args.action == "run":
            grid = load_grid(args.grid)
            out = _out(args.out, args.grid.stem)
            if args.timeout is not None:
                grid.timeout_s = args.timeout
                for entry in grid.notebooks:
                    entry.timeout_s = None  # the command line wins over the grid
            if args.cell_timeout is not None:
                grid.cell_timeout_s = args.cell_timeout
            runs = plan(grid, out)
            concurrency = args.concurrency or grid.concurrency or 1
        else:
            from mlops_clinic.batch.grade import plan_grading

            out = _out(args.out, Path(args.submissions).resolve().name)
            runs = plan_grading(args.submissions, out, timeout_s=args.timeout or DEFAULT_TIMEOUT_S,
                                cell_timeout_s=args.cell_timeout or DEFAULT_CELL_TIMEOUT_S)
            concurrency = args.concurrency or 1
            # Probed here, once: the local pool's workers are forked after it and keep the answer.
            network_isolation()
    except (GridError, FileNotFoundError) as exc:
        print(f"clinic batch: {exc}", file=sys.stderr)
        return 2
    if not runs:
        print("clinic batch: nothing to run (no notebook, or an empty folder of submissions)", file=sys.stderr)
        return 2
    try:
        records, wall = run_batch(runs, out, concurrency=concurrency, scheduler=args.scheduler,
                                  force=args.force, retry_failed=args.retry_failed,
                                  options=options_from(args),
                                  progress=not args.no_progress)
    except KeyboardInterrupt:
        print("\nclinic batch: interrupted. Finished runs keep their records: run the same command "
              "again to resume.", file=sys.stderr)
        return 130
    except OSError as exc:
        if not args.scheduler:
            raise
        print(f"clinic batch: could not use the Dask scheduler at {args.scheduler}: {exc}. Is it "
              "running, and reachable from this machine?", file=sys.stderr)
        return 2
    if args.action == "grade":
        from mlops_clinic.batch.grade import network_line, write_grades

        grades = write_grades(out, records)
        print(f"Grades: {grades[0]} and {', '.join(p.name for p in grades[1:])}; {network_line(records)}")
    print(summary_line(records, wall))
    print(f"Executed notebooks, records and summary.csv/summary.html are in {out}")
    return 0 if records and all(r["status"] == "ok" for r in records) else 1


def run_batch(runs: list[Run], out: Path, *, concurrency: int = 1, scheduler: str | None = None,
              force: bool = False, retry_failed: bool = False, progress: bool = True,
              options: ExecutionOptions = ExecutionOptions(), executor_factory=None,
              echo=None) -> tuple[list[dict[str, Any]], float]:
    """Run what is not finished yet, then write the summary of every run; (records, wall seconds)."""
    from mlops_clinic.batch.executors import execute_runs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done: dict[str, dict[str, Any]] = {}
    todo = []
    for r in runs:
        record = None if force else read_record(r)
        if is_finished(record, r, retry_failed=retry_failed):
            done[r.id] = {**record, "resumed": True}
        else:
            todo.append(r)
    say = echo or (lambda text: print(text, file=sys.stderr))
    if done:
        say(f"{len(done)} run(s) already finished, skipped (--force reruns them); {len(todo)} to run")
    started = time.monotonic()
    new = execute_runs(todo, concurrency=concurrency, scheduler=scheduler, progress=progress,
                       options=options,
                       executor_factory=executor_factory, echo=echo) if todo else []
    wall = time.monotonic() - started
    done.update({r["id"]: r for r in new})
    records = [done[r.id] for r in runs if r.id in done]
    write_summary(out, records, wall_s=wall)
    return records, wall


def _out(given: Path | None, name: str) -> Path:
    return (given or paths.REPO_ROOT / "build" / "batch" / name).expanduser().resolve()


def main(argv: list[str] | None = None) -> int:
    from mlops_clinic import cli

    return cli.main(["batch", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
