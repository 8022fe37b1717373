"""The longest cells of the course taken in order, as a participant takes it.

    .venv/bin/python benchmarks/course_cells.py              # runs `clinic run` (the whole course)
    .venv/bin/python benchmarks/course_cells.py --from build/run   # reads an earlier run's notebooks

Runs every lesson and solution, 00 to 07, in one fresh workspace (`clinic run`), then prints the ten
longest cells (papermill records each cell's duration), the longest cell of each lesson, and each
notebook's total. A cell over 30 s on 2 cores should show progress while it runs, or move to the fast
path (issue 14). Durations are wall time on a shared machine: compare cells within one run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import nbformat

from mlops_clinic.catalogue import course, source_cells

ROOT = Path(__file__).resolve().parents[1]
LONG_S = 30.0


def cell_durations(executed: Path) -> list[tuple[float, int, str]]:
    """(seconds, cell index, first line) for every code cell papermill ran."""
    nb = nbformat.read(executed, as_version=4)
    found = []
    for index, cell in enumerate(source_cells(nb.cells)):
        seconds = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
        if cell.cell_type == "code" and seconds is not None:
            first = next((line.strip() for line in cell.source.splitlines()
                          if line.strip() and not line.startswith("#")), "")
            found.append((float(seconds), index, first[:70]))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="run_dir", type=Path, default=None,
                        help="a `clinic run --output` folder to read instead of running the course")
    args = parser.parse_args()
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = ROOT / "build" / "bench" / "course"
        subprocess.run([str(Path(sys.executable).with_name("clinic")), "run", "--output", str(run_dir),
                        "--workspace", str(run_dir / "workspace")], check=False)
    cells = []
    print(f"{'notebook':<40} {'cells':>5} {'total s':>8} {'longest s':>9}  longest cell")
    for notebook in course().in_order():
        executed = run_dir / notebook.parent.name / notebook.name
        if not executed.exists():
            print(f"{notebook.parent.name}/{notebook.name:<30} (not run)")
            continue
        durations = cell_durations(executed)
        label = f"{notebook.parent.name}/{notebook.name}"
        cells += [(seconds, label, index, first) for seconds, index, first in durations]
        longest = max(durations, default=(0.0, -1, ""))
        print(f"{label:<40} {len(durations):>5} {sum(d[0] for d in durations):>8.1f} {longest[0]:>9.1f}"
              f"  cell {longest[1]}: {longest[2]}")
    print(f"\nThe ten longest cells of the course in order (over {LONG_S:.0f} s marked *):")
    for seconds, label, index, first in sorted(cells, reverse=True)[:10]:
        mark = "*" if seconds > LONG_S else " "
        print(f"{mark} {seconds:7.1f} s  {label} cell {index}: {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
