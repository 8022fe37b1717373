"""The way through the course, written into every lesson and exercise by `clinic build`.

Each lesson and solution (hence each exercise) opens with a header: "Module N of M", the time, the
sections with their minutes, and a link to its exercise or lesson; and ends with a footer: the
previous and next notebook of the same kind, and its exercise or lesson. Both are markdown cells
tagged `clinic-navigation`, generated from the catalogue (titles, minutes, sections): never typed
by hand, rewritten when the course changes, and left out of the sources the outputs depend on.
"""

from __future__ import annotations

import copy

import nbformat

from mlops_clinic.catalogue import Catalogue, Module, tags

NAVIGATION_TAG = "clinic-navigation"


def is_navigation(cell) -> bool:
    return NAVIGATION_TAG in tags(cell)


def _minutes(value: int) -> str:
    return f"{value} min"


def header(module: Module, position: int, count: int, kind: str) -> str:
    lesson = module.lesson
    if kind == "lesson":
        time = _minutes(lesson.teaching) + (f" + {_minutes(lesson.exercises)} of exercises"
                                            if lesson.exercises else "")
        lines = [f"**Module {position} of {count}** · {lesson.title} · {time}"]
        sections = [f"{s.title} ({_minutes(s.minutes)}{', optional' if s.optional else ''})"
                    for s in lesson.sections]
        if sections:
            lines += ["", "Sections: " + " · ".join(sections)]
        if module.solution is not None:
            lines += ["", f"Exercises: [{module.solution.name}](../exercises/{module.solution.name})"]
    else:
        lines = [f"**Module {position} of {count} · exercises** · {lesson.title} · "
                 f"{_minutes(lesson.exercises)}",
                 "", f"Lesson: [{lesson.name}](../notebooks/{lesson.name})"]
    return "\n".join(lines)


def footer(modules: list[Module], index: int, kind: str) -> str:
    """Previous and next notebook of the same kind (lessons, or exercises), and the other kind."""
    module = modules[index]
    same_kind = [m for m in modules if kind == "lesson" or m.solution is not None]
    at = same_kind.index(module)

    def link(m: Module) -> str:
        name = m.lesson.name if kind == "lesson" else m.solution.name
        return f"[Module {m.id}: {m.title}]({name})"

    parts = []
    if at > 0:
        parts.append(f"Previous: {link(same_kind[at - 1])}")
    if kind == "lesson" and module.solution is not None:
        parts.append(f"Exercises: [{module.solution.name}](../exercises/{module.solution.name})")
    if kind != "lesson":
        parts.append(f"Lesson: [{module.lesson.name}](../notebooks/{module.lesson.name})")
    if at + 1 < len(same_kind):
        parts.append(f"Next: {link(same_kind[at + 1])}")
    return "---\n\n" + " · ".join(parts)


def with_navigation(nb, module_id: str, kind: str, catalogue: Catalogue):
    """A copy of `nb` (a lesson, or a solution: kind "solution") with its header first and its
    footer last, the old navigation cells replaced."""
    modules = list(catalogue.modules().values())
    index = next(i for i, m in enumerate(modules) if m.id == module_id)
    page_kind = "lesson" if kind == "lesson" else "exercise"
    nb = copy.deepcopy(nb)
    body = [cell for cell in nb.cells if not is_navigation(cell)]
    top = nbformat.v4.new_markdown_cell(header(modules[index], index + 1, len(modules), page_kind),
                                        metadata={"tags": [NAVIGATION_TAG]})
    bottom = nbformat.v4.new_markdown_cell(footer(modules, index, page_kind),
                                           metadata={"tags": [NAVIGATION_TAG]})
    top["id"], bottom["id"] = "clinic-navigation-top", "clinic-navigation-end"  # stable: no diff
    nb.cells = [top, *body, bottom]
    return nb
