"""Module 01 questions: version data with DVC in a sandbox project, and refuse bad batches.

The exercises work in `sandbox-01/`, a git + DVC project of their own inside the workspace, so
the lesson's project (which later modules build on) is never changed by an exercise. The
checkers inspect that sandbox: its git tags and commits, its DVC cache and its remote. The open
question has a project of its own, `sandbox-01-open/`, and checks it as a colleague would find it:
a fresh clone, then `dvc pull`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from mlops_clinic.checks.core import (
    NotAttempted, Question, Wrong, as_boolean, as_count, as_path, as_text, describe, relative_path,
    run_participant,
)
from mlops_clinic.checks.open_questions import OpenQuestion, Rule

SANDBOX = "sandbox-01"
SANDBOX_REMOTE = "sandbox-01-remote"
DATA = "data/houses.csv"
POINTER = f"{DATA}.dvc"
RELEASE = re.compile(r"^data-v\d+\.\d+\.\d+$")


# --- the sandbox ----------------------------------------------------------------------------------


def _workspace(workspace=None):
    from mlops_clinic.workspace import Workspace

    return workspace if workspace is not None else Workspace.resolve()


def sandbox_path(workspace=None) -> Path:
    return _workspace(workspace).root / SANDBOX


def new_sandbox(workspace=None) -> Path:
    """A fresh git + DVC project for the exercises (an older one is deleted, with its remote):
    one commit with DVC set up, the reference data copied to data/houses.csv but not tracked,
    and no DVC remote yet."""
    from mlops_clinic.data import dataset_path

    ws = _workspace(workspace)
    path = _new_project(ws.root / SANDBOX, ws.root / SANDBOX_REMOTE, "[core]\n    analytics = false\n")
    (path / "data").mkdir()
    shutil.copyfile(dataset_path("houses_reference"), path / DATA)
    return path


def _new_project(path: Path, remote: Path, dvc_config: str) -> Path:
    """An empty git + DVC project at `path`, its DVC config set and committed; an older project
    and its remote folder are deleted first, so running the set-up cell again starts over."""
    import logging

    from dvc.repo import Repo

    for old in (path, remote):
        if old.exists():
            shutil.rmtree(old)
    path.mkdir(parents=True)
    _git(path, "init", "--quiet", "--initial-branch", "main")
    _git(path, "config", "commit.gpgsign", "false")
    _git(path, "config", "tag.gpgsign", "false")
    logger = logging.getLogger("dvc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        Repo.init(str(path)).close()
    finally:
        logger.setLevel(level)
    (path / ".dvc" / "config").write_text(dvc_config)
    _git(path, "add", ".dvc", ".dvcignore")
    _git(path, "commit", "--quiet", "-m", "Start the sandbox: git + DVC")
    return path


def _git(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True)


def _sandbox() -> Path:
    path = sandbox_path()
    if not (path / ".git").is_dir() or not (path / ".dvc").is_dir():
        raise Wrong(f"there is no {SANDBOX}/ project in your workspace: run the exercise "
                    "notebook's first cells, which create it.")
    return path


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _recorded_md5(pointer_text: str) -> str | None:
    import yaml

    try:
        outs = (yaml.safe_load(pointer_text) or {}).get("outs") or [{}]
    except yaml.YAMLError:
        return None
    return outs[0].get("md5")


def _pointer_at(path: Path, rev: str) -> str | None:
    """The md5 that data/houses.csv.dvc records at `rev`, or None if the file is not there."""
    shown = _git(path, "show", f"{rev}:{POINTER}")
    return _recorded_md5(shown.stdout) if shown.returncode == 0 else None


def _cached(path: Path, md5: str) -> bytes | None:
    """The content DVC keeps for `md5` in the sandbox's cache, or None."""
    obj = path / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    return obj.read_bytes() if obj.is_file() else None


def _rows(data: bytes) -> int:
    return max(0, data.count(b"\n") - 1)


def _default_remote(path: Path, folder: str = SANDBOX_REMOTE) -> Path:
    return _remote(path, folder)[1]


