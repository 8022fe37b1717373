"""The batch's summary: summary.csv (one row per run) and summary.html (the same, readable).

Columns: run id, notebook, parameters, status, seconds, peak MB, attempts (more than 1: a kernel
start race was retried), failing cell and its first line, error, checks (correct of total, and each
question's outcome), maturity (overall level, weakest dimension, the level of each dimension), and
the executed notebook relative to the batch folder.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlops_clinic.files import spreadsheet_safe, write_atomic

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
    rows = summary_rows(records)
    head = ("run", "notebook", "parameters", "status", "seconds", "peak MB", "attempts", "failing cell",
            "error", "checks", "maturity")
    body = []
    for row in rows:
        status = row["status"]
        cell = (f"{row['failing_cell']}: <code>{_e(row['failing_source'])}</code>"
                if row["failing_cell"] != "" else "")
        checks = (f"{row['checks_correct']}/{row['checks_total']} correct"
                  f"<br><small>{_e(row['checks'])}</small>" if row["checks"] else "")
        maturity = (f"overall {row['maturity_overall']}, weakest {_e(row['maturity_weakest'])}"
                    f"<br><small>{_e(row['maturity_levels'])}</small>"
                    if row["maturity_overall"] != "" or row["maturity_weakest"] else "")
        run = (f'<a href="{_e(row["output"])}">{_e(row["run"])}</a>' if row["output"] else _e(row["run"]))
        body.append(
            "<tr>"
            f"<td>{run}</td><td>{_e(row['notebook'])}</td><td><code>{_e(row['parameters'])}</code></td>"
            f'<td style="color:{STATUS_COLOURS.get(status, "#111827")};font-weight:bold">{_e(status)}</td>'
            f"<td class=n>{row['duration_s']}</td><td class=n>{row['peak_mb']}</td>"
            f"<td class=n>{row['attempts']}</td><td>{cell}</td><td>{_e(row['error'])}</td>"
            f"<td>{checks}</td><td>{maturity}</td>"
            "</tr>")
    return _page(title, summary_line(records, wall_s), head, body)


def write_summary(out: Path, records: list[Record], *, title: str = "Batch summary",
                  wall_s: float | None = None) -> tuple[Path, Path]:
    out = Path(out)
    csv_path, html_path = out / "summary.csv", out / "summary.html"
    write_atomic(csv_path, summary_csv(records))
    write_atomic(html_path, summary_html(records, title=title, wall_s=wall_s))
    return csv_path, html_path


# --- shared with grade.py -----------------------------------------------------------------------------


def _page(title: str, summary: str, head: Iterable[str], body: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8>"
        f"<title>{_e(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1.5em;color:#111827}"
        "table{border-collapse:collapse;font-size:13px}"
        "th,td{border:1px solid #d1d5db;padding:4px 6px;vertical-align:top;text-align:left}"
        "th{background:#f3f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums}"
        "</style></head><body>\n"
        f"<h1>{_e(title)}</h1>\n<p>{_e(summary)}</p>\n<table>\n<tr>"
        + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>\n"
        + "\n".join(body) + "\n</table>\n</body></html>\n"
    )


def _e(value: Any) -> str:
    return html.escape(str(value))


def _params(params: dict[str, Any]) -> str:
    shown = {}
    for key, value in sorted(params.items()):
        if key == "maturity_answers" and isinstance(value, str):
            value = Path(value).name  # the file's name, not where it lives on this machine
        shown[key] = value
    return json.dumps(shown, sort_keys=True, default=str, separators=(", ", ": "))
