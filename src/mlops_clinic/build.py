"""Derived notebooks: exercises from solutions, committed outputs, and a metadata lint.

solutions/NN_name.ipynb is the single source of exercises/NN_name.ipynb: cells tagged `solution` or
`instructor` are dropped and every `### BEGIN SOLUTION` ... `### END SOLUTION` region becomes
`# Your code here` with `name = ____` for each name the rest of the exercise reads (its check, a
later step): the placeholder the checkers report as "not attempted". Lessons and solutions are
committed with the real outputs of a headless run; `clinic.source_hash` records which sources
those outputs belong to, so `clinic build --check` can tell, without running anything, that they
are out of date.

    derived file               rebuilt by
    exercises/NN_name.ipynb    clinic build --exercises-only   (or clinic build)
    outputs in notebooks/      clinic build notebooks/NN_name.ipynb
    outputs in solutions/      clinic build solutions/NN_name.ipynb
"""

from __future__ import annotations

import argparse
import ast
import configparser
import copy
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat

from . import paths
from .execute import ExecutionOptions, add_execution_arguments, options_from
from .navigation import NAVIGATION_TAG, with_navigation
from .catalogue import (
    BEGIN, DROP_TAGS, MD_BEGIN, PAPERMILL_TAGS, PARAMETERS_TAG, CourseError, course, code_regions,
    markdown_regions, metadata_problems, tags as _tags,
)

MD_PLACEHOLDER = "*Write your answer here.*"
PLACEHOLDER = "____"  # mlops_clinic.checks.____: the checkers say "not attempted" when given it
# Per-run metadata that would make every refresh a diff: papermill's and the front ends' timings.
RUN_CELL_METADATA = ("papermill", "execution", "ExecuteTime")
LEAK_MIN_CHARS = 12

# A notebook that cannot be turned into its derived files is a course error: the message names the
# notebook, the cell and the line.
BuildError = CourseError


