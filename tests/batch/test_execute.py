"""mlops_clinic.execute: one notebook run headless, measured, classified and cleaned up after.

The kernel tests start real kernels (a few seconds each, mostly papermill's import), with every
Jupyter/IPython directory inside tmp_path so nothing lands in $HOME.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

from mlops_clinic.execute import (
    ExecutionOptions,
    FailingCell,
    RunResult,
    _last_error,
    _start_race,
    execute_notebook,
    summary_csv,
    summary_table,
)


def make_nb(path, *sources):
    """A notebook with the kit's `parameters` cell first, then one code cell per source, and the
    `clinic` metadata the course catalogue reads (module from the file name)."""
    path = Path(path)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]})
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    kind = {"notebooks": "lesson", "solutions": "solution"}.get(path.parent.name, "lesson")
    nb.metadata["clinic"] = {"module": path.name[:2], "kind": kind, "title": path.stem,
                             "objectives": ["run"], "minutes": {"teaching": 1, "exercises": 0}}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def env(tmp_path):
    dirs = {name: tmp_path / "home" / name.lower() for name in
            ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR", "MPLCONFIGDIR")}
    for d in dirs.values():
        d.mkdir(parents=True)
    return {k: str(v) for k, v in dirs.items()}


def run(tmp_path, env, *sources, kernel_name="python3", **limits):
    """Execute the sources as a notebook; `limits` are ExecutionOptions' fields (cells: 60 s)."""
    nb = make_nb(tmp_path / "nb.ipynb", *sources)
    options = ExecutionOptions(**{"cell_timeout_s": 60, **limits})
    return execute_notebook(nb, tmp_path / "out" / "nb.ipynb", parameters={"workspace": str(tmp_path)},
                            env=env, cwd=tmp_path, options=options, kernel_name=kernel_name)


def test_good_notebook_runs_with_parameters_cwd_and_env(tmp_path, env, no_process_left):
    env["CLINIC_TEST_VALUE"] = "from-env"
    r = run(tmp_path, env,
            "import os; print(workspace, os.getcwd(), os.environ['CLINIC_TEST_VALUE'])",
            "x = list(range(10**6))")
    assert r.status == "ok", r
    assert r.returncode == 0 and r.attempts == 1 and r.error == "" and r.failing_cell is None
    assert r.duration_s > 0 and r.peak_mb > 0
    out = nbformat.read(r.output_path, as_version=4)
    printed = "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", []))
    assert printed.split() == [str(tmp_path), str(tmp_path), "from-env"]
    assert os.path.exists(r.log_path)


def test_cell_error_names_the_cell_and_the_error(tmp_path, env, no_process_left):
    r = run(tmp_path, env, "x = 1", "y = 2", "# NBVAL_IGNORE_OUTPUT\n1/0", "print('never')")
    assert r.status == "failed"
    # Index in the input notebook (papermill's output has extra cells); first line of code.
    assert r.failing_cell == FailingCell(3, "1/0")
    assert r.error == "ZeroDivisionError: division by zero"
    assert r.returncode == 1 and r.attempts == 1  # a genuine cell error is not retried


def test_cell_over_the_execution_timeout(tmp_path, env, no_process_left):
    r = run(tmp_path, env, "import time\ntime.sleep(60)", cell_timeout_s=1)
    assert r.status == "timeout"
    assert r.failing_cell == FailingCell(1, "import time")
    assert r.error.startswith("CellTimeoutError: ")
    assert r.duration_s < 40


def test_dead_kernel_is_reported_as_killed(tmp_path, env, no_process_left):
    r = run(tmp_path, env, "x = 1", "import os; os._exit(1)", "print('never')")
    assert r.status == "killed"
    assert r.returncode == 138  # papermill's code for a dead kernel
    assert r.failing_cell == FailingCell(2, "import os; os._exit(1)")
    assert r.error.startswith("DeadKernelError: the kernel died")
    assert r.attempts == 1  # cells had run: not a start race


def test_wall_timeout_stops_the_whole_tree(tmp_path, env, no_process_left):
    pid_file = tmp_path / "kernel.pid"
    r = run(tmp_path, env, f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            "time.sleep(60)", wall_timeout_s=12)
    assert r.status == "timeout" and r.returncode is None
    assert r.error == "WallTimeout: the run took longer than 12 s"
    assert r.duration_s < 30
    kernel = int(pid_file.read_text())  # the kernel had started: it must be gone too
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE


def test_processes_the_notebook_leaves_are_stopped_and_reported(tmp_path, env, no_process_left):
    pid_file = tmp_path / "pid"
    r = run(tmp_path, env,
            "import subprocess, time\n"
            "p = subprocess.Popen(['sleep', '120'], start_new_session=True)\n"
            f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
            "time.sleep(0.6)")
    assert r.status == "ok"
    pid = int(pid_file.read_text())
    assert f"sleep[{pid}]" in r.leftovers
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_kernel_that_never_starts_is_retried(tmp_path, env, no_process_left):
    spec = tmp_path / "home" / "jupyter_data_dir" / "kernels" / "broken"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "raise SystemExit(3)", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "broken", "language": "python"}))
    r = run(tmp_path, env, "print(1)", kernel_name="broken", start_retries=1, start_timeout_s=20)
    assert r.status == "failed" and r.attempts == 2
    assert "Kernel died before replying to kernel_info" in r.error
    assert "did not start in 2 attempts" in r.error


