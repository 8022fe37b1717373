"""The question bank: load bank.yaml, check it, and give typed access to it.

The bank is data (bank.yaml, next to this file) so that instructors and module authors can change a
question without touching code. `validate()` lists every problem at once, each naming the place in
the file; `load_bank()` refuses a bank with problems, so a broken edit fails loudly and early.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

BANK_FILE = Path(__file__).with_name("bank.yaml")
LEVELS = (0, 1, 2, 3)
LEVEL_NAMES = ("ad hoc", "repeatable", "reproducible", "automated")  # Digital Catapult's names
MICROSOFT_LEVELS = (0, 1, 2, 3, 4)
GOOGLE_LEVELS = (0, 1, 2)
COURSE_MODULES = ("00", "01", "02", "03", "04", "05", "06", "07")
MODULES_WITH_CHECKPOINT = ("00", "01", "02", "03", "04", "05", "06")
QUESTIONS_PER_CHECKPOINT = (2, 4)
# Words of a self-rating question ("how mature are you, 1-5?"). The bank asks about practice.
SELF_RATING_WORDS = ("rate ", "how mature", "maturity", "on a scale", "how good")


class BankError(ValueError):
    """The question bank file has problems; the message lists each one with its place."""


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    meaning: str
    microsoft: tuple[int, ...]
    google: int

    @property
    def label(self) -> str:
        return f"{self.level} · {self.name}"


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    exercises: dict[str, str]


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    dc_section: str


@dataclass(frozen=True)
class NextStep:
    """What to do next, and the module and exercise of this course that teaches it."""

    module: str
    module_title: str
    exercise: str
    exercise_title: str
    action: str

    @property
    def where(self) -> str:
        return f"Module {self.module} ({self.module_title}), {self.exercise_title}"

    def text(self) -> str:
        return f"{self.action} {self.where}."


@dataclass(frozen=True)
class Option:
    level: int
    text: str
    meaning: str
    next_step: NextStep


@dataclass(frozen=True)
class Question:
    id: str
    checkpoint: str
    dimension: str
    text: str
    options: tuple[Option, ...]

    @property
    def key(self) -> str:
        return f"{self.checkpoint}.{self.id}"

    def option(self, level: int) -> Option:
        for option in self.options:
            if option.level == level:
                return option
        raise KeyError(f"{self.key} has no option at level {level}")


@dataclass(frozen=True)
class Checkpoint:
    id: str
    module: str
    title: str
    intro: str
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise KeyError(f"checkpoint {self.id!r} has no question {question_id!r}; its questions: {known}")


@dataclass(frozen=True)
class Bank:
    levels: tuple[Level, ...]
    frameworks: dict[str, Any]
    modules: dict[str, Module]
    dimensions: tuple[Dimension, ...]
    checkpoints: tuple[Checkpoint, ...]

    def level(self, level: int) -> Level:
        return self.levels[level]

    def checkpoint(self, key: str) -> Checkpoint:
        """A checkpoint by its id ("serving") or by its module number ("03")."""
        for checkpoint in self.checkpoints:
            if key in (checkpoint.id, checkpoint.module):
                return checkpoint
        known = ", ".join(f"{c.id} ({c.module})" for c in self.checkpoints)
        raise KeyError(f"no maturity checkpoint {key!r}; the checkpoints are: {known}")

    def dimension(self, dimension_id: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(f"no dimension {dimension_id!r}")

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for checkpoint in self.checkpoints for q in checkpoint.questions)

    def questions_of(self, dimension_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.dimension == dimension_id)


# --- loading ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def load_bank(path: str | Path = BANK_FILE) -> Bank:
    """The bank in `path` (default: the kit's bank.yaml), checked; BankError lists any problems."""
    raw = read_yaml(Path(path))
    problems = validate(raw)
    if problems:
        raise BankError(f"The maturity question bank {Path(path).name} has {len(problems)} problem(s):\n  "
                        + "\n  ".join(problems))
    return _build(raw)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BankError(f"{path.name} is not valid YAML: {exc}") from None


def _build(raw: dict) -> Bank:
    modules = {str(key): Module(str(key), value["title"], dict(value["exercises"]))
               for key, value in raw["modules"].items()}

    def next_step(step: dict) -> NextStep:
        module = modules[str(step["module"])]
        return NextStep(module.id, module.title, step["exercise"], module.exercises[step["exercise"]],
                        step["action"].strip())

    checkpoints = tuple(
        Checkpoint(
            id=cp["id"], module=str(cp["module"]), title=cp["title"], intro=cp.get("intro", ""),
            questions=tuple(
                Question(id=q["id"], checkpoint=cp["id"], dimension=q["dimension"], text=q["text"],
                         options=tuple(Option(o["level"], o["text"], o["meaning"], next_step(o["next_step"]))
                                       for o in sorted(q["options"], key=lambda o: o["level"])))
                for q in cp["questions"]),
        )
        for cp in raw["checkpoints"]
    )
    return Bank(
        levels=tuple(Level(lv["level"], lv["name"], lv["meaning"], tuple(lv["microsoft"]), lv["google"])
                     for lv in sorted(raw["levels"], key=lambda lv: lv["level"])),
        frameworks=raw["frameworks"],
        modules=modules,
        dimensions=tuple(Dimension(d["id"], d["name"], d["dc_section"]) for d in raw["dimensions"]),
        checkpoints=checkpoints,
    )


# --- validation -------------------------------------------------------------------------------------


def validate(raw: Any) -> list[str]:
    """Every problem of a raw bank, one line each, naming where it is. Empty means valid."""
    if not isinstance(raw, dict):
        return ["the bank must be a mapping with levels, frameworks, modules, dimensions, checkpoints"]
    problems: list[str] = []
    for key in ("levels", "frameworks", "modules", "dimensions", "checkpoints"):
        if key not in raw:
            problems.append(f"`{key}` is missing")
    if problems:
        return problems
    problems += _validate_levels(raw["levels"])
    problems += _validate_frameworks(raw["frameworks"])
    modules = _validate_modules(raw["modules"], problems)
    dimensions = _validate_dimensions(raw["dimensions"], problems)
    problems += _validate_checkpoints(raw["checkpoints"], modules, dimensions)
    return problems


def _validate_levels(levels) -> list[str]:
    if not isinstance(levels, list):
        return ["levels: must be a list"]
    problems = []
    found = [lv.get("level") for lv in levels if isinstance(lv, dict)]
    if sorted(found) != list(LEVELS):
        problems.append(f"levels: must be exactly {list(LEVELS)}, found {found}")
    microsoft_covered, google_covered = set(), set()
    previous = (-1, -1)
    for lv in sorted((lv for lv in levels if isinstance(lv, dict)), key=lambda lv: str(lv.get("level"))):
        where = f"levels[{lv.get('level')}]"
        if lv.get("level") in LEVELS and lv.get("name") != LEVEL_NAMES[lv["level"]]:
            problems.append(f"{where}: name must be {LEVEL_NAMES[lv['level']]!r} (Digital Catapult's name)")
        if not _text(lv.get("meaning")):
            problems.append(f"{where}: `meaning` (the level in plain words) is missing")
        microsoft, google = lv.get("microsoft"), lv.get("google")
        if not isinstance(microsoft, list) or not microsoft or not set(microsoft) <= set(MICROSOFT_LEVELS):
            problems.append(f"{where}: `microsoft` must list Microsoft levels among {list(MICROSOFT_LEVELS)}")
            continue
        if google not in GOOGLE_LEVELS:
            problems.append(f"{where}: `google` must be one of {list(GOOGLE_LEVELS)}")
            continue
        if min(microsoft) < previous[0] or google < previous[1]:
            problems.append(f"{where}: the mapping must not go down as the level goes up")
        previous = (max(microsoft), google)
        microsoft_covered.update(microsoft)
        google_covered.add(google)
    if not problems:
        if microsoft_covered != set(MICROSOFT_LEVELS):
            problems.append(f"levels: Microsoft levels {sorted(set(MICROSOFT_LEVELS) - microsoft_covered)} "
                            "are not mapped to any level")
        if google_covered != set(GOOGLE_LEVELS):
            problems.append(f"levels: Google levels {sorted(set(GOOGLE_LEVELS) - google_covered)} "
                            "are not mapped to any level")
    return problems


def _validate_frameworks(frameworks) -> list[str]:
    problems = []
    for name, levels in (("digital_catapult", None), ("microsoft", MICROSOFT_LEVELS), ("google", GOOGLE_LEVELS)):
        entry = frameworks.get(name) if isinstance(frameworks, dict) else None
        if not isinstance(entry, dict) or not _text(entry.get("name")) or not _text(entry.get("url")):
            problems.append(f"frameworks.{name}: needs a name and a url (the public source cited)")
            continue
        if levels and sorted(entry.get("levels", {})) != list(levels):
            problems.append(f"frameworks.{name}.levels: must name levels {list(levels)}")
    return problems


def _validate_modules(modules, problems: list[str]) -> dict[str, set[str]]:
    if not isinstance(modules, dict):
        problems.append("modules: must map module numbers to a title and exercises")
        return {}
    found = sorted(str(key) for key in modules)
    if found != list(COURSE_MODULES):
        problems.append(f"modules: the course plan must be modules {', '.join(COURSE_MODULES)}; found {found}")
    exercises = {}
    for key, module in modules.items():
        if not isinstance(module, dict) or not _text(module.get("title")) or not isinstance(module.get("exercises"), dict):
            problems.append(f"modules.{key}: needs a title and a mapping of exercises")
            continue
        exercises[str(key)] = set(module["exercises"])
    return exercises


def _validate_dimensions(dimensions, problems: list[str]) -> set[str]:
    if not isinstance(dimensions, list) or not dimensions:
        problems.append("dimensions: must be a non-empty list")
        return set()
    ids = []
    for index, dimension in enumerate(dimensions):
        if not isinstance(dimension, dict) or not all(_text(dimension.get(k)) for k in ("id", "name", "dc_section")):
            problems.append(f"dimensions[{index}]: needs id, name and dc_section")
            continue
        ids.append(dimension["id"])
    if len(ids) != len(set(ids)):
        problems.append("dimensions: ids must be unique")
    return set(ids)


def _validate_checkpoints(checkpoints, modules: dict[str, set[str]], dimensions: set[str]) -> list[str]:
    if not isinstance(checkpoints, list):
        return ["checkpoints: must be a list"]
    problems, ids, covered_modules, used_dimensions = [], [], set(), set()
    low, high = QUESTIONS_PER_CHECKPOINT
    for index, cp in enumerate(checkpoints):
        where = f"checkpoints[{index}]" + (f" ({cp.get('id')})" if isinstance(cp, dict) else "")
        if not isinstance(cp, dict) or not _text(cp.get("id")) or not _text(cp.get("title")):
            problems.append(f"{where}: needs an id and a title")
            continue
        ids.append(cp["id"])
        module = str(cp.get("module"))
        if module not in modules:
            problems.append(f"{where}: module {module!r} is not in the course plan")
        covered_modules.add(module)
        questions = cp.get("questions")
        if not isinstance(questions, list) or not low <= len(questions) <= high:
            problems.append(f"{where}: needs {low} to {high} questions")
            continue
        question_ids = [q.get("id") for q in questions if isinstance(q, dict)]
        if len(question_ids) != len(set(question_ids)):
            problems.append(f"{where}: question ids must be unique")
        for q in questions:
            problems += _validate_question(q, f"{cp['id']}.{q.get('id') if isinstance(q, dict) else '?'}",
                                           modules, dimensions)
            if isinstance(q, dict):
                used_dimensions.add(q.get("dimension"))
    if len(ids) != len(set(ids)):
        problems.append("checkpoints: ids must be unique")
    missing = [m for m in MODULES_WITH_CHECKPOINT if m not in covered_modules]
    if missing:
        problems.append(f"checkpoints: modules {', '.join(missing)} have no checkpoint")
    unused = sorted(dimensions - used_dimensions)
    if unused:
        problems.append(f"dimensions {', '.join(unused)} have no question")
    return problems


def _validate_question(q, where: str, modules: dict[str, set[str]], dimensions: set[str]) -> list[str]:
    if not isinstance(q, dict):
        return [f"{where}: must be a mapping"]
    problems = []
    text = q.get("text")
    if not _text(text) or not text.strip().endswith("?"):
        problems.append(f"{where}: `text` must be a question (ending with '?')")
    elif any(word in text.lower() for word in SELF_RATING_WORDS):
        problems.append(f"{where}: ask about practice (what people do), not for a self-rating")
    if q.get("dimension") not in dimensions:
        problems.append(f"{where}: dimension {q.get('dimension')!r} is not one of the dimensions")
    options = q.get("options")
    if not isinstance(options, list):
        return problems + [f"{where}: `options` must be a list"]
    levels = [o.get("level") for o in options if isinstance(o, dict)]
    if sorted(levels, key=str) != list(LEVELS):
        problems.append(f"{where}: needs exactly one option per level {list(LEVELS)}; found levels {levels}")
    for option in options:
        place = f"{where}, option level {option.get('level') if isinstance(option, dict) else '?'}"
        if not isinstance(option, dict):
            problems.append(f"{place}: must be a mapping")
            continue
        if not _text(option.get("text")):
            problems.append(f"{place}: `text` (the practice) is missing")
        meaning, level = option.get("meaning"), option.get("level")
        if not _text(meaning):
            problems.append(f"{place}: `meaning` (its level in plain words) is missing")
        elif level in LEVELS and not meaning.lower().startswith(LEVEL_NAMES[level]):
            problems.append(f"{place}: `meaning` must start with the level's name, "
                            f"'{LEVEL_NAMES[level].capitalize()}; ...'")
        problems += _validate_next_step(option.get("next_step"), place, modules)
    return problems


def _validate_next_step(step, place: str, modules: dict[str, set[str]]) -> list[str]:
    if not isinstance(step, dict):
        return [f"{place}: `next_step` (module, exercise, action) is missing"]
    problems = []
    module = str(step.get("module"))
    if module not in modules:
        problems.append(f"{place}: next_step names module {module!r}, which is not in the course plan")
    elif step.get("exercise") not in modules[module]:
        problems.append(f"{place}: next_step names exercise {step.get('exercise')!r}, which module {module} "
                        f"does not have (its exercises: {', '.join(sorted(modules[module]))})")
    if not _text(step.get("action")):
        problems.append(f"{place}: next_step needs an `action` saying what to do")
    return problems


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())
