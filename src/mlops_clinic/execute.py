"""Run one notebook headless with papermill, and say plainly how it went.

papermill runs in a subprocess so that a notebook that hangs, leaks memory or kills its kernel
cannot take the caller down with it. Between the caller and papermill sits a supervisor
(mlops_clinic.supervisor) that measures the whole process tree (papermill, the kernel and whatever
the notebook started, even a daemon), stops it by PID at the end, ends with the caller even when
the caller is killed with kill -9, and cuts handed-in code off the network where it can.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple

import nbformat

from .catalogue import source_cells
from .files import spreadsheet_safe
from .names import REPO_ENV
from .processes import descendants, send
from .workspace import path_with_kit_tools
from .supervisor import network_isolation

SAMPLE_EVERY_S = 0.2
# How long the supervisor may take to stop a run (it gives processes 3 s after SIGTERM, then kills).
SUPERVISOR_GRACE_S = 15
# What an isolated run keeps of this process's environment, besides LC_*: the locale, and the
# kit's pointer to its own files when it is installed somewhere unusual.
KEPT_FOR_ISOLATED_RUNS = ("LANG", "LANGUAGE", "TZ", REPO_ENV)
SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
TOOLS_OUTSIDE_THE_KIT = ("git",)  # the lessons call it; it is not a Python package
# papermill's exit code when the kernel dies under it (often the out-of-memory killer).
DEAD_KERNEL_RC = 138
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
    network: str = ""  # isolated runs: "isolated (...)" or "not isolated (reason)"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class ExecutionOptions:
    """How notebooks are run: limits and retries, their defaults written here once. The commands
    build one (`options_from(args)`) and pass it down unchanged to execute_notebook."""

    cell_timeout_s: float = 900  # seconds per cell (papermill's --execution-timeout)
    start_timeout_s: float = 120  # seconds for a kernel to start
    start_retries: int = 2  # more tries when a kernel fails to start: a start race, not a bug
    wall_timeout_s: float | None = None  # seconds for the whole notebook; None: no limit


def add_execution_arguments(parser, *, whole_run: bool = False) -> None:
    """The options' command-line flags, for every command that runs notebooks."""
    defaults = ExecutionOptions()
    parser.add_argument("--cell-timeout", type=float, default=None, metavar="SECONDS",
                        help=f"seconds allowed per cell (default {defaults.cell_timeout_s:g})")
    parser.add_argument("--start-timeout", type=float, default=defaults.start_timeout_s, metavar="SECONDS",
                        help="seconds for a kernel to start")
    parser.add_argument("--start-retries", type=int, default=defaults.start_retries,
                        help="retries when a kernel fails to start (a start race, not a notebook error)")
    if whole_run:
        parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                            help="seconds allowed for a whole notebook")


def options_from(args) -> ExecutionOptions:
    """The options the flags of `add_execution_arguments` ask for (defaults where absent)."""
    defaults = ExecutionOptions()
    return ExecutionOptions(
        cell_timeout_s=args.cell_timeout or defaults.cell_timeout_s,
        start_timeout_s=args.start_timeout, start_retries=args.start_retries,
        wall_timeout_s=getattr(args, "timeout", None) or defaults.wall_timeout_s)


