"""The grid file, and the runs it plans: stable ids, one folder and one workspace per run.

The grid file (YAML):

    notebooks:                      # paths relative to this file's folder, else to the kit
      - notebooks/00_welcome.ipynb
      - path: notebooks/05_monitoring.ipynb
        timeout: 2400               # this notebook's whole-run limit, in seconds
    parameters:                     # every combination of these values (a grid)
      seed: [1, 2]
      scenario: [baseline, drift]   # a single value is a fixed parameter
    cases:                          # optional: sets that go together, each crossed with the grid
      - {participant: p01, maturity_answers: answers/p01.yaml}
      - {participant: p02, maturity_answers: {business: {use_cases: 2}}}
    timeout: 1800                   # optional: default whole-run limit per notebook (seconds)
    cell_timeout: 600               # optional: limit per cell (seconds)
    concurrency: 2                  # optional: runs at once (the command line wins)

Runs = notebooks x cases x grid combinations. Every parameter reaches the notebook through
papermill (after its `parameters` cell); `workspace` is the batch's to set: each run gets a fresh
workspace of its own. A `maturity_answers` value that is a string is a file path, resolved like the
notebooks. A run's id is readable (notebook and parameter values) and ends with a hash of the
notebook path and all parameters, so the same grid always plans the same ids: that is how a rerun
finds the runs already done.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_clinic import paths
from mlops_clinic.errors import ClinicError

RESERVED = ("workspace",)
DEFAULT_TIMEOUT_S = 1800.0
DEFAULT_CELL_TIMEOUT_S = 600.0
RECORD_FILE = "record.json"


class GridError(ClinicError, ValueError):
    """A grid file that cannot be used; the message says what to fix."""


@dataclass
class NotebookEntry:
    path: Path
    timeout_s: float | None = None  # None: the grid's default


@dataclass
class Grid:
    notebooks: list[NotebookEntry]
    parameter_sets: list[dict[str, Any]]
    timeout_s: float = DEFAULT_TIMEOUT_S
    cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S
    concurrency: int | None = None
    source: Path | None = None


@dataclass
class Run:
    """One notebook with one set of parameters. Plain data: it travels to pool and Dask workers."""

    id: str
    notebook: str  # absolute path of the notebook to execute
    label: str  # how reports name the notebook (relative to the kit when inside it)
    parameters: dict[str, Any]  # without `workspace`: the run adds its own
    folder: str  # everything of this run: output notebook, log, record, workspace
    timeout_s: float = DEFAULT_TIMEOUT_S
    cell_timeout_s: float = DEFAULT_CELL_TIMEOUT_S
    fingerprint: str = ""  # changes when the notebook or the parameters change
    extra: dict[str, Any] = field(default_factory=dict)  # grading: participant, questions ...

    @property
    def output(self) -> Path:
        return Path(self.folder) / Path(self.notebook).name

    @property
    def record_path(self) -> Path:
        return Path(self.folder) / RECORD_FILE

    @property
    def workspace(self) -> Path:
        return Path(self.folder) / "workspace"


# --- reading the grid -------------------------------------------------------------------------------


def load_grid(path: str | Path) -> Grid:
    path = Path(path).expanduser().resolve()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GridError(f"{path}: no such grid file") from None
    except IsADirectoryError:
        raise GridError(f"{path} is a folder: give the grid file (YAML) itself, e.g. {path}/grid.yaml") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise GridError(f"{path.name} is not UTF-8 text (line {line}): save it as UTF-8") from None
    except OSError as exc:
        raise GridError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise GridError(f"{path.name} is not valid YAML: {exc}") from None
    return parse_grid(data, base=path.parent, source=path)


def parse_grid(data: Any, *, base: Path, source: Path | None = None) -> Grid:
    name = source.name if source else "the grid"
    if not isinstance(data, dict):
        raise GridError(f"{name}: expected a mapping with `notebooks:` and `parameters:`")
    unknown = set(data) - {"notebooks", "parameters", "cases", "timeout", "cell_timeout", "concurrency"}
    if unknown:
        raise GridError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}; the keys are notebooks, "
                        "parameters, cases, timeout, cell_timeout, concurrency")
    raw_notebooks = data.get("notebooks")
    if not raw_notebooks or not isinstance(raw_notebooks, list):
        raise GridError(f"{name}: `notebooks:` must list at least one notebook path")
    notebooks = [_notebook_entry(item, base, name) for item in raw_notebooks]

    grid = data.get("parameters") or {}
    if not isinstance(grid, dict):
        raise GridError(f"{name}: `parameters:` maps a parameter name to a list of values")
    cases = data.get("cases") or [{}]
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise GridError(f"{name}: `cases:` is a list of mappings, e.g. - {{participant: p01, seed: 1}}")
    for key in [*grid, *(k for c in cases for k in c)]:
        if key in RESERVED:
            raise GridError(f"{name}: `{key}` is set by the batch (a fresh workspace per run); remove it")
        if not isinstance(key, str) or not key.isidentifier():
            raise GridError(f"{name}: parameter name {key!r} is not a Python identifier")
    names = list(grid)
    values = [v if isinstance(v, list) else [v] for v in grid.values()]
    for key, vals in zip(names, values):
        if not vals:
            raise GridError(f"{name}: parameter `{key}` has an empty list of values")
    combos = [dict(zip(names, combo)) for combo in itertools.product(*values)]
    sets = []
    for case in cases:
        for combo in combos:
            merged = {**combo, **case}
            if "maturity_answers" in merged and isinstance(merged["maturity_answers"], str):
                merged["maturity_answers"] = str(_resolve(merged["maturity_answers"], base, name))
            sets.append(merged)
    return Grid(
        notebooks=notebooks,
        parameter_sets=sets,
        timeout_s=_seconds(data.get("timeout", DEFAULT_TIMEOUT_S), "timeout", name),
        cell_timeout_s=_seconds(data.get("cell_timeout", DEFAULT_CELL_TIMEOUT_S), "cell_timeout", name),
        concurrency=_concurrency(data.get("concurrency"), name),
        source=source,
    )


def _notebook_entry(item: Any, base: Path, name: str) -> NotebookEntry:
    if isinstance(item, str):
        return NotebookEntry(_resolve(item, base, name))
    if isinstance(item, dict) and isinstance(item.get("path"), str) and set(item) <= {"path", "timeout"}:
        timeout = item.get("timeout")
        return NotebookEntry(_resolve(item["path"], base, name),
                             None if timeout is None else _seconds(timeout, "timeout", name))
    raise GridError(f"{name}: a notebook is a path, or {{path: ..., timeout: seconds}}; got {item!r}")


def _resolve(raw: str, base: Path, name: str) -> Path:
    candidate = Path(raw).expanduser()
    folders = [Path("/")] if candidate.is_absolute() else [base, paths.REPO_ROOT]
    for folder in folders:
        found = (folder / candidate).resolve()  # an absolute candidate ignores the folder
        if found.exists():
            return found
    raise GridError(f"{name}: {raw} not found (relative paths are looked up next to the grid file, "
                    "then in the kit)")


def _seconds(value: Any, key: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise GridError(f"{name}: `{key}` is a number of seconds above 0, got {value!r}")
    return float(value)


def _concurrency(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GridError(f"{name}: `concurrency` is a whole number of runs at once (1 or more), got {value!r}")
    return value


# --- planning runs ----------------------------------------------------------------------------------


def plan(grid: Grid, out: str | Path) -> list[Run]:
    """The runs of `grid`, in order (notebook, then parameter set), with folders under `out`/runs."""
    out = Path(out).resolve()
    runs, seen = [], set()
    for entry in grid.notebooks:
        digest_nb = _file_digest(entry.path)
        for params in grid.parameter_sets:
            run_id = run_identifier(entry.path, params)
            if run_id in seen:  # the same notebook and parameters listed twice: run it once
                continue
            seen.add(run_id)
            runs.append(Run(
                id=run_id,
                notebook=str(entry.path),
                label=display_path(entry.path),
                parameters=params,
                folder=str(out / "runs" / run_id),
                timeout_s=entry.timeout_s or grid.timeout_s,
                cell_timeout_s=grid.cell_timeout_s,
                fingerprint=fingerprint(digest_nb, params),
            ))
    return runs


def run_identifier(notebook: Path, params: dict[str, Any]) -> str:
    """`<notebook stem>.<value>-<value>...-<hash>`: readable, stable, unique per notebook+parameters."""
    words = [Path(notebook).stem]
    for key in sorted(params):
        value = params[key]
        if isinstance(value, (str, int, float, bool)) and key != "maturity_answers":
            words.append(f"{key}-{value}")
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", ".".join(words))[:80]
    digest = hashlib.sha256(_canonical({"notebook": display_path(notebook), "parameters": params})).hexdigest()
    return f"{slug}.{digest[:8]}"


def fingerprint(notebook_digest: str, params: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({"notebook": notebook_digest, "parameters": params})).hexdigest()[:16]


def display_path(path: str | Path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(paths.REPO_ROOT))
    except ValueError:
        return str(path)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode("utf-8")
