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


def repository() -> str:
    """"owner/name" of the kit's GitHub repository, from pyproject.toml's [project.urls] Repository:
    the one place it is written (a fork changes it there)."""
    import tomllib

    url = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    return url.removeprefix("https://github.com/").strip("/")


def binder_url(notebook: str = "notebooks/00_welcome.ipynb") -> str:
    """The mybinder.org link that opens `notebook` of the kit in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{repository()}/HEAD?urlpath=lab/tree/{notebook}"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"
DATASETS_DIR = REPO_ROOT / "datasets"
DEFAULT_WORKSPACE = REPO_ROOT / "workspace"
LOCK_FILE = REPO_ROOT / "requirements.lock"
