"""Lineage: the exact data and code a training run used, as tags of its MLflow run.

    data_path         the data the run read (params.yaml, prepare.data)
    data_md5          its md5 as DVC records it in <data>.dvc (a folder: DVC's md5 of the folder)
    git_commit        the commit of the code, settings and data pointer
    inputs_committed  "true" when code, settings and the data pointer were committed when the run
                      started: then git_commit alone brings back everything (`git checkout` and
                      `dvc pull`), and the model tests can read the champion's data at that commit
"""

import hashlib
import subprocess
from pathlib import Path

import yaml

from settings import ROOT, params

INPUTS = ["dvc.yaml", "params.yaml", "schema.yaml", "src"]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def recorded_md5(pointer: Path) -> str | None:
    """The md5 that a .dvc pointer file records for its data."""
    if not pointer.is_file():
        return None
    outs = (yaml.safe_load(pointer.read_text()) or {}).get("outs") or [{}]
    return outs[0].get("md5")


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_lineage() -> dict[str, str]:
    path = params()["prepare"]["data"]
    pointer = ROOT / f"{path}.dvc"
    recorded = recorded_md5(pointer)
    # A file's md5 is checked here; a folder's is DVC's own (md5 of its listing), taken as recorded.
    md5 = file_md5(ROOT / path) if (ROOT / path).is_file() else (recorded or "unknown")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", *INPUTS, f"{path}.dvc")
    return {
        "data_path": path,
        "data_md5": md5,
        "git_commit": git("rev-parse", "HEAD"),
        "inputs_committed": str(recorded == md5 and not changed).lower(),
    }
