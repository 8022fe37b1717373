"""One run of a batch: execute.py in the run's own fresh workspace, then a record of how it went.

The record is a JSON file next to the run's output (`record.json`), written atomically when the run
ends: a batch that is stopped and started again skips the runs that left one (see `is_finished`).
Records are plain dicts so that they travel back from process-pool and Dask workers unchanged.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlops_clinic.batch.plan import Run
from mlops_clinic.execute import ExecutionOptions
from mlops_clinic.files import write_atomic

# A run's outcome: execute.py's statuses, "unreadable" for a submission that is not a notebook, and
# "error" when the batch itself could not run it (its worker died, the cluster went away). "error"
# is not a verdict on the notebook: a rerun retries it.
STATUSES = ("ok", "failed", "timeout", "killed", "unreadable", "error")


def run_one(run: Run, *, options: ExecutionOptions = ExecutionOptions()) -> dict[str, Any]:
    """Execute `run` in a fresh workspace under its folder; write and return its record. The run's
    own limits (from its grid, or the command line) replace those of `options`.

    A run marked `isolate` (a graded submission) works in its workspace: the kernel's current
    folder, HOME and TMPDIR are in it, its environment is the workspace's alone, and it has no
    network where the platform allows it (execute.py).
    """
    from mlops_clinic.execute import execute_notebook
    from mlops_clinic.workspace import MARKER_FILE, Workspace

    folder = Path(run.folder)
    folder.mkdir(parents=True, exist_ok=True)
    run.record_path.unlink(missing_ok=True)  # a record exists only for a run that ended
    if run.extra.get("unreadable"):
        record = unreadable_record(run)
        write_record(run.record_path, record)
        return record
    if (run.workspace / MARKER_FILE).exists():  # a rerun starts from a fresh workspace
        shutil.rmtree(run.workspace)
    ws = Workspace(run.workspace).create()
    isolate = bool(run.extra.get("isolate"))
    if isolate:
        env, cwd = {**ws.env(), "HOME": str(ws.home)}, ws.root
    else:
        env, cwd = ws.env(), Path(run.notebook).parent
    result = execute_notebook(
        run.notebook, run.output,
        parameters={**run.parameters, "workspace": str(ws.root)},
        env=env,
        cwd=cwd,
        options=replace(options, cell_timeout_s=run.cell_timeout_s, wall_timeout_s=run.timeout_s),
        isolate=isolate,
    )
    record = {
        "id": run.id,
        "notebook": run.label,
        "parameters": run.parameters,
        "status": result.status,
        "duration_s": result.duration_s,
        "peak_mb": result.peak_mb,
        "attempts": result.attempts,
        "returncode": result.returncode,
        "failing_cell": None if result.failing_cell is None else result.failing_cell.index,
        "failing_source": "" if result.failing_cell is None else result.failing_cell.first_line,
        "error": result.error,
        "leftovers": result.leftovers,
        "network": result.network,
        "output": run.output.name,
        "log": Path(result.log_path).name,
        "checks": [],
        "maturity": None,
        "fingerprint": run.fingerprint,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **{k: v for k, v in run.extra.items() if k in ("participant", "submission")},
    }
    nb = _read(run.output)
    if nb is not None:
        record["checks"] = check_outcomes(nb)
        if run.extra.get("questions") is not None:
            from mlops_clinic.batch.grade import graded

            graded(record, nb, run.extra["questions"])
    record["maturity"] = maturity_levels(ws.root)
    write_record(run.record_path, record)
    return record


def error_record(run: Run, error: str) -> dict[str, Any]:
    """The record of a run the batch could not carry out (its worker crashed, the cluster failed)."""
    return {
        "id": run.id, "notebook": run.label, "parameters": run.parameters, "status": "error",
        "duration_s": 0.0, "peak_mb": 0.0, "attempts": 0, "returncode": None, "failing_cell": None,
        "failing_source": "", "error": error, "leftovers": [], "network": "", "output": "", "log": "",
        "checks": [], "maturity": None, "fingerprint": run.fingerprint,
        **{k: v for k, v in run.extra.items() if k in ("participant", "submission")},
    }


def unreadable_record(run: Run) -> dict[str, Any]:
    """The record of a submission that could not be read: that participant's row says so, and the
    others are graded."""
    return {**error_record(run, f"unreadable: {run.extra['unreadable']}; ask for the file again"),
            "status": "unreadable", "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def check_outcomes(nb) -> list[dict[str, str]]:
    """The `clinic_check` outcomes the notebook's checks left in their output metadata, in order."""
    found = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            check = output.get("metadata", {}).get("clinic_check")
            if isinstance(check, dict) and "question" in check:
                outcome = {"question": str(check["question"]), "status": str(check.get("status", ""))}
                if isinstance(check.get("rules"), list):  # an open question: rules met and reasons
                    outcome["rules"] = [{"says": str(r.get("says", "")), "points": _whole(r.get("points")),
                                         "met": r.get("met") is True}
                                        for r in check["rules"] if isinstance(r, dict)]
                    outcome["justification"] = str(check.get("justification") or "")
                found.append(outcome)
    return found


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000 else 0


def maturity_levels(workspace: Path) -> dict[str, Any] | None:
    """The maturity profile of the answers the run saved in its workspace (None if it saved none)."""
    answers_file = Path(workspace) / "maturity" / "answers.json"
    if not answers_file.is_file():
        return None
    try:
        from mlops_clinic.maturity.answers import parse_answers
        from mlops_clinic.maturity.bank import load_bank
        from mlops_clinic.maturity.scoring import score

        bank = load_bank()
        answers = parse_answers(json.loads(answers_file.read_text(encoding="utf-8")), bank,
                                origin=answers_file.name)
        profile = score(answers, bank)
    except Exception as exc:  # noqa: BLE001 - a bad answers file is reported, not fatal
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    weakest = profile.weakest()
    return {
        "overall": profile.overall,
        "answered": profile.answered,
        "weakest": weakest.dimension.id if weakest else None,
        "dimensions": {d.dimension.id: d.level for d in profile.dimensions},
    }


# --- records on disk ---------------------------------------------------------------------------------


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write atomically: a crash leaves the old record or the new one, never half a file."""
    write_atomic(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")


def read_record(run: Run) -> dict[str, Any] | None:
    try:
        record = json.loads(run.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("status") in STATUSES else None


def is_finished(record: dict[str, Any] | None, run: Run, *, retry_failed: bool = False) -> bool:
    """Whether a rerun can skip `run`: it left a record for this very notebook and these parameters,
    with a verdict on the notebook (not a batch "error"), and (with retry_failed) it passed."""
    if record is None or record.get("fingerprint") != run.fingerprint or record.get("status") == "error":
        return False
    return record.get("status") == "ok" or not retry_failed


def _read(path: Path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - missing or half-written output: the record says why
        return None
