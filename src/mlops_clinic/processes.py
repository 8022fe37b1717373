"""Processes the kit starts, found and stopped by PID: never by name, never this process or its
ancestors. One place for what servers, `clinic run`, its supervisor, `clinic stop` and the tests
need: a process tree stopped (SIGTERM, then SIGKILL for what lingers), the processes inside a
workspace, and whether a process still runs (a zombie does not: only its parent can collect it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil


def stop_group(pid: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    # Some servers' workers start their own session (BentoML's do), so the process group alone
    # misses them: list every descendant first, while the leader still knows its children.
    tree = descendants(pid)
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    for child in tree:
        send(child, signal.SIGTERM)
    _, lingering = psutil.wait_procs(tree, timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                break
        elif not pid_alive(pid):
            break
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)  # workers that ignored SIGTERM, or a stuck leader
    except ProcessLookupError:
        pass
    for child in lingering:
        send(child, signal.SIGKILL)
    psutil.wait_procs(lingering, timeout=5)
    if process is not None:
        process.wait(timeout=5)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def send(process: psutil.Process, sig: int) -> None:
    try:
        process.send_signal(sig)  # psutil checks the PID still belongs to the same process
    except psutil.Error:
        pass


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def processes_inside(root: Path) -> list[psutil.Process]:
    """This user's processes whose working folder or command line is inside `root`: servers with
    no PID file (the launcher cards jupyter-server-proxy starts), kernels, tools. Never this
    process or its ancestors (a Jupyter server or kernel that runs `clinic reset`)."""
    spellings = {str(root), str(Path(root).resolve())}  # a process's folder is the resolved path
    spared = me_and_my_ancestors()
    user = psutil.Process().username()
    found = []
    for process in psutil.process_iter(["username", "cwd", "cmdline", "status"]):
        info = process.info
        if process.pid in spared or info["username"] != user or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(_is_inside(info["cwd"], spelling) or
               any(_mentions(argument, spelling) for argument in info["cmdline"] or [])
               for spelling in spellings):
            found.append(process)
    return found


def _is_inside(path: str | None, root: str) -> bool:
    return bool(path) and (path == root or path.startswith(root + os.sep))


def _mentions(argument: str, root: str) -> bool:
    # A path inside the workspace anywhere in an argument (`--database=.../Crash Reports`,
    # `sqlite:///.../workspace/mlflow/mlflow.db`), but not a sibling such as workspace-old/.
    return argument == root or root + os.sep in argument


def me_and_my_ancestors() -> set[int]:
    me = psutil.Process()
    return {me.pid, *(parent.pid for parent in me.parents())}


def stop_processes(processes: list[psutil.Process], timeout: float = 10.0) -> None:
    """SIGTERM each process and its descendants by PID, SIGKILL what lingers (the workers of a
    server need not share its folder or command line). Never this process or its ancestors."""
    spared = me_and_my_ancestors()
    every: dict[int, psutil.Process] = {}
    for process in processes:
        for member in [process, *descendants(process.pid)]:
            if member.pid not in spared:
                every.setdefault(member.pid, member)
    for member in every.values():
        send(member, signal.SIGTERM)
    lingering = still_running(list(every.values()), timeout)
    for member in lingering:
        send(member, signal.SIGKILL)
    still_running(lingering, 5)


def still_running(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of `processes` still running after up to `timeout` s. A zombie counts as ended: only
    its parent (not this process) can collect its exit status."""
    deadline = time.monotonic() + timeout
    while True:
        lingering = [process for process in processes if running(process)]
        if not lingering or time.monotonic() >= deadline:
            return lingering
        time.sleep(0.1)


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
