"""Run one notebook headless with papermill, and say plainly how it went.

papermill runs in a subprocess so that a notebook that hangs, leaks memory or kills its kernel
cannot take the caller down with it, and so that the whole process tree (papermill, the kernel and
whatever the notebook started) can be measured and stopped by PID.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple

import nbformat
import psutil

SAMPLE_EVERY_S = 0.2
# papermill's exit code when the kernel dies under it (often the out-of-memory killer).
DEAD_KERNEL_RC = 138
# Cells papermill adds to the output notebook; they are not cells of the input notebook.
PAPERMILL_TAGS = ("injected-parameters", "papermill-error-cell-tag")
# Log text of a kernel that did not come up: a start race worth one more try, not a notebook bug.
KERNEL_START_RACES = (
    "Kernel didn't respond",
    "Address already in use",
    "Kernel died before replying to kernel_info",
)


class FailingCell(NamedTuple):
    """The cell that failed: its index in the input notebook (0-based) and its first source line."""

    index: int
    first_line: str

    def __str__(self) -> str:
        return f"cell {self.index}: {self.first_line}"


@dataclass
class RunResult:
    notebook: str
    status: str  # "ok" | "failed" | "timeout" | "killed"
    duration_s: float
    peak_mb: float
    failing_cell: FailingCell | None = None
    error: str = ""  # "ename: evalue", one line
    returncode: int | None = None
    attempts: int = 1
    output_path: str = ""
    log_path: str = ""
    leftovers: list[str] = field(default_factory=list)  # processes still running at the end, stopped

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def execute_notebook(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    parameters: dict,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    timeout_s: float = 900,
    start_timeout_s: float = 120,
    retries_on_kernel_start: int = 2,
    kernel_name: str | None = "python3",
    wall_timeout_s: float | None = None,
) -> RunResult:
    """Execute `input_path` into `output_path` with papermill in a subprocess.

    `timeout_s` limits each cell (papermill's --execution-timeout); `wall_timeout_s`, if given,
    limits the whole run. `env` is laid over this process's environment. `kernel_name` defaults to
    "python3", the kernel of this very interpreter, whatever kernel the notebook was saved with.
    papermill's own output (cell outputs included) goes to `<output>.log` next to the output.
    """
    inp = Path(input_path).resolve()
    out = Path(output_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = out.with_suffix(".log")
    log_path.unlink(missing_ok=True)
    run_cwd = Path(cwd).resolve() if cwd is not None else inp.parent
    full_env = _full_env(env)
    cmd = [
        sys.executable, "-m", "papermill", str(inp), str(out),
        "--cwd", str(run_cwd),
        "--execution-timeout", str(max(1, math.ceil(timeout_s))),
        "--start-timeout", str(max(1, math.ceil(start_timeout_s))),
        # JSON is YAML: values keep their types (-p would turn the string "1" into an int).
        "-y", json.dumps(parameters),
        "--log-output", "--no-progress-bar",
    ]
    if kernel_name:
        cmd += ["-k", kernel_name]

    started = time.monotonic()
    peak_mb = 0.0
    leftovers: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        out.unlink(missing_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            if attempt > 1:
                log.write(f"\n--- attempt {attempt} (kernel start race) ---\n")
                log.flush()
            log_start = log_path.stat().st_size  # judge each attempt by its own part of the log
            proc = _Tree.start(cmd, log, full_env)
            try:
                deadline = started + wall_timeout_s if wall_timeout_s else None
                rc, over_time = proc.wait(deadline)
                if not over_time:
                    leftovers += proc.leftovers()
            finally:
                proc.stop()
        peak_mb = max(peak_mb, proc.peak_mb)
        log_text = log_path.read_bytes()[log_start:].decode("utf-8", errors="replace")
        status, cell, error = _classify(rc, over_time, out, log_text, wall_timeout_s)
        if status == "ok" or over_time or not _start_race(log_text, out):
            break
        if attempt > retries_on_kernel_start:
            error = f"{error} (the kernel did not start in {attempt} attempts)"
            break

    return RunResult(
        notebook=_display(inp),
        status=status,
        duration_s=round(time.monotonic() - started, 2),
        peak_mb=round(peak_mb, 1),
        failing_cell=cell,
        error=error,
        returncode=rc,
        attempts=attempt,
        output_path=str(out),
        log_path=str(log_path),
        leftovers=leftovers,
    )


def _full_env(env: dict[str, str] | None) -> dict[str, str]:
    full = dict(os.environ)
    full.update(env or {})
    # `!dvc ...` in a cell finds the tools of this interpreter's venv even if it was not activated.
    bin_dir = str(Path(sys.executable).parent)
    path = full.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        full["PATH"] = bin_dir + (os.pathsep + path if path else "")
    full["PYTHONUNBUFFERED"] = "1"
    return full


class _Tree:
    """A subprocess, its descendants seen so far and its session: measured, then stopped by PID."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.root = psutil.Process(popen.pid)
        self.seen: dict[tuple[int, float], psutil.Process] = {}
        self.sessions = {popen.pid}
        self.peak_mb = 0.0

    @classmethod
    def start(cls, cmd: list[str], log, env: dict[str, str]) -> "_Tree":
        # A session of its own: Ctrl-C in the terminal reaches only us, and we stop the tree cleanly.
        popen = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,
        )
        return cls(popen)

    def wait(self, deadline: float | None) -> tuple[int | None, bool]:
        """Sample until the process ends (returncode, False) or the deadline passes (None, True)."""
        while True:
            self._sample()
            rc = self.popen.poll()
            if rc is not None:
                return rc, False
            if deadline is not None and time.monotonic() > deadline:
                return None, True
            time.sleep(SAMPLE_EVERY_S)

    def _sample(self) -> None:
        procs = [self.root]
        try:
            procs += self.root.children(recursive=True)
        except psutil.Error:
            pass
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
                key = (p.pid, p.create_time())
            except psutil.Error:
                continue
            self.seen.setdefault(key, p)
            # jupyter_client starts each kernel in a session of its own: remember it, so that
            # what the kernel started can be found even after it has been orphaned.
            try:
                if os.getsid(p.pid) == p.pid:
                    self.sessions.add(p.pid)
            except OSError:
                pass
        self.peak_mb = max(self.peak_mb, total / 2**20)

    def _others(self) -> list[psutil.Process]:
        """Everything alive that came from this run, except the papermill process itself."""
        found: dict[int, psutil.Process] = {}
        try:
            for p in self.root.children(recursive=True):
                found[p.pid] = p
        except psutil.Error:
            pass
        for p in self.seen.values():
            if p.pid != self.root.pid and p.is_running():
                found[p.pid] = p
        for p in psutil.process_iter():
            try:
                if p.pid != self.root.pid and os.getsid(p.pid) in self.sessions:
                    found.setdefault(p.pid, p)
            except (OSError, psutil.Error):
                continue
        return [p for p in found.values() if _alive(p)]

    def leftovers(self) -> list[str]:
        """Processes still running after papermill exited on its own (the notebook left them)."""
        names = []
        for p in self._others():
            try:
                names.append(f"{p.name()}[{p.pid}]")
            except psutil.Error:
                continue
        return names

    def stop(self) -> None:
        """Terminate, then kill, the tree: children first so none is orphaned unseen."""
        others = self._others()
        for p in others:
            _signal(p, signal.SIGTERM)
        if self.popen.poll() is None:
            self.popen.terminate()
        alive = _wait_gone(others, 3)
        for p in alive:
            _signal(p, signal.SIGKILL)
        _wait_gone(alive, 3)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of `procs` still alive after `timeout` s (a zombie counts as gone: it is not running)."""
    deadline = time.monotonic() + timeout
    while True:
        procs = [p for p in procs if _alive(p)]
        if not procs or time.monotonic() > deadline:
            return procs
        time.sleep(0.05)


def _signal(p: psutil.Process, sig: int) -> None:
    try:
        p.send_signal(sig)
    except psutil.Error:
        pass


def _classify(rc, over_time, out: Path, log_text: str, wall_timeout_s):
    """(status, failing cell, one-line error) from the exit code, the output notebook and the log."""
    nb = _read(out)
    cells = _input_cells(nb) if nb is not None else []
    failed = next((i for i, c in enumerate(cells) if _pm(c).get("exception") is True), None)
    running = _last_started(cells)
    if over_time:
        return "timeout", running, f"WallTimeout: the run took longer than {wall_timeout_s:g} s"
    if rc == 0:
        return "ok", None, ""
    if failed is not None:
        return "failed", failed_cell(cells, failed), _cell_error(cells[failed]) or _last_error(log_text)
    if "CellTimeoutError" in log_text:
        return "timeout", running, _last_error(log_text, "CellTimeoutError")
    if rc == DEAD_KERNEL_RC or "DeadKernelError" in log_text:
        return "killed", running, "DeadKernelError: the kernel died (often out of memory, or os._exit)"
    if rc is not None and rc < 0:
        return "killed", running, f"Killed: papermill stopped by {signal.Signals(-rc).name}"
    return "failed", running, _last_error(log_text) or f"papermill exited with code {rc}"


def failed_cell(cells, index: int) -> FailingCell:
    return FailingCell(index, _first_line(cells[index].get("source", "")))


def _last_started(cells) -> FailingCell | None:
    started = [i for i, c in enumerate(cells) if _pm(c).get("start_time")]
    return failed_cell(cells, started[-1]) if started else None


def _start_race(log_text: str, out: Path) -> bool:
    if any(s in log_text for s in KERNEL_START_RACES):
        return True
    # A kernel that died before running anything is a start problem too.
    if "DeadKernelError" in log_text:
        nb = _read(out)
        return nb is None or _last_started(_input_cells(nb)) is None
    return False


def _read(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # missing or half-written: the log still tells what happened
        return None


def _pm(cell) -> dict:
    return cell.get("metadata", {}).get("papermill", {}) or {}


def _input_cells(nb) -> list:
    """The output notebook's cells that were in the input notebook, so indices match it."""
    return [c for c in nb.cells if not set(c.get("metadata", {}).get("tags", [])) & set(PAPERMILL_TAGS)]