def execute_notebook(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    parameters: dict,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    options: ExecutionOptions = ExecutionOptions(),
    kernel_name: str | None = "python3",
    isolate: bool = False,
) -> RunResult:
    """Execute `input_path` into `output_path` with papermill in a subprocess, within `options`'
    limits. `env` is laid over this process's environment. `kernel_name` defaults to
    "python3", the kernel of this very interpreter, whatever kernel the notebook was saved with.
    papermill's own output (cell outputs included) goes to `<output>.log` next to the output.

    `isolate` is for code nobody has read (graded submissions): `env` is then the whole environment
    (it must hold HOME and TMPDIR), with only the locale and the kit's PATH added, and the run gets
    no network where the platform allows it (RunResult.network says which).
    """
    inp = Path(input_path).resolve()
    out = Path(output_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = out.with_suffix(".log")
    log_path.unlink(missing_ok=True)
    run_cwd = Path(cwd).resolve() if cwd is not None else inp.parent
    full_env = _isolated_env(env or {}) if isolate else _full_env(env)
    cut_network, network = network_isolation() if isolate else (False, "")
    cmd = [
        sys.executable, "-m", "papermill", str(inp), str(out),
        "--cwd", str(run_cwd),
        "--execution-timeout", str(max(1, math.ceil(options.cell_timeout_s))),
        "--start-timeout", str(max(1, math.ceil(options.start_timeout_s))),
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
            run = _Supervised.start(cmd, log, full_env, out.with_suffix(".supervisor.json"), cut_network)
            try:
                deadline = started + options.wall_timeout_s if options.wall_timeout_s else None
                over_time = run.wait(deadline)
            finally:
                run.stop()
        report = run.report()
        rc = report["returncode"]
        peak_mb = max(peak_mb, report["peak_mb"])
        leftovers += report["leftovers"]
        network = report["network"] or network
        log_text = log_path.read_bytes()[log_start:].decode("utf-8", errors="replace")
        status, cell, error = _classify(rc, over_time, out, log_text, options.wall_timeout_s)
        if status == "ok" or over_time or not _start_race(log_text, out):
            break
        if attempt > options.start_retries:
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
        network=network,
    )


def _full_env(env: dict[str, str] | None) -> dict[str, str]:
    full = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    # `!dvc ...` in a cell finds the tools of this interpreter's venv even if it was not activated.
    full["PATH"] = path_with_kit_tools(full.get("PATH", ""))
    return full


def _isolated_env(env: dict[str, str]) -> dict[str, str]:
    """`env` plus the locale, the kit's pointer to its files and a PATH of the kit's tools and the
    system's: nothing else of this process's environment (no secrets, no MLFLOW_*, no cloud keys)."""
    missing = {"HOME", "TMPDIR"} - set(env)
    if missing:
        raise ValueError(f"an isolated run needs {' and '.join(sorted(missing))} in its env")
    kept = {k: v for k, v in os.environ.items() if k in KEPT_FOR_ISOLATED_RUNS or k.startswith("LC_")}
    return {**kept, "PATH": _isolated_path(), **env, "PYTHONUNBUFFERED": "1"}


def _isolated_path() -> str:
    folders = [str(Path(sys.executable).parent), *SYSTEM_PATH]
    for tool in TOOLS_OUTSIDE_THE_KIT:  # where this machine keeps them, if not in a system folder
        found = shutil.which(tool)
        if found:
            folders.append(str(Path(found).parent))
    return os.pathsep.join(dict.fromkeys(folders))


class _Supervised:
    """One attempt: the supervisor (mlops_clinic.supervisor) running papermill, in a session of its
    own, waited for and stopped by PID. The supervisor stops papermill, the kernel and everything
    they started, and reports; if it cannot, the tree is killed from here."""

    def __init__(self, popen: subprocess.Popen, report_path: Path):
        self.popen = popen
        self.report_path = report_path

    @classmethod
    def start(cls, cmd: list[str], log, env: dict[str, str], report_path: Path,
              cut_network: bool) -> "_Supervised":
        report_path.unlink(missing_ok=True)
        supervisor = [sys.executable, "-m", "mlops_clinic.supervisor", "--report", str(report_path),
                      "--parent", str(os.getpid())]
        if cut_network:
            supervisor.append("--isolate-network")
        # A session of its own: Ctrl-C in the terminal reaches only us, and we stop the run cleanly.
        popen = subprocess.Popen(
            [*supervisor, "--", *cmd], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )
        return cls(popen, report_path)

    def wait(self, deadline: float | None) -> bool:
        """Wait until the run ends (False) or the deadline passes (True)."""
        while True:
            try:
                self.popen.wait(timeout=SAMPLE_EVERY_S)
                return False
            except subprocess.TimeoutExpired:
                pass
            if deadline is not None and time.monotonic() > deadline:
                return True

    def stop(self) -> None:
        """Ask the supervisor to stop the run; kill the whole tree if it does not within the grace."""
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=SUPERVISOR_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            pass
        for p in descendants(self.popen.pid):
            send(p, signal.SIGKILL)
        self.popen.kill()
        self.popen.wait()

    def report(self) -> dict:
        """The supervisor's report; without one (it was killed), what the exit code tells."""
        try:
            report = json.loads(self.report_path.read_text(encoding="utf-8"))
            self.report_path.unlink()
        except (OSError, ValueError):
            report = {}
        return {"returncode": report.get("returncode", self.popen.returncode),
                "peak_mb": float(report.get("peak_mb") or 0.0),
                "leftovers": list(report.get("leftovers") or []),
                "network": report.get("network") or ""}


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
    return source_cells(nb.cells)


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
    """The same results as CSV, one row per notebook; no cell a spreadsheet would run as a formula."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in results:
        w.writerow([spreadsheet_safe(value) for value in (
            r.notebook, r.status, f"{r.duration_s:.2f}", f"{r.peak_mb:.1f}",
            "" if r.failing_cell is None else r.failing_cell.index,
            "" if r.failing_cell is None else r.failing_cell.first_line,
            r.error, "" if r.returncode is None else r.returncode, r.attempts,
            " ".join(r.leftovers),
        )])
    return buf.getvalue()
