"""One builder at a time per workspace: an exclusive lock file inside it.

Two notebooks opened at once, the BentoML launcher card and a setup cell, or `clinic run` and a
notebook would otherwise build the same stages together, and DVC and git fail in the middle
(a second `dvc init`, git's index lock). With the lock, whoever comes second waits, says once what
it waits for, and then finds the stages done.

    with workspace_lock(ws, "clinic run"):
        ...

- An OS lock (filelock): a holder that crashes or is killed never leaves the workspace locked.
- Re-entrant in a thread: an `ensure` inside an `ensure` (or inside `clinic reset`) goes on.
- A process whose ancestor holds the lock works for that ancestor and goes on: the notebooks'
  kernels under `clinic run`, which holds the lock for the whole course.
- A small file beside the lock names the holder's PID and what it is doing, for the message of
  the processes that wait.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Callable, Iterator

import psutil
from filelock import FileLock, Timeout

from mlops_clinic.errors import ClinicError
from mlops_clinic.files import write_atomic

LOCK_FILE = ".clinic-lock"
HOLDER_FILE = ".clinic-lock-holder.json"
LOCK_FILES = (LOCK_FILE, HOLDER_FILE)  # in the workspace's root; `clinic reset` keeps them
# A cold build of every stage takes minutes on one CPU, and `clinic run` holds the lock for the
# whole course: a waiting notebook gives up only after this long, with a message saying why.
WAIT_TIMEOUT_S = 20 * 60
POLL_S = 0.2
# A new holder writes its file just after taking the lock; a waiter that finds none yet looks again
# for this long before it says it waits for an unknown process.
HOLDER_GRACE_S = 2.0


class WorkspaceBusy(ClinicError):
    """Another process kept the workspace locked for longer than the caller would wait."""


class Holding:
    """What the `with` block gets: `doing(...)` tells waiting processes what is under way now."""

    def __init__(self, holder_file: Path | None):
        self._holder_file = holder_file  # None: an ancestor holds the lock and speaks for us

    def doing(self, what: str) -> None:
        if self._holder_file is not None:
            _write_holder(self._holder_file, what)


@contextlib.contextmanager
def workspace_lock(workspace, doing: str, *, timeout: float = WAIT_TIMEOUT_S,
                   echo: Callable[[str], None] | None = None) -> Iterator[Holding]:
    """Hold `workspace`'s lock for the `with` block; wait (saying so once) while another has it.

    `doing` is what waiting processes are told ("stage champion", "clinic run"). Raises
    WorkspaceBusy after `timeout` seconds of waiting.
    """
    root = Path(workspace.root)
    root.mkdir(parents=True, exist_ok=True)
    holder_file = root / HOLDER_FILE
    # One instance per lock file in this process; its state is per thread, so another thread waits.
    lock = FileLock(root / LOCK_FILE, is_singleton=True)
    if lock.is_locked:  # this thread holds it: a nested call
        yield Holding(holder_file)
        return
    if not _acquire(lock, holder_file, timeout, echo or _say):
        yield Holding(None)
        return
    try:
        _write_holder(holder_file, doing)
        yield Holding(holder_file)
    finally:
        holder_file.unlink(missing_ok=True)  # first, so a holder file always names a live holder
        lock.release()


def _acquire(lock: FileLock, holder_file: Path, timeout: float, echo: Callable[[str], None]) -> bool:
    """Take the lock, waiting up to `timeout` s; False if an ancestor of this process holds it."""
    started = time.monotonic()
    told = False
    while True:
        try:
            lock.acquire(blocking=False)
            return True
        except Timeout:
            pass
        holder = read_holder(holder_file)
        if holder and holder["pid"] in _ancestors():
            return False
        waited = time.monotonic() - started
        if not told and (holder or waited > HOLDER_GRACE_S):
            echo(_waiting_message(holder))
            told = True
        if waited >= timeout:
            raise _busy(holder, timeout)
        time.sleep(POLL_S)


def read_holder(holder_file: Path) -> dict | None:
    """{"pid": ..., "doing": ...} of the live holder, or None (no holder file, or a stale one)."""
    try:
        holder = json.loads(Path(holder_file).read_text(encoding="utf-8"))
        pid, doing = int(holder["pid"]), str(holder["doing"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"pid": pid, "doing": doing} if psutil.pid_exists(pid) else None


def _write_holder(holder_file: Path, doing: str) -> None:
    write_atomic(holder_file, json.dumps({"pid": os.getpid(), "doing": doing}))


def _ancestors() -> set[int]:
    return {parent.pid for parent in psutil.Process().parents()}


def _say(message: str) -> None:
    print(message, flush=True)


def _waiting_message(holder: dict | None) -> str:
    who = f" (PID {holder['pid']}, {holder['doing']})" if holder else ""
    return f"Another notebook or server is preparing this workspace{who}; waiting..."


def _busy(holder: dict | None, timeout: float) -> WorkspaceBusy:
    waited = f"{timeout / 60:.0f} min" if timeout >= 120 else f"{timeout:.0f} s"
    if holder is None:
        return WorkspaceBusy(f"This workspace was still locked by another process after {waited}, "
                             "so nothing was done here.",
                             fix="run this again when the other notebook or server has finished.")
    return WorkspaceBusy(f"This workspace was still being prepared by PID {holder['pid']} "
                         f"({holder['doing']}) after {waited}, so nothing was done here.",
                         fix=f"run this again when it has finished; if PID {holder['pid']} is stuck, "
                             "stop it first.")
