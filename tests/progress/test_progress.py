"""Progress: every check's outcome lands in the workspace (never the answer), the table per module,
`clinic progress` (yours, exported, a cohort), and the progress cell in a real kernel."""

import csv
import json
import subprocess
import sys
import textwrap

import nbformat
import pytest

from checking import course_question_count
from mlops_clinic.checks import ____, m00, m01
from mlops_clinic.checks.m00 import q1, q2, q3
from mlops_clinic.cli import main as clinic
from mlops_clinic.data import load
from mlops_clinic.execute import ExecutionOptions, execute_notebook
from mlops_clinic.maturity import ENV_VAR as ANSWERS_ENV_VAR
from mlops_clinic.maturity.widget import checkpoint
from mlops_clinic.progress import note_check
from mlops_clinic.progress.store import CheckRecord, Progress, ProgressStore
from mlops_clinic.progress.views import Snapshot, module_rows, question_ids, totals, workspace_snapshot
from mlops_clinic.workspace import WORKSPACE_ENV_VAR, Workspace

ALL_CHECKS = str(course_question_count())  # each module's QUESTIONS but its open question
ALL_OPEN = str(course_question_count(open_questions=True))  # optional: a column of their own

M00_CHECKS = len(m00.QUESTIONS) - 1  # its open question, q4, is counted apart
WRONG_COUNT = 987_654  # a wrong answer no file should ever hold


@pytest.fixture(autouse=True)
def no_answers_from_the_environment(monkeypatch):
    monkeypatch.delenv(ANSWERS_ENV_VAR, raising=False)


@pytest.fixture
def premium():
    """The right answer to m00.q2 (a value that must not appear in any file either)."""
    medians = load("houses_reference").groupby("furnishingstatus")["price"].median()
    return float(medians["furnished"] - medians["unfurnished"])


@pytest.fixture
def active(workspace, monkeypatch):
    """The workspace the checks record into, as a notebook's setup cell makes it."""
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(workspace.root))
    return workspace


def some_done(premium):
    """A participant part-way through module 00: q1 tried twice and wrong, q2 right, q3 blank."""
    q1.check(____)
    q1.check(WRONG_COUNT)
    q1.check(WRONG_COUNT + 1)
    q2.check(premium)
    q3.check(____)


def every_file_text(root) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_a_check_records_its_outcome_in_the_workspace_and_never_the_answer(active, premium, capsys):
    some_done(premium)
    assert "✗ Not yet (m00.q1)" in capsys.readouterr().out, "the feedback is shown as before"
    saved = json.loads((active.root / "progress" / "checks.json").read_text())
    assert saved["format"] == "mlops-clinic progress"
    checks = saved["checks"]
    assert {q: (c["outcome"], c["attempts"]) for q, c in checks.items()} == {
        "m00.q1": ("wrong", 2), "m00.q2": ("correct", 1), "m00.q3": ("not attempted", 0)}
    assert checks["m00.q1"]["time"].endswith("Z") and checks["m00.q3"]["time"] == ""
    assert set(checks["m00.q1"]) == {"outcome", "attempts", "time"}, "outcomes only: no answer, no message"

    written = every_file_text(active.root)
    for answer in (WRONG_COUNT, WRONG_COUNT + 1, premium):
        for form in (f"{answer:g}", f"{answer:,.0f}", str(int(answer))):
            assert form not in written, f"the answer {form} was written into the workspace"


def test_a_blank_check_never_hides_an_earlier_try(active, premium):
    q2.check(premium)
    q2.check(____)  # the participant ran the exercise notebook again from the top
    assert ProgressStore(active).load().checks["m00.q2"].outcome == "correct"
    q2.check(-premium)
    assert ProgressStore(active).load().checks["m00.q2"].outcome == "wrong", "a wrong try after a right one counts"


def test_two_kernels_checking_at_once_keep_every_outcome(workspace):
    """Four processes record at the same time: every try of every one is in the file."""
    script = textwrap.dedent(f"""
        import sys
        from mlops_clinic.progress import note_check
        for n in range(25):
            assert note_check("m00.q1", "wrong", workspace={str(workspace.root)!r}) is None
            assert note_check(f"m1{{sys.argv[1]}}.q{{n}}", "correct", workspace={str(workspace.root)!r}) is None
    """)
    writers = [subprocess.Popen([sys.executable, "-c", script, str(k)]) for k in range(4)]
    assert [w.wait(timeout=300) for w in writers] == [0, 0, 0, 0]
    checks = ProgressStore(workspace).load().checks
    assert checks["m00.q1"].attempts == 100, "no try lost to a concurrent write"
    assert len(checks) == 1 + 4 * 25


