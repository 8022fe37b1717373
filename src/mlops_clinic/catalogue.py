"""The course as data: its folders, its notebooks in course order, and their `clinic` metadata.

Everything that lists notebooks reads them here (build, agenda, `clinic run`, grading, the checks'
solution lookup, the maturity bank's course plan), so adding a module is adding its notebooks:

    notebooks/NN_name.ipynb    the lesson, committed with its outputs        kind "lesson"
    solutions/NN_name.ipynb    the exercise with its solution regions        kind "solution"
    exercises/NN_name.ipynb    generated from the solution by `clinic build` kind "exercise"

Each notebook's metadata `clinic` is validated once, when it is read (`Notebook.read`), into typed
fields: module, kind, title, objectives, prerequisites and minutes (teaching, exercises, and
optionally per section). The tags and the solution markers every tool agrees on are defined here,
with the one parser of solution regions (strict: an unclosed region is an error everywhere).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic import paths
from mlops_clinic.errors import ClinicError

# --- names every tool agrees on ---------------------------------------------------------------------
NOTEBOOK_NAME = re.compile(r"^(?P<module>\d\d)_[^/]+\.ipynb$")  # the module number starts the name
FOLDERS = {"lesson": "notebooks", "solution": "solutions", "exercise": "exercises"}
# A solution notebook may still say "exercise": it is the exercise's single source.
KINDS_IN_FOLDER = {"notebooks": ("lesson",), "solutions": ("solution", "exercise"), "exercises": ("exercise",)}

PARAMETERS_TAG = "parameters"  # papermill injects parameters after the cell with this tag
DROP_TAGS = frozenset({"solution", "instructor"})  # whole cells left out of the exercise
PAPERMILL_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag"})  # cells papermill adds
ALLOW_ERRORS_TAG = "raises-exception"  # nbclient runs on past an error in a cell with this tag

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"  # code cells, as nbgrader spells them
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"  # markdown cells
MD_REGION = re.compile(r"<!--\s*(BEGIN|END) SOLUTION\s*-->")


class CourseError(ClinicError):
    """A notebook of the course that cannot be used: unreadable, wrong name or `clinic` metadata,
    solution markers that do not pair up. The message names the notebook (and cell and line)."""


# --- solution regions ---------------------------------------------------------------------------------
def code_regions(source: str, where: str) -> list[tuple[int, int]]:
    """(begin, end) line indices of each solution region of a code cell, markers included."""
    regions, begin = [], None
    for i, line in enumerate(source.splitlines()):
        mark = line.strip()
        if mark == BEGIN:
            if begin is not None:
                raise CourseError(f"{where}: line {i + 1}: `{BEGIN}` inside another region (line {begin + 1})")
            begin = i
        elif mark == END:
            if begin is None:
                raise CourseError(f"{where}: line {i + 1}: `{END}` without a `{BEGIN}` before it")
            regions.append((begin, i))
            begin = None
    if begin is not None:
        raise CourseError(f"{where}: line {begin + 1}: `{BEGIN}` has no matching `{END}`")
    return regions


def region_lines(source: str, where: str) -> list[str]:
    """The lines inside the solution regions of a code cell, markers left out."""
    lines = source.splitlines()
    return [line for begin, end in code_regions(source, where) for line in lines[begin + 1:end]]


def markdown_regions(source: str, where: str) -> list[tuple[int, int, int, int]]:
    """(outer start, inner start, inner end, outer end) character spans of markdown regions."""
    spans, open_at = [], None
    for m in MD_REGION.finditer(source):
        line = source.count("\n", 0, m.start()) + 1
        if m.group(1) == "BEGIN":
            if open_at is not None:
                raise CourseError(f"{where}: line {line}: `{MD_BEGIN}` inside another region")
            open_at = m
        else:
            if open_at is None:
                raise CourseError(f"{where}: line {line}: `{MD_END}` without a `{MD_BEGIN}` before it")
            spans.append((open_at.start(), open_at.end(), m.start(), m.end()))
            open_at = None
    if open_at is not None:
        line = source.count("\n", 0, open_at.start()) + 1
        raise CourseError(f"{where}: line {line}: `{MD_BEGIN}` has no matching `{MD_END}`")
    return spans


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def source_cells(cells) -> list:
    """The cells of a notebook that belong to its source: papermill's added cells left out."""
    return [c for c in cells if not tags(c) & PAPERMILL_TAGS]


