"""Building an export: a standalone git + DVC repository, written in a folder beside DEST and
renamed to DEST only once complete, so a failure leaves nothing half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic.export import render
from mlops_clinic.export.sources import Carried, ExportError, Source, carried_from, kit_dataset, own_dataset

TEMPLATE = Path(__file__).resolve().parent / "template"
# Files the export shares with module 06's project template, word for word: one source for both.
SHARED = {"ci/run_pipeline.py": TEMPLATE.parents[1] / "project_template_ci" / "ci" / "run_pipeline.py"}
# Template folders and files stored under names a package can carry, and their names in the export.
RENAMED = {"github": ".github", "gitignore": ".gitignore"}
IDENTITY = {"GIT_AUTHOR_NAME": "MLOps Clinic export", "GIT_AUTHOR_EMAIL": "export@clinic.invalid",
            "GIT_COMMITTER_NAME": "MLOps Clinic export", "GIT_COMMITTER_EMAIL": "export@clinic.invalid"}


@dataclass
class Exported:
    path: Path
    project: str
    source: Source
    carried: Carried
    remote: str
    pushed: bool
    seconds: float
    files: int

    @property
    def remote_shown(self) -> str:
        return _shown_remote(self.remote)


def export(dest: str | os.PathLike, *, dataset: str | None = None, data: str | os.PathLike | None = None,
           schema: str | os.PathLike | None = None, remote: str | None = None, workspace=None,
           project: str | None = None) -> Exported:
    """Write the repository at `dest` (which must not exist, or be an empty folder).

    dataset: "houses" (default), "construction" or "transport"; or data + schema: a CSV file and
    its reviewed schema file. remote: the DVC remote (a folder or a URL; default: a folder
    `<dest>-dvc-storage` beside dest). workspace: the workshop's Workspace whose params and
    champion choice (and, for the house prices, data release) are carried; None carries nothing.
    """
    started = time.monotonic()
    dest = Path(dest).absolute()
    _check_destination(dest)
    if data is not None and dataset is not None:
        raise ExportError("give either --dataset or --data, not both",
                          fix="--dataset NAME exports a kit dataset; --data FILE --schema FILE your own")
    source = own_dataset(Path(data), Path(schema) if schema else None) if data is not None \
        else kit_dataset(dataset or "houses", workspace)
    carried = carried_from(workspace, source.schema.task, houses=source.kind == "houses")
    project = project or _slug(dest.name)
    remote_url, remote_dir = _remote(dest, remote)
    remote_existed = remote_dir is None or remote_dir.exists()
    made = _make_parents(dest.parent)
    try:
        return _build(dest, source, carried, project, remote_url, remote_dir, remote_existed, started)
    except BaseException:
        for folder in made:  # innermost first; only if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _build(dest, source, carried, project, remote_url, remote_dir, remote_existed, started) -> Exported:
    from dvc.exceptions import DvcException

    build = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        files = _write(build, source, carried, project, remote_url)
    except OSError as err:
        _undo(build, None)
        raise ExportError(f"the repository could not be written: {err}",
                          fix="check the disk space and the folder's permissions; nothing was exported") from None
    try:
        _init_repositories(build, source, remote_url)
        pushed = remote_dir is not None and _push(build)
    except (DvcException, OSError) as err:
        _undo(build, None if remote_existed else remote_dir)
        raise ExportError(f"DVC could not version the data: {err}",
                          fix="check the remote (--remote) and the disk space; nothing was exported") from None
    except BaseException:
        _undo(build, None if remote_existed else remote_dir)
        raise
    try:
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.rename(build, dest)
    except BaseException:
        _undo(build, None if remote_existed else remote_dir)
        raise
    return Exported(dest, project, source, carried, remote_url, pushed, time.monotonic() - started, files)


def _undo(build: Path, remote_dir: Path | None) -> None:
    """Remove the half-built repository, and the remote folder if this export created it."""
    shutil.rmtree(build, ignore_errors=True)
    if remote_dir is not None:
        shutil.rmtree(remote_dir, ignore_errors=True)


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "pipeline"


def _check_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ExportError(f"{dest.name} already exists and is not an empty folder",
                          fix="choose a new folder for the export (nothing was written)")
    if dest.parent.exists() and not dest.parent.is_dir():
        raise ExportError(f"{dest.parent.name}, which should hold {dest.name}, is a file",
                          fix="choose another place for the export")


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, innermost first."""
    made = []
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    for path in reversed(made):
        path.mkdir()
    return made


