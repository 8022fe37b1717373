"""Time and peak memory of module 05's drift report on bigger traffic windows.

    .venv/bin/python benchmarks/monitoring.py                  # 5k, 100k and 1M rows
    .venv/bin/python benchmarks/monitoring.py --rows 5000 2000000 --sample 100000

The report is the lesson's: `Report([DataDriftPreset()], include_tests=True)` with the schema's
column types, the reference houses (datasets/houses_reference.csv, 2,000 rows, more than 1,000 so
the distance tests apply), and "stable" traffic made by the kit's generator from the same process
(so no column should drift). Each size runs in
a fresh Python process, so "peak MB" is that process's own peak resident memory (the data, the
report and Evidently itself, about 300 MB of which is imports); "report s" is Report.run alone,
"total s" adds generating the traffic and importing Evidently. With --sample N, windows bigger
than N rows are first sampled down to N rows (uniform, seeded), as the lesson suggests for very
big windows; the last column lists the columns that drifted (none: it is stable traffic).
Aim (issue 5): 100k rows in under 10 s; 1M rows within 2 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
from mlops_clinic.data import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, load
from mlops_clinic.data.generate import generate_traffic

rows, sample = int(sys.argv[1]), int(sys.argv[2])
features = list(FEATURES)
definition = DataDefinition(numerical_columns=list(NUMERIC_FEATURES),
                            categorical_columns=list(CATEGORICAL_FEATURES))
reference = load("houses_reference")[features]
current, _ = generate_traffic("stable", rows)
current = current[features]
if sample and len(current) > sample:
    current = current.sample(sample, random_state=0)
t0 = time.perf_counter()
snapshot = Report([DataDriftPreset()], include_tests=True).run(
    current_data=Dataset.from_pandas(current, data_definition=definition),
    reference_data=Dataset.from_pandas(reference, data_definition=definition))
result = snapshot.dict()
report_s = time.perf_counter() - t0
drifted = [t["metric_config"]["params"]["column"] for t in result["tests"]
           if t["metric_config"]["params"]["type"].endswith(":ValueDrift") and t["status"] == "FAIL"]
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "used": len(current), "report_s": report_s,
                  "total_s": time.perf_counter() - started, "peak_mb": peak_mb,
                  "drifted": drifted}))
"""


def measure(rows: int, sample: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(rows), str(sample)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"rows": rows, "error": (done.stderr.strip().splitlines() or ["?"])[-1],
                "code": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5_000, 100_000, 1_000_000])
    parser.add_argument("--sample", type=int, default=0,
                        help="sample windows bigger than this many rows (0: never)")
    args = parser.parse_args()
    print(f"{'traffic rows':>13} {'rows used':>10} {'report s':>9} {'total s':>8} {'peak MB':>8}  "
          "drifted columns")
    for rows in args.rows:
        found = measure(rows, args.sample)
        if "error" in found:
            print(f"{rows:>13,} failed (exit code {found['code']}): {found['error']}")
            continue
        print(f"{found['rows']:>13,} {found['used']:>10,} {found['report_s']:>9.1f} "
              f"{found['total_s']:>8.1f} {found['peak_mb']:>8.0f}  {', '.join(found['drifted']) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
