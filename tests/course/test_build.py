"""mlops_clinic.build: exercises from solutions, committed-output freshness and the metadata lint.

Every notebook here is a small purpose-made one in tmp_path, never a course notebook.
"""

from __future__ import annotations

import argparse
import copy
import json

import nbformat
import pytest

from mlops_clinic import build, paths
from mlops_clinic.execute import ExecutionOptions
from mlops_clinic.build import (
    BuildError,
    build_exercises,
    clean_executed,
    find_leaks,
    lint,
    make_exercise,
    notebook_text,
    source_hash,
    stale_outputs,
)

v4 = nbformat.v4


def clinic_meta(module="01", kind="exercise"):
    return {"module": module, "title": "Versioned data", "kind": kind, "objectives": ["Version a CSV"],
            "prerequisites": [], "minutes": {"teaching": 20, "exercises": 15}}


def notebook(*cells, module="01", kind="exercise"):
    """A notebook with the kit's opening cells (parameters, setup) followed by `cells`."""
    nb = v4.new_notebook()
    nb.metadata["clinic"] = clinic_meta(module, kind)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]}),
        v4.new_code_cell('from mlops_clinic import setup\nws = setup("01", workspace=workspace)'),
        *cells,
    ]
    return nb


def code(source, **metadata):
    return v4.new_code_cell(source, metadata=metadata)


def exercise_source(source):
    """The exercise text of one solution code cell."""
    return make_exercise(notebook(code(source))).cells[2].source


# --- placeholders -----------------------------------------------------------------------------------


def test_assignments_the_exercise_reads_become_placeholders():
    src = ("import pandas as pd\n"
           "### BEGIN SOLUTION\n"
           "df = pd.read_csv('houses.csv')\n"
           "n_rows: int = len(df)\n"
           "n_rows += 0\n"
           "df.attrs['name'] = 'houses'\n"
           "### END SOLUTION\n"
           "print(n_rows, df)")
    assert exercise_source(src) == ("import pandas as pd\n"
                                    "# Your code here\n"
                                    "df = ____\n"
                                    "n_rows = ____\n"
                                    "print(n_rows, df)")


def test_tuple_targets_give_each_name_once_in_order():
    src = ("### BEGIN SOLUTION\nX_train, X_test, (y, *rest) = split()\nX_train = X_train.copy()\n### END SOLUTION\n"
           "q1.check(X_train, X_test, y, rest)\n")
    assert exercise_source(src) == ("# Your code here\nX_train = ____\nX_test = ____\ny = ____\nrest = ____\n"
                                    "q1.check(X_train, X_test, y, rest)\n")


def test_intermediate_names_are_left_to_the_participant():
    # `window`, `known` and `worse` would spell out the steps, and the steps are the exercise: only
    # the names the check, a later cell or the code around the region reads get a placeholder.
    first = ("### BEGIN SOLUTION\n"
             "window = log[log.day.between(11, 12)]\n"
             "known = window.dropna()\n"
             "mae = (known.prediction - known.price).abs().mean()\n"
             "### END SOLUTION\n"
             "q2.check(mae)")
    rule = ("def should_retrain(mae):\n"
            "    ### BEGIN SOLUTION\n"
            "    worse = mae > 1.2 * baseline\n"
            "    return worse\n"
            "    ### END SOLUTION\n")
    later = "%time print(f'{known.shape}')\n!echo done"
    ex = make_exercise(notebook(code(first), code(rule), code(later)))
    assert ex.cells[2].source == "# Your code here\nknown = ____\nmae = ____\nq2.check(mae)"
    assert ex.cells[3].source == "def should_retrain(mae):\n    # Your code here\n    return ____\n"
    assert ex.cells[4].source == later  # read through IPython's syntax: `known` stays


