"""Add the maturity checkpoint to a lesson notebook, in one command:

    python -m mlops_clinic.maturity.lesson notebooks/03_serving.ipynb

It reads the module number from the notebook's `clinic` metadata and, idempotently:
- adds `maturity_answers = None` to the `parameters` cell;
- inserts, just before "## Summary", a markdown cell "## Maturity checkpoint" (id mNN-cp0) and the
  checkpoint cell (id mNN-cp1). When "## Summary" shares a cell with earlier text, that cell is split
  and the summary part gets the id mNN-summary. Existing cell ids never change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from mlops_clinic.maturity.bank import load_bank

PARAMETER_LINE = "maturity_answers = None  # parameter: checkpoint answers (dict or JSON/YAML file); None: use the widget"
SUMMARY_HEADING = "## Summary"


def checkpoint_cells(module: str) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    checkpoint = load_bank().checkpoint(module)
    topic = checkpoint.title[0].lower() + checkpoint.title[1:]
    markdown = nbformat.v4.new_markdown_cell(
        "## Maturity checkpoint\n\n"
        f"Where does your organisation stand on {topic}? Answer for what you do today, "
        "not what you plan; module 07 turns your answers into a profile and a roadmap.",
        id=f"m{module}-cp0")
    code = nbformat.v4.new_code_cell(
        "from mlops_clinic.maturity import checkpoint\n\n"
        f'checkpoint("{checkpoint.id}", answers=maturity_answers)',
        id=f"m{module}-cp1")
    return markdown, code


def add_parameter(nb: nbformat.NotebookNode) -> bool:
    """Add `maturity_answers = None` to the parameters cell; False if it is already there."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            if "maturity_answers" in cell.source:
                return False
            cell.source = cell.source.rstrip("\n") + "\n" + PARAMETER_LINE
            return True
    raise ValueError("the notebook has no cell tagged `parameters`")


def add_checkpoint(nb: nbformat.NotebookNode) -> bool:
    """Insert the checkpoint cells before "## Summary"; False if they are already there."""
    module = nb.metadata["clinic"]["module"]
    if any(cell.get("id") == f"m{module}-cp1" for cell in nb.cells):
        return False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        if SUMMARY_HEADING not in [line.rstrip() for line in lines]:
            continue
        at = [line.rstrip() for line in lines].index(SUMMARY_HEADING)
        if at > 0:  # split: the text before the summary stays in the original cell
            cell.source = "\n".join(lines[:at]).rstrip("\n")
            summary = nbformat.v4.new_markdown_cell("\n".join(lines[at:]), id=f"m{module}-summary")
            nb.cells.insert(index + 1, summary)
            index += 1
        nb.cells[index:index] = list(checkpoint_cells(module))
        return True
    raise ValueError(f"the notebook has no '{SUMMARY_HEADING}' heading to put the checkpoint before")


def main(argv: list[str] | None = None) -> int:
    paths = argv if argv is not None else sys.argv[1:]
    if not paths:
        print(__doc__)
        return 2
    for name in paths:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        changed = add_parameter(nb)
        changed = add_checkpoint(nb) or changed
        if changed:
            text = nbformat.writes(nb, version=4)
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"{path}: {'checkpoint added' if changed else 'already has its checkpoint'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
