"""The batch's summary: summary.csv (one row per run) and summary.html (the same, readable).

Columns: run id, notebook, parameters, status, seconds, peak MB, attempts (more than 1: a kernel
start race was retried), failing cell and its first line, error, checks (correct of total, and each
question's outcome), maturity (overall level, weakest dimension, the level of each dimension), and
the executed notebook relative to the batch folder.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlops_clinic.files import spreadsheet_safe, write_atomic
from mlops_clinic.html_page import BREAK, Cell, element, join, table_page

Record = dict[str, Any]

CSV_FIELDS = (
    "run", "notebook", "parameters", "status", "duration_s", "peak_mb", "attempts", "failing_cell",
    "failing_source", "error", "checks_correct", "checks_total", "checks", "maturity_overall",
    "maturity_weakest", "maturity_levels", "output",
)
STATUS_COLOURS = {"ok": "#15803d", "failed": "#b91c1c", "timeout": "#b45309", "killed": "#7c2d12",
                  "unreadable": "#b91c1c", "error": "#6b21a8"}


def summary_rows(records: Iterable[Record]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        checks = r.get("checks") or []
        maturity = r.get("maturity") or {}
        rows.append({
            "run": r["id"],
            "notebook": r.get("notebook", ""),
            "parameters": _params(r.get("parameters") or {}),
            "status": r["status"],
            "duration_s": f"{float(r.get('duration_s') or 0):.2f}",
            "peak_mb": f"{float(r.get('peak_mb') or 0):.1f}",
            "attempts": r.get("attempts", ""),
            "failing_cell": "" if r.get("failing_cell") is None else r["failing_cell"],
            "failing_source": r.get("failing_source", ""),
            "error": r.get("error", ""),
            "checks_correct": sum(c["status"] == "correct" for c in checks) if checks else "",
            "checks_total": len(checks) if checks else "",
            "checks": "; ".join(f"{c['question']}={c['status']}" for c in checks),
            "maturity_overall": "" if maturity.get("overall") is None else maturity["overall"],
            "maturity_weakest": maturity.get("weakest") or maturity.get("error") or "",
            "maturity_levels": "; ".join(f"{k}={'' if v is None else v}"
                                         for k, v in (maturity.get("dimensions") or {}).items()),
            "output": f"runs/{r['id']}/{r['output']}" if r.get("output") else "",
        })
    return rows


def summary_csv(records: Iterable[Record]) -> str:
    """One row per run; no cell a spreadsheet would run as a formula (errors and parameters come
    from notebooks and grid files)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()}
                     for row in summary_rows(records))
    return buf.getvalue()


def totals(records: list[Record], wall_s: float | None = None) -> dict[str, Any]:
    statuses = Counter(r["status"] for r in records)
    return {
        "runs": len(records),
        "ok": statuses.get("ok", 0),
        "not_ok": len(records) - statuses.get("ok", 0),
        "statuses": dict(sorted(statuses.items())),
        "run_seconds": round(sum(float(r.get("duration_s") or 0) for r in records), 1),
        "wall_seconds": None if wall_s is None else round(wall_s, 1),
        "highest_peak_mb": round(max((float(r.get("peak_mb") or 0) for r in records), default=0.0), 1),
        "start_races_retried": sum(max(0, int(r.get("attempts") or 1) - 1) for r in records),
    }


def summary_line(records: list[Record], wall_s: float | None = None) -> str:
    t = totals(records, wall_s)
    parts = ", ".join(f"{n} {s}" for s, n in t["statuses"].items())
    wall = f", {t['wall_seconds']:.1f} s wall" if t["wall_seconds"] is not None else ""
    return (f"{t['runs']} run(s): {parts or 'none'}; {t['run_seconds']:.1f} s of runs{wall}; "
            f"highest peak {t['highest_peak_mb']:.0f} MB; kernel-start retries {t['start_races_retried']}")


def summary_html(records: list[Record], *, title: str = "Batch summary", wall_s: float | None = None) -> str:
    head = ("run", "notebook", "parameters", "status", "seconds", "peak MB", "attempts", "failing cell",
            "error", "checks", "maturity")
    rows = [_summary_cells(row) for row in summary_rows(records)]
    return table_page(title, summary_line(records, wall_s), head, rows)


def _summary_cells(row: dict[str, Any]) -> list[object]:
    status = row["status"]
    failing = (join(f"{row['failing_cell']}: ", element("code", row["failing_source"]))
               if row["failing_cell"] != "" else "")
    checks = (join(f"{row['checks_correct']}/{row['checks_total']} correct", BREAK, element("small", row["checks"]))
              if row["checks"] else "")
    maturity = (join(f"overall {row['maturity_overall']}, weakest {row['maturity_weakest']}", BREAK,
                     element("small", row["maturity_levels"]))
                if row["maturity_overall"] != "" or row["maturity_weakest"] else "")
    return [element("a", row["run"], href=row["output"]) if row["output"] else row["run"],
            row["notebook"], element("code", row["parameters"]),
            Cell(status, style=f"color:{STATUS_COLOURS.get(status, '#111827')};font-weight:bold"),
            Cell(row["duration_s"], number=True), Cell(row["peak_mb"], number=True),
            Cell(row["attempts"], number=True), failing, row["error"], checks, maturity]


def write_summary(out: Path, records: list[Record], *, title: str = "Batch summary",
                  wall_s: float | None = None) -> tuple[Path, Path]:
    out = Path(out)
    csv_path, html_path = out / "summary.csv", out / "summary.html"
    write_atomic(csv_path, summary_csv(records))
    write_atomic(html_path, summary_html(records, title=title, wall_s=wall_s))
    return csv_path, html_path


def _params(params: dict[str, Any]) -> str:
    shown = {}
    for key, value in sorted(params.items()):
        if key == "maturity_answers" and isinstance(value, str):
            value = Path(value).name  # the file's name, not where it lives on this machine
        shown[key] = value
    return json.dumps(shown, sort_keys=True, default=str, separators=(", ", ": "))