def _rel(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return path.relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


# --- exercises from solutions -----------------------------------------------------------------------


def _assigned_names(tree: ast.Module) -> list[str]:
    def names(target):
        if isinstance(target, ast.Name):
            yield target.id
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                yield from names(elt)
        elif isinstance(target, ast.Starred):
            yield from names(target.value)

    found: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            targets = [stmt.target]
        else:
            continue
        for target in targets:
            found += [n for n in names(target) if n not in found]
    return found


def _returns(tree: ast.Module) -> bool:
    """A `return` of the enclosing function: anywhere in the region but inside a nested def/class."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo += ast.iter_child_nodes(node)
    return False


def _placeholder(lines: list[str], indent: str, where: str, shown: set[str] | None) -> list[str]:
    """`# Your code here`, then `name = ____` for each name in `shown` the region assigns.

    `shown=None` shows no names (the first pass, which finds what the rest of the notebook reads).
    """
    # Strip the marker's indentation only where present: continuation lines of a string may be
    # less indented, and textwrap.dedent would then leave the code indented.
    body = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in lines)
    try:
        tree = ast.parse(body)
    except SyntaxError as e:
        raise BuildError(f"{where}: the solution region is not valid Python on its own: {e.msg} "
                         f"(region line {e.lineno})") from None
    names = [name for name in _assigned_names(tree) if shown and name in shown]
    out = ["# Your code here"] + [f"{name} = {PLACEHOLDER}" for name in names]
    if _returns(tree):
        out.append(f"return {PLACEHOLDER}")
    if len(out) == 1:
        out.append("pass")
    return [indent + line for line in out]


def _exercise_code(source: str, where: str, shown: set[str] | None = None) -> str:
    regions = code_regions(source, where)
    if not regions:
        return source
    lines = source.splitlines()
    out, pos = [], 0
    for begin, end in regions:
        out += lines[pos:begin]
        marker = lines[begin]
        indent = marker[: len(marker) - len(marker.lstrip())]
        out += _placeholder(lines[begin + 1:end], indent, where, shown)
        pos = end + 1
    out += lines[pos:]
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# A line IPython hands to a magic or the shell, as text: `%time f(x)`, `!echo {x}`, `out = !ls`.
IPYTHON_LINE = re.compile(r"^\s*(?:[%!]|[\w, ]+=\s*[%!])")


def _names_read(code: str) -> set[str]:
    """Every name the code reads. IPython syntax is turned into Python first; the text given to a
    magic or the shell, and code that still does not parse, count every identifier in them, so no
    name the exercise needs loses its placeholder."""
    from IPython.core.inputtransformer2 import TransformerManager

    if code.lstrip().startswith("%%"):
        return set(IDENTIFIER.findall(code))
    read = {name for line in code.splitlines() if IPYTHON_LINE.match(line) for name in IDENTIFIER.findall(line)}
    try:
        tree = ast.parse(TransformerManager().transform_cell(code))
    except SyntaxError:
        return read | set(IDENTIFIER.findall(code))
    return read | {node.id for node in ast.walk(tree)
                   if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _names_read_outside_regions(cells, name: str) -> set[str]:
    """The names the exercise's own code reads: its checks, later steps, the code around each region.

    Only these get a `name = ____` line. An intermediate a solution happens to use (`failed`,
    `window`, `worse`) would tell the participant the steps, and those are the exercise.
    """
    read: set[str] = set()
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and not _tags(cell) & (DROP_TAGS | PAPERMILL_TAGS):
            read |= _names_read(_exercise_code(cell.source, _where(name, index, cell)))
    return read


def _exercise_markdown(source: str, where: str) -> str:
    out, pos = [], 0
    for start, _, _, stop in markdown_regions(source, where):
        out += [source[pos:start], MD_PLACEHOLDER]
        pos = stop
    return "".join(out) + source[pos:]


def _cell_id(cell, index: int) -> str:
    # Keep the solution's id: stable, and it ties each exercise cell to its source cell. Old
    # notebooks without ids get one derived from position and source, never a random one.
    if cell.get("id"):
        return cell["id"]
    return hashlib.sha1(f"{index}\n{cell.get('source', '')}".encode()).hexdigest()[:12]


def _where(name: str, index: int, cell) -> str:
    return f"{name or 'notebook'}, cell {index}" + (f" (id {cell['id']})" if cell.get("id") else "")


def make_exercise(solution_nb: nbformat.NotebookNode, *, name: str = "") -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook; `name` only labels error messages."""
    nb = copy.deepcopy(solution_nb)
    shown = _names_read_outside_regions(nb.cells, name)
    cells = []
    for index, cell in enumerate(nb.cells):
        if _tags(cell) & (DROP_TAGS | PAPERMILL_TAGS):
            continue
        where = _where(name, index, cell)
        cell["id"] = _cell_id(cell, index)
        for key in RUN_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.source = _exercise_code(cell.source, where, shown)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = _exercise_markdown(cell.source, where)
        cells.append(cell)
    nb.cells = cells
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    for key in ("papermill", "widgets"):  # widget state belongs to outputs, which are gone
        nb.metadata.pop(key, None)
    if "clinic" in nb.metadata:
        nb.metadata.clinic.pop("source_hash", None)
        nb.metadata.clinic["kind"] = "exercise"
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The file text nbformat writes (indent 1, sorted keys), with its trailing newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


# --- leak check -------------------------------------------------------------------------------------


def _secret_and_public(solution_nb) -> tuple[list[str], set[str]]:
    """Lines of the solution that the exercise must not show, and lines that are shown anyway."""
    secret, public = [], set()
    for cell in solution_nb.cells:
        if _tags(cell) & PAPERMILL_TAGS:
            continue
        lines = cell.source.splitlines()
        if _tags(cell) & DROP_TAGS:
            secret += lines
            continue
        hidden: set[int] = set()  # lines (partly) inside a region: not evidence of public text
        if cell.cell_type == "code":
            for begin, end in code_regions(cell.source, "leak check"):
                hidden.update(range(begin, end + 1))
                secret += lines[begin + 1:end]
        elif cell.cell_type == "markdown":
            for start, inner, inner_end, stop in markdown_regions(cell.source, "leak check"):
                secret += cell.source[inner:inner_end].splitlines()
                first, last = cell.source.count("\n", 0, start), cell.source.count("\n", 0, stop)
                hidden.update(range(first, last + 1))
        public.update(line.strip() for i, line in enumerate(lines) if i not in hidden)
    return secret, public


def _exercise_lines(exercise_nb) -> dict[str, int]:
    seen: dict[str, int] = {}
    for index, cell in enumerate(exercise_nb.cells):
        texts = [cell.source]
        for out in cell.get("outputs", []):  # a hand-made exercise could still carry outputs
            texts.append(out.get("text", "") or "")
            texts.append(out.get("data", {}).get("text/plain", "") or "")
        for text in texts:
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                seen.setdefault(line.strip(), index)
    return seen


def find_leaks(solution_nb, exercise_nb) -> list[str]:
    """Solution lines (from regions and dropped cells) that show up in the exercise."""
    secret, public = _secret_and_public(solution_nb)
    shown = _exercise_lines(exercise_nb)
    leaks = []
    for line in dict.fromkeys(l.strip() for l in secret):
        if len(line) < LEAK_MIN_CHARS or line.startswith("#") or line in public:
            continue
        if line in shown:
            leaks.append(f"exercise cell {shown[line]} shows a solution line: {line}")
    return leaks


# --- building exercises/ ------------------------------------------------------------------------------


def _plan_exercises(only=None):
    """[(exercise path, problem, new text or None to delete)] for every exercise not up to date."""
    catalogue = course()
    exercises_dir = Path(catalogue.exercises_dir)
    sources = catalogue.paths("solution")
    if only is not None:
        wanted = {Path(p).name for p in only}
        sources = [s for s in sources if s.name in wanted]
    plan = []
    for src in sources:
        sol = nbformat.read(src, as_version=4)
        ex = make_exercise(sol, name=_rel(src))
        leaks = find_leaks(sol, ex)
        if leaks:
            raise BuildError(f"{_rel(src)}: the exercise would show the solution:\n  " + "\n  ".join(leaks))
        text = notebook_text(ex)
        target = exercises_dir / src.name
        if not target.exists():
            plan.append((target, "missing", text))
        elif target.read_bytes() != text.encode("utf-8"):
            plan.append((target, "stale", text))
    if only is None:
        names = {s.name for s in sources}
        plan += [(x, "extra", None) for x in sorted(exercises_dir.glob("*.ipynb")) if x.name not in names]
    return plan


def build_exercises(check: bool = False, *, only=None) -> list[Path]:
    """Write exercises/ from solutions/ (or, with `check`, only list what is out of date).

    Returns the exercise paths that are (were) missing, stale or extra (without a solution; deleted,
    since exercises/ holds nothing but generated files). `only`: solution paths or names to limit to.
    Raises BuildError on an unclosed marker, a region that is not Python, or a leak.
    """
    plan = _plan_exercises(only)
    if not check:
        for target, _, text in plan:
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text.encode("utf-8"))
    return [target for target, _, _ in plan]


