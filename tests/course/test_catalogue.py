"""The course catalogue: every tool that lists notebooks reads it, so a new module is its notebooks
and nothing else. Shown on a copy of the course with a throw-away module 08."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from mlops_clinic import agenda, build, catalogue, paths
from mlops_clinic.batch.grade import module_of
from mlops_clinic.maturity import bank


def _notebook(module: str, kind: str, title: str, *sources: str, tags=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(f'from mlops_clinic import setup\nws = setup("{module}", workspace=workspace)'),
                *(nbformat.v4.new_code_cell(s, metadata={"tags": list(tags)}) for s in sources)]
    nb.metadata["clinic"] = {"module": module, "kind": kind, "title": title, "objectives": ["try it"],
                             "prerequisites": [], "minutes": {"teaching": 10, "exercises": 5}}
    return nb


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """The kit's course copied, with paths pointing at the copy."""
    for kind in ("lesson", "solution", "exercise"):
        folder = catalogue.FOLDERS[kind]
        shutil.copytree(paths.REPO_ROOT / folder, tmp_path / folder)
    for name, folder in (("REPO_ROOT", ""), ("NOTEBOOKS_DIR", "notebooks"), ("SOLUTIONS_DIR", "solutions"),
                         ("EXERCISES_DIR", "exercises")):
        monkeypatch.setattr(paths, name, tmp_path / folder)
    bank.load_bank.cache_clear()
    yield tmp_path
    bank.load_bank.cache_clear()


def test_the_course_in_order_lesson_then_solution():
    order = catalogue.course().in_order()
    modules = catalogue.course().module_ids()
    assert [p.parent.name for p in order[:2]] == ["notebooks", "solutions"]
    assert [catalogue.module_of_name(p.name) for p in order[::2]] == modules
    assert catalogue.course().lessons_calling("checkpoint") == modules[:-1]  # 07 is the profile itself


def test_a_new_module_needs_only_its_notebooks(course_copy):
    nbformat.write(_notebook("08", "lesson", "Going further"), course_copy / "notebooks" / "08_further.ipynb")
    solution = _notebook("08", "solution", "Going further: exercises",
                         "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nprint(answer)")
    nbformat.write(solution, course_copy / "solutions" / "08_further.ipynb")

    course = catalogue.course()
    assert course.module_ids()[-1] == "08"
    assert [p.name for p in course.in_order(["08"])] == ["08_further.ipynb", "08_further.ipynb"]
    assert course.modules()["08"].title == "Going further"

    # clinic build makes its exercise; the lint finds nothing to say
    assert build.build_exercises() == [course_copy / "exercises" / "08_further.ipynb"]
    exercise = json.loads((course_copy / "exercises" / "08_further.ipynb").read_text())
    assert "answer = ____" in "".join(exercise["cells"][2]["source"])
    assert [p for nb in course.paths("lesson") + course.paths("solution") for p in build.lint(nb)] == []

    # the agenda knows it (left for after the clinic by both plans, which name their modules)
    later = agenda.schedule(agenda.PLANS["one-day"], agenda.read_modules()).later
    assert [(module.id, what) for module, what in later] == [("08", "the whole module (15 min)")]

    # grading finds its module; the maturity bank still loads (no checkpoint asked, none needed)
    assert module_of(nbformat.read(course_copy / "exercises" / "08_further.ipynb", as_version=4), "x.ipynb") == "08"
    assert "08" in bank.course_modules() and "08" not in bank.modules_with_checkpoint()
    assert bank.load_bank().modules["03"].title == "Serving with BentoML"


def test_a_notebook_with_broken_metadata_is_named_with_every_problem(course_copy):
    broken = _notebook("08", "lesson", " ")
    broken.metadata["clinic"]["minutes"] = {"teaching": "ten"}
    nbformat.write(broken, course_copy / "notebooks" / "08_broken.ipynb")
    with pytest.raises(catalogue.CourseError) as error:
        catalogue.course().modules()
    message = str(error.value)
    assert "notebooks/08_broken.ipynb" in message
    for problem in ("clinic.title is missing", "clinic.minutes.teaching", "clinic.minutes.exercises"):
        assert problem in message
    assert "Fix: see docs/contributing.md" in message


def test_section_minutes_add_up_to_the_teaching_time_optional_ones_apart(tmp_path):
    nb = _notebook("08", "lesson", "Going further")
    nb.metadata["clinic"]["minutes"]["sections"] = [
        {"title": "1. One", "minutes": 6}, {"title": "2. Two", "minutes": 4},
        {"title": "Going further", "minutes": 15, "optional": True}]
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "08_further.ipynb"
    nbformat.write(nb, path)
    read = catalogue.Notebook.read(path)
    assert read.teaching == 10 and [s.optional for s in read.sections] == [False, False, True]

    nb.metadata["clinic"]["minutes"]["sections"][0]["minutes"] = 7
    nbformat.write(nb, path)
    with pytest.raises(catalogue.CourseError, match=r"sections add up to 11 minutes \(optional ones left out\), clinic.minutes.teaching says 10"):
        catalogue.Notebook.read(path)
