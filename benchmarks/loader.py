"""Time and peak memory of loading a big CSV: a valid file beside bad files of the same size.

    .venv/bin/python benchmarks/loader.py                 # 50 MB files
    .venv/bin/python benchmarks/loader.py --megabytes 10

The files are made by the kit's own generator (houses, all columns, unique ids) and written to
build/bench/loader/. "bad: mainroad" writes 'YES' / 'No' instead of 'yes' / 'no' in mainroad on
every row, the mistake of a file that went through a spreadsheet once; "bad: all yes/no" does it
in all six yes/no columns. Each file is loaded with `load(path, strict=False)` (read, validate,
dtypes) in a fresh Python process, so "peak MB" is that process's own peak resident memory; its
imports alone (the kit's data module, pandas, numpy) are "import MB". "kept" is how many problems are listed one by one,
"total" how many were found (the others are counted per column).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "loader"
BYTES_PER_ROW = 61  # a generated houses row, newline included
YES_NO_COLUMNS = ("mainroad", "guestroom", "basement", "hotwaterheating", "airconditioning", "prefarea")
VARIANTS = {"valid": (), "bad: mainroad": ("mainroad",), "bad: all yes/no": YES_NO_COLUMNS}

CHILD = r"""
import json, resource, sys, time
from mlops_clinic.data import load
from mlops_clinic.data.load import total_problems

imported_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
df = load(sys.argv[1], strict=False)
seconds = time.perf_counter() - started
problems = df.attrs["problems"]
print(json.dumps({"rows": len(df), "seconds": seconds, "import_mb": imported_mb,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "kept": len(problems), "total": total_problems(problems)}))
"""


def file_path(variant: str) -> Path:
    return WORK / f"houses-{variant.replace(':', '').replace('/', '').replace(' ', '-')}.csv"


def write_files(megabytes: float) -> None:
    """One CSV per variant, the same rows apart from the wrong-case columns."""
    from mlops_clinic.data.generate import generate_houses, to_csv_bytes

    WORK.mkdir(parents=True, exist_ok=True)
    houses = generate_houses(int(megabytes * 1e6 / BYTES_PER_ROW), seed=12)
    for variant, columns in VARIANTS.items():
        frame = houses.copy()
        for column in columns:
            frame[column] = frame[column].map({"yes": "YES", "no": "No"})
        file_path(variant).write_bytes(to_csv_bytes(frame))


def measure(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1], "code": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50.0, help="size of each file (default 50)")
    parser.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only:
        write_files(args.megabytes)
        return 0
    # Written by a child process: Linux carries a process's peak memory across fork and exec, so
    # a parent that held the generated frames would inflate every measurement's peak.
    subprocess.run([sys.executable, __file__, "--megabytes", str(args.megabytes), "--write-only"], check=True)
    paths = {variant: file_path(variant) for variant in VARIANTS}
    print(f"{'file':<16} {'MB':>5} {'rows':>9} {'load s':>7} {'import MB':>9} {'peak MB':>8} "
          f"{'kept':>7} {'total':>10}")
    for variant, path in paths.items():
        found = measure(path)
        size = path.stat().st_size / 1e6
        if "error" in found:
            print(f"{variant:<16} {size:>5.0f} failed (exit code {found['code']}): {found['error']}")
            continue
        print(f"{variant:<16} {size:>5.0f} {found['rows']:>9,} {found['seconds']:>7.1f} "
              f"{found['import_mb']:>9.0f} {found['peak_mb']:>8.0f} {found['kept']:>7,} {found['total']:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