def test_a_corrupt_progress_file_is_kept_aside_and_the_check_still_shows(active, capsys):
    folder = active.root / "progress"
    folder.mkdir()
    (folder / "checks.json").write_text('{"checks": {"m00.q1": ')
    q1.check(WRONG_COUNT)
    out = capsys.readouterr().out
    assert "✗ Not yet (m00.q1)" in out
    assert "kept as checks.corrupt-1.json" in out and "not valid JSON" in out
    assert (folder / "checks.corrupt-1.json").read_text() == '{"checks": {"m00.q1": ', "kept as it was"
    assert ProgressStore(active).load().checks["m00.q1"].outcome == "wrong"


def test_a_workspace_that_cannot_be_written_does_not_break_the_check(active, capsys):
    (active.root / "progress").write_text("a file where the folder should be")
    q1.check(WRONG_COUNT)
    out = capsys.readouterr().out
    assert "✗ Not yet (m00.q1)" in out and "Your progress could not be saved" in out
    assert "Traceback" not in out


def test_a_room_that_cannot_be_reached_loses_nothing(workspace, capsys):
    from mlops_clinic.files import write_private
    from mlops_clinic.servers import free_port

    write_private(workspace.root / "progress" / "room.json",
                  json.dumps({"server": f"http://127.0.0.1:{free_port()}", "account": "p07", "password": None}))
    problem = note_check("m00.q1", "wrong", workspace=workspace)
    assert problem.startswith("(Saved here, not yet shared with the room:") and "cannot be reached" in problem
    assert ProgressStore(workspace).load().checks["m00.q1"].outcome == "wrong"


# --- the table ---------------------------------------------------------------------------------------


def test_the_table_shows_lesson_run_checks_correct_and_checkpoint_answered(active, premium):
    some_done(premium)
    checkpoint("business", answers={"business": {"use_cases": 2, "value": 1, "continuity": 2}}, workspace=active)
    checkpoint("data_versioning", answers={"data_versioning": {"exact_data": 1}}, workspace=active)
    rows = {r.module: r for r in module_rows(workspace_snapshot(active)[0])}
    assert [rows["00"].lesson_run, rows["01"].lesson_run, rows["02"].lesson_run] == [True, True, False]
    assert (rows["00"].correct, rows["00"].total, rows["00"].not_yet) == (1, M00_CHECKS, ("m00.q1",))
    assert (rows["01"].correct, rows["01"].total) == (0, len(m01.QUESTIONS) - 1), "the module's checks, not its open question"
    assert [rows[m].checkpoint_text() for m in ("00", "01", "02", "07")] == [
        "yes", "partly (1 of 4)", "no", "no checkpoint"]


def test_open_questions_are_counted_apart_so_every_check_done_reads_all_done():
    """A module's open question is optional: "3 of 3" checks means the exercises are done, and the
    open question says done, not yet right or not tried in a column of its own."""
    every_check = {q: CheckRecord("correct", 1, "t") for m in ("00", "01") for q in question_ids(m)[0]}
    progress = Progress({**every_check, "m00.q4": CheckRecord("correct", 1, "t"),
                         "m01.q6": CheckRecord("wrong", 2, "t")})
    rows = {r.module: r for r in module_rows(Snapshot(progress))}
    assert question_ids("00") == (("m00.q1", "m00.q2", "m00.q3"), ("m00.q4",))
    assert rows["00"].cells()[2:4] == (f"{M00_CHECKS} of {M00_CHECKS}", "done")
    assert rows["01"].cells()[2:4] == (f"{len(m01.QUESTIONS) - 1} of {len(m01.QUESTIONS) - 1}", "not yet right")
    assert rows["02"].cells()[3] == "not tried" and rows["01"].not_yet == ("m01.q6",)
    assert totals(list(rows.values())).open_text() == f"1 of {ALL_OPEN} done"


