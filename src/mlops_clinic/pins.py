"""The pins: requirements.lock is the truth; environment.yml and binder/environment.yml follow it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.version import Version

from mlops_clinic import paths

ENVIRONMENT_FILES = ("environment.yml", "binder/environment.yml")
PYTHON_FOR_CONDA = "3.11"  # repo2docker's default is 3.10, which the stack does not support

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;]+)\s*(?:;\s*(?P<marker>.+))?$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None = None

    def applies_here(self) -> bool:
        return self.marker is None or Marker(self.marker).evaluate()

    def requirement(self) -> str:
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


def read_lock(lock_file: Path = paths.LOCK_FILE) -> list[Pin]:
    pins = []
    for line in lock_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        if not match:
            raise ValueError(f"{lock_file.name}: cannot read the line {line!r}; regenerate it with `make lock`.")
        pins.append(Pin(match["name"], match["version"], match["marker"]))
    return pins


def render_environment(pins: list[Pin]) -> str:
    """The conda environment for conda/mamba users and Binder: Python from conda, the rest pinned."""
    lines = [
        "# Generated from requirements.lock by `clinic pins --write`; do not edit by hand.",
        "# Used by conda/mamba (`conda env create -f environment.yml`) and by Binder (binder/).",
        "name: mlops-clinic",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PYTHON_FOR_CONDA}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f'    - "{pin.requirement()}"' for pin in pins]
    return "\n".join(lines) + "\n"


def stale_environment_files(root: Path = paths.REPO_ROOT) -> list[str]:
    expected = render_environment(read_lock(root / "requirements.lock"))
    return [name for name in ENVIRONMENT_FILES
            if not (root / name).exists() or (root / name).read_text() != expected]


def write_environment_files(root: Path = paths.REPO_ROOT) -> None:
    content = render_environment(read_lock(root / "requirements.lock"))
    for name in ENVIRONMENT_FILES:
        (root / name).write_text(content)


def installed_mismatches(pins: list[Pin] | None = None) -> list[str]:
    """Packages that are missing or at another version than the lock says (for this platform)."""
    problems = []
    for pin in pins if pins is not None else read_lock():
        if not pin.applies_here():
            continue
        try:
            found = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{pin.name} missing (lock: {pin.version})")
            continue
        if canonicalize_version(found) != canonicalize_version(pin.version):
            problems.append(f"{pin.name} {found} (lock: {pin.version})")
    return problems


def canonicalize_version(version: str) -> str:
    return str(Version(version))


def add_arguments(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the environment files from the lock")
    group.add_argument("--check", action="store_true", help="fail if they disagree with the lock")


def run(args) -> int:
    if args.write:
        write_environment_files()
        print(f"Wrote {', '.join(ENVIRONMENT_FILES)} from requirements.lock.")
        return 0
    stale = stale_environment_files()
    for name in stale:
        print(f"{name} disagrees with requirements.lock: run `clinic pins --write`.")
    mismatches = installed_mismatches()
    for problem in mismatches:
        print(f"installed: {problem}: run `make setup`.")
    if not stale and not mismatches:
        print("The environment files and the installed packages agree with requirements.lock.")
    return 1 if (stale or mismatches) else 0