def test_indented_region_in_a_function_keeps_its_indentation_and_returns():
    src = ("def mae(y_true, y_pred):\n"
           "    \"\"\"Mean absolute error.\"\"\"\n"
           "    if len(y_true) != len(y_pred):\n"
           "        raise ValueError('lengths differ')\n"
           "    ### BEGIN SOLUTION\n"
           "    errors = [abs(a - b) for a, b in zip(y_true, y_pred)]\n"
           "    if not errors:\n"
           "        return 0.0\n"
           "    def helper():\n"
           "        return 1  # a nested def's return is not the function's\n"
           "    return sum(errors) / len(errors)\n"
           "    ### END SOLUTION\n")
    assert exercise_source(src) == ("def mae(y_true, y_pred):\n"
                                    "    \"\"\"Mean absolute error.\"\"\"\n"
                                    "    if len(y_true) != len(y_pred):\n"
                                    "        raise ValueError('lengths differ')\n"
                                    "    # Your code here\n"
                                    "    return ____\n")


def test_return_only_in_a_nested_branch_still_counts():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n        return 1\n    ### END SOLUTION\n    return 0\n"
    assert exercise_source(src) == "def f(x):\n    # Your code here\n    return ____\n    return 0\n"


def test_several_regions_in_one_cell_and_pass_when_nothing_is_assigned():
    src = ("### BEGIN SOLUTION\n"
           "threshold = 0.1\n"
           "### END SOLUTION\n"
           "for column in above(threshold):\n"
           "        ### BEGIN SOLUTION\n"
           "        print(column, drift[column] > threshold)\n"
           "        ### END SOLUTION\n"
           "### BEGIN SOLUTION\n"
           "def report():\n"
           "    return 1\n"
           "### END SOLUTION")
    assert exercise_source(src) == ("# Your code here\n"
                                    "threshold = ____\n"
                                    "for column in above(threshold):\n"
                                    "        # Your code here\n"
                                    "        pass\n"
                                    "# Your code here\n"
                                    "pass")


def test_multiline_string_less_indented_than_the_marker_still_parses():
    src = "def f():\n    ### BEGIN SOLUTION\n    query = '''\nSELECT 1\n'''\n    ### END SOLUTION\n    return query\n"
    assert exercise_source(src) == "def f():\n    # Your code here\n    query = ____\n    return query\n"


def test_markdown_region_becomes_an_answer_prompt():
    md = v4.new_markdown_cell("**Why SQLite?**\n\n<!-- BEGIN SOLUTION -->\n"
                              "Because the registry lives in the same file.\n<!-- END SOLUTION -->\n\nNext.")
    ex = make_exercise(notebook(md))
    assert ex.cells[2].source == "**Why SQLite?**\n\n*Write your answer here.*\n\nNext."