# --- navigation ---------------------------------------------------------------------------------------


def _plan_navigation(notebooks) -> list[tuple[Path, str]]:
    """(notebook, new text) for every lesson or solution whose navigation cells are not current."""
    catalogue = course()
    modules = catalogue.modules()
    plan = []
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get("clinic") or {}
        if meta.get("module") not in modules:
            continue
        kind = "lesson" if path.parent.name == Path(catalogue.notebooks_dir).name else "solution"
        text = notebook_text(with_navigation(nb, meta["module"], kind, catalogue))
        if path.read_text(encoding="utf-8") != text:
            plan.append((path, text))
    return plan


def write_navigation(notebooks) -> list[Path]:
    """Rewrite the navigation cells of `notebooks` where they are not current; returns them."""
    plan = _plan_navigation(notebooks)
    for path, text in plan:
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in plan]


# --- committed outputs ----------------------------------------------------------------------------------


def source_hash(nb) -> str:
    """sha256 of what the outputs depend on: code and markdown sources and tags, not outputs."""
    parts = [
        [c.cell_type, c.source, sorted(_tags(c))]
        for c in nb.cells
        if c.cell_type in ("code", "markdown") and not _tags(c) & (PAPERMILL_TAGS | {NAVIGATION_TAG})
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


MASKS_FILE = Path(__file__).with_name("output_masks.cfg")
TEXT_OUTPUT = re.compile(r"^(text/|application/json$)")


def output_masks(*, committed_only: bool = False) -> list[tuple[re.Pattern, str]]:
    """The (pattern, replacement) pairs of output_masks.cfg: all of them, as nbval applies them, or
    only those marked "(committed)": what the committed outputs never carry (ports, commit ids,
    timestamps, addresses, the machine's paths)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(MASKS_FILE.read_text(encoding="utf-8"))
    return [(re.compile(parser[name]["regex"]), parser[name]["replace"])
            for name in parser.sections() if not committed_only or name.endswith("(committed)")]


def _masked(text, masks):
    joined = "".join(text) if isinstance(text, list) else text
    for pattern, replacement in masks:
        joined = pattern.sub(replacement, joined)
    return joined


def readable_outputs(outputs: list, masks) -> list:
    """Outputs as a participant should read them: consecutive stream fragments merged (papermill
    writes a line at a time), and what changes on every run masked."""
    merged: list = []
    for output in copy.deepcopy(outputs):
        if output.get("output_type") == "stream":
            text = output.get("text", "")
            output["text"] = "".join(text) if isinstance(text, list) else text
            if merged and merged[-1].get("output_type") == "stream" and merged[-1].get("name") == output.get("name"):
                merged[-1]["text"] += output["text"]
                continue
        for mimetype, value in (output.get("data") or {}).items():
            if TEXT_OUTPUT.match(mimetype) and isinstance(value, (str, list)):
                output["data"][mimetype] = _masked(value, masks)
        merged.append(output)
    # Masked after merging: a mask may span lines that papermill wrote as separate fragments
    # (dvc's "To track the changes with git, run:" and the `git add` line below it).
    for output in merged:
        if output.get("output_type") == "stream":
            output["text"] = _masked(output["text"], masks)
    return merged


# What JupyterLab needs to know which model and view to make; every other value may be a default.
WIDGET_IDENTITY = ("_model_module", "_model_module_version", "_model_name", "_view_module",
                   "_view_module_version", "_view_name")


def slim_widget_state(widgets: dict) -> dict:
    """Saved widget state without the values every widget of its kind has by default (ipywidgets'
    own `embed_data(drop_defaults=True)` leaves them out too; JupyterLab fills them in)."""
    from ipywidgets.widgets.widget import Widget

    key = "application/vnd.jupyter.widget-state+json"
    state = copy.deepcopy(widgets)
    for model in (state.get(key) or {}).get("state", {}).values():
        values = model.get("state", {})
        kind = _widget_class(Widget, values)
        if kind is None:
            continue
        defaults = kind().get_state()
        model["state"] = {name: value for name, value in values.items()
                          if name in WIDGET_IDENTITY or defaults.get(name, object()) != value}
    return state


def _widget_class(widget, values):
    """The ipywidgets class of a saved model, or None (an unknown or already slimmed model)."""
    import warnings

    names = [values.get(key) for key in WIDGET_IDENTITY]
    if None in names:
        return None
    with warnings.catch_warnings():
        # The registry is the one way to find a model's class from its saved names in ipywidgets 8.
        warnings.filterwarnings("ignore", message="Widget.widget_types is deprecated")
        try:
            return widget.widget_types.get(*names)
        except KeyError:
            return None


# Outputs nbval does not compare (pictures, widget views): the same are left out here.
UNCOMPARED = ("image/", "application/vnd.jupyter.widget-view+json")
NOT_COMPARED_TAGS = {"nbval-ignore-output", "nbval-skip"}


def output_differences(committed, executed) -> list[str]:
    """Where an executed notebook's outputs differ from the committed ones, after masking what
    varies (all of output_masks.cfg, as nbval does): one line per differing cell, empty when they
    tell the same. Cells tagged nbval-ignore-output or nbval-skip are not compared."""
    masks = output_masks()
    ran = [c for c in executed.cells if not _tags(c) & PAPERMILL_TAGS]
    found = []
    for index, (mine, theirs) in enumerate(zip(committed.cells, ran)):
        if mine.cell_type != "code" or _tags(mine) & NOT_COMPARED_TAGS:
            continue
        want, got = _comparable(mine.get("outputs", []), masks), _comparable(theirs.get("outputs", []), masks)
        if want != got:
            found.append(f"cell {index} ({_first_source_line(mine.source)}): expected {want!r:.300}, got {got!r:.300}")
    if len(ran) != len(committed.cells):
        found.append(f"the executed notebook has {len(ran)} cells, the committed one {len(committed.cells)}")
    return found


def _comparable(outputs, masks) -> list:
    shown = []
    for output in readable_outputs(outputs, masks):
        kind = output.get("output_type")
        if kind == "stream":
            shown.append((output.get("name"), output.get("text", "")))
        elif kind == "error":
            shown.append(("error", output.get("ename", "")))
        else:
            shown.append(tuple(sorted((mimetype, "".join(value) if isinstance(value, list) else str(value))
                                      for mimetype, value in (output.get("data") or {}).items()
                                      if not mimetype.startswith(UNCOMPARED))))
    return shown


def _first_source_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")[:60]


def clean_executed(executed, original):
    """The original notebook with the executed outputs, readable: nothing papermill- or
    run-specific kept, streams merged, volatile values masked, widget state slimmed."""
    ran = [c for c in executed.cells if not _tags(c) & PAPERMILL_TAGS]
    if len(ran) != len(original.cells):
        raise BuildError("the executed notebook does not have the cells of its source")
    nb = copy.deepcopy(original)
    masks = output_masks(committed_only=True)
    count = 0
    for cell, done in zip(nb.cells, ran):
        for key in RUN_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        cell.outputs = readable_outputs(done.get("outputs", []), masks)
        if done.get("execution_count") is None:
            cell.execution_count = None
            continue
        count += 1
        cell.execution_count = count
        for out in cell.outputs:
            if "execution_count" in out:
                out["execution_count"] = count
    # Widget state comes along, so JupyterLab can draw a checkpoint's widgets before it is run
    # (nbval compares their text fallback, not the widget views).
    for key in ("language_info", "widgets"):
        if key in executed.metadata:
            nb.metadata[key] = copy.deepcopy(executed.metadata[key])
        else:
            nb.metadata.pop(key, None)
    if "widgets" in nb.metadata:
        nb.metadata["widgets"] = slim_widget_state(nb.metadata["widgets"])
    nb.metadata.pop("papermill", None)
    nb.metadata.setdefault("clinic", {})["source_hash"] = source_hash(nb)
    return nb


def refresh_outputs(nb_paths, workspace_root_dir, *, options: ExecutionOptions = ExecutionOptions(),
                    env_for=None, in_order: bool = False):
    """Run lessons and solutions and write their outputs back in place.

    Each runs in a fresh workspace of its own; with `in_order`, all run one after the other in ONE
    workspace, in the order given, as a participant takes the course (the committed outputs are that
    story; nbval checks that every notebook opened first tells the same). `env_for(workspace_dir) ->
    dict` gives the kernel's environment (default: the kit's Workspace(dir), created, and its env()).
    A notebook that fails is left as it was. Returns the RunResults.
    """
    from .execute import execute_notebook

    if env_for is None:
        from .workspace import Workspace  # written alongside this module; imported when needed

        env_for = lambda d: Workspace(d).create().env()  # noqa: E731

    root = Path(workspace_root_dir).resolve()
    results = []
    if in_order and root.exists():
        shutil.rmtree(root / "course", ignore_errors=True)
    for path in map(Path, nb_paths):
        path = path.resolve()
        run_dir = root / "course" if in_order else root / path.parent.name / path.stem
        ws = run_dir / "workspace"
        if not in_order and run_dir.exists():
            shutil.rmtree(run_dir)
        ws.mkdir(parents=True, exist_ok=True)
        result = execute_notebook(
            path, run_dir / path.parent.name / path.name, parameters={"workspace": str(ws)},
            env=env_for(ws), cwd=path.parent, options=options,
        )
        if result.ok:
            original = nbformat.read(path, as_version=4)
            executed = nbformat.read(run_dir / path.parent.name / path.name, as_version=4)
            path.write_bytes(notebook_text(clean_executed(executed, original)).encode("utf-8"))
        results.append(result)
    return results


def stale_outputs(nb_paths) -> list[str]:
    """One line per notebook whose committed outputs do not belong to its current sources."""
    problems = []
    for path in map(Path, nb_paths):
        nb = nbformat.read(path, as_version=4)
        recorded = nb.metadata.get("clinic", {}).get("source_hash")
        if recorded is None:
            problems.append(f"{_rel(path)}: outputs were never refreshed; run `clinic build {_rel(path)}`")
        elif recorded != source_hash(nb):
            problems.append(f"{_rel(path)}: sources changed since its outputs were refreshed; "
                            f"run `clinic build {_rel(path)}`")
    return problems


# --- metadata lint ------------------------------------------------------------------------------------


def _defines(source: str, name: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return name in _assigned_names(tree)


def _lint_cells(nb, path: Path) -> list[str]:
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code" and not _tags(c) & PAPERMILL_TAGS]
    if not code or PARAMETERS_TAG not in _tags(code[0]) or not _defines(code[0].source, "workspace"):
        problems.append("the first code cell must be tagged `parameters` and set `workspace = None`")
    if len(code) < 2 or not re.search(r"\bsetup\(", code[1].source):
        problems.append("the second code cell must call `setup(...)`")
    markers = [i for i, c in enumerate(nb.cells) if "NBVAL_" in c.source]
    if markers:
        problems.append(f"cells {markers} carry an NBVAL_ marker in their source, which participants read: "
                        "use the cell tags nbval-ignore-output, nbval-skip or raises-exception")
    if path.parent.name == "exercises":
        with_outputs = [i for i, c in enumerate(nb.cells)
                        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
        if with_outputs:
            problems.append(f"exercises carry no outputs; cells {with_outputs} have some "
                            "(run `clinic build --exercises-only`)")
        if any(BEGIN in c.source or MD_BEGIN in c.source for c in nb.cells):
            problems.append("a solution marker is left in the exercise")
    return problems


def lint(nb_path) -> list[str]:
    """Problems with a notebook's `clinic` metadata and its first cells, one line each."""
    path = Path(nb_path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # unreadable JSON: say so instead of crashing the whole check
        return [f"{_rel(path)}: cannot be read as a notebook: {e}"]
    problems = metadata_problems(nb.metadata.get("clinic"), path) + _lint_cells(nb, path)
    return [f"{_rel(path)}: {p}" for p in problems]


# --- command line -----------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path,
                        help="limit to these notebooks (notebooks/, solutions/ or exercises/ files)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if exercises, outputs or metadata need work")
    parser.add_argument("--exercises-only", action="store_true",
                        help="only regenerate the navigation cells and exercises/ (fast, runs no notebook)")
    parser.add_argument("--stale-only", action="store_true",
                        help="refresh outputs only of notebooks whose sources changed")
    parser.add_argument("--workspace-root", type=Path, default=None,
                        help="where the fresh workspaces of the runs go (default build/refresh)")
    add_execution_arguments(parser)


