"""`clinic doctor`: is this machine ready for the workshop? One line per check, a fix for each failure."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic import paths, pins
from mlops_clinic.servers import free_port
from mlops_clinic.workspace import TELEMETRY_OFF, Workspace, add_workspace_argument

MIN_PYTHON = (3, 11)
MIN_FREE_DISK_GB = 2.0
MIN_AVAILABLE_MEMORY_GB = 1.5  # kernel + MLflow UI + BentoML service, measured under 1.5 GB


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # shown, but does not fail the doctor

    @property
    def status(self) -> str:
        if self.ok:
            return "ok"
        return "warn" if self.warning else "FAIL"


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] >= MIN_PYTHON
    return Check("Python", ok, version,
                 "" if ok else "Install Python 3.11 or newer, then run `make setup` again.")


def check_packages() -> Check:
    lock = pins.read_lock()
    mismatches = pins.installed_mismatches(lock)
    applicable = sum(pin.applies_here() for pin in lock)
    if not mismatches:
        return Check("Packages", True, f"{applicable} packages match requirements.lock")
    shown = "; ".join(mismatches[:3]) + (f"; and {len(mismatches) - 3} more" if len(mismatches) > 3 else "")
    return Check("Packages", False, shown,
                 "Run `make setup` (or `pip install -r requirements.lock`) in the kit's folder.")


def check_datasets(datasets_dir: Path = paths.DATASETS_DIR) -> Check:
    sums = datasets_dir / "SHA256SUMS"
    if not sums.exists():
        return Check("Datasets", False, f"{sums.name} is missing",
                     "Get a fresh copy of the kit (git checkout datasets/) or run `clinic data generate`.")
    bad = []
    lines = [line.split(maxsplit=1) for line in sums.read_text().splitlines() if line.strip()]
    for digest, name in lines:
        path = datasets_dir / name.strip()
        if not path.exists():
            bad.append(f"{name.strip()} missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(f"{name.strip()} changed")
    if bad:
        return Check("Datasets", False, "; ".join(bad[:3]),
                     "Restore them with `git checkout datasets/` or `clinic data generate`.")
    return Check("Datasets", True, f"{len(lines)} files present and intact")


def check_disk(workspace: Workspace) -> Check:
    existing = next(p for p in [workspace.root, *workspace.root.parents] if p.exists())
    free_gb = shutil.disk_usage(existing).free / 1e9
    ok = free_gb >= MIN_FREE_DISK_GB
    return Check("Free disk", ok, f"{free_gb:.1f} GB free for the workspace",
                 "" if ok else f"Free at least {MIN_FREE_DISK_GB:.0f} GB, or set "
                 "MLOPS_CLINIC_WORKSPACE to a folder on a bigger disk.")


def available_memory_gb() -> float:
    import psutil

    available = psutil.virtual_memory().available
    # In a container (Binder, JupyterHub) the cgroup limit is the real ceiling.
    limit_file = Path("/sys/fs/cgroup/memory.max")
    usage_file = Path("/sys/fs/cgroup/memory.current")
    try:
        limit = limit_file.read_text().strip()
        if limit != "max":
            available = min(available, int(limit) - int(usage_file.read_text()))
    except (OSError, ValueError):
        pass
    return available / 1e9


def check_memory() -> Check:
    gb = available_memory_gb()
    ok = gb >= MIN_AVAILABLE_MEMORY_GB
    return Check("Memory", ok, f"{gb:.1f} GB available",
                 "" if ok else "Close other programs (browsers tabs, IDEs) to free memory, or use Binder.",
                 warning=True)


def check_ports(workspace: Workspace) -> Check:
    try:
        port = free_port()
    except OSError as exc:
        return Check("Loopback ports", False, f"cannot open a port on 127.0.0.1: {exc}",
                     "Allow local servers on 127.0.0.1 (firewall or security software).")
    running = sorted(p.stem for p in workspace.servers_dir.glob("*.pid")) if workspace.servers_dir.exists() else []
    if running:
        return Check("Loopback ports", True, f"free (e.g. {port}); servers recorded: {', '.join(running)}",
                     "If those servers are stale, `clinic stop` stops them (it deletes nothing).", warning=True)
    return Check("Loopback ports", True, "127.0.0.1 accepts local servers")


def check_telemetry(environ=None) -> Check:
    environ = os.environ if environ is None else environ
    wrong = [name for name, value in TELEMETRY_OFF.items() if environ.get(name) != value]
    if wrong:
        return Check("Telemetry off", False, "not set: " + ", ".join(wrong),
                     "Start from `clinic lab` or run the notebook's setup cell; it sets them.")
    return Check("Telemetry off", True, ", ".join(TELEMETRY_OFF))


def check_git() -> Check:
    git = shutil.which("git")
    if not git:
        return Check("git", False, "not found", "Install git (https://git-scm.com), then try again.")
    version = subprocess.run([git, "--version"], capture_output=True, text=True).stdout.strip()
    return Check("git", True, version)


def check_workspace(workspace: Workspace) -> Check:
    try:
        workspace.create()
        probe = workspace.tmp / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return Check("Workspace", False, f"{workspace.root}: {exc}",
                     "Set MLOPS_CLINIC_WORKSPACE to a folder you can write to.")
    return Check("Workspace", True, f"{workspace.root.name}/ is writable")


def run_checks(workspace: Workspace | None = None) -> list[Check]:
    workspace = workspace or Workspace.resolve()
    return [
        check_python(), check_packages(), check_git(), check_datasets(), check_workspace(workspace),
        check_disk(workspace), check_memory(), check_ports(workspace), check_telemetry(),
    ]


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{c.status:>4}  {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"{'':>4}  {'':<{width}}  -> {c.fix}")
    failed = [c for c in checks if c.status == "FAIL"]
    lines.append("")
    lines.append(f"{len(failed)} problem(s) to fix before the workshop." if failed
                 else "All set for the workshop.")
    return "\n".join(lines)


def doctor(workspace: Workspace | None = None) -> bool:
    """Print the checks (notebooks call this); True when nothing failed."""
    checks = run_checks(workspace)
    print(render(checks))
    return all(c.status != "FAIL" for c in checks)


def add_arguments(parser) -> None:
    add_workspace_argument(parser)


def run(args) -> int:
    workspace = Workspace.resolve(args.workspace).activate()
    return 0 if doctor(workspace) else 1
