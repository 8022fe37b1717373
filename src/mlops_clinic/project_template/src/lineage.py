"""Lineage: the exact data and code a training run used, as tags for its MLflow run.

    data_md5        the md5 of data/houses.csv, the same hash DVC records in data/houses.csv.dvc:
                    `dvc pull` at any commit with that hash brings these exact rows back
    data_version    the data release tag (data-vX.Y.Z) whose pointer file records that hash
    git_commit      the commit of the code and settings
    inputs_committed  "true" when code, settings and data were all committed when the run started,
                    so that git_commit alone describes the run
"""

import hashlib
import subprocess
from pathlib import Path

import yaml

INPUTS = ["dvc.yaml", "params.yaml", "src"]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()


def recorded_md5(pointer_text: str) -> str | None:
    """The md5 that a .dvc pointer file records for its data."""
    outs = (yaml.safe_load(pointer_text) or {}).get("outs") or [{}]
    return outs[0].get("md5")


def data_lineage(path: str = "data/houses.csv") -> dict[str, str]:
    md5 = hashlib.md5(Path(path).read_bytes()).hexdigest()
    pointer = Path(f"{path}.dvc")
    tracked = pointer.exists() and recorded_md5(pointer.read_text()) == md5
    version = "untagged"
    for tag in git("tag", "--list", "data-v*", "--sort=-v:refname").split():
        if recorded_md5(git("show", f"{tag}:{path}.dvc") or "{}") == md5:
            version = tag
            break
    changed = git("status", "--porcelain", "--untracked-files=no", "--", *INPUTS, f"{path}.dvc")
    return {
        "data_path": path,
        "data_md5": md5,
        "data_version": version,
        "git_commit": git("rev-parse", "HEAD"),
        "inputs_committed": str(tracked and not changed).lower(),
    }
