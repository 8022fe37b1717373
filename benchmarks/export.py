"""Time and peak memory of an exported pipeline, per stage, at 10k, 100k and 1M rows.

    .venv/bin/python benchmarks/export.py                         # houses and construction, 3 sizes
    .venv/bin/python benchmarks/export.py --rows 10000 100000 --datasets construction

For each dataset and size: the kit's generator writes a CSV (build/bench/export/), `clinic export
--data --schema` makes a repository of it (the kit's loader validates every row first), then the
exported pipeline's stages run one by one, each in a fresh process tree, as `dvc repro` and CI run
them: prepare (check, type, split, write Parquet), train, evaluate, the model tests after the first
promotion (they read the champion's data back at its commit through DVC), and the monitoring job
on 500 logged requests (the champion's training rows as reference, Evidently's drift report).

"peak MB" is the largest resident memory of the stage's process tree, sampled every 50 ms (the
limit that matters on Binder is 2 GB). Each stage uses the model the export chooses for the data
(params.yaml), scikit-learn's histogram gradient boosting unless --model says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "export"
VENV_BIN = str(Path(sys.executable).parent)

LOG_REQUESTS = r"""
import json, sys
import joblib, pandas as pd
sys.path[:0] = ["src", "."]
from contract import SCHEMA, json_value, model_input
from serving.inference_log import Log
rows = pd.read_parquet("data/prepared/test.parquet").head(500)
model = joblib.load("models/model.pkl")
predicted = model.predict(model_input(rows))
Log().predictions([{"request_id": f"bench-{i}", "model": "bench", "model_version": "1",
                    "features": {n: json_value(row[n], SCHEMA.by_name[n]) for n in SCHEMA.features},
                    "prediction": str(p) if SCHEMA.task == "classification" else float(p),
                    "probabilities": None} for i, ((_, row), p) in enumerate(zip(rows.iterrows(), predicted))])
"""


def peak_of(command: list[str], cwd: Path, env: dict) -> tuple[float, float, str]:
    """(seconds, peak MB of the process tree, output tail) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, stop = [0.0], threading.Event()

    def sample():
        root = psutil.Process(process.pid)
        while not stop.is_set():
            try:
                tree = [root] + root.children(recursive=True)
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()) / 1e6)
            except psutil.Error:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    output, _ = process.communicate()
    stop.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return time.perf_counter() - started, peak[0], output.strip().splitlines()[-1] if output.strip() else ""


def environment(folder: Path) -> dict:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("MLFLOW", "_MLFLOW", "BENTOML", "DVC_", "MLOPS_CLINIC", "PYTHONPATH"))}
    (folder / "dvc-site-cache").mkdir(parents=True, exist_ok=True)
    return {**keep, "PATH": VENV_BIN + os.pathsep + keep.get("PATH", ""), "DVC_SITE_CACHE_DIR": str(folder / "dvc-site-cache"),
            "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "DVC_NO_ANALYTICS": "1",
            "GIT_AUTHOR_NAME": "Benchmark", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "Benchmark", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def write_data(dataset: str, rows: int, folder: Path) -> tuple[Path, Path]:
    from mlops_clinic.data.generate import generate_houses, to_csv_bytes
    from mlops_clinic.data.schema import HOUSES
    from mlops_clinic.data.sectors import SECTORS

    if dataset == "houses":
        frame, schema = generate_houses(rows, seed=31, id_start=1), HOUSES
    else:
        frame, schema = SECTORS[dataset].generate(rows, seed=31, id_start=1), SECTORS[dataset].schema
    data, schema_file = folder / f"{dataset}.csv", folder / f"{dataset}.schema.yaml"
    data.write_bytes(to_csv_bytes(frame))
    schema_file.write_text(schema.to_yaml(), encoding="utf-8")
    return data, schema_file


def bench(dataset: str, rows: int, model: str | None) -> list[dict]:
    folder = WORK / f"{dataset}-{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data, schema = write_data(dataset, rows, folder)
    env = environment(folder)
    repo = folder / "repo"
    figures = []
    seconds, peak, _ = peak_of([sys.executable, "-m", "mlops_clinic.cli", "export", str(repo), "--data", str(data),
                                "--schema", str(schema), "--no-workspace"], folder, env)
    figures.append({"stage": "clinic export", "seconds": seconds, "peak_mb": peak})
    if model:
        params = repo / "params.yaml"
        params.write_text(params.read_text().replace("  model: hist_gradient_boosting", f"  model: {model}", 1))
        subprocess.run(["git", "commit", "-qam", f"train {model}"], cwd=repo, env=env, check=True)
    py = [sys.executable]
    stages = [("prepare", py + ["src/prepare.py"]), ("train", py + ["src/train.py"]),
              ("evaluate", py + ["src/evaluate.py"])]
    for name, command in stages:
        seconds, peak, last = peak_of(command, repo, env)
        figures.append({"stage": name, "seconds": seconds, "peak_mb": peak, "said": last})
    for command in (["dvc", "commit", "--force", "--quiet"], py + ["ci/promote.py"], py + ["deploy/reconcile.py"]):
        peak_of(command, repo, env)
    seconds, peak, last = peak_of(py + ["-m", "pytest", "-q", "-rN", "tests"], repo, env)
    figures.append({"stage": "model tests", "seconds": seconds, "peak_mb": peak, "said": last})
    peak_of(py + ["-c", LOG_REQUESTS], repo, env)
    seconds, peak, last = peak_of(py + ["monitoring/monitor.py"], repo, env)
    figures.append({"stage": "monitor", "seconds": seconds, "peak_mb": peak, "said": last[:60]})
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--datasets", nargs="+", default=["houses", "construction"])
    parser.add_argument("--model", help="train this model family instead of the export's choice")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = []
    print(f"{'dataset':<13} {'rows':>9}  {'stage':<14} {'seconds':>8} {'peak MB':>8}")
    for dataset in args.datasets:
        for rows in args.rows:
            for figure in bench(dataset, rows, args.model):
                results.append({"dataset": dataset, "rows": rows, **figure})
                print(f"{dataset:<13} {rows:>9,}  {figure['stage']:<14} {figure['seconds']:>8.1f} "
                      f"{figure['peak_mb']:>8.0f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