def _targets(selected) -> tuple[list[Path], list[Path]]:
    """(lessons, solutions) to work on: all, or those named (an exercise names its solution)."""
    catalogue = course()
    lessons, solutions = catalogue.paths("lesson"), catalogue.paths("solution")
    if not selected:
        return lessons, solutions
    picked_l, picked_s = [], []
    for p in selected:
        p = Path(p).resolve()
        if p.parent == Path(catalogue.notebooks_dir).resolve():
            picked_l.append(p)
        elif p.parent in (Path(catalogue.solutions_dir).resolve(), Path(catalogue.exercises_dir).resolve()):
            picked_s.append(Path(catalogue.solutions_dir) / p.name)
        else:
            raise BuildError(f"{p}: not a notebook of notebooks/, solutions/ or exercises/")
    for p in picked_l + picked_s:
        if not p.exists():
            raise BuildError(f"{_rel(p)}: no such notebook")
    return picked_l, picked_s


def _check(lessons, solutions, limited: bool, exercises_only: bool) -> list[str]:
    problems = []
    only = solutions if limited else None
    for target, why, _ in _plan_exercises(only):
        what = {"missing": "is missing", "stale": "is out of date with its solution",
                "extra": "has no solution in solutions/"}[why]
        fix = "delete it, or " if why == "extra" else ""
        problems.append(f"{_rel(target)}: {what}; {fix}run `clinic build --exercises-only`")
    problems += [f"{_rel(path)}: its navigation (module, minutes, sections, links) is not current; "
                 "run `clinic build --exercises-only`" for path, _ in _plan_navigation(lessons + solutions)]
    if not exercises_only:
        problems += stale_outputs(lessons + solutions)
    exercises = [Path(course().exercises_dir) / s.name for s in solutions]
    for p in lessons + solutions + [e for e in exercises if e.exists()]:
        problems += lint(p)
    return problems