def test_clinic_progress_prints_the_table(active, premium, capsys):
    some_done(premium)
    checkpoint("business", answers={"business": {"use_cases": 2, "value": 1, "continuity": 2}}, workspace=active)
    capsys.readouterr()
    assert clinic(["progress", "--workspace", str(active.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Module", "Lesson", "run", "Checks", "correct", "Open", "question", "(optional)",
                                "Checkpoint", "answered"]
    assert lines[1].split()[-7:] == ["yes", "1", "of", str(M00_CHECKS), "not", "tried", "yes"]
    assert lines[-2].split() == ["All", "modules", "1", "of", "8", "1", "of", ALL_CHECKS, "0", "of", ALL_OPEN, "done",
                                 "1", "of", "7"]
    assert lines[-1].startswith("Not yet right: m00.q1.")


def test_export_holds_outcomes_only(active, premium, tmp_path, capsys):
    some_done(premium)
    checkpoint("business", answers={"business": {"use_cases": 3, "value": 3, "continuity": 3}}, workspace=active)
    out = tmp_path / "hand-in.json"
    assert clinic(["progress", "--workspace", str(active.root), "--export", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert set(exported) == {"format", "version", "checks", "lessons", "checkpoints"}
    assert exported["checkpoints"] == {"business": 3}, "how many answered, not the levels chosen"
    assert str(active.root) not in out.read_text() and "automated" not in out.read_text()


def test_the_progress_cell_in_a_real_kernel_shows_the_table_as_html_and_text(workspace, tmp_path):
    """The cell lessons 00 and 07 get, run by papermill in a real kernel after a check."""
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    notebook.cells = [
        nbformat.v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('from mlops_clinic import setup\n\nws = setup("07", workspace=workspace)'),
        nbformat.v4.new_code_cell(f"from mlops_clinic.checks.m00 import q1\n\nq1.check({WRONG_COUNT})"),
        nbformat.v4.new_code_cell('from mlops_clinic import progress\n\nprogress.lesson_end("07")\nprogress.show()'),
    ]
    source = tmp_path / "progress-cell.ipynb"
    nbformat.write(notebook, source)
    result = execute_notebook(source, tmp_path / "out.ipynb", parameters={"workspace": str(workspace.root)},
                              env=workspace.env(), cwd=tmp_path, options=ExecutionOptions(cell_timeout_s=300))
    assert result.ok, f"{result.status}: {result.error} (log {result.log_path})"
    check, table = nbformat.read(result.output_path, as_version=4).cells[-2:]
    assert 'role="status"' in check.outputs[0]["data"]["text/html"]
    [shown] = table.outputs
    page, text = shown["data"]["text/html"], shown["data"]["text/plain"]
    assert "<caption" in page and "<th scope='col'>Checks correct</th>" in page
    assert "<th scope='col'>Open question (optional)</th>" in page and f"0 of {ALL_OPEN} open questions" in page
    assert "<th scope='row' style='text-align:left'>07 Your MLOps maturity profile</th><td>yes</td>" in page
    assert f"0 of {M00_CHECKS}" in text and "not tried" in text and "Not yet right: m00.q1." in text
    assert str(WRONG_COUNT) not in every_file_text(workspace.root)


# --- instructors: a cohort -------------------------------------------------------------------------


def test_the_cohort_over_three_workspaces_reports_the_unreadable_one(tmp_path, premium, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    alice = Workspace(tmp_path / "alice").create()
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(alice.root))
    some_done(premium)
    checkpoint("business", answers={"business": {"use_cases": 1, "value": 1, "continuity": 1}}, workspace=alice)

    bilal = Workspace(tmp_path / "=bilal").create()  # a name a spreadsheet would run as a formula
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(bilal.root))
    q2.check(premium)
    q3.check(0)

    broken = Workspace(tmp_path / "chen").create()
    (broken.root / "progress").mkdir()
    (broken.root / "progress" / "checks.json").write_bytes(b"\xff\xfe not text")
    capsys.readouterr()

    assert clinic(["progress", "--cohort", "alice", "=bilal", "chen", "--out", "room.csv"]) == 0
    out, err = capsys.readouterr()
    table = out.splitlines()
    assert table[0].split()[:3] == ["Participant", "Lessons", "run"]
    assert table[1].split()[:14] == ["alice", "1", "of", "8", "1", "of", ALL_CHECKS, "0", "of", ALL_OPEN, "done",
                                     "1", "of", "7"]
    assert table[2].split()[:7] == ["=bilal", "0", "of", "8", "1", "of", ALL_CHECKS]
    assert "m00.q1: 1 (alice)" in out and "m00.q3: 1 (=bilal)" in out
    assert "skipped: chen:" in err and "not UTF-8" in err and "chen" not in out
    rows = list(csv.reader((tmp_path / "room.csv").open()))
    assert [row[0] for row in rows[1:]] == ["alice", "'=bilal"], "formula-like cells are written as text"
    assert rows[0][1:5] == ["00 lesson run", "00 checks correct", "00 open question", "00 checkpoint"]
    assert rows[1][1:5] == ["yes", f"1 of {M00_CHECKS}", "not tried", "yes"]
    assert rows[1][-1] == "m00.q1 (2 tries)"


def test_exported_files_and_folders_of_them_are_participants_too(tmp_path, premium, monkeypatch, capsys):
    ws = Workspace(tmp_path / "ws").create()
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(ws.root))
    some_done(premium)
    handed_in = tmp_path / "handed-in"
    handed_in.mkdir()
    assert clinic(["progress", "--workspace", str(ws.root), "--export", str(handed_in / "p01.json")]) == 0
    (handed_in / "p02.json").write_text(json.dumps({"checks": {"m00.q1": {"outcome": "maybe"}}}))
    capsys.readouterr()
    assert clinic(["progress", "--cohort", str(handed_in)]) == 0
    out, err = capsys.readouterr()
    assert "handed-in/p01.json" in out and f"1 of {ALL_CHECKS}" in out
    assert "p02.json" in err and "'maybe'" in err  # the bad file is named, with the reason


def test_a_cohort_with_nothing_readable_fails_clearly(tmp_path, capsys):
    assert clinic(["progress", "--cohort", str(tmp_path / "nobody")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "no readable progress among the inputs" in err
    assert "Traceback" not in err
