"""Set-up and start-up figures of the kit, measured side by side in one run.

    .venv/bin/python benchmarks/foundation.py            # everything (pip's cold install takes ~2 min)
    .venv/bin/python benchmarks/foundation.py --skip-pip # uv only
    .venv/bin/python benchmarks/foundation.py --skip-install

Prints: cold install time and environment size (uv and pip, same lock, empty caches), cold import
times of the kit, and per notebook of `clinic run` its wall time and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench"
BIN = Path(sys.executable).parent


def timed(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def install(tool: str) -> tuple[float, float]:
    """Cold install of requirements.lock into a fresh venv with an empty cache: (seconds, MB)."""
    venv = WORK / f"venv-{tool}"
    cache = WORK / f"cache-{tool}"
    shutil.rmtree(venv, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    lock = str(ROOT / "requirements.lock")
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "PIP_CACHE_DIR": str(cache)}
    if tool == "uv":
        subprocess.run([str(BIN / "uv"), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env)
        seconds = timed([str(BIN / "uv"), "pip", "install", "--python", str(venv / "bin" / "python"), "-r", lock], env=env)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        seconds = timed([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir", "-r", lock], env=env)
    megabytes = size_mb(venv)
    shutil.rmtree(venv, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return seconds, megabytes


def import_time(statement: str, repeats: int = 5) -> float:
    """Median wall time of a fresh interpreter running `statement` (includes interpreter start)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return statistics.median(timed([sys.executable, "-c", statement], env=env) for _ in range(repeats))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-install", action="store_true")
    parser.add_argument("--skip-pip", action="store_true")
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)

    if not args.skip_install:
        print("== Cold install of requirements.lock (empty cache, fresh venv)")
        rows = [("uv", *install("uv"))]
        if not args.skip_pip:
            rows.append(("pip", *install("pip")))
        for tool, seconds, megabytes in rows:
            print(f"  {tool:<4} {seconds:7.1f} s   {megabytes:7.0f} MB")
        if len(rows) == 2:
            print(f"  uv is {rows[1][1] / rows[0][1]:.1f}x faster than pip; its venv is "
                  f"{rows[0][2] / rows[1][2]:.2f}x the size")

    print("\n== Cold start (median of 5 fresh interpreters, interpreter start included)")
    baseline = import_time("pass")
    for label, statement in [
        ("python (nothing imported)", "pass"),
        ("import mlops_clinic", "import mlops_clinic"),
        ("setup cell imports", "from mlops_clinic.notebook import setup"),
        ("checks of module 00", "import mlops_clinic.checks.m00"),
        ("mlops_clinic.data", "import mlops_clinic.data"),
        ("clinic --help", "import sys; from mlops_clinic.cli import main; sys.argv=['clinic']; main([])"),
    ]:
        seconds = baseline if statement == "pass" else import_time(statement)
        print(f"  {label:<28} {seconds * 1000:7.0f} ms  ({(seconds - baseline) * 1000:+.0f} ms over bare Python)")

    if not args.skip_run:
        print("\n== clinic run (every lesson and solution, headless, one fresh workspace)")
        workspace, output = WORK / "workspace", WORK / "run"
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.rmtree(output, ignore_errors=True)
        start = time.perf_counter()
        code = subprocess.run([str(BIN / "clinic"), "run", "--workspace", str(workspace), "--output", str(output)],
                              stdout=subprocess.DEVNULL).returncode
        total = time.perf_counter() - start
        with open(output / "summary.csv") as handle:
            for row in csv.DictReader(handle):
                print(f"  {row['notebook']:<40} {row['status']:<8} {float(row['duration_s']):6.1f} s  "
                      f"{float(row['peak_mb']):6.0f} MB peak")
        print(f"  total {total:.1f} s, exit code {code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