def run(args: argparse.Namespace) -> int:
    lessons, solutions = _targets(args.paths)
    limited = bool(args.paths)
    if args.check:
        problems = _check(lessons, solutions, limited, args.exercises_only)
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)" if problems else "Everything is up to date.")
        return 1 if problems else 0

    status = 0
    for path in write_navigation(lessons + solutions):
        print(f"navigation written: {_rel(path)}")
    if not args.exercises_only:
        # The whole course runs in order in one workspace, the participant's path; notebooks named on
        # the command line run each in a fresh workspace (the stages give them the same state).
        in_order = not limited and not args.stale_only
        todo = course().in_order() if in_order else lessons + solutions
        if args.stale_only:
            stale = {line.split(":", 1)[0] for line in stale_outputs(todo)}
            todo = [p for p in todo if _rel(p) in stale]
        root = args.workspace_root or paths.REPO_ROOT / "build" / "refresh"
        if todo:
            from .execute import summary_table

            results = refresh_outputs(todo, root, options=options_from(args), in_order=in_order)
            print(summary_table(results), end="")
            if not all(r.ok for r in results):
                print("Outputs of the failed notebooks were left as they were; logs are in "
                      f"{_rel(root)}/.")
                status = 1
    for target in build_exercises(only=solutions if limited else None):
        print(f"{'removed' if not target.exists() else 'wrote'} {_rel(target)}")
    exercises = [Path(course().exercises_dir) / s.name for s in solutions]
    problems = [p for nb in lessons + solutions + exercises if nb.exists() for p in lint(nb)]
    for line in problems:
        print(line)
    return 1 if problems else status


def main(argv=None) -> int:
    from mlops_clinic import cli

    return cli.main(["build", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