def _remote(path: Path, folder: str = SANDBOX_REMOTE) -> tuple[str, Path]:
    """The name and folder of the project's default DVC remote (a folder next to the project)."""
    from dvc.repo import Repo

    with Repo(str(path)) as repo:
        name = repo.config["core"].get("remote")
        if not name:
            raise Wrong("the sandbox has no default DVC remote. Add one next to it: "
                        f"!dvc remote add -d storage ../{folder}")
        url = repo.config["remote"].get(name, {}).get("url", "")
    if "://" in url:
        raise Wrong(f"the default remote {name!r} is {url}; for this exercise use a folder: "
                    f"!dvc remote add -d storage ../{folder}")
    return name, Path(url)


def _pushed(path: Path, md5: str) -> bool:
    remote = _default_remote(path)
    return (remote / "files" / "md5" / md5[:2] / md5[2:]).is_file()


def _reference_md5() -> str:
    from mlops_clinic.data import dataset_path

    return _md5(dataset_path("houses_reference").read_bytes())


def _tag_commit(path: Path, tag: str) -> str | None:
    found = _git(path, "rev-parse", "--quiet", "--verify", f"refs/tags/{tag}^{{commit}}")
    return found.stdout.strip() if found.returncode == 0 else None


# --- the checkers ---------------------------------------------------------------------------------


def _check_track(pointer) -> str:
    given = relative_path(pointer, sandbox_path())  # the notebook works in the sandbox
    if given == DATA:
        raise Wrong(f"{DATA} is the data itself, which git must not hold. `dvc add` wrote a small "
                    "pointer file next to it: that is what git tracks.")
    if given != POINTER:
        raise Wrong(f"{given!r} is not the file `dvc add {DATA}` writes for git. Look in data/.")
    path = _sandbox()
    if not (path / POINTER).is_file():
        raise Wrong(f"{SANDBOX}/ has no {POINTER} yet: run !dvc add {DATA} in the sandbox.")
    md5 = _recorded_md5((path / POINTER).read_text())
    if _git(path, "ls-files", "--error-unmatch", DATA).returncode == 0:
        raise Wrong(f"git is tracking {DATA} itself: `git rm --cached {DATA}`, then commit; "
                    "the .gitignore that DVC wrote keeps it out from then on.")
    if _pointer_at(path, "HEAD") != md5 or _git(path, "ls-files", "--error-unmatch",
                                                "data/.gitignore").returncode != 0:
        raise Wrong(f"the pointer is not committed: !git add {POINTER} data/.gitignore, then "
                    "!git commit -m \"...\".")
    if not _pushed(path, md5):
        raise Wrong("the pointer is committed, but the remote does not have the data yet: !dvc push.")
    return ("git holds a pointer of a few lines; the data is in the cache and in the remote, "
            "under its md5.")


def _check_tag(tag) -> str:
    tag = as_text(tag, "the tag's name")
    if not RELEASE.match(tag):
        raise Wrong(f"{tag!r} does not follow the release naming: data-vMAJOR.MINOR.PATCH, "
                    "for the first release data-v1.0.0.")
    path = _sandbox()
    if _tag_commit(path, tag) is None:
        raise Wrong(f"{SANDBOX}/ has no tag {tag}: !git tag {tag} (after committing the pointer).")
    recorded = _pointer_at(path, tag)
    if recorded is None:
        raise Wrong(f"{tag} points at a commit without {POINTER}: delete it (!git tag -d {tag}), "
                    "commit the pointer, then tag again.")
    if recorded != _reference_md5():
        raise Wrong(f"{tag} points at data that is not the reference file; the first release is "
                    "the 2,000 reference houses as they arrived.")
    if tag != "data-v1.0.0":
        raise Wrong(f"{tag} names the right data, but this is the first release: data-v1.0.0.")
    return "data-v1.0.0 now names these exact 2,000 rows, whatever happens to the file later."


