"""The exported repository's pinned requirements: the part of the kit's lock it needs.

The versions come from requirements.lock, never typed: the packages the repository imports
(ROOTS), and everything the lock says they pull in (its `# via` lines), with their platform
markers. So the exported pipeline installs exactly the set the kit measured working together.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlops_clinic import paths
from mlops_clinic.pins import Pin, read_lock

# What the exported code imports (pipeline, tests, service, monitoring), by distribution name.
ROOTS = ("dvc", "mlflow", "scikit-learn", "pandas", "numpy", "pyarrow", "bentoml", "evidently",
         "pyyaml", "tqdm", "pytest", "pydantic", "joblib", "cloudpickle")
_PACKAGE = re.compile(r"^([A-Za-z0-9._-]+)==")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_by(lock_file: Path) -> dict[str, set[str]]:
    """For each locked package, the packages it is there for (the lock's `# via` lines)."""
    via: dict[str, set[str]] = {}
    current = None
    for line in lock_file.read_text().splitlines():
        match = _PACKAGE.match(line)
        if match:
            current = normalise(match.group(1))
            via[current] = set()
        elif current and line.strip().startswith("#"):
            text = line.strip().lstrip("#").strip()
            text = text[len("via"):].strip() if text.startswith("via") else text
            if text and not text.startswith("-r"):
                via[current].add(normalise(text.split()[0]))
    return via


def closure(roots=ROOTS, lock_file: Path = paths.LOCK_FILE) -> list[Pin]:
    """The pins of `roots` and of everything they need, per the lock, in the lock's order."""
    via = required_by(lock_file)
    pins = read_lock(lock_file)
    missing = [r for r in roots if normalise(r) not in via]
    if missing:
        raise ValueError(f"{lock_file.name} has no pin for {', '.join(missing)}")
    needed = {normalise(r) for r in roots}
    grew = True
    while grew:
        grew = False
        for package, parents in via.items():
            if package not in needed and parents & needed:
                needed.add(package)
                grew = True
    return [pin for pin in pins if normalise(pin.name) in needed]


def requirements_txt(lock_file: Path = paths.LOCK_FILE) -> str:
    pins = closure(lock_file=lock_file)
    header = (
        "# The pipeline's environment, pinned: CI installs exactly this (`pip install -r requirements.txt`),\n"
        "# so a run next month trains with the same libraries as today. These versions were tested\n"
        "# together; change a pin in a reviewed commit, and run `python ci/run_pipeline.py` after it.\n")
    return header + "".join(pin.requirement() + "\n" for pin in pins)