@pytest.mark.parametrize("source, message", [
    ("x = 1\n### BEGIN SOLUTION\ny = 2\n", "line 2: `### BEGIN SOLUTION` has no matching `### END SOLUTION`"),
    ("y = 2\n### END SOLUTION\n", "line 2: `### END SOLUTION` without a `### BEGIN SOLUTION`"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another region"),
    ("if x:\n    ### BEGIN SOLUTION\n    y = (\n    ### END SOLUTION\n", "not valid Python on its own"),
])
def test_broken_regions_are_errors_naming_notebook_and_cell(source, message):
    nb = notebook(code("a = 1"), code(source))
    with pytest.raises(BuildError) as err:
        make_exercise(nb, name="solutions/01_data.ipynb")
    text = str(err.value)
    assert text.startswith(f"solutions/01_data.ipynb, cell 3 (id {nb.cells[3].id})")
    assert message in text


def test_unclosed_markdown_region_is_an_error():
    nb = notebook(v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nanswer"))
    with pytest.raises(BuildError, match=r"x.ipynb, cell 2 .*has no matching `<!-- END SOLUTION -->`"):
        make_exercise(nb, name="x.ipynb")


# --- the rest of the exercise -------------------------------------------------------------------------


def executed_solution():
    """A solution as a refresh leaves it: outputs, counts, run metadata and a source hash."""
    nb = notebook(
        code("print('hello')", tags=["keep-me"], papermill={"duration": 1.0}, execution={"iopub.x": "t"}),
        code("secret_cell_for_instructors = True", tags=["instructor"]),
        code("worked = solve_it_completely()", tags=["solution"]),
        v4.new_markdown_cell("Notes", metadata={"tags": ["instructor"]}),
    )
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        cell.outputs = [v4.new_output("stream", name="stdout", text="out\n")]
    nb.metadata["papermill"] = {"duration": 3.0}
    nb.metadata["clinic"]["source_hash"] = "abc"
    nb.metadata["clinic"]["kind"] = "lesson"
    return nb


def test_tagged_cells_dropped_outputs_and_run_metadata_cleared():
    sol = executed_solution()
    ex = make_exercise(sol)
    assert [c.source for c in ex.cells] == [c.source for c in sol.cells[:3]]
    assert ex.cells[2].metadata == {"tags": ["keep-me"]}
    assert all(c.outputs == [] and c.execution_count is None for c in ex.cells)
    assert "papermill" not in ex.metadata
    assert ex.metadata["clinic"] == {**clinic_meta(), "kind": "exercise"}
    assert [c.id for c in ex.cells] == [c.id for c in sol.cells[:3]]  # ids follow the solution
    assert sol.metadata["clinic"]["source_hash"] == "abc"  # the solution itself is untouched
    assert sol.cells[2].outputs


def test_cells_without_ids_get_deterministic_ones():
    sol = notebook(code("x = 1"))
    sol.nbformat_minor = 4
    for cell in sol.cells:
        del cell["id"]
    a, b = make_exercise(sol), make_exercise(copy.deepcopy(sol))
    assert a.nbformat_minor == 5
    assert [c.id for c in a.cells] == [c.id for c in b.cells]
    assert len({c.id for c in a.cells}) == 3
    nbformat.validate(a)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A throwaway repository layout, with the kit's paths pointing at it."""
    for name, sub in (("REPO_ROOT", ""), ("NOTEBOOKS_DIR", "notebooks"), ("SOLUTIONS_DIR", "solutions"),
                      ("EXERCISES_DIR", "exercises")):
        (tmp_path / sub).mkdir(exist_ok=True)
        monkeypatch.setattr(paths, name, tmp_path / sub)
    return tmp_path


def write(nb, path):
    path.write_text(notebook_text(nb), encoding="utf-8")
    return path


def test_build_writes_exercises_byte_identically_and_check_reports(repo):
    sol = write(notebook(code("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nq1.check(answer)")),
                repo / "solutions" / "01_data.ipynb")
    write(notebook(code("x = 1"), module="02"), repo / "solutions" / "02_track.ipynb")
    write(notebook(code("x = 1"), module="09"), repo / "exercises" / "09_gone.ipynb")
    ex = repo / "exercises" / "01_data.ipynb"

    assert build_exercises(check=True) == [ex, repo / "exercises" / "02_track.ipynb", repo / "exercises" / "09_gone.ipynb"]
    assert not ex.exists()  # check writes nothing
    assert len(build_exercises()) == 3
    assert not (repo / "exercises" / "09_gone.ipynb").exists()
    first = ex.read_bytes()
    assert first.endswith(b"}\n") and b'\n "cells": [\n  {\n' in first  # indent 1, trailing newline
    assert b"answer = ____" in first and b"answer = 42" not in first  # not "42": a random cell id may hold it

    assert build_exercises() == [] and build_exercises(check=True) == []
    assert ex.read_bytes() == first

    nb = nbformat.read(sol, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("42", "43")  # inside the region: same exercise
    write(nb, sol)
    assert build_exercises(check=True) == []
    nb.cells[2].source += "\nprint(answer)"
    write(nb, sol)
    assert build_exercises(check=True) == [ex]
    assert build_exercises(check=True, only=[repo / "solutions" / "02_track.ipynb"]) == []


def test_build_refuses_an_exercise_that_leaks(repo, monkeypatch):
    write(notebook(code("### BEGIN SOLUTION\nanswer = compute_the_answer()\n### END SOLUTION")),
          repo / "solutions" / "01_data.ipynb")
    monkeypatch.setattr(build, "make_exercise", lambda nb, name="": copy.deepcopy(nb))
    with pytest.raises(BuildError, match="shows a solution line: answer = compute_the_answer()"):
        build_exercises()
    assert not (repo / "exercises" / "01_data.ipynb").exists()


# --- leak check ---------------------------------------------------------------------------------------


def leak_solution():
    return notebook(
        code("model = make_pipeline()\n"
             "### BEGIN SOLUTION\n"
             "model = make_pipeline()\n"           # also outside the region: public anyway
             "# the key idea is written here\n"   # a comment
             "y = 1\n"                             # too short to mean anything
             "score = mean_absolute_error(y_test, model.predict(X_test))\n"
             "### END SOLUTION"),
        v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nDVC keeps the data out of git history.\n<!-- END SOLUTION -->"),
        code("grading_rubric = load_rubric('instructors')", tags=["instructor"]),
    )


def test_clean_exercise_has_no_leaks():
    sol = leak_solution()
    assert find_leaks(sol, make_exercise(sol)) == []


@pytest.mark.parametrize("leaked", [
    "    score = mean_absolute_error(y_test, model.predict(X_test))",
    "DVC keeps the data out of git history.",
    "grading_rubric = load_rubric('instructors')",
])
def test_leaked_line_is_found(leaked):
    sol = leak_solution()
    ex = make_exercise(sol)
    ex.cells[2].source += "\n" + leaked
    assert find_leaks(sol, ex) == [f"exercise cell 2 shows a solution line: {leaked.strip()}"]


def test_short_comment_and_public_lines_are_not_leaks():
    sol = leak_solution()
    ex = make_exercise(sol)
    ex.cells[2].source += "\n# the key idea is written here\ny = 1\nmodel = make_pipeline()"
    assert find_leaks(sol, ex) == []


def test_leak_in_an_output_is_found():
    sol = leak_solution()
    ex = make_exercise(sol)
    ex.cells[2].outputs = [v4.new_output("stream", name="stdout", text="DVC keeps the data out of git history.\n")]
    assert len(find_leaks(sol, ex)) == 1


# --- committed outputs ----------------------------------------------------------------------------------


def papermill_output(source_nb):
    """What papermill writes: an injected-parameters cell, run metadata, papermill's own counts."""
    nb = copy.deepcopy(source_nb)
    injected = code('# Parameters\nworkspace = "/tmp/ws"\n', tags=["injected-parameters"])
    nb.cells.insert(1, injected)
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = n + 5
        cell.metadata["papermill"] = {"duration": 0.1, "status": "completed"}
        cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
        cell.outputs = [v4.new_output("execute_result", data={"text/plain": str(n)}, execution_count=n + 5)]
    nb.metadata["papermill"] = {"parameters": {"workspace": "/tmp/ws"}}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    return nb


def test_clean_executed_keeps_sources_and_outputs_only():
    src = notebook(code("1 + 1"), v4.new_markdown_cell("text"), code("2 + 2"))
    nb = clean_executed(papermill_output(src), src)
    assert [c.source for c in nb.cells] == [c.source for c in src.cells]
    assert [c.id for c in nb.cells] == [c.id for c in src.cells]
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code_cells] == [1, 2, 3, 4]
    assert [c.outputs[0]["execution_count"] for c in code_cells] == [1, 2, 3, 4]
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in nb.cells)
    assert "papermill" not in nb.metadata
    assert nb.metadata["language_info"]["version"] == "3.11.7"
    assert nb.metadata["clinic"]["source_hash"] == source_hash(src)
    nbformat.validate(nb)


def test_stale_outputs_follow_sources_not_outputs(tmp_path):
    src = notebook(code("print(1)"), v4.new_markdown_cell("text"))
    path = write(clean_executed(papermill_output(src), src), tmp_path / "01_data.ipynb")
    assert stale_outputs([path]) == []

    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = []                       # outputs only: not stale
    nb.cells[2].execution_count = 99
    nb.metadata["clinic"]["minutes"]["teaching"] = 5
    write(nb, path)
    assert stale_outputs([path]) == []

    for change in (lambda n: setattr(n.cells[3], "source", "new text"),
                   lambda n: n.cells[2].metadata.setdefault("tags", []).append("nbval-skip")):
        changed = nbformat.read(path, as_version=4)
        change(changed)
        other = write(changed, tmp_path / "01_changed.ipynb")
        [problem] = stale_outputs([other])
        assert problem == (f"{build._rel(other)}: sources changed since its outputs were refreshed; "
                           f"run `clinic build {build._rel(other)}`")

    del nb.metadata["clinic"]["source_hash"]
    write(nb, path)
    assert "outputs were never refreshed" in stale_outputs([path])[0]


def test_refresh_outputs_runs_in_a_fresh_workspace_and_writes_back(tmp_path):
    env = {k: str(tmp_path / "home" / k) for k in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR")}
    src = notebook(code("print(workspace.endswith('workspace'))"), v4.new_markdown_cell("done"))
    src.cells[1].source = "def setup(module, workspace):\n    return workspace\nws = setup('01', workspace=workspace)"
    path = write(src, tmp_path / "01_data.ipynb")
    stale_dir = tmp_path / "runs" / tmp_path.name / "01_data" / "workspace"
    stale_dir.mkdir(parents=True)
    (stale_dir / "left-over").write_text("old")

    [result] = build.refresh_outputs([path], tmp_path / "runs", options=ExecutionOptions(cell_timeout_s=60), env_for=lambda d: env)
    assert result.status == "ok", result
    assert not (stale_dir / "left-over").exists()  # fresh workspace
    nb = nbformat.read(path, as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in src.cells]
    assert nb.cells[2].outputs[0]["text"] == "True\n"
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3]
    assert "papermill" not in nb.metadata and stale_outputs([path]) == []


def test_refresh_in_order_runs_the_notebooks_one_after_the_other_in_one_workspace(tmp_path):
    env = {k: str(tmp_path / "home" / k) for k in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR")}
    opening = "def setup(module, workspace):\n    return workspace\nws = setup('01', workspace=workspace)"
    first = notebook(code("import pathlib\npathlib.Path(workspace, 'left-by-01').write_text('v1')"))
    second = notebook(code("import pathlib\nprint(pathlib.Path(workspace, 'left-by-01').read_text())"),
                      module="02")
    for nb in (first, second):
        nb.cells[1].source = opening
    paths = [write(first, tmp_path / "01_a.ipynb"), write(second, tmp_path / "02_b.ipynb")]

    results = build.refresh_outputs(paths, tmp_path / "runs", options=ExecutionOptions(cell_timeout_s=60),
                                    env_for=lambda d: env, in_order=True)
    assert [r.status for r in results] == ["ok", "ok"], results
    assert nbformat.read(paths[1], as_version=4).cells[2].outputs[0]["text"] == "v1\n"  # 01's workspace


def test_committed_outputs_are_merged_and_carry_nothing_of_the_run():
    outputs = [v4.new_output("stream", name="stdout", text="Serving at http://127.0.0.1:53141\n"),
               v4.new_output("stream", name="stdout", text="logged at 2026-12-03T22:07:20.123Z\n"),
               v4.new_output("stream", name="stderr", text="warning\n"),
               v4.new_output("execute_result", data={"text/plain": "<Model at 0x7f3a2b1c9d40>",
                                                     "image/png": "iVBOR"}, execution_count=1)]
    readable = build.readable_outputs(outputs, build.output_masks(committed_only=True))
    assert [o["output_type"] for o in readable] == ["stream", "stream", "execute_result"]
    assert readable[0]["text"] == "Serving at http://127.0.0.1:PORT\nlogged at TIMESTAMP\n"
    assert readable[2]["data"] == {"text/plain": "<Model at 0xADDRESS>", "image/png": "iVBOR"}
    assert outputs[0]["text"].endswith("53141\n"), "the executed notebook itself is not changed"


def test_output_differences_compare_as_nbval_does():
    committed = notebook(code("print(url)"), code("doctor()", tags=["nbval-ignore-output"]))
    committed.cells[2].outputs = [v4.new_output("stream", name="stdout", text="at http://127.0.0.1:PORT\n")]
    committed.cells[3].outputs = [v4.new_output("stream", name="stdout", text="4.2 GB free\n")]
    executed = papermill_output(committed)
    ran = [c for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in ran[:2]:
        cell.outputs = []
    ran[2].outputs = [v4.new_output("stream", name="stdout", text="at http://"),
                      v4.new_output("stream", name="stdout", text="127.0.0.1:49152\n")]
    ran[3].outputs = [v4.new_output("stream", name="stdout", text="1.1 GB free\n")]
    assert build.output_differences(committed, executed) == []  # split stream, port, ignored cell

    ran[2].outputs = [v4.new_output("stream", name="stdout", text="at http://127.0.0.1:49152 (v3)\n")]
    [difference] = build.output_differences(committed, executed)
    assert difference.startswith("cell 2 (print(url)): expected") and "(v3)" in difference


def test_saved_widget_state_keeps_what_differs_from_the_defaults():
    import ipywidgets

    from ipywidgets.embed import embed_data

    choice = ipywidgets.RadioButtons(options=["ad hoc", "automated"], value="automated", description="Q1")
    state = {"application/vnd.jupyter.widget-state+json": embed_data(views=[choice], drop_defaults=False)["manager_state"]}
    slim = build.slim_widget_state(state)["application/vnd.jupyter.widget-state+json"]["state"]
    radio = slim[choice.model_id]["state"]
    assert list(radio["_options_labels"]) == ["ad hoc", "automated"] and radio["index"] == 1
    assert radio["_model_name"] == "RadioButtonsModel" and radio["_view_name"] == "RadioButtonsView"
    assert "disabled" not in radio and "tooltip" not in radio  # defaults JupyterLab fills in
    # The manager state holds every live widget of the process (other tests' too): look up our own.
    layout = slim[choice.layout.model_id]["state"]
    assert set(layout) == set(build.WIDGET_IDENTITY), "a default layout keeps only what names it"


def test_navigation_is_written_from_the_catalogue_and_checked(repo, capsys):
    for module, title in (("01", "Data"), ("02", "Training")):
        lesson = notebook(kind="lesson", module=module)
        lesson.metadata["clinic"]["title"] = title
        lesson.metadata["clinic"]["minutes"] = {"teaching": 10, "exercises": 5, "sections": [
            {"title": "1. First", "minutes": 6}, {"title": "2. Second", "minutes": 4},
            {"title": "Going further", "minutes": 8, "optional": True}]}
        write(clean_executed(papermill_output(lesson), lesson), repo / "notebooks" / f"{module}_{title.lower()}.ipynb")
        solution = notebook(code("x = 1"), kind="solution", module=module)
        solution.metadata["clinic"]["title"] = title
        write(clean_executed(papermill_output(solution), solution), repo / "solutions" / f"{module}_{title.lower()}.ipynb")
    assert cli("--exercises-only") == 0  # writes the navigation, then the exercises
    capsys.readouterr()
    assert cli("--check") == 0, capsys.readouterr().out

    lesson = nbformat.read(repo / "notebooks" / "02_training.ipynb", as_version=4)
    top, end = lesson.cells[0].source, lesson.cells[-1].source
    assert top.startswith("**Module 2 of 2** · Training · 10 min + 5 min of exercises")
    assert "Sections: 1. First (6 min) · 2. Second (4 min) · Going further (8 min, optional)" in top
    assert "Previous: [Module 01: Data](01_data.ipynb)" in end
    assert "Exercises: [02_training.ipynb](../exercises/02_training.ipynb)" in end and "Next:" not in end
    exercise = nbformat.read(repo / "exercises" / "01_data.ipynb", as_version=4)
    assert "Lesson: [01_data.ipynb](../notebooks/01_data.ipynb)" in exercise.cells[0].source
    assert "Next: [Module 02: Training](02_training.ipynb)" in exercise.cells[-1].source
    assert stale_outputs([repo / "notebooks" / "01_data.ipynb"]) == []  # navigation is not a source

    # The course changes (a lesson's minutes): --check says so, the build rewrites it.
    nb = nbformat.read(repo / "notebooks" / "01_data.ipynb", as_version=4)
    nb.metadata["clinic"]["minutes"]["teaching"] = 12
    nb.metadata["clinic"]["minutes"]["sections"][0]["minutes"] = 8
    write(nb, repo / "notebooks" / "01_data.ipynb")
    capsys.readouterr()
    assert cli("--check") == 1
    assert "notebooks/01_data.ipynb: its navigation" in capsys.readouterr().out
    assert cli("--exercises-only") == 0 and cli("--check") == 0


# --- lint ---------------------------------------------------------------------------------------------


def lint_one(tmp_path, nb, folder="solutions", name="01_data.ipynb"):
    (tmp_path / folder).mkdir(exist_ok=True)
    return [p.split(": ", 1)[1] for p in lint(write(nb, tmp_path / folder / name))]


def test_lint_passes_a_good_notebook(tmp_path):
    assert lint_one(tmp_path, notebook(code("x = 1"))) == []
    assert lint_one(tmp_path, notebook(module="03", kind="lesson"), "notebooks", "03_serve.ipynb") == []


@pytest.mark.parametrize("breakage, message", [
    (lambda nb: nb.metadata.pop("clinic"), "no `clinic` notebook metadata"),
    (lambda nb: nb.metadata.clinic.update(module="02"), "clinic.module is '02', the file name says '01'"),
    (lambda nb: nb.metadata.clinic.pop("module"), "clinic.module is None, the file name says '01'"),
    (lambda nb: nb.metadata.clinic.update(title=" "), "clinic.title is missing or empty"),
    (lambda nb: nb.metadata.clinic.update(objectives=[]), "clinic.objectives must be a non-empty list"),
    (lambda nb: nb.metadata.clinic.pop("objectives"), "clinic.objectives must be a non-empty list"),
    (lambda nb: nb.metadata.clinic.update(kind="quiz"), "clinic.kind is 'quiz'"),
    (lambda nb: nb.metadata.clinic.minutes.update(teaching="20"), "clinic.minutes.teaching must be a whole number"),
    (lambda nb: nb.metadata.clinic.minutes.pop("exercises"), "clinic.minutes.exercises must be a whole number"),
    (lambda nb: nb.metadata.clinic.pop("minutes"), "clinic.minutes.teaching must be a whole number"),
    (lambda nb: nb.cells[0].metadata.pop("tags"), "the first code cell must be tagged `parameters`"),
    (lambda nb: setattr(nb.cells[0], "source", "ws = None"), "the first code cell must be tagged `parameters`"),
    (lambda nb: setattr(nb.cells[1], "source", "import pandas"), "the second code cell must call `setup(...)`"),
    (lambda nb: nb.cells.append(nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n1")), "cells [3] carry an NBVAL_ marker"),
])
def test_lint_catches_each_problem(tmp_path, breakage, message):
    nb = notebook(code("x = 1"))
    breakage(nb)
    problems = lint_one(tmp_path, nb)
    assert any(p.startswith(message) for p in problems), problems


def test_lint_file_name_kind_and_exercise_outputs(tmp_path):
    assert lint_one(tmp_path, notebook(), name="data.ipynb") == [
        "file name does not start with a two-digit module number (NN_name.ipynb)"]
    assert lint_one(tmp_path, notebook(kind="exercise"), "notebooks") == [
        "clinic.kind is 'exercise' in notebooks/, expected 'lesson'"]
    with_output = notebook(code("1 + 1"))
    with_output.cells[2].execution_count = 1
    assert lint_one(tmp_path, with_output, "exercises")[0].startswith("exercises carry no outputs; cells [2]")
    assert lint_one(tmp_path, with_output, "solutions") == []


# --- command line ------------------------------------------------------------------------------------------


def cli(*argv):
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    return build.run(parser.parse_args(list(argv)))


def test_cli_check_says_what_to_run(repo, capsys):
    sol = notebook(code("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"))
    write(clean_executed(papermill_output(sol), sol), repo / "solutions" / "01_data.ipynb")
    lesson = notebook(kind="lesson")
    write(clean_executed(papermill_output(lesson), lesson), repo / "notebooks" / "01_data.ipynb")
    build.write_navigation([repo / "notebooks" / "01_data.ipynb", repo / "solutions" / "01_data.ipynb"])

    assert cli("--check") == 1
    assert capsys.readouterr().out.splitlines() == [
        "exercises/01_data.ipynb: is missing; run `clinic build --exercises-only`", "1 problem(s)"]

    assert cli("--exercises-only") == 0
    assert "wrote exercises/01_data.ipynb" in capsys.readouterr().out
    assert cli("--check") == 0

    nb = nbformat.read(repo / "notebooks" / "01_data.ipynb", as_version=4)
    nb.cells[1].source += "\nprint('changed')"
    write(nb, repo / "notebooks" / "01_data.ipynb")
    capsys.readouterr()
    assert cli("--check") == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "notebooks/01_data.ipynb: sources changed since its outputs were refreshed; "
        "run `clinic build notebooks/01_data.ipynb`")
    assert cli("--check", "--exercises-only") == 0
    assert cli("--check", str(repo / "exercises" / "01_data.ipynb")) == 0  # limited to that solution