def _bad_batches(folder: Path) -> dict[str, tuple[Path, str]]:
    """Batches a gate must refuse, made from the clean new release: {name: (file, what is wrong)}."""
    from mlops_clinic.data import dataset_path

    lines = dataset_path("houses_new").read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")

    def spoil(column: str, value: str) -> str:
        cells = lines[1].rstrip("\n").split(",")
        cells[header.index(column)] = value
        return "".join([lines[0], ",".join(cells) + "\n", *lines[2:]])

    batches = {
        "upper_case.csv": (spoil("mainroad", "YES"), "line 2 has mainroad = 'YES' (the schema says 'yes')"),
        "missing_price.csv": (spoil("price", ""), "line 2 has no price"),
        "absurd_area.csv": (spoil("area", "476000"), "line 2 has an area of 476,000 sq ft"),
        "duplicate_house.csv": ("".join([lines[0], lines[1], *lines[1:]]),
                                "the house of line 2 is sent twice"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, (text, why) in batches.items():
        (folder / name).write_text(text)
        made[name] = (folder / name, why)
    return made


def _gate_verdict(gate, path: Path, name: str) -> bool:
    """The gate's True/False for one batch (DataValidationError is left for the checker to name)."""
    from mlops_clinic.data import DataValidationError

    verdict = run_participant(gate, (path,), what=f"your gate, on {name},",
                              let_through=(DataValidationError,))
    if isinstance(verdict, (list, tuple)):
        raise Wrong("your gate returns a list (of problems?). Return True when the batch may become "
                    "a version and False when it may not, e.g. len(validate(read_csv(path))) == 0.")
    return as_boolean(verdict, "your gate's answer")


def _check_gate(gate) -> str:
    from mlops_clinic.data import DataValidationError, dataset_path

    if not callable(gate):
        raise Wrong(f"expected a function that takes the path of a CSV file, got {describe(gate)}.")
    clean = dataset_path("houses_new")
    try:
        verdict = _gate_verdict(gate, clean, "houses_new.csv")
    except DataValidationError as error:
        raise Wrong(f"your gate raised on houses_new.csv, a clean batch: {str(error)[:200]}") from None
    if not verdict:
        raise Wrong("your gate refused houses_new.csv, which is a clean batch: only refuse "
                    "batches with problems.")
    folder = _workspace().tmp / "gate-check"
    for name, (path, why) in _bad_batches(folder).items():
        try:
            verdict = _gate_verdict(gate, path, name)
        except DataValidationError:
            raise Wrong(f"your gate raised DataValidationError on {name} instead of returning False; "
                        "catch the error (or use validate, which returns the problems).") from None
        if verdict:
            raise Wrong(f"your gate accepted {name}, where {why}. Check every value against the "
                        "schema: mlops_clinic.data.validate(read_csv(path)) lists every problem.")
    shutil.rmtree(folder, ignore_errors=True)
    return ("the gate accepts the clean release and refuses upper-case yes/no, a missing price, "
            "an absurd area and a house sent twice.")


def _check_new_release(tag) -> str:
    tag = as_text(tag, "the tag's name")
    if not RELEASE.match(tag):
        raise Wrong(f"{tag!r} does not follow the release naming data-vMAJOR.MINOR.PATCH, "
                    "e.g. data-v2.0.0.")
    path = _sandbox()
    if tag == "data-v1.0.0":
        raise Wrong("data-v1.0.0 is the first release; the new one needs a new tag, e.g. data-v2.0.0.")
    if _tag_commit(path, tag) is None:
        raise Wrong(f"{SANDBOX}/ has no tag {tag}: commit the new pointer, then !git tag {tag}.")
    v1 = _pointer_at(path, "data-v1.0.0")
    if v1 is None:
        raise Wrong("the sandbox has no data-v1.0.0 release any more; do exercise 2 first.")
    if v1 != _reference_md5():
        raise Wrong("data-v1.0.0 no longer points at the reference data: never move a release "
                    "tag. Recreate the sandbox (first cells) and do exercises 1 to 4 again.")
    md5 = _pointer_at(path, tag)
    if md5 is None:
        raise Wrong(f"{tag} points at a commit without {POINTER}.")
    if md5 == v1:
        raise Wrong(f"{tag} points at the same data as data-v1.0.0: `dvc add` the new file and "
                    "commit the pointer before tagging.")
    data = _cached(path, md5)
    if data is None:
        raise Wrong(f"the data of {tag} is not in the sandbox's DVC cache: did you `dvc add` it?")
    _release_validates(tag, data)
    rows = _rows(data)
    if rows == 1000:
        raise Wrong(f"{tag} holds only the 1,000 new rows. A release is the old rows plus the new "
                    "ones: pd.concat([current, new]).")
    if rows != 3000:
        raise Wrong(f"{tag} holds {rows:,} rows; the reference (2,000) plus the new release "
                    "(1,000) make 3,000.")
    if not _same_houses(data):
        raise Wrong(f"{tag} holds 3,000 rows, but they are not the 2,000 reference houses plus the "
                    "1,000 of the new release: append the new file to the v1 data, nothing else.")
    if not _pushed(path, md5):
        raise Wrong(f"{tag} is committed and tagged, but the remote does not have its data: !dvc push.")
    return f"two releases, both in the remote: data-v1.0.0 (2,000 rows) and {tag} (3,000 rows)."


def _release_validates(tag: str, data: bytes) -> None:
    """A release is data the kit's own validation accepts, or later modules train on bad rows."""
    import tempfile

    from mlops_clinic.data import DataValidationError, read_csv, validate

    scratch = _workspace().tmp
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        release = Path(folder) / "houses.csv"
        release.write_bytes(data)
        try:
            problems = validate(read_csv(release), f"{tag}'s {DATA}")
        except DataValidationError as error:
            raise Wrong(f"{tag}'s {DATA} cannot be read as CSV: {str(error)[:200]}") from None
    if any(problem.column and problem.column.startswith("Unnamed") for problem in problems):
        raise Wrong(f"{tag}'s {DATA} has an extra column without a name: pandas wrote the row "
                    "index into the file. Write it again without the index (to_csv has an argument "
                    "for it), then dvc add, commit and tag again (git tag -f on your new tag).")
    if problems:
        shown = "; ".join(problem.message if problem.row is None else f"line {problem.row}: {problem.message}"
                          for problem in problems[:2])
        raise Wrong(f"{tag}'s {DATA} does not validate ({len(problems)} problem(s): {shown}): a "
                    "release must pass the gate. Rebuild the file, then dvc add, commit and tag again.")


def _same_houses(data: bytes) -> bool:
    """Whether the release holds exactly the reference houses and the new ones, in any order."""
    import io

    import pandas as pd

    from mlops_clinic.data import dataset_path

    release = pd.read_csv(io.BytesIO(data))
    expected = pd.concat([pd.read_csv(dataset_path(name)) for name in ("houses_reference", "houses_new")])
    if sorted(release.columns) != sorted(expected.columns):
        return False
    columns = sorted(expected.columns)
    ordered = [frame[columns].sort_values(columns).reset_index(drop=True) for frame in (release, expected)]
    return ordered[0].equals(ordered[1])


def _check_restore(rows_in_v1) -> str:
    rows = as_count(rows_in_v1, "a whole number of rows")
    path = _sandbox()
    v1 = _pointer_at(path, "data-v1.0.0")
    if v1 is None:
        raise NotAttempted("the sandbox has no data-v1.0.0 yet: do exercise 2 first.")
    if rows == 3000:
        raise Wrong("3,000 is the latest release. Check out the tag data-v1.0.0, then dvc checkout.")
    if rows == 2001:
        raise Wrong("2,001 counts the header line too; len(pd.read_csv(...)) counts the houses.")
    if rows != 2000:
        raise Wrong(f"{rows:,} is not the number of houses in data-v1.0.0.")
    on_disk = path / DATA
    pointer = path / POINTER
    pointer_says_v1 = pointer.is_file() and _recorded_md5(pointer.read_text()) == v1
    if pointer_says_v1 and (not on_disk.is_file() or _md5(on_disk.read_bytes()) != v1):
        raise Wrong("git brought v1's pointer back, but data/houses.csv is still the other "
                    "release: !dvc checkout puts the data the pointer names on disk.")
    if not on_disk.is_file() or _md5(on_disk.read_bytes()) != v1:
        raise Wrong("the count is right, but data/houses.csv in the sandbox is not v1: restore the "
                    "file itself with !git checkout data-v1.0.0 and !dvc checkout.")
    return ("data-v1.0.0 is back on disk, byte for byte (!git checkout main and !dvc checkout "
            "return to the latest).")


# --- the open question: what goes in git, what goes in DVC --------------------------------------------

OPEN = "sandbox-01-open"
OPEN_REMOTE = "sandbox-01-open-remote"
SURVEY = "survey"
LARGE = 1_000_000  # bytes: a file this big makes every clone slow, and its diffs unreadable
SURVEY_SEED = 7101  # not a seed of the lesson's data: the listings are houses nobody has seen
SURVEY_ROWS = 60_000
REVIEWED = (f"{SURVEY}/settings.yaml", f"{SURVEY}/README.md")  # text a colleague reviews line by line

_SETTINGS = """\
# How the partner agencies' survey was run: read by the people who review a change to it.
survey: partner-listings-2026
agencies: 14
period:
  from: 2026-01-05
  to: 2026-06-28
price_floor: 60000
deduplicate_on: house_id
contact: data@bridgeai.example
"""

_CARD = """\
# Data card: partner listings survey, first half of 2026

- **What**: 60,000 houses listed by 14 partner agencies, one row per listing, with the asking
  price in pounds (`price`) and the features of the kit's schema.
- **Regions**: `regions.csv` maps each region code to its name and the agency that covers it.
- **Settings**: `settings.yaml` says how the survey was run (period, price floor, de-duplication).
- **Known gaps**: no listing under the price floor; houses withdrawn before sale are kept.
- **Owner**: the data team; changes to this card or the settings are reviewed like code.
"""

_REGIONS = """\
region,name,agency
N,North,Moorland Homes
NE,North East,Tyne Lettings
NW,North West,Mersey Estates
M,Midlands,Heartland Property
SW,South West,Severn & Co
SE,South East,Downs Agency
"""


@functools.lru_cache(maxsize=1)
def survey_files() -> dict[str, bytes]:
    """The survey folder a partner sends, {path in the project: bytes}: a large table of listings
    and three small text files. Generated from a fixed seed, so the check knows every byte the
    participant received and can tell a file that was changed or lost."""
    from mlops_clinic.data.generate import generate_houses, to_csv_bytes

    listings = generate_houses(SURVEY_ROWS, seed=SURVEY_SEED, id_start=900_001)
    return {f"{SURVEY}/listings.csv": to_csv_bytes(listings),
            f"{SURVEY}/regions.csv": _REGIONS.encode(),
            f"{SURVEY}/settings.yaml": _SETTINGS.encode(),
            f"{SURVEY}/README.md": _CARD.encode()}


def new_survey_project(workspace=None) -> Path:
    """A fresh git + DVC project for the open question, in sandbox-01-open/ (an older one is
    deleted, with its remote): DVC set up with a default remote next to it, all committed, and the
    survey/ folder written but tracked by nothing, for the participant to decide."""
    ws = _workspace(workspace)
    config = ("[core]\n    analytics = false\n    remote = storage\n"
              "['remote \"storage\"']\n" f"    url = ../../{OPEN_REMOTE}\n")
    path = _new_project(ws.root / OPEN, ws.root / OPEN_REMOTE, config)
    for name, content in survey_files().items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(content)
    return path


def _survey_project(project) -> Path:
    """The participant's answer as the project to inspect: the folder new_survey_project made."""
    expected = _workspace().root / OPEN
    path = as_path(project, Path.cwd(), "the path of your project (the `project` of the set-up cell)")
    if path != expected.resolve():
        raise Wrong(f"{path.name}/ is not the project of this question: pass `project`, the "
                    f"{OPEN}/ folder the set-up cell made.")
    if not (path / ".git").is_dir() or not (path / ".dvc").is_dir():
        raise Wrong(f"there is no {OPEN}/ project in your workspace: run the set-up cell above.")
    return path


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


def _large_files() -> list[str]:
    return [name for name, content in survey_files().items() if len(content) > LARGE]


def _dvc_outs(path: Path) -> list[Path]:
    """Every path DVC tracks in the project, from its .dvc files and dvc.yaml (files or folders)."""
    from dvc.repo import Repo

    with Repo(str(path)) as repo:
        return [Path(out.fs_path).resolve() for out in repo.index.outs]


def _tracked_by_dvc(path: Path, name: str, outs: list[Path]) -> bool:
    file = (path / name).resolve()
    return any(out == file or out in file.parents for out in outs)


def _committed(path: Path) -> set[str]:
    """The files of git's last commit (none before the first)."""
    listed = _git(path, "ls-tree", "-r", "--name-only", "HEAD")
    return set(listed.stdout.split()) if listed.returncode == 0 else set()


def _rule_large_in_dvc(path: Path) -> str | None:
    outs = _dvc_outs(path)
    for name in _large_files():
        if not _tracked_by_dvc(path, name, outs):
            return (f"{name} ({_size(len(survey_files()[name]))}) is not tracked by DVC: "
                    f"dvc add {name}, then git add the small .dvc pointer it writes.")
    return None


def _rule_history_small(path: Path) -> str | None:
    """No commit on any branch or tag holds a blob over LARGE: git keeps every version forever."""
    objects = _git(path, "rev-list", "--all", "--objects").stdout
    sizes = subprocess.run(["git", "cat-file", "--batch-check=%(objecttype) %(objectsize) %(rest)"],
                           cwd=path, input=objects, capture_output=True, text=True).stdout
    for line in sizes.splitlines():
        kind, size, *name = line.split(" ", 2)
        if kind == "blob" and int(size) > LARGE:
            return (f"git's history holds {name[0] if name else 'a file'} ({_size(int(size))}): every "
                    "clone downloads it, even after git rm. Run the set-up cell to start again, and "
                    "dvc add it before the first commit that could hold it.")
    return None


def _rule_text_in_git(path: Path) -> str | None:
    outs, committed = _dvc_outs(path), _committed(path)
    for name in REVIEWED:
        if _tracked_by_dvc(path, name, outs):
            return (f"{name} is tracked by DVC, so a review of a change shows only a new md5: keep "
                    "small text in git (dvc remove the pointer that covers it, then git add the file).")
        if name not in committed:
            return (f"{name} is not committed to git: git add it and commit, so each change to it "
                    "can be reviewed line by line.")
    return None


def _rule_clean(path: Path) -> str | None:
    from dvc.repo import Repo

    changed = _git(path, "status", "--porcelain").stdout.splitlines()
    if changed:
        shown = ", ".join(line[3:] for line in changed[:3])
        return (f"git status is not clean ({shown}): commit what belongs to the project, delete "
                "what does not.")
    with Repo(str(path)) as repo:
        differ = repo.status()
    if differ:
        return (f"dvc status lists changes ({', '.join(differ)}): the data on disk is not what its "
                "pointer records. dvc checkout brings the recorded data back (or dvc add and commit "
                "a change you meant).")
    return None


def _rule_clone_complete(path: Path) -> str | None:
    """A colleague's `git clone` then `dvc pull` gives back every delivered file, byte for byte."""
    import sys

    name, remote = _remote(path, OPEN_REMOTE)
    clone = _workspace().tmp / "open-01-clone"
    shutil.rmtree(clone, ignore_errors=True)
    clone.parent.mkdir(parents=True, exist_ok=True)
    try:
        _git(clone.parent, "clone", "--quiet", str(path), clone.name)
        # The clone sits elsewhere: its local config points the same remote at the same folder.
        (clone / ".dvc" / "config.local").write_text(
            f"['remote \"{name}\"']\n    url = {(path / '.dvc' / remote).resolve()}\n")
        pulled = subprocess.run([sys.executable, "-m", "dvc", "pull", "--quiet"], cwd=clone,
                                capture_output=True, text=True)
        for name, content in survey_files().items():
            if not (clone / name).is_file():
                return (f"a fresh clone has no {name}, even after dvc pull: "
                        + ("the remote lacks its data, dvc push." if pulled.returncode != 0 else
                           "commit it to git or track it with DVC."))
            if _md5((clone / name).read_bytes()) != _md5(content):
                return (f"{name} in a fresh clone is not the file the partner sent: track the files "
                        "as they came (run the set-up cell to start again).")
        if pulled.returncode != 0:
            return "dvc pull fails in a fresh clone: the remote lacks some data, dvc push."
    finally:
        shutil.rmtree(clone, ignore_errors=True)
    return None


q1 = Question("q1", "01", _check_track, hints=[
    "Track the file with `dvc add`, as the lesson did (section 'Track the reference data and push "
    "it'). Its output names the files to add to git.",
    "A push needs a default remote: `dvc remote add -d NAME PATH` adds one (the lesson's section "
    "'Start the project'). Then commit the files that `dvc add` named, and `dvc push`.",
    "The answer is the path of the small file that git tracks in place of the data: `dvc add` wrote "
    "it next to the data, and the lesson printed it with !cat. Give the path relative to the "
    "sandbox, as text.",
])

q2 = Question("q2", "01", _check_tag, hints=[
    "A git tag names a commit for good: `git tag NAME` tags the current commit, so commit the "
    "pointer first.",
    "BridgeAI names data releases data-vMAJOR.MINOR.PATCH, and this is the first release: the "
    "lesson tagged its own first release the same way (section 'Track the reference data and push "
    "it'). Store the name you gave the tag in `tag`.",
])

q3 = Question("q3", "01", _check_gate, hints=[
    "mlops_clinic.data.read_csv(path) reads every cell as text; validate(df) returns a list of problems.",
    "An empty list of problems means the batch is fine.",
    "A gate is a function of one argument, the path, that returns True or False (def gate(path): "
    "... or a lambda). The lesson's section 'Validate before you version' reads a batch and "
    "validates it; turn 'no problems' into True with len(...) == 0 or `not`.",
])

q4 = Question("q4", "01", _check_new_release, hints=[
    "Check the new file with your gate first. A release is the old rows followed by the new ones: "
    "the lesson built its second release that way (section 'A new release').",
    "pd.concat([first, second]) stacks two DataFrames; .to_csv(path, index=False) writes the result "
    "back without the row index (otherwise it becomes an extra column).",
    "Then version the file as for the first release: dvc add, git add and commit the pointer, tag "
    "the commit with the next major version, and dvc push. Store the new tag's name in `new_tag`.",
])

q5 = Question("q5", "01", _check_restore, hints=[
    "Two steps, as in the lesson's section 'Go back in time': git brings back the pointer that a "
    "tag names, and DVC the data that pointer names.",
    "git checkout TAG puts back the files of that tag's commit (HEAD is then detached: fine for "
    "reading). dvc checkout then makes data/houses.csv match the pointer.",
    "Then count the rows of the restored file: read it with pandas, and len() of a DataFrame counts "
    "its rows (the header line is not one).",
])

q6 = OpenQuestion(
    "q6", "01", work=_survey_project,
    rules=[
        Rule("every file over 1 MB is tracked by DVC (a .dvc pointer or a dvc.yaml output covers it)",
             _rule_large_in_dvc, points=2),
        Rule("no commit holds a file over 1 MB: a clone of the project stays small", _rule_history_small),
        Rule("the settings and the data card are committed to git, where a review shows each change",
             _rule_text_in_git),
        Rule("git status and dvc status are clean: everything committed, the data as its pointers say",
             _rule_clean),
        Rule("a fresh git clone followed by dvc pull gives back every file of survey/, byte for byte",
             _rule_clone_complete, points=2),
    ],
    look_for=[
        "for each file, why git or DVC: its size, and what a reviewer would see in a diff of it",
        "where the small lookup table went and why (git for hand edits reviewed as diffs, DVC if it "
        "is regenerated with the data: both are defensible)",
        "how a colleague gets the data back (git clone, then dvc pull) and what the remote is for",
        "what would change the choice: a file that grows every week, one edited by hand, one with "
        "personal data",
    ],
    hints=[
        "For each file of survey/, ask two things: how big is it (ls -l survey/), and would you "
        "want to read a change to it line by line in a review?",
        "A large file goes to DVC, which gives git a small pointer in its place; small text goes to "
        "git as it is. Then one commit, and the data to the remote.",
        "The method is the lesson's section 2, \"Track the reference data and push it\": dvc add, "
        "git add of what dvc add tells you, git commit, dvc push. git status and dvc status then "
        "show what is left.",
    ])

QUESTIONS = (q1, q2, q3, q4, q5, q6)
