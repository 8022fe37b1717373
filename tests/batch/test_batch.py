"""clinic batch: notebooks x parameters, each run in its own workspace; failures, a killed kernel,
resume, a Dask cluster, reports, and grading of module 00's exercise.

Runs start real kernels (a few seconds each); the notebooks are tiny ones written into tmp_path,
except for grading, which runs module 00's real exercise and solution.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml

from mlops_clinic import paths
from mlops_clinic.batch.cli import main as batch_main
from mlops_clinic.batch.cli import run_batch
from mlops_clinic.batch.plan import GridError, load_grid, parse_grid, plan
from mlops_clinic.batch.report import summary_csv

pytestmark = pytest.mark.slow


def make_nb(path, *sources, params="workspace = None\nseed = 0\nmaturity_answers = None"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


# A good notebook: counts its executions, checks an answer (clinic_check metadata), saves maturity
# answers in its own workspace.
GOOD = (
    "import pathlib\n"
    "counter = pathlib.Path(workspace).parent.parent.parent / 'executions.txt'\n"
    "with open(counter, 'a') as f: f.write(pathlib.Path(workspace).parent.name + '\\n')",
    "from mlops_clinic.checks.core import Question, Wrong\n"
    "def _checker(answer):\n"
    "    if answer != 2:\n"
    "        raise Wrong('not two')\n"
    "q1 = Question('q1', '99', _checker, hints=[])\n"
    "q1.check(seed)",
    "from mlops_clinic.maturity import AnswerStore, answers_from\n"
    "if maturity_answers is not None:\n"
    "    AnswerStore(workspace).update(answers_from(maturity_answers))",
)


def write_grid(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# --- planning -------------------------------------------------------------------------------------------


def test_grid_plans_stable_runs_each_with_its_own_folder(tmp_path):
    make_nb(tmp_path / "a.ipynb", "pass")
    make_nb(tmp_path / "b.ipynb", "pass")
    (tmp_path / "p01.yaml").write_text("business: {use_cases: 2}\n")
    grid_file = write_grid(tmp_path / "grid.yaml", {
        "notebooks": ["a.ipynb", {"path": "b.ipynb", "timeout": 30}],
        "parameters": {"seed": [1, 2], "scenario": "drift"},
        "cases": [{"participant": "p01", "maturity_answers": "p01.yaml"}, {"participant": "p02"}],
        "timeout": 60,
    })
    grid = load_grid(grid_file)
    runs = plan(grid, tmp_path / "out")
    assert len(runs) == 2 * 2 * 2  # notebooks x cases x seeds
    assert len({r.id for r in runs}) == len(runs) and len({r.folder for r in runs}) == len(runs)
    assert runs[0].id.startswith("a.participant-p01.scenario-drift.seed-1.")
    assert runs[0].parameters["maturity_answers"] == str(tmp_path / "p01.yaml")
    assert [r.timeout_s for r in runs] == [60.0] * 4 + [30.0] * 4
    assert all("workspace" not in r.parameters for r in runs)
    # Same grid, same ids: that is how a rerun finds what is done.
    assert [r.id for r in plan(load_grid(grid_file), tmp_path / "out")] == [r.id for r in runs]


@pytest.mark.parametrize("data, message", [
    ({"notebooks": []}, "at least one notebook"),
    ({"notebooks": ["missing.ipynb"]}, "missing.ipynb not found"),
    ({"notebooks": ["a.ipynb"], "parameters": {"workspace": ["x"]}}, "set by the batch"),
    ({"notebooks": ["a.ipynb"], "parameters": {"seed": []}}, "empty list"),
    ({"notebooks": ["a.ipynb"], "concurency": 2}, "unknown key(s) concurency"),
    ({"notebooks": ["a.ipynb"], "timeout": -1}, "`timeout` is a number of seconds"),
])
def test_bad_grids_say_what_to_fix(tmp_path, data, message):
    make_nb(tmp_path / "a.ipynb", "pass")
    with pytest.raises(GridError, match=".*" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_grid(data, base=tmp_path)


def test_bad_grid_file_exits_2(tmp_path, capsys):
    grid = write_grid(tmp_path / "grid.yaml", {"notebooks": ["nowhere.ipynb"]})
    assert batch_main(["run", str(grid), "--out", str(tmp_path / "out")]) == 2
    assert "nowhere.ipynb not found" in capsys.readouterr().err


def test_a_grid_that_is_a_folder_or_not_utf8_says_so(tmp_path, capsys):
    (tmp_path / "grids").mkdir()
    assert batch_main(["run", str(tmp_path / "grids"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "grids is a folder: give the grid file (YAML) itself" in err and "Traceback" not in err

    latin1 = tmp_path / "grid.yaml"
    latin1.write_bytes("notebooks:\n  - caf\u00e9.ipynb\n".encode("latin-1"))
    assert batch_main(["run", str(latin1), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "grid.yaml is not UTF-8 text (line 2): save it as UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["0", "-2"])
def test_concurrency_below_one_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        batch_main(["run", "grid.yaml", "--concurrency", value])
    assert exit_info.value.code == 2  # argparse's usage error, before anything is read or run
    assert f"argument --concurrency/-j: 1 or more runs at once, not {int(value)}" in capsys.readouterr().err


# --- running --------------------------------------------------------------------------------------------


def test_failing_and_killed_notebooks_do_not_stop_the_others(tmp_path, capsys, no_process_left):
    make_nb(tmp_path / "good.ipynb", *GOOD)
    make_nb(tmp_path / "bad.ipynb", "x = 1", "# a participant's bug\n1/0", "print('never')")
    make_nb(tmp_path / "dies.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
            "print('never')")
    grid = write_grid(tmp_path / "grid.yaml", {
        "notebooks": ["bad.ipynb", "dies.ipynb", "good.ipynb"],
        "parameters": {"seed": [1, 2]},
        "cases": [{"maturity_answers": {"business": {"use_cases": 2, "value": 1}}}],
        "cell_timeout": 60, "timeout": 120,
    })
    out = tmp_path / "out"
    code = batch_main(["run", str(grid), "--out", str(out), "--concurrency", "2", "--no-progress"])
    assert code == 1  # some runs failed
    rows = read_csv(out / "summary.csv")
    assert len(rows) == 6
    by = {(r["notebook"].rsplit("/", 1)[-1], json.loads(r["parameters"])["seed"]): r for r in rows}
    for seed in (1, 2):
        bad, dies, good = by[("bad.ipynb", seed)], by[("dies.ipynb", seed)], by[("good.ipynb", seed)]
        assert bad["status"] == "failed" and bad["failing_cell"] == "2" and bad["failing_source"] == "1/0"
        assert bad["error"] == "ZeroDivisionError: division by zero"
        assert dies["status"] == "killed" and dies["failing_cell"] == "2"
        assert dies["error"].startswith("DeadKernelError")
        assert good["status"] == "ok" and good["error"] == ""
        assert float(good["duration_s"]) > 0 and float(good["peak_mb"]) > 0 and good["attempts"] == "1"
        # The check's outcome, read from the output metadata, and the maturity profile of the answers
        # the run saved in its own workspace.
        assert good["checks"] == f"m99.q1={'correct' if seed == 2 else 'wrong'}"
        assert good["checks_correct"] == ("1" if seed == 2 else "0") and good["checks_total"] == "1"
        assert good["maturity_overall"] == "1" and good["maturity_weakest"] == "business"
        assert "business=1" in good["maturity_levels"]
        executed = out / good["output"]
        assert executed.exists() and (executed.parent / "record.json").exists()
        assert (executed.parent / "workspace" / "maturity" / "answers.json").exists()
    # Each run had a workspace of its own.
    runs = (tmp_path / "out" / "executions.txt").read_text().split()
    assert sorted(runs) == sorted(r["run"] for r in rows if r["notebook"].endswith("good.ipynb"))
    html = (out / "summary.html").read_text()
    assert "6 run(s): 2 failed, 2 killed, 2 ok" in html
    assert "ZeroDivisionError: division by zero" in html and "1/1 correct" in html
    assert "overall 1, weakest business" in html
    assert "6 run(s): 2 failed, 2 killed, 2 ok" in capsys.readouterr().out


def test_resume_skips_finished_runs_and_force_reruns_them(tmp_path, no_process_left):
    nb = make_nb(tmp_path / "good.ipynb", *GOOD)
    make_nb(tmp_path / "bad.ipynb", "1/0")
    grid = load_grid(write_grid(tmp_path / "grid.yaml", {
        "notebooks": ["good.ipynb", "bad.ipynb"], "parameters": {"seed": [1, 2]}, "cell_timeout": 60}))
    out = tmp_path / "out"
    executions = out / "executions.txt"
    messages = []

    def count():
        return len(executions.read_text().split())

    runs = plan(grid, out)
    first, _ = run_batch(runs, out, progress=False)
    assert [r["status"] for r in first] == ["ok", "ok", "failed", "failed"] and count() == 2

    # A batch stopped half-way: one good run lost its record (it never finished).
    runs[1].record_path.unlink()
    again, _ = run_batch(plan(grid, out), out, progress=False, echo=messages.append)
    assert count() == 3  # only the unfinished run ran again
    assert [r.get("resumed", False) for r in again] == [True, False, True, True]
    assert [r["status"] for r in again] == ["ok", "ok", "failed", "failed"]  # the summary covers all
    assert "3 run(s) already finished, skipped" in messages[0]
    assert len(read_csv(out / "summary.csv")) == 4

    # --retry-failed reruns the failed ones only; --force reruns all.
    retried, _ = run_batch(plan(grid, out), out, progress=False, retry_failed=True, echo=messages.append)
    assert [r.get("resumed", False) for r in retried] == [True, True, False, False] and count() == 3
    run_batch(plan(grid, out), out, progress=False, force=True, echo=messages.append)
    assert count() == 5

    # A changed notebook is not the run that finished: it runs again.
    make_nb(nb, *GOOD, "y = 2")
    changed, _ = run_batch(plan(grid, out), out, progress=False, echo=messages.append)
    assert [r.get("resumed", False) for r in changed] == [False, False, True, True] and count() == 7


# The cluster lives in a process of its own (closed at the end, then stopped by PID), so its worker
# processes and multiprocessing's resource tracker never become children of the test session.
CLUSTER = """
import sys
from distributed import LocalCluster

