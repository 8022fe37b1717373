"""`clinic agenda`: the instructors' agendas, summed from the notebooks' metadata minutes.

Each lesson notebook carries `metadata.clinic.minutes = {teaching, exercises}`. A *plan* says, for one
format of the clinic (a full day, half a day), the order of the modules, where the breaks go and
whether a module's exercises are done in the room or afterwards. The times come from the notebooks
alone, so when a lesson grows, the agenda moves with it:

    clinic agenda                  print both agendas (or --plan half-day, --start 13:30)
    clinic agenda --write          rewrite docs/instructors/agenda-*.md
    clinic agenda --check          exit 1 if a committed agenda no longer matches the notebooks

An agenda that runs past its plan's closing time still renders, with a warning line at the top, so
the instructor sees it at once: shorten a module, move its exercises after the clinic, or change
the plan below.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlops_clinic import paths
from mlops_clinic.catalogue import Catalogue, CourseError, course
from mlops_clinic.errors import ClinicError

AGENDA_DIR = paths.REPO_ROOT / "docs" / "instructors"


class AgendaError(ClinicError):
    """A notebook's metadata or a time cannot be turned into an agenda (the message names the fix)."""


@dataclass(frozen=True)
class Module:
    """One lesson, as its notebook's metadata describes it."""

    id: str
    title: str
    notebook: str  # file name, e.g. 01_data_versioning.ipynb
    teaching: int
    exercises: int
    objectives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Teach:
    """A module in a plan; with exercises=False, its exercises are left for after the clinic."""

    module: str
    exercises: bool = True


@dataclass(frozen=True)
class Pause:
    label: str
    minutes: int


@dataclass(frozen=True)
class Plan:
    name: str  # also the file name: agenda-<name>.md
    title: str
    start: str  # HH:MM
    close_by: str  # HH:MM: the agenda warns when it ends later
    items: tuple[Teach | Pause, ...]
    note: str = ""


PLANS = {
    "one-day": Plan(
        name="one-day",
        title="One-day clinic",
        start="09:00",
        close_by="17:45",
        items=(
            Teach("00"), Teach("01"), Pause("Coffee", 15), Teach("02"), Teach("03"),
            Pause("Lunch", 45), Teach("04"), Teach("05"), Pause("Coffee", 15), Teach("06"), Teach("07"),
        ),
        note="Every module with its exercises, in course order. Participants who fall behind skip an "
             "exercise notebook and catch up afterwards: every lesson's setup cell rebuilds what the "
             "earlier modules made, so nobody is blocked by a module they did not finish.",
    ),
    "half-day": Plan(
        name="half-day",
        title="Half-day clinic",
        start="09:00",
        close_by="13:00",
        items=(
            Teach("00"), Teach("01"), Pause("Coffee", 15), Teach("02"),
            Teach("03", exercises=False), Teach("07", exercises=False),
        ),
        note="The foundations in the room (the map, data versioning, tracked training and the "
             "registry), serving shown without its exercises, and the maturity profile to take home. "
             "The rest is self-paced afterwards, on a laptop or on Binder; any module can be opened "
             "first.",
    ),
}


# --- reading the notebooks ----------------------------------------------------------------------
def read_modules(notebooks_dir: Path | None = None) -> dict[str, Module]:
    """Every lesson of the course (or of the lessons in `notebooks_dir`), by module id, from the
    catalogue, which validates each notebook's `clinic` metadata."""
    # (a folder of lessons alone: only its lessons are read)
    lessons = course() if notebooks_dir is None else Catalogue(Path(notebooks_dir), Path(), Path())
    try:
        notebooks = lessons.notebooks("lesson")
    except CourseError as error:
        raise AgendaError(error.message, fix=error.fix) from None
    return {nb.module: Module(id=nb.module, title=nb.title, notebook=nb.name, teaching=nb.teaching,
                              exercises=nb.exercises, objectives=nb.objectives)
            for nb in notebooks}


# --- the schedule -------------------------------------------------------------------------------
def _minutes(hhmm: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d\d)", hhmm.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise AgendaError(f"{hhmm!r} is not a time of day; write it as HH:MM, e.g. 09:30.")
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


@dataclass
class Slot:
    start: int
    end: int
    label: str
    module: Module | None = None
    teaching: int = 0
    exercises: int = 0


@dataclass
class Schedule:
    plan: Plan
    slots: list[Slot]
    later: list[tuple[Module, str]] = field(default_factory=list)  # (module, what is left)

    @property
    def end(self) -> int:
        return self.slots[-1].end if self.slots else _minutes(self.plan.start)

    def total(self, what: str) -> int:
        return sum(getattr(s, what) for s in self.slots)

    @property
    def breaks(self) -> int:
        return sum(s.end - s.start for s in self.slots if s.module is None)