@pytest.mark.parametrize("log, race", [
    ("RuntimeError: Kernel didn't respond in 60 seconds", True),
    ("zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:5555')", True),
    ("RuntimeError: Kernel died before replying to kernel_info", True),
    ("ZeroDivisionError: division by zero", False),
])
def test_start_races_are_told_from_notebook_errors(tmp_path, log, race):
    assert _start_race(log, tmp_path / "missing.ipynb") is race


def test_last_error_line_of_a_log():
    log = ("Traceback (most recent call last):\n  File \"x\", line 1\n"
           "    raise ValueError('not this: one')\n"
           "nbclient.exceptions.CellTimeoutError: A cell timed out after 5 seconds.\n"
           "The message was: Cell execution timed out.\n")
    assert _last_error(log) == "CellTimeoutError: A cell timed out after 5 seconds."
    assert _last_error("nothing here") == ""


def test_summary_table_and_csv():
    results = [
        RunResult("notebooks/00_intro.ipynb", "ok", 12.34, 310.2),
        RunResult("solutions/00_intro.ipynb", "failed", 3.0, 150.0, FailingCell(3, "1/0"),
                  "ZeroDivisionError: division by zero", 1),
        RunResult("notebooks/01_data.ipynb", "ok", 5.0, 200.0, leftovers=["sleep[42]"]),
    ]
    table = summary_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["notebook", "status", "seconds", "peak", "MB", "error"]
    assert "notebooks/00_intro.ipynb  ok" in lines[2] and "12.3" in lines[2] and "310" in lines[2]
    assert "cell 3: 1/0 -> ZeroDivisionError: division by zero" in lines[3]
    assert "sleep[42]" in lines[4]
    assert lines[-1].startswith("3 notebook(s), 1 not ok, 20.3 s")
    # Fixed width: the status column starts at the same place on every row.
    assert len({line.index(" ok ") if " ok " in line else line.index(" failed ") for line in lines[2:5]}) == 1

    rows = summary_csv(results).splitlines()
    assert rows[0].startswith("notebook,status,duration_s,peak_mb,failing_cell,failing_source,error")
    assert rows[2] == "solutions/00_intro.ipynb,failed,3.00,150.0,3,1/0,ZeroDivisionError: division by zero,1,1,"


# --- clinic run: the course in order, one workspace, failures reported, not fatal ---------------------------


@pytest.fixture
def course(tmp_path, monkeypatch):
    from mlops_clinic import paths

    for name, sub in (("REPO_ROOT", ""), ("NOTEBOOKS_DIR", "notebooks"), ("SOLUTIONS_DIR", "solutions")):
        (tmp_path / sub).mkdir(exist_ok=True)
        monkeypatch.setattr(paths, name, tmp_path / sub)
    return tmp_path


def test_course_order_lesson_before_its_solution(course):
    from mlops_clinic.catalogue import course as catalogue
    from mlops_clinic.run import _module_ids

    for rel in ("solutions/01_track.ipynb", "notebooks/01_track.ipynb", "notebooks/00_intro.ipynb",
                "solutions/00_intro_ex.ipynb", "notebooks/10_last.ipynb", "notebooks/README.ipynb"):
        make_nb(course / rel)
    course_notebooks = catalogue().in_order
    names = [f"{p.parent.name}/{p.name}" for p in course_notebooks()]
    assert names == ["notebooks/00_intro.ipynb", "solutions/00_intro_ex.ipynb", "notebooks/01_track.ipynb",
                     "solutions/01_track.ipynb", "notebooks/10_last.ipynb"]
    assert _module_ids(["1,10", "0"]) == ["01", "10", "00"]
    assert [p.name for p in course_notebooks(["10"])] == ["10_last.ipynb"]
    with pytest.raises(SystemExit, match="module numbers"):
        _module_ids(["intro"])


def test_clinic_run_goes_on_after_a_failure(course, env, monkeypatch, capsys, no_process_left):
    import argparse
    import types

    from mlops_clinic import run as course_mod

    class FakeWorkspace:  # stands in for mlops_clinic.workspace.Workspace
        def __init__(self, root):
            self.root = root

        @classmethod
        def resolve(cls, path):
            return cls(path)

        def create(self):
            return self

        def env(self):
            return env

    monkeypatch.setitem(sys.modules, "mlops_clinic.workspace", types.SimpleNamespace(Workspace=FakeWorkspace))
    ws = course / "ws"
    ws.mkdir()
    make_nb(course / "notebooks" / "00_intro.ipynb", "1/0")
    make_nb(course / "solutions" / "00_intro.ipynb",
            "import pathlib; pathlib.Path(workspace, 'seen').write_text('yes')")

    parser = argparse.ArgumentParser()
    course_mod.add_arguments(parser)
    args = parser.parse_args(["--workspace", str(ws), "--output", str(course / "out"), "--cell-timeout", "60"])
    assert course_mod.run(args) == 1
    out = capsys.readouterr().out
    assert "notebooks/00_intro.ipynb  failed" in out and "solutions/00_intro.ipynb  ok" in out
    assert (ws / "seen").read_text() == "yes"  # the second notebook ran, in the same workspace
    rows = (course / "out" / "summary.csv").read_text().splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [["notebooks/00_intro.ipynb", "failed"],
                                                   ["solutions/00_intro.ipynb", "ok"]]
    assert (course / "out" / "notebooks" / "00_intro.ipynb").exists()