def _first_line(source: str) -> str:
    """The first line of code (skipping comments such as `# NBVAL_IGNORE_OUTPUT`), else the first line."""
    lines = [l.strip() for l in source.splitlines() if l.strip()]
    code = [l for l in lines if not l.startswith("#")]
    return (code or lines or [""])[0][:80]


def _cell_error(cell) -> str:
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return _one_line(f"{o.get('ename', '')}: {o.get('evalue', '')}")
    return ""


def _last_error(log_text: str, name: str | None = None) -> str:
    """The last `SomeError: message` line of a traceback in the log."""
    for line in reversed(log_text.splitlines()):
        head, sep, _ = line.partition(": ")
        if not sep or " " in head or head.startswith(" "):
            continue
        ename = head.rsplit(".", 1)[-1]
        if (name and ename == name) or (
            not name and ename.endswith(("Error", "Exception", "Interrupt", "Exit"))
        ):
            return _one_line(ename + line[len(head):])
    return ""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _display(path: Path) -> str:
    try:
        from .paths import REPO_ROOT

        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# --- summaries ------------------------------------------------------------------------------------


def _note(r: RunResult) -> str:
    if not r.ok:
        where = f"{r.failing_cell} -> " if r.failing_cell else ""
        return where + r.error
    if r.leftovers:
        return f"left {len(r.leftovers)} process(es) running, stopped: {', '.join(r.leftovers)}"
    return ""