# --- one notebook -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """A section of a lesson (its `## ` heading) and the minutes it takes to teach. An optional
    section ("Going further") is for self-paced learners: a clinic may skip it, so its minutes are
    not part of the lesson's teaching time."""

    title: str
    minutes: int
    optional: bool = False


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course and what its `clinic` metadata says about it."""

    path: Path
    module: str
    kind: str
    title: str
    objectives: tuple[str, ...]
    prerequisites: tuple[str, ...] = ()
    teaching: int = 0
    exercises: int = 0
    sections: tuple[Section, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def folder(self) -> str:
        return self.path.parent.name

    @property
    def minutes(self) -> int:
        return self.teaching + self.exercises

    @classmethod
    def read(cls, path: str | Path) -> "Notebook":
        """Read and validate one notebook's metadata; CourseError lists every problem."""
        path = Path(path)
        try:
            metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
            raise CourseError(f"{_shown(path)} cannot be read as a notebook: {exc}",
                                 fix="restore it from git (`git checkout -- <file>`)") from None
        meta = metadata.get("clinic")
        problems = metadata_problems(meta, path)
        if problems:
            raise CourseError(f"{_shown(path)}: " + "; ".join(problems),
                                 fix="see docs/contributing.md, 'Add or change a lesson'")
        minutes = meta["minutes"]
        return cls(
            path=path, module=meta["module"], kind=meta["kind"], title=meta["title"].strip(),
            objectives=tuple(meta["objectives"]), prerequisites=tuple(meta.get("prerequisites", [])),
            teaching=minutes["teaching"], exercises=minutes["exercises"],
            sections=tuple(Section(s["title"], s["minutes"], bool(s.get("optional", False)))
                           for s in minutes.get("sections", [])),
        )


