"""Headless wall time and peak memory of each lesson and solution notebook.

    .venv/bin/python benchmarks/lessons.py                 # every module
    .venv/bin/python benchmarks/lessons.py --only 01 02    # some modules
    .venv/bin/python benchmarks/lessons.py --only 02 --course

Each notebook runs twice in a workspace of its own: "first" on an empty workspace (its setup cell
builds what earlier modules would have built), then "again" in the same workspace, as a
participant re-running it would. With --course, the notebooks instead run one after the other in
one shared workspace, in course order, as `clinic run` does: setup cells then find the earlier
modules' work done. Peak memory is the whole process tree (papermill, the kernel, and everything
the notebook starts: DVC, training scripts, servers), sampled every 0.2 s. "CPU s" is the CPU time
of that tree: on a shared machine, wall time grows with the other load; CPU time hardly does.
Aim (issue 4): each lesson under 60 s and under 1 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
from pathlib import Path

from mlops_clinic.catalogue import course
from mlops_clinic.execute import ExecutionOptions, execute_notebook
from mlops_clinic.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "lessons"


def _cpu_seconds() -> float:
    # User + system time of every finished descendant (papermill, the kernel, DVC, training
    # scripts, servers), which each parent reaps in turn: a measure that other processes on a
    # shared machine do not inflate the way they inflate wall time.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(notebook: Path, workspace: Workspace, label: str):
    out = WORK / label / notebook.parent.name / notebook.name
    before = _cpu_seconds()
    result = execute_notebook(notebook, out, parameters={"workspace": str(workspace.root)},
                              env=workspace.env(), cwd=notebook.parent, options=ExecutionOptions())
    return result, _cpu_seconds() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="module numbers, e.g. 01 02 (default: all)")
    parser.add_argument("--course", action="store_true",
                        help="one shared workspace, in course order, like `clinic run`")
    args = parser.parse_args()
    only = [f"{int(m):02d}" for m in args.only] if args.only else None
    notebooks = course().in_order(only)
    shutil.rmtree(WORK, ignore_errors=True)
    print(f"{'notebook':<40} {'run':<6} {'status':<7} {'seconds':>8} {'CPU s':>7} {'peak MB':>8}")
    worst = 0
    shared = Workspace(WORK / "course" / "workspace").create() if args.course else None
    for notebook in notebooks:
        name = f"{notebook.parent.name}/{notebook.name}"
        if shared is not None:
            runs = [("course", shared)]
        else:
            ws = Workspace(WORK / "fresh" / notebook.parent.name / notebook.stem / "workspace").create()
            runs = [("first", ws), ("again", ws)]
        for label, ws in runs:
            r, cpu = _run(notebook, ws, label)
            note = "" if r.ok else f"  {r.failing_cell}: {r.error}"
            print(f"{name:<40} {label:<6} {r.status:<7} {r.duration_s:>8.1f} {cpu:>7.1f} "
                  f"{r.peak_mb:>8.0f}{note}", flush=True)
            worst = max(worst, 0 if r.ok else 1)
    print(f"(load average when finished: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} CPUs)")
    return worst


if __name__ == "__main__":
    sys.exit(main())