def summary_table(results: Iterable[RunResult], *, width: int = 120) -> str:
    """A fixed-width table: notebook, status, seconds, peak MB, error, and a total line."""
    results = list(results)
    head = ("notebook", "status", "seconds", "peak MB", "error")
    rows = [
        (r.notebook, r.status, f"{r.duration_s:.1f}", f"{r.peak_mb:.0f}", _note(r)) for r in results
    ]
    w = [max([len(head[i])] + [len(row[i]) for row in rows]) for i in range(4)]
    fmt = f"{{:<{w[0]}}}  {{:<{w[1]}}}  {{:>{w[2]}}}  {{:>{w[3]}}}  {{}}"
    room = max(20, width - sum(w) - 8)
    lines = [fmt.format(*head), fmt.format(*("-" * n for n in w), "-" * 5)]
    for row in rows:
        note = row[4] if len(row[4]) <= room else row[4][: room - 1] + "…"
        lines.append(fmt.format(*row[:4], note).rstrip())
    bad = sum(not r.ok for r in results)
    total = sum(r.duration_s for r in results)
    peak = max((r.peak_mb for r in results), default=0)
    lines.append(
        f"{len(results)} notebook(s), {bad} not ok, {total:.1f} s in all, highest peak {peak:.0f} MB"
    )
    return "\n".join(lines) + "\n"


CSV_FIELDS = (
    "notebook", "status", "duration_s", "peak_mb", "failing_cell", "failing_source", "error",
    "returncode", "attempts", "leftovers",
)


def summary_csv(results: Iterable[RunResult]) -> str:
    """The same results as CSV, one row per notebook."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in results:
        w.writerow([
            r.notebook, r.status, f"{r.duration_s:.2f}", f"{r.peak_mb:.1f}",
            "" if r.failing_cell is None else r.failing_cell.index,
            "" if r.failing_cell is None else r.failing_cell.first_line,
            r.error, "" if r.returncode is None else r.returncode, r.attempts,
            " ".join(r.leftovers),
        ])
    return buf.getvalue()
