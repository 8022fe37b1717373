"""Where the kit's own files live: the repository the participant cloned."""

from __future__ import annotations

import os
from pathlib import Path

from mlops_clinic.names import REPO_ENV


def _find_repo_root() -> Path:
    # The kit is installed editable from its repository (make setup, Binder's postBuild), so the
    # repository is two levels above the package. MLOPS_CLINIC_REPO overrides it for unusual installs.
    override = os.environ.get(REPO_ENV)
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


REPO_ROOT = _find_repo_root()
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"
DATASETS_DIR = REPO_ROOT / "datasets"
DEFAULT_WORKSPACE = REPO_ROOT / "workspace"
LOCK_FILE = REPO_ROOT / "requirements.lock"
