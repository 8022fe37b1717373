"""`clinic run` stopped by a signal, or killed: papermill, its kernel and what the notebook started
all end with it (a rerun would race them on the workspace); TERM, HUP and Ctrl-C print the summary.

Each test starts `clinic run` as a real process on a tiny kit whose one notebook sleeps, with a
daemon of its own (double fork and setsid), then signals the `clinic run` process alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

SLEEPER = """\
import json, os, time
daemon_pid = os.path.join(workspace, "daemon.pid")
child = os.fork()
if child == 0:  # a daemon: fork, setsid, fork again; its parent exits at once
    os.setsid()
    if os.fork() == 0:
        with open(daemon_pid + ".tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.rename(daemon_pid + ".tmp", daemon_pid)
        os.execvp("sleep", ["sleep", "600"])
    os._exit(0)
os.waitpid(child, 0)
while not os.path.exists(daemon_pid):
    time.sleep(0.05)
with open(os.path.join(workspace, "kernel.pid.tmp"), "w") as handle:
    handle.write(str(os.getpid()))
os.rename(os.path.join(workspace, "kernel.pid.tmp"), os.path.join(workspace, "kernel.pid"))
time.sleep(600)
"""


@pytest.fixture
def kit(tmp_path):
    """A kit with one notebook, 00_sleep, that starts a daemon and sleeps."""
    (tmp_path / "kit" / "notebooks").mkdir(parents=True)
    (tmp_path / "kit" / "solutions").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(SLEEPER)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["clinic"] = {"module": "00", "kind": "lesson", "title": "Sleep", "objectives": ["wait"],
                             "minutes": {"teaching": 1, "exercises": 0}}
    nbformat.write(nb, tmp_path / "kit" / "notebooks" / "00_sleep.ipynb")
    return tmp_path / "kit"


@pytest.fixture
def clinic_run(kit, tmp_path):
    """Starts `clinic run` on the kit and returns (process, every process of the run) once the
    notebook sleeps; whatever a failing test leaves is killed by PID afterwards."""
    started: list[psutil.Process] = []

    def start():
        workspace = tmp_path / "workspace"
        run = subprocess.Popen(
            [sys.executable, "-m", "mlops_clinic.run", "--workspace", str(workspace),
             "--output", str(tmp_path / "out"), "--cell-timeout", "600"],
            env={**os.environ, "MLOPS_CLINIC_REPO": str(kit)}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        started.append(psutil.Process(run.pid))
        kernel_pid = workspace / "kernel.pid"
        deadline = time.monotonic() + 180
        while not kernel_pid.exists():
            if run.poll() is not None or time.monotonic() > deadline:
                run.kill()
                out, err = run.communicate()
                pytest.fail(f"the notebook never started sleeping:\n{out[-2000:]}\n{err[-2000:]}")
            time.sleep(0.2)
        tree = psutil.Process(run.pid).children(recursive=True)
        daemon = psutil.Process(int((workspace / "daemon.pid").read_text()))
        started.extend([*tree, daemon])
        cmdlines = [" ".join(p.cmdline()) for p in tree]
        assert any("papermill" in c for c in cmdlines), cmdlines
        assert int(kernel_pid.read_text()) in [p.pid for p in tree] and "ipykernel" in " ".join(cmdlines)
        assert daemon.cmdline() == ["sleep", "600"]
        return run, [p for p in tree if p.pid != daemon.pid] + [daemon]

    yield start
    for p in started:
        if _running(p):
            p.kill()


def still_running(processes, within_s=30):
    deadline = time.monotonic() + within_s
    while True:
        alive = [p for p in processes if _running(p)]
        if not alive or time.monotonic() > deadline:
            return [f"{p.pid} {' '.join(p.cmdline()[:3])}" for p in alive if _running(p)]
        time.sleep(0.2)


def _running(p):
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_ends_the_run_with_its_kernel_and_prints_the_summary(clinic_run, tmp_path, sig):
    run, processes = clinic_run()
    run.send_signal(sig)
    out, err = run.communicate(timeout=120)
    assert still_running(processes) == []
    assert run.returncode == 128 + sig
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "notebooks/00_sleep.ipynb  stopped" in out, out
    assert f"clinic run: stopped by {sig.name}" in out
    assert "stopped" in (tmp_path / "out" / "summary.csv").read_text()


def test_kill_9_of_clinic_run_leaves_nothing_running(clinic_run):
    run, processes = clinic_run()
    run.kill()
    run.communicate(timeout=60)
    assert run.returncode == -signal.SIGKILL
    assert still_running(processes) == []
