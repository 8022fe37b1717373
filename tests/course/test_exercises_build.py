"""exercises/ is generated from solutions/, current, without outputs, and leaks no solution."""

import nbformat

from mlops_clinic import build, paths


def test_exercises_are_up_to_date():
    assert build.build_exercises(check=True) == [], "run `clinic build --exercises-only`"


def test_every_solution_has_its_exercise_and_no_solution_leaks():
    solutions = sorted(paths.SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert solutions
    for solution in solutions:
        exercise = paths.EXERCISES_DIR / solution.name
        assert exercise.exists(), f"{exercise.name} is missing"
        leaks = build.find_leaks(nbformat.read(solution, as_version=4), nbformat.read(exercise, as_version=4))
        assert leaks == [], f"{exercise.name} leaks: {leaks}"


def test_exercises_carry_no_outputs_and_use_the_placeholder():
    for exercise in sorted(paths.EXERCISES_DIR.glob("*.ipynb")):
        nb = nbformat.read(exercise, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, exercise.name
        assert "____" in "".join(cell.source for cell in nb.cells), exercise.name


def test_every_notebook_passes_the_metadata_lint():
    notebooks = [*paths.NOTEBOOKS_DIR.glob("*.ipynb"), *paths.SOLUTIONS_DIR.glob("*.ipynb"),
                 *paths.EXERCISES_DIR.glob("*.ipynb")]
    problems = [problem for nb in sorted(notebooks) for problem in build.lint(nb)]
    assert problems == []


def test_committed_outputs_are_not_stale():
    notebooks = [*paths.NOTEBOOKS_DIR.glob("*.ipynb"), *paths.SOLUTIONS_DIR.glob("*.ipynb")]
    assert build.stale_outputs(sorted(notebooks)) == [], "run `clinic build`"
