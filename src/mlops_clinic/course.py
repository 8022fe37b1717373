"""`clinic run`: the whole course, headless, in one workspace, as a participant would take it.

Order: 00 lesson, 00 solution, 01 lesson, 01 solution ... A failing notebook is reported and the
rest still run, so one run shows every problem; the exit code is 1 if any notebook was not ok.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import paths
from .execute import RunResult, execute_notebook, summary_csv, summary_table

NN = re.compile(r"^(\d\d)_")


def course_notebooks(only: list[str] | None = None) -> list[Path]:
    """Lessons and solutions in course order, limited to the module ids in `only` if given."""
    found = []
    for rank, folder in ((0, paths.NOTEBOOKS_DIR), (1, paths.SOLUTIONS_DIR)):
        for nb in Path(folder).glob("*.ipynb"):
            m = NN.match(nb.name)
            if m and (not only or m.group(1) in only):
                found.append((m.group(1), rank, nb.name, nb))
    return [nb for *_, nb in sorted(found)]


def _module_ids(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    ids = []
    for value in values:
        for part in value.replace(",", " ").split():
            if not part.isdigit():
                raise SystemExit(f"clinic run: --only takes module numbers such as 03, not {part!r}")
            ids.append(f"{int(part):02d}")
    return ids


def run_course(notebooks: list[Path], output: Path, *, workspace=None, timeout_s: float = 900,
               echo=print) -> list[RunResult]:
    """Execute `notebooks` one after the other into `output`, all in the same workspace."""
    from .workspace import Workspace  # written alongside this module; imported when needed

    ws = Workspace.resolve(workspace).create()  # idempotent: tool dirs exist before the kernel starts
    env, ws_dir = ws.env(), str(ws.root)
    results = []
    for i, nb in enumerate(notebooks, 1):
        target = output / nb.parent.name / nb.name  # a lesson and a solution may share a name
        echo(f"[{i}/{len(notebooks)}] {nb.parent.name}/{nb.name} ...", end=" ", flush=True)
        r = execute_notebook(nb, target, parameters={"workspace": ws_dir}, env=env, cwd=nb.parent,
                             timeout_s=timeout_s)
        echo(f"{r.status} in {r.duration_s:.1f} s" + (f": {r.error}" if r.error else ""))
        results.append(r)
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for the executed notebooks, logs and summary.csv (default build/run)")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="workspace to run in (default: the participant's workspace)")
    parser.add_argument("--only", action="append", metavar="NN",
                        help="run only these modules (repeat, or 01,02)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per cell")


def run(args: argparse.Namespace) -> int:
    notebooks = course_notebooks(_module_ids(args.only))
    if not notebooks:
        print("clinic run: no notebook matches" + (f" --only {' '.join(args.only)}" if args.only else ""),
              file=sys.stderr)
        return 1
    output = (args.output or paths.REPO_ROOT / "build" / "run").resolve()
    output.mkdir(parents=True, exist_ok=True)
    results = run_course(notebooks, output, workspace=args.workspace, timeout_s=args.timeout)
    print()
    print(summary_table(results), end="")
    (output / "summary.csv").write_text(summary_csv(results), encoding="utf-8")
    print(f"Executed notebooks, logs and summary.csv are in {output}")
    return 0 if all(r.ok for r in results) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="clinic run", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
