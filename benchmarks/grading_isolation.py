"""What isolating a graded submission costs per run: a trivial notebook graded isolated and not.

    .venv/bin/python benchmarks/grading_isolation.py              # 5 runs each way
    .venv/bin/python benchmarks/grading_isolation.py --runs 10

The same one-cell submission, graded one run at a time, alternating isolated (its workspace's
environment only, HOME/TMPDIR/current folder in the workspace, a network namespace where the
platform allows it) and not isolated (the grader's environment, the submission's folder), so both
see the same background load. Prints each run's seconds (papermill's subprocess, as the record
says, and the run as a whole, workspace creation included) and the median and mean of each way.
Isolation happens once per run, before the kernel starts: the difference is the overhead. Then the
fixed costs apart from any kernel: a trivial command started bare, under the supervisor that every
run has, and under the supervisor in a network namespace.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from mlops_clinic.batch.grade import plan_grading
from mlops_clinic.batch.run import run_one
from mlops_clinic.supervisor import network_isolation

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "grading-isolation"


def trivial_submission(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print(1 + 1)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def grade_once(isolate: bool, index: int) -> tuple[float, float]:
    """(record seconds, whole-run seconds) of one graded run."""
    subs = WORK / f"{'isolated' if isolate else 'plain'}-{index}" / "submissions"
    trivial_submission(subs / "p01.ipynb")
    [run] = plan_grading(subs, subs.parent / "out")
    run.extra["isolate"] = isolate
    started = time.monotonic()
    record = run_one(run)
    whole = time.monotonic() - started
    if record["status"] != "ok":
        raise SystemExit(f"run {index} ({'isolated' if isolate else 'plain'}) was {record['status']}: "
                         f"{record['error']}")
    return record["duration_s"], whole


def fixed_costs(starts: int = 20) -> None:
    """The supervisor's own cost, apart from any kernel: a trivial command started bare, under the
    supervisor, and under the supervisor in a network namespace (median of `starts` each)."""
    WORK.mkdir(parents=True, exist_ok=True)
    report = WORK / "report.json"
    supervisor = [sys.executable, "-m", "mlops_clinic.supervisor", "--report", str(report),
                  "--parent", str(os.getpid())]
    trivial = [sys.executable, "-c", "pass"]
    ways = {"bare": trivial, "supervised": [*supervisor, "--", *trivial],
            "supervised, no network": [*supervisor, "--isolate-network", "--", *trivial]}
    for name, command in ways.items():
        seconds = []
        for _ in range(starts):
            started = time.monotonic()
            subprocess.run(command, check=True, start_new_session=True)
            seconds.append(time.monotonic() - started)
        print(f"{name:<24} median {statistics.median(seconds) * 1000:5.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs each way (default 5)")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    probe_started = time.monotonic()
    _, network = network_isolation()
    print(f"network probe (once per process): {time.monotonic() - probe_started:.2f} s; {network}")
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for index in range(args.runs):
        for isolate in (False, True):
            times[isolate].append(grade_once(isolate, index))
            record_s, whole_s = times[isolate][-1]
            print(f"run {index + 1} {'isolated' if isolate else 'plain   '}: record {record_s:5.2f} s, "
                  f"whole run {whole_s:5.2f} s", flush=True)
    for isolate in (False, True):
        record_s = [r for r, _ in times[isolate]]
        whole_s = [w for _, w in times[isolate]]
        print(f"{'isolated' if isolate else 'plain   '}: record median {statistics.median(record_s):.2f} s "
              f"mean {statistics.mean(record_s):.2f} s; whole run median {statistics.median(whole_s):.2f} s "
              f"mean {statistics.mean(whole_s):.2f} s")
    overhead = statistics.median(w for _, w in times[True]) - statistics.median(w for _, w in times[False])
    print(f"isolation overhead per run (median of whole runs): {overhead:+.2f} s")
    fixed_costs()
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
