"""The question bank: load bank.yaml, check it, and give typed access to it.

The bank is data (bank.yaml, next to this file) so that instructors and module authors can change a
question without touching code. Pydantic models describe the file, each rule beside the part it is
about; `validate()` lists every problem at once, each naming the place in the file; `load_bank()`
refuses a bank with problems, so a broken edit fails loudly and early, and gives the typed classes
below, which the rest of the kit uses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from mlops_clinic.maturity import datafile
from mlops_clinic.maturity.datafile import DataFileError, Text, named_in, recall, refuse, remember

BANK_FILE = Path(__file__).with_name("bank.yaml")
LEVELS = (0, 1, 2, 3)
LEVEL_NAMES = ("ad hoc", "repeatable", "reproducible", "automated")  # Digital Catapult's names
MICROSOFT_LEVELS = (0, 1, 2, 3, 4)
GOOGLE_LEVELS = (0, 1, 2)
QUESTIONS_PER_CHECKPOINT = (2, 4)
# Words of a self-rating question ("how mature are you, 1-5?"). The bank asks about practice.
SELF_RATING_WORDS = ("rate ", "how mature", "maturity", "on a scale", "how good")



def course_modules() -> list[str]:
    """The modules of the course, from its catalogue (the lessons' file names)."""
    from mlops_clinic.catalogue import course

    return course().module_ids()


def modules_with_checkpoint() -> list[str]:
    """The modules whose lesson asks a checkpoint (its code calls `checkpoint(`): each needs one in
    the bank. A new module without a checkpoint needs nothing here."""
    from mlops_clinic.catalogue import course

    return course().lessons_calling("checkpoint")

class BankError(DataFileError):
    """The question bank file has problems; the message lists each one with its place."""


# The levels as the file may give them; pydantic refuses any other.
LevelNumber = Literal[LEVELS]
MicrosoftLevels = Annotated[tuple[Literal[MICROSOFT_LEVELS], ...], Field(min_length=1)]
GoogleLevels = Annotated[tuple[Literal[GOOGLE_LEVELS], ...], Field(min_length=1)]


@dataclass(frozen=True)
class Level:
    level: LevelNumber
    name: str
    meaning: Text  # the level in plain words
    microsoft: MicrosoftLevels
    google: GoogleLevels

    def __post_init__(self):
        if self.name != LEVEL_NAMES[self.level]:
            raise ValueError(f"name must be {LEVEL_NAMES[self.level]!r} (Digital Catapult's name)")

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
    id: Text
    name: Text
    dc_section: Text


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


# --- the file, as pydantic models: each rule stands with the part of the file it is about ---------
# (Level and Dimension above are parts of the file as they are: pydantic validates them directly.)


class FrameworkEntry(BaseModel):
    name: Text
    url: Text  # the public source cited
    levels: dict[int, str] = {}
    note: str = ""


class FrameworksEntry(BaseModel):
    digital_catapult: FrameworkEntry
    microsoft: FrameworkEntry
    google: FrameworkEntry

    @model_validator(mode="after")
    def _name_every_level(self):
        refuse([f"{name}.levels must name levels {list(levels)}"
                for name, levels in (("microsoft", MICROSOFT_LEVELS), ("google", GOOGLE_LEVELS))
                if sorted(getattr(self, name).levels) != list(levels)])
        return self


class ModuleEntry(BaseModel):
    # No title: a module's title is its lesson's (the course catalogue), written once.
    exercises: dict[str, Text]


class NextStepEntry(BaseModel):
    module: str
    exercise: str
    action: Text  # what to do

    @model_validator(mode="after")
    def _names_an_exercise_of_the_course(self, info: ValidationInfo):
        modules = recall(info, "modules")
        if modules is None:  # the course plan has problems of its own, listed
            return self
        if self.module not in modules:
            raise ValueError(f"names module {self.module!r}, which is not in the course plan")
        exercises = modules[self.module].exercises
        if self.exercise not in exercises:
            raise ValueError(f"names exercise {self.exercise!r}, which module {self.module} does not have "
                             f"(its exercises: {', '.join(sorted(exercises))})")
        return self


class OptionEntry(BaseModel):
    level: LevelNumber
    text: Text  # the practice
    meaning: Text  # its level in plain words
    next_step: NextStepEntry

    @model_validator(mode="after")
    def _meaning_starts_with_the_level_name(self):
        name = LEVEL_NAMES[self.level]
        if not self.meaning.lower().startswith(name):
            raise ValueError(f"`meaning` must start with the level's name, '{name.capitalize()}; ...'")
        return self


class QuestionEntry(BaseModel):
    id: Text
    dimension: Annotated[str, named_in("dimensions", "one of the dimensions")]
    text: Text
    options: list[OptionEntry]

    @field_validator("text")
    @classmethod
    def _asks_about_practice(cls, text: str) -> str:
        if not text.strip().endswith("?"):
            raise ValueError("must be a question (ending with '?')")
        if any(word in text.lower() for word in SELF_RATING_WORDS):
            raise ValueError("must ask about practice (what people do), not for a self-rating")
        return text

    @field_validator("options", mode="before")
    @classmethod
    def _one_option_per_level(cls, options: Any) -> Any:
        # Before the options themselves, so that an option without a level is reported as this.
        if isinstance(options, list):
            levels = [option.get("level") for option in options if isinstance(option, dict)]
            if sorted(levels, key=str) != list(LEVELS):
                raise ValueError(f"needs exactly one option per level {list(LEVELS)}; found levels {levels}")
        return options


class CheckpointEntry(BaseModel):
    id: Text
    module: Annotated[str, named_in("modules", "in the course plan")]
    title: Text
    intro: str = ""
    questions: list[QuestionEntry]

    @model_validator(mode="after")
    def _asks_a_few_distinct_questions(self):
        low, high = QUESTIONS_PER_CHECKPOINT
        ids = [q.id for q in self.questions]
        problems = []
        if not low <= len(ids) <= high:
            problems.append(f"needs {low} to {high} questions; it has {len(ids)}")
        if len(ids) != len(set(ids)):
            problems.append("question ids must be unique")
        refuse(problems)
        return self


class BankFile(BaseModel):
    """bank.yaml. Pydantic validates the fields in this order: the checkpoints, last, may name the
    modules and dimensions validated before them."""

    levels: list[Level]
    frameworks: FrameworksEntry
    modules: dict[str, ModuleEntry]
    dimensions: list[Dimension] = Field(min_length=1)
    checkpoints: list[CheckpointEntry]

    @field_validator("levels")
    @classmethod
    def _one_per_level_and_every_framework_level_mapped(cls, levels: list[Level]) -> list[Level]:
        found = [lv.level for lv in levels]
        if sorted(found) != list(LEVELS):
            raise ValueError(f"must be exactly {list(LEVELS)}, found {found}")
        ordered = sorted(levels, key=lambda lv: lv.level)
        problems = [f"level {higher.level}: the mapping must not go down as the level goes up"
                    for lower, higher in zip(ordered, ordered[1:])
                    if min(higher.microsoft) < max(lower.microsoft) or min(higher.google) < max(lower.google)]
        if not problems:
            problems = [f"{framework} levels {sorted(set(known) - mapped)} are not mapped to any level"
                        for framework, known, mapped in (
                            ("Microsoft", MICROSOFT_LEVELS, {m for lv in levels for m in lv.microsoft}),
                            ("Google", GOOGLE_LEVELS, {g for lv in levels for g in lv.google}))
                        if set(known) - mapped]
        refuse(problems)
        return levels

    @field_validator("modules")
    @classmethod
    def _is_the_course_plan(cls, modules: dict[str, ModuleEntry], info: ValidationInfo) -> dict[str, ModuleEntry]:
        remember(info, "modules", modules)
        unknown = sorted(set(modules) - set(course_modules()))
        if unknown:
            raise ValueError(f"modules {', '.join(unknown)} are not in the course (its lessons are "
                             f"{', '.join(course_modules())})")
        return modules

    @field_validator("dimensions")
    @classmethod
    def _have_distinct_ids(cls, dimensions: list[Dimension], info: ValidationInfo) -> list[Dimension]:
        ids = [d.id for d in dimensions]
        remember(info, "dimensions", set(ids))
        if len(ids) != len(set(ids)):
            raise ValueError("ids must be unique")
        return dimensions

    @field_validator("checkpoints")
    @classmethod
    def _cover_the_modules_and_dimensions(cls, checkpoints: list[CheckpointEntry],
                                          info: ValidationInfo) -> list[CheckpointEntry]:
        problems = []
        ids = [cp.id for cp in checkpoints]
        if len(ids) != len(set(ids)):
            problems.append("ids must be unique")
        without = [m for m in modules_with_checkpoint() if m not in {cp.module for cp in checkpoints}]
        if without:
            problems.append(f"modules {', '.join(without)} have no checkpoint")
        asked = {q.dimension for cp in checkpoints for q in cp.questions}
        unasked = sorted((recall(info, "dimensions") or set()) - asked)
        if unasked:
            problems.append(f"dimensions {', '.join(unasked)} have no question")
        refuse(problems)
        return checkpoints


# --- loading ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def load_bank(path: str | Path = BANK_FILE) -> Bank:
    """The bank in `path` (default: the kit's bank.yaml), checked; BankError lists any problems."""
    bank_file, problems = datafile.validate(BankFile, datafile.read_yaml(Path(path), BankError), _place)
    if problems:
        raise BankError(datafile.problem_list(f"The maturity question bank {Path(path).name}", problems))
    return _build(bank_file)


def validate(raw: Any) -> list[str]:
    """Every problem of a raw bank, one line each, naming where it is. Empty means valid."""
    return datafile.validate(BankFile, raw, _place)[1]


def _build(bank_file: BankFile) -> Bank:
    from mlops_clinic.catalogue import course

    titles = {key: module.title for key, module in course().modules().items()}
    modules = {key: Module(key, titles[key], dict(module.exercises)) for key, module in bank_file.modules.items()}

    def next_step(step: NextStepEntry) -> NextStep:
        module = modules[step.module]
        return NextStep(module.id, module.title, step.exercise, module.exercises[step.exercise], step.action.strip())

    def question(q: QuestionEntry, checkpoint: str) -> Question:
        options = sorted(q.options, key=lambda o: o.level)
        return Question(q.id, checkpoint, q.dimension, q.text,
                        tuple(Option(o.level, o.text, o.meaning, next_step(o.next_step)) for o in options))

    return Bank(
        levels=tuple(sorted(bank_file.levels, key=lambda lv: lv.level)),
        frameworks={name: framework.model_dump() for name, framework in bank_file.frameworks},
        modules=modules,
        dimensions=tuple(bank_file.dimensions),
        checkpoints=tuple(Checkpoint(cp.id, cp.module, cp.title, cp.intro,
                                     tuple(question(q, cp.id) for q in cp.questions))
                          for cp in bank_file.checkpoints),
    )


def _place(loc: tuple, raw: Any) -> str:
    """Questions and options as authors call them, `serving.package, option level 1`, not by index."""
    if loc[:1] != ("checkpoints",) or loc[2:3] != ("questions",) or len(loc) < 4:
        return datafile.index_place(loc, raw)
    where = f"{datafile.value_at(raw, loc[:2], 'id')}.{datafile.value_at(raw, loc[:4], 'id')}"
    if loc[4:5] != ("options",) or len(loc) < 6:
        return datafile.index_place(loc, raw, start=4, where=where)
    where += f", option level {datafile.value_at(raw, loc[:6], 'level')}"
    return datafile.index_place(loc, raw, start=6, where=where)