with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                  host="127.0.0.1") as cluster:
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_batch_runs_on_a_local_dask_cluster(tmp_path, no_process_left):
    pytest.importorskip("distributed")
    make_nb(tmp_path / "good.ipynb", *GOOD)
    make_nb(tmp_path / "bad.ipynb", "1/0")
    grid = load_grid(write_grid(tmp_path / "grid.yaml", {
        "notebooks": ["good.ipynb", "bad.ipynb"], "parameters": {"seed": [1, 2]}, "cell_timeout": 60}))
    out = tmp_path / "out"
    host = subprocess.Popen([sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    try:
        address = host.stdout.readline().strip()
        assert address.startswith("tcp://127.0.0.1:"), address
        records, _ = run_batch(plan(grid, out), out, concurrency=2, scheduler=address, progress=False)
    finally:
        host.stdin.close()
        try:
            host.wait(timeout=60)
        except subprocess.TimeoutExpired:
            host.kill()
            host.wait()
    assert host.returncode == 0
    assert [r["status"] for r in records] == ["ok", "ok", "failed", "failed"]
    assert [r["checks"][0]["status"] for r in records[:2]] == ["wrong", "correct"]
    assert records[2]["error"] == "ZeroDivisionError: division by zero"
    assert len(read_csv(out / "summary.csv")) == 4


def test_a_worker_that_raises_is_an_error_record_and_the_batch_goes_on(tmp_path, monkeypatch):
    import concurrent.futures as cf
    import contextlib

    from mlops_clinic.batch import executors

    make_nb(tmp_path / "a.ipynb", "pass")
    grid = load_grid(write_grid(tmp_path / "grid.yaml", {"notebooks": ["a.ipynb"],
                                                         "parameters": {"seed": [1, 2, 3]}}))
    runs = plan(grid, tmp_path / "out")

    def fake_run_one(run, **_):
        if run.parameters["seed"] == 2:
            raise RuntimeError("worker lost")
        return {"id": run.id, "status": "ok", "duration_s": 1.0, "peak_mb": 10.0, "attempts": 1}

    monkeypatch.setattr(executors, "run_one", fake_run_one)

    @contextlib.contextmanager
    def threads():
        with cf.ThreadPoolExecutor(2) as pool:  # any concurrent.futures executor plugs in
            yield pool

    records, _ = run_batch(runs, tmp_path / "out", concurrency=2, executor_factory=threads, progress=False,
                           echo=lambda text: None)
    assert [r["status"] for r in records] == ["ok", "error", "ok"]
    assert records[1]["error"] == "RuntimeError: worker lost"
    # An "error" is not a verdict on the notebook: a rerun tries it again.
    calls = []
    monkeypatch.setattr(executors, "run_one", lambda run, **_: (calls.append(run.id), {
        "id": run.id, "status": "ok", "duration_s": 1.0, "peak_mb": 1.0, "attempts": 1})[1])
    for r, record in zip(runs, records):  # the fake wrote no records for the ok runs: write them
        if record["status"] == "ok":
            from mlops_clinic.batch.run import write_record

            write_record(r.record_path, {**record, "fingerprint": r.fingerprint})
    run_batch(plan(grid, tmp_path / "out"), tmp_path / "out", executor_factory=threads, progress=False,
              echo=lambda text: None)
    assert calls == [runs[1].id]


def test_csv_reports_hold_no_formula_a_spreadsheet_would_run():
    from mlops_clinic.batch.grade import grades_csv

    record = {"id": "=cmd.seed-1.abcd", "notebook": "+nb.ipynb", "parameters": {}, "status": "failed",
              "duration_s": 1.0, "peak_mb": 1.0, "attempts": 1, "failing_cell": 1,
              "failing_source": "-1 + 2", "error": "@SUM(A1:A9)", "output": "", "checks": [],
              "maturity": None, "participant": "=HYPERLINK(\"http://evil.example\")",
              "submission": "p.ipynb", "questions": {"m00.q1": "-wrong"}}
    summary = next(csv.DictReader(summary_csv([record]).splitlines()))
    assert (summary["run"], summary["notebook"], summary["failing_source"], summary["error"]) == \
        ("'=cmd.seed-1.abcd", "'+nb.ipynb", "'-1 + 2", "'@SUM(A1:A9)")
    grades = next(csv.DictReader(grades_csv([record]).splitlines()))
    assert grades["participant"] == "'=HYPERLINK(\"http://evil.example\")"
    assert grades["error"] == "'@SUM(A1:A9)" and grades["m00.q1"] == "'-wrong"
    assert grades["status"] == "failed" and grades["correct"] == "0"  # plain values stay as they are


def test_summary_csv_columns():
    record = {"id": "nb.seed-1.abcd", "notebook": "nb.ipynb", "parameters": {"seed": 1}, "status": "failed",
              "duration_s": 3.456, "peak_mb": 150.04, "attempts": 2, "failing_cell": 3,
              "failing_source": "1/0", "error": "ZeroDivisionError: division by zero", "output": "nb.ipynb",
              "checks": [{"question": "m00.q1", "status": "correct"}], "maturity": None}
    lines = summary_csv([record]).splitlines()
    assert lines[0].startswith("run,notebook,parameters,status,duration_s,peak_mb,attempts,failing_cell")
    row = next(csv.DictReader(lines))
    assert row["duration_s"] == "3.46" and row["peak_mb"] == "150.0" and row["failing_cell"] == "3"
    assert row["checks"] == "m00.q1=correct" and row["output"] == "runs/nb.seed-1.abcd/nb.ipynb"


# --- grading --------------------------------------------------------------------------------------------


def test_grading_reports_each_question_per_participant(tmp_path, no_process_left):
    subs = tmp_path / "submissions"
    for who, source in (("blank", paths.EXERCISES_DIR), ("right", paths.SOLUTIONS_DIR)):
        (subs / who).mkdir(parents=True)
        shutil.copy(source / "00_welcome.ipynb", subs / who / "00_welcome.ipynb")
    # A third participant: q1 right, q2's cell raises, q3 not attempted.
    nb = nbformat.read(paths.EXERCISES_DIR / "00_welcome.ipynb", as_version=4)
    for cell in nb.cells:
        if "q1.check(" in cell.source:
            cell.source = "n_aircon = int((houses['airconditioning'] == 'yes').sum())\nq1.check(n_aircon)"
        elif "q2.check(" in cell.source:
            cell.source = "medians = houses.groupby('furnishing')['price'].median()\nq2.check(medians)"
    (subs / "mixed").mkdir()
    nbformat.write(nb, subs / "mixed" / "00_welcome.ipynb")
    before = {p: p.read_bytes() for p in subs.rglob("*.ipynb")}

    out = tmp_path / "grades"
    code = batch_main(["grade", str(subs), "--out", str(out), "--concurrency", "2", "--no-progress",
                       "--cell-timeout", "300"])
    assert code == 0  # wrong answers are grades, not failed runs
    rows = {r["participant"]: r for r in read_csv(out / "grades.csv")}
    assert {k: rows["blank"][k] for k in ("m00.q1", "m00.q2", "m00.q3")} == \
        {"m00.q1": "not attempted", "m00.q2": "not attempted", "m00.q3": "not attempted"}
    assert {k: rows["right"][k] for k in ("m00.q1", "m00.q2", "m00.q3")} == \
        {"m00.q1": "correct", "m00.q2": "correct", "m00.q3": "correct"}
    assert rows["mixed"]["m00.q1"] == "correct"
    assert rows["mixed"]["m00.q2"].startswith("error: KeyError")
    assert rows["mixed"]["m00.q3"] == "not attempted"  # the notebook ran on past the error
    # The open question (q4): all its rules met in the solution, not attempted in the exercise.
    assert (rows["right"]["m00.q4"], rows["blank"]["m00.q4"]) == ("correct", "not attempted")
    assert [rows[p]["correct"] for p in ("blank", "mixed", "right")] == ["0", "1", "4"]
    assert all(rows[p]["status"] == "ok" for p in rows)
    html = (out / "grades.html").read_text()
    assert "3 participant(s), 3 notebook(s); 5 of 12 question outcomes correct" in html
    assert "m00.q4" in (out / "rubric.html").read_text()
    assert (out / "summary.csv").exists()
    assert {p: p.read_bytes() for p in subs.rglob("*.ipynb")} == before  # submissions untouched


def test_unreadable_submissions_are_their_participants_rows_and_the_others_are_graded(tmp_path, capsys,
                                                                                     no_process_left):
    subs = tmp_path / "submissions"
    (subs / "alice").mkdir(parents=True)
    make_nb(subs / "alice" / "task.ipynb", "print('alice')")
    make_nb(subs / "bob.ipynb", "print('bob')")
    (subs / "carol").mkdir()
    (subs / "carol" / "task.ipynb").write_text("print('I saved it as a .py file')")
    (subs / "dave.ipynb").write_bytes(b"")
    grader = tmp_path / "grader"
    grader.mkdir()
    (grader / "private.ipynb").write_text("the grader's private key")
    (subs / "eve.ipynb").symlink_to(grader / "private.ipynb")
    (subs / "frank").symlink_to(grader, target_is_directory=True)
    out = tmp_path / "out"

    code = batch_main(["grade", str(subs), "--out", str(out), "--no-progress", "--cell-timeout", "60"])
    assert code == 1  # the unreadable ones need the instructor
    assert "Traceback" not in capsys.readouterr().err
    rows = {r["participant"]: r for r in read_csv(out / "grades.csv")}
    assert {p: rows[p]["status"] for p in rows} == {
        "alice": "ok", "bob": "ok", "carol": "unreadable", "dave": "unreadable", "eve": "unreadable",
        "frank": "unreadable"}
    assert rows["carol"]["error"] == "unreadable: not JSON, so not a notebook; ask for the file again"
    assert rows["dave"]["error"] == "unreadable: an empty file; ask for the file again"
    for linked in ("eve", "frank"):
        assert rows[linked]["error"] == ("unreadable: a link to something outside the submissions folder; "
                                         "ask for the file again")
    # The linked files were neither read nor copied nor run.
    for written in out.rglob("*"):
        if written.is_file():
            assert b"private key" not in written.read_bytes(), written
    assert len(read_csv(out / "summary.csv")) == 6


def test_clinic_batch_is_a_command_and_its_help_documents_the_grid(capsys):
    from mlops_clinic.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["batch", "run", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "notebooks:" in text and "parameters:" in text and "cases:" in text and "--scheduler" in text