def schedule(plan: Plan, modules: dict[str, Module], start: str | None = None) -> Schedule:
    """Lay the plan's items end to end from `start`; modules without a notebook are left out."""
    clock = _minutes(start or plan.start)
    slots, taught = [], {}
    for item in plan.items:
        if isinstance(item, Pause):
            if slots and slots[-1].module is not None:  # no break at the start, none twice in a row
                slots.append(Slot(clock, clock + item.minutes, item.label))
                clock += item.minutes
            continue
        module = modules.get(item.module)
        if module is None:
            continue
        exercises = module.exercises if item.exercises else 0
        length = module.teaching + exercises
        slots.append(Slot(clock, clock + length, module.title, module, module.teaching, exercises))
        taught[module.id] = item.exercises
        clock += length
    while slots and slots[-1].module is None:
        slots.pop()
    later = []
    for module_id, module in sorted(modules.items()):
        if module_id not in taught:
            later.append((module, f"the whole module ({module.teaching + module.exercises} min)"))
        elif not taught[module_id] and module.exercises:
            later.append((module, f"the exercises ({module.exercises} min)"))
    return Schedule(plan, slots, later)


# --- rendering ----------------------------------------------------------------------------------
def render(plan: Plan, modules: dict[str, Module], start: str | None = None) -> str:
    sched = schedule(plan, modules, start)
    close_by = _minutes(plan.close_by) if start is None else None
    lines = [
        f"# {plan.title}: agenda",
        "",
        "<!-- Generated by `clinic agenda --write` from the notebooks' metadata (clinic.minutes); "
        "do not edit by hand. -->",
        "",
    ]
    if close_by is not None and sched.end > close_by:
        lines += [f"> **Warning: this agenda ends at {_clock(sched.end)}, "
                  f"{sched.end - close_by} minutes after the planned close ({plan.close_by}).** "
                  "Move a module's exercises after the clinic or change the plan in "
                  "`src/mlops_clinic/agenda.py`, then run `clinic agenda --write`.", ""]
    lines += [plan.note, ""] if plan.note else []
    lines += ["| Time | Session | Teaching | Exercises |", "|---|---|---|---|"]
    for slot in sched.slots:
        when = f"{_clock(slot.start)}-{_clock(slot.end)}"
        if slot.module is None:
            lines.append(f"| {when} | *{slot.label}* | | |")
            continue
        exercises = f"{slot.exercises} min" if slot.exercises else (
            "after the clinic" if slot.module.exercises else "none")
        lines.append(f"| {when} | {slot.module.id} · [{slot.module.title}]"
                     f"(../../notebooks/{slot.module.notebook}) | {slot.teaching} min | {exercises} |")
    lines += [
        "",
        f"Teaching {sched.total('teaching')} min, exercises {sched.total('exercises')} min, "
        f"breaks {sched.breaks} min: {_clock(sched.slots[0].start) if sched.slots else plan.start} "
        f"to {_clock(sched.end)}" + (f" (planned close {plan.close_by})." if close_by is not None else "."),
    ]
    if close_by is not None and sched.end <= close_by:
        lines += ["", f"Buffer: {close_by - sched.end} min before the planned close, for questions, a slow "
                      "laptop or a module that runs long."]
    if sched.later:
        lines += ["", "## After the clinic (self-paced)", ""]
        lines += [f"- {module.id} · {module.title}: {what}" for module, what in sched.later]
    lines += ["", "## What participants can do after each session", ""]
    for slot in sched.slots:
        if slot.module is None:
            continue
        lines += [f"**{slot.module.id} · {slot.module.title}**", ""]
        lines += [f"- {objective}" for objective in slot.module.objectives] or ["- (no objectives listed)"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def agenda_path(plan: Plan, out_dir: Path = AGENDA_DIR) -> Path:
    return Path(out_dir) / f"agenda-{plan.name}.md"


def generated(notebooks_dir: Path | None = None, out_dir: Path = AGENDA_DIR) -> dict[Path, str]:
    """Every agenda file and the text it should hold."""
    modules = read_modules(notebooks_dir)
    return {agenda_path(plan, out_dir): render(plan, modules) for plan in PLANS.values()}


def stale(notebooks_dir: Path | None = None, out_dir: Path = AGENDA_DIR) -> list[Path]:
    """Agenda files that are missing or differ from what the notebooks give."""
    return [path for path, text in generated(notebooks_dir, out_dir).items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


# --- the command --------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite docs/instructors/agenda-*.md")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 if a committed agenda no longer matches the notebooks")
    parser.add_argument("--plan", choices=sorted(PLANS), help="print only this agenda")
    parser.add_argument("--start", metavar="HH:MM", help="print the agenda starting at this time")


def run(args: argparse.Namespace) -> int:
    if args.write or args.check:
        if args.start or args.plan:
            print("clinic agenda: --start and --plan only apply when printing; the committed agendas "
                  "use each plan's own start.", file=sys.stderr)
            return 2
        if args.check:
            outdated = stale()
            for path in outdated:
                print(f"{path.relative_to(paths.REPO_ROOT)} does not match the notebooks' minutes: "
                      "run `clinic agenda --write`.", file=sys.stderr)
            return 1 if outdated else 0
        for path, text in generated().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(paths.REPO_ROOT)}")
        return 0
    modules = read_modules()
    plans = [PLANS[args.plan]] if args.plan else list(PLANS.values())
    print("\n".join(render(plan, modules, args.start) for plan in plans), end="")
    return 0


def main(argv=None) -> int:
    from mlops_clinic import cli

    return cli.main(["agenda", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