def _remote(dest: Path, remote: str | None) -> tuple[str, Path | None]:
    """(url for .dvc/config, local folder or None for a cloud URL). A local folder is written
    relative to .dvc/, so the repository and its storage can move together."""
    if remote is not None and "://" in remote:
        return remote, None
    folder = Path(remote).absolute() if remote else dest.parent / f"{dest.name}-dvc-storage"
    return os.path.relpath(folder, dest / ".dvc"), folder


def _write(build: Path, source: Source, carried: Carried, project: str, remote_url: str) -> int:
    """Every file of the export but DVC's; returns how many."""
    for path in sorted(TEMPLATE.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = Path(*[RENAMED.get(part, part) for part in path.relative_to(TEMPLATE).parts])
        target = build / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        if relative.parts[0] == ".github":
            text = (text.replace("__CHECKOUT__", render.ACTIONS["checkout"])
                    .replace("__SETUP_PYTHON__", render.ACTIONS["setup-python"])
                    .replace("__UPLOAD_ARTIFACT__", render.ACTIONS["upload-artifact"]))
        target.write_text(text, encoding="utf-8")
    for relative, shared in SHARED.items():
        (build / relative).write_text(shared.read_text(encoding="utf-8"), encoding="utf-8")
    settings = render.settings(source, carried, project)
    generated = {
        "schema.yaml": source.schema.to_yaml(),
        "params.yaml": render.params_yaml(settings),
        "tests/gate.yaml": render.gate_yaml(source.gate, source.schema),
        "deploy/champion.yaml": render.champion_yaml(project, carried),
        "serving/example.json": render.example_request(source.schema),
        "requirements.txt": render.requirements(),
        "README.md": render.readme(source, carried, project,
                                   remote_url if "://" in remote_url else f"../{Path(remote_url).name}", source.rows),
        "LICENSE": render.licence(_owner()),
    }
    for name, text in generated.items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_text(text, encoding="utf-8")
    (build / "data").mkdir(exist_ok=True)
    shutil.copyfile(source.data, build / "data" / f"{source.name}.csv")
    for name, path in source.samples.items():
        (build / "monitoring" / "samples").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, build / "monitoring" / "samples" / name)
    return sum(1 for p in build.rglob("*") if p.is_file())


def _shown_remote(url: str) -> str:
    return url if "://" in url else Path(url).name + "/ (beside this folder)"


def _owner() -> str:
    done = subprocess.run(["git", "config", "--get", "user.name"], capture_output=True, text=True)
    return done.stdout.strip() or os.environ.get("GIT_AUTHOR_NAME") or "The authors"


def _git(build: Path, *args: str) -> None:
    env = dict(os.environ)
    known = subprocess.run(["git", "config", "--get", "user.email"], cwd=build, capture_output=True)
    if known.returncode != 0 and "GIT_AUTHOR_EMAIL" not in env:
        env.update(IDENTITY)  # a commit needs an identity; the person's own wins when there is one
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=build, capture_output=True,
                          text=True, env=env)
    if done.returncode != 0:
        raise ExportError(f"git {args[0]} failed in the new repository: {done.stderr.strip()[-300:]}",
                          fix="check that git works here (`git --version`); nothing was exported")


@contextlib.contextmanager
def _dvc_quiet_and_contained(build: Path):
    """DVC's site cache inside the new repository (DVC's default is /var/tmp) and its logs quiet."""
    import logging

    saved = os.environ.get("DVC_SITE_CACHE_DIR")
    os.environ.setdefault("DVC_SITE_CACHE_DIR", str(build / ".dvc" / "tmp" / "site-cache"))
    logger = logging.getLogger("dvc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
        if saved is None:
            os.environ.pop("DVC_SITE_CACHE_DIR", None)


def _init_repositories(build: Path, source: Source, remote_url: str) -> None:
    from dvc.repo import Repo

    _git(build, "init", "--quiet", "--initial-branch", "main")
    with _dvc_quiet_and_contained(build):
        Repo.init(str(build)).close()
        (build / ".dvc" / "config").write_text(
            f"[core]\n    analytics = false\n    remote = storage\n"
            f"['remote \"storage\"']\n    url = {remote_url}\n")
        with Repo(str(build)) as repo:
            repo.add(str(build / "data" / f"{source.name}.csv"))
    _git(build, "add", "-A")
    _git(build, "commit", "--quiet", "-m", f"Exported from the MLOps Clinic: {source.schema.name}, "
         f"{source.schema.task} of {source.schema.target}")


def _push(build: Path) -> bool:
    from dvc.repo import Repo

    with _dvc_quiet_and_contained(build), Repo(str(build)) as repo:
        repo.push()
    return True
