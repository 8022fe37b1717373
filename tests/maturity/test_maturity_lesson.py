"""`python -m mlops_clinic.maturity.lesson NOTEBOOK`: the checkpoint cells go in once, before the summary."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mlops_clinic.maturity.lesson import main


def lesson(tmp_path, last_markdown: str):
    nb = new_notebook(metadata={"clinic": {"module": "03"}}, cells=[
        new_markdown_cell("# 03 · Serving", id="m03-00"),
        new_code_cell("workspace = None", id="m03-01", metadata={"tags": ["parameters"]}),
        new_code_cell('ws = setup("03", workspace=workspace)', id="m03-02"),
        new_markdown_cell(last_markdown, id="m03-03"),
    ])
    path = tmp_path / "03_serving.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_checkpoint_goes_before_the_summary_and_only_once(tmp_path, capsys):
    path = lesson(tmp_path, "## Exercises\n\nOpen the exercises.\n\n## Summary\n\n- one\n\n## What's next\n\nMore.")
    assert main([str(path)]) == 0
    first = path.read_text()
    assert main([str(path)]) == 0 and path.read_text() == first  # idempotent
    assert "already has its checkpoint" in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    assert [c.id for c in nb.cells] == ["m03-00", "m03-01", "m03-02", "m03-03", "m03-cp0", "m03-cp1", "m03-summary"]
    assert nb.cells[1].source == "workspace = None\nmaturity_answers = None  # parameter: checkpoint answers " \
                                 "(dict or JSON/YAML file); None: use the widget"
    assert nb.cells[3].source == "## Exercises\n\nOpen the exercises."
    assert nb.cells[4].source.startswith("## Maturity checkpoint\n\nWhere does your organisation stand on model serving?")
    assert nb.cells[5].source == 'from mlops_clinic.maturity import checkpoint\n\ncheckpoint("serving", answers=maturity_answers)'
    assert nb.cells[6].source.startswith("## Summary")
    nbformat.validate(nb)


def test_a_summary_in_its_own_cell_is_not_split(tmp_path):
    path = lesson(tmp_path, "## Summary\n\n- one")
    main([str(path)])
    assert [c.id for c in nbformat.read(path, as_version=4).cells] == ["m03-00", "m03-01", "m03-02", "m03-cp0",
                                                                       "m03-cp1", "m03-03"]