def _whole_minutes(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def metadata_problems(meta, path: Path) -> list[str]:
    """What is wrong with a notebook's `clinic` metadata, one short phrase each (empty: nothing)."""
    if not isinstance(meta, dict):
        return ["no `clinic` notebook metadata (module, title, kind, objectives, minutes ...)"]
    problems = []
    named = NOTEBOOK_NAME.match(path.name)
    if not named:
        problems.append("file name does not start with a two-digit module number (NN_name.ipynb)")
    elif meta.get("module") != named.group("module"):
        problems.append(f"clinic.module is {meta.get('module')!r}, the file name says {named.group('module')!r}")
    if not isinstance(meta.get("title"), str) or not meta["title"].strip():
        problems.append("clinic.title is missing or empty")
    objectives = meta.get("objectives")
    if not isinstance(objectives, list) or not objectives or not all(
            isinstance(o, str) and o.strip() for o in objectives):
        problems.append("clinic.objectives must be a non-empty list of sentences")
    if not isinstance(meta.get("prerequisites", []), list):
        problems.append("clinic.prerequisites must be a list")
    kind, expected = meta.get("kind"), KINDS_IN_FOLDER.get(path.parent.name)
    if kind not in FOLDERS:
        problems.append(f"clinic.kind is {kind!r}, not 'lesson', 'exercise' or 'solution'")
    elif expected and kind not in expected:
        problems.append(f"clinic.kind is {kind!r} in {path.parent.name}/, expected "
                        + " or ".join(repr(k) for k in expected))
    minutes = meta.get("minutes")
    for part in ("teaching", "exercises"):
        if not _whole_minutes(minutes.get(part) if isinstance(minutes, dict) else None):
            problems.append(f"clinic.minutes.{part} must be a whole number of minutes")
    sections = minutes.get("sections", []) if isinstance(minutes, dict) else []
    if not isinstance(sections, list) or not all(
            isinstance(s, dict) and isinstance(s.get("title"), str) and _whole_minutes(s.get("minutes"))
            and isinstance(s.get("optional", False), bool) for s in sections):
        problems.append("clinic.minutes.sections must be a list of {title, minutes, optional}")
    elif sections and _whole_minutes(minutes.get("teaching")):
        taught = sum(s["minutes"] for s in sections if not s.get("optional", False))
        if taught != minutes["teaching"]:
            problems.append(f"clinic.minutes.sections add up to {taught} minutes (optional ones left out), "
                            f"clinic.minutes.teaching says {minutes['teaching']}")
    return problems


def _shown(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


# --- the course ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Module:
    """One module: its lesson, and its solution and exercise when it has exercises."""

    id: str
    lesson: Notebook
    solution: Notebook | None = None
    exercise_path: Path | None = None

    @property
    def title(self) -> str:
        return self.lesson.title


@dataclass(frozen=True)
class Catalogue:
    """The course in three folders (the kit's own by default: `course()`). Cheap to build; every
    call reads the folders afresh, so a notebook added or edited is seen at once."""

    notebooks_dir: Path
    solutions_dir: Path
    exercises_dir: Path

    @classmethod
    def at(cls, root: str | Path) -> "Catalogue":
        """The course whose folders are notebooks/, solutions/ and exercises/ under `root`."""
        root = Path(root)
        return cls(*(root / FOLDERS[kind] for kind in ("lesson", "solution", "exercise")))

    def folder(self, kind: str) -> Path:
        return {"lesson": self.notebooks_dir, "solution": self.solutions_dir,
                "exercise": self.exercises_dir}[kind]

    def paths(self, kind: str) -> list[Path]:
        """Notebook files of one kind, in module order (files without a module number are ignored)."""
        folder = Path(self.folder(kind))
        found = [p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name)] if folder.is_dir() else []
        return sorted(found, key=lambda p: p.name)

    def notebooks(self, kind: str) -> list[Notebook]:
        return [Notebook.read(p) for p in self.paths(kind)]

    def modules(self) -> dict[str, Module]:
        """Every module that has a lesson, by id, in course order."""
        solutions = {nb.module: nb for nb in self.notebooks("solution")}
        found = {}
        for lesson in self.notebooks("lesson"):
            solution = solutions.get(lesson.module)
            exercise = Path(self.exercises_dir) / solution.name if solution else None
            found[lesson.module] = Module(lesson.module, lesson, solution, exercise)
        return found

    def module_ids(self) -> list[str]:
        """The module numbers of the lessons, in course order (from the file names alone: cheap)."""
        return [module_of_name(p.name) for p in self.paths("lesson")]

    def in_order(self, only: list[str] | None = None) -> list[Path]:
        """Lessons and solutions in the order a participant takes them: 00 lesson, 00 solution,
        01 lesson, ... limited to the module ids in `only` if given."""
        order = []
        for module in self.modules().values():
            if only and module.id not in only:
                continue
            order.append(module.lesson.path)
            if module.solution is not None:
                order.append(module.solution.path)
        return order

    def lessons_calling(self, function: str) -> list[str]:
        """Module ids of the lessons whose code calls `function` (e.g. "checkpoint")."""
        call = re.compile(rf"\b{re.escape(function)}\(")
        found = []
        for path in self.paths("lesson"):
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            if any(c.get("cell_type") == "code" and call.search("".join(c.get("source", ""))) for c in cells):
                found.append(module_of_name(path.name))
        return found

    def solution_path(self, module_id: str) -> Path | None:
        """The solution notebook of a module (found by file name: no metadata is read)."""
        return next((p for p in self.paths("solution") if module_of_name(p.name) == module_id), None)


def module_of_name(filename: str) -> str | None:
    """The module number a file name starts with ("03_serving.ipynb" -> "03"), else None."""
    named = NOTEBOOK_NAME.match(Path(filename).name)
    return named.group("module") if named else None


def course() -> Catalogue:
    """The kit's own course (its folders as `mlops_clinic.paths` names them)."""
    return Catalogue(paths.NOTEBOOKS_DIR, paths.SOLUTIONS_DIR, paths.EXERCISES_DIR)
