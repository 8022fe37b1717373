"""`clinic maturity cohort | export | show` on real workspaces, with varied, generated answers."""

import csv
import dataclasses
import json
import random
from collections import Counter

import pytest
from maturity_bad_files import TWO_PROBLEM_LINES, TWO_PROBLEMS, UNREADABLE, kept_as_it_was, write

from mlops_clinic.cli import main as clinic
from mlops_clinic.maturity import ENV_VAR
from mlops_clinic.maturity.answers import Answers
from mlops_clinic.maturity.bank import load_bank
from mlops_clinic.maturity.cohort import load_cohort, write_cohort_report
from mlops_clinic.maturity.scoring import score
from mlops_clinic.maturity.storage import AnswerStore
from mlops_clinic.workspace import Workspace

NAMES = ["alice", "bilal", "chen", "dorota", "emeka", "fatima", "gareth", "hana", "ioana", "jamal", "kirsty", "luca"]


@pytest.fixture(autouse=True)
def no_answers_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def generated_answers(seed: int) -> Answers:
    """A participant's answers: some checkpoints skipped, some questions left unanswered, levels
    drawn around a personal typical level."""
    rng = random.Random(seed)
    typical = rng.randint(0, 3)
    checkpoints = {}
    for checkpoint in load_bank().checkpoints:
        if rng.random() < 0.15:
            continue  # skipped this module
        checkpoints[checkpoint.id] = {
            q.id: None if rng.random() < 0.1 else max(0, min(3, typical + rng.choice([-2, -1, 0, 0, 1])))
            for q in checkpoint.questions}
    return Answers(checkpoints)


@pytest.fixture
def cohort_inputs(tmp_path):
    """12 named participants' workspaces, plus one workspace with no answers at all."""
    inputs = []
    for seed, name in enumerate(NAMES):
        workspace = Workspace(tmp_path / name / "workspace").create()
        AnswerStore(workspace).update(generated_answers(seed))
        inputs.append(workspace.root)
    inputs.append(Workspace(tmp_path / "zoe" / "workspace").create().root)  # never answered
    return inputs


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_the_cohort_report_counts_every_participant_and_names_nobody(cohort_inputs, tmp_path, capsys):
    out = tmp_path / "report"
    assert clinic(["maturity", "cohort", *map(str, cohort_inputs), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "zoe" in printed.err and "no maturity answers found" in printed.err  # told on the console only
    distribution = read_csv(out / "cohort-distribution.csv")
    participants = read_csv(out / "cohort-participants.csv")
    assert [row["participant"] for row in participants] == [f"participant {n}" for n in range(1, 13)]
    level_columns = ["0 · ad hoc", "1 · repeatable", "2 · reproducible", "3 · automated", "not answered"]
    for row in distribution:
        assert sum(int(row[c]) for c in level_columns) == 12, row["dimension"]
    assert sum(int(row["weakest for"]) for row in distribution) >= sum(1 for p in participants if p["weakest dimension"])
    for person in participants:  # each participant's own weakest dimension is among the counted ones
        if person["weakest dimension"]:
            assert int(next(r for r in distribution if r["dimension"] == person["weakest dimension"])["weakest for"]) >= 1
    page = (out / "cohort.html").read_text()
    assert "data:image/png;base64," in page and "12 participants" in page
    for name in NAMES + [str(tmp_path), "workspace"]:
        for text in (page, *(p.read_text() for p in out.glob("*.csv"))):
            assert name not in text, f"{name!r} leaked into the cohort report"


def test_the_most_common_weakest_dimension_and_the_suggested_focus(cohort_inputs):
    cohort = load_cohort(cohort_inputs)
    at_lowest = Counter()
    for seed in range(len(NAMES)):
        profile = score(generated_answers(seed))
        at_lowest.update(d.dimension.name for d in profile.dimensions
                         if d.level is not None and d.level == profile.overall)
    ranked = cohort.weakest_counts()
    assert dict((d.name, n) for d, n in ranked) == dict(at_lowest)
    assert ranked[0][1] == max(at_lowest.values())
    focus = cohort.focus()
    assert focus.dimension == ranked[0][0] and focus.weakest_for == ranked[0][1]
    assert 1 <= focus.step_count <= focus.weakest_for and focus.next_step.module in load_bank().modules
    suggested = [d for d, n in ranked if n == ranked[0][1]]
    averages = {d.name: _average(cohort, d) for d in suggested}
    assert averages[focus.dimension.name] == min(averages.values())  # ties: the lower cohort average


def _average(cohort, dimension):
    levels = [p.profile.dimensions[[d.id for d in load_bank().dimensions].index(dimension.id)].level
              for p in cohort.participants]
    levels = [level for level in levels if level is not None]
    return sum(levels) / len(levels)


def test_numbering_is_stable_whatever_the_order_of_the_inputs(cohort_inputs, tmp_path):
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    clinic(["maturity", "cohort", *map(str, cohort_inputs), "--out", str(forward)])
    clinic(["maturity", "cohort", *map(str, reversed(cohort_inputs)), str(cohort_inputs[0]), "--out", str(backward)])
    for name in ("cohort-participants.csv", "cohort-distribution.csv", "cohort.html"):
        assert (forward / name).read_bytes() == (backward / name).read_bytes(), name


def test_exported_files_and_folders_of_them_are_participants_too(cohort_inputs, tmp_path, capsys):
    exports = tmp_path / "collected"
    exports.mkdir()
    for workspace in cohort_inputs[:3]:
        name = workspace.parent.name
        assert clinic(["maturity", "export", "--workspace", str(workspace), "--out", str(exports / f"{name}.json")]) == 0
    (exports / "broken.yaml").write_text("serving: {package: 11}\n")
    cohort = load_cohort([exports, cohort_inputs[5] / "maturity", cohort_inputs[6] / "maturity" / "answers.json"])
    assert len(cohort.participants) == 5
    assert len(cohort.skipped) == 1 and "broken.yaml" in cohort.skipped[0]


def test_export_writes_the_answers_file_and_show_prints_the_profile(cohort_inputs, tmp_path, capsys):
    workspace = cohort_inputs[0]
    assert clinic(["maturity", "export", "--workspace", str(workspace), "--out", "-"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported == json.loads((workspace / "maturity" / "answers.json").read_text())
    assert "alice" not in json.dumps(exported)
    assert clinic(["maturity", "show", "--workspace", str(workspace)]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("You: ") and "Roadmap, the next three actions:" in shown


def test_export_and_show_on_a_workspace_without_answers(cohort_inputs, capsys):
    empty = cohort_inputs[-1]
    assert clinic(["maturity", "export", "--workspace", str(empty)]) == 1
    assert "no answers yet" in capsys.readouterr().err
    assert clinic(["maturity", "show", "--workspace", str(empty)]) == 0
    assert "No maturity answers yet" in capsys.readouterr().out


def test_cohort_with_nothing_readable_fails_clearly(tmp_path, capsys):
    assert clinic(["maturity", "cohort", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    assert "no readable answers" in capsys.readouterr().err


def test_unreadable_participants_are_reported_and_the_report_is_made_from_the_others(cohort_inputs, tmp_path,
                                                                                      capsys):
    unreadable = []
    for n, (content, _) in enumerate(UNREADABLE.values()):
        workspace = Workspace(tmp_path / f"unreadable-{n}" / "workspace").create()
        write(workspace.maturity_dir / "answers.json", content)
        unreadable.append(workspace.root)
    exports = tmp_path / "exports"
    write(exports / "deep.yaml", b"serving: " + b"[" * 50_000 + b"]" * 50_000)  # YAML recurses per level too
    write(exports / "wrong.json", TWO_PROBLEMS.encode())
    out = tmp_path / "report"
    inputs = [*cohort_inputs[:6], *unreadable, exports, *cohort_inputs[6:]]
    assert clinic(["maturity", "cohort", *map(str, inputs), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    for (content, reason), root in zip(UNREADABLE.values(), unreadable):
        answers = root / "maturity" / "answers.json"
        assert f"The answers file {answers} {reason}" in err
        assert kept_as_it_was(answers, content)  # the cohort only reads: the participant's file stays
    assert "deep.yaml is nested too deeply" in err
    assert err.count("Unreadable, so left out of the report: ask the participant for the file again.") == 5
    for line in TWO_PROBLEM_LINES:  # the whole reason, not its first line
        assert line in err
    assert "Left out of the report: ask the participant for the file again." in err
    assert [row["participant"] for row in read_csv(out / "cohort-participants.csv")] == [
        f"participant {n}" for n in range(1, 13)]
    assert "7 input(s) could not be read" in (out / "cohort.html").read_text()  # and zoe, with no answers


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_show_sets_an_unreadable_file_aside_and_goes_on(tmp_path, capsys, name):
    content, reason = UNREADABLE[name]
    workspace = Workspace(tmp_path / "workspace").create()
    write(workspace.maturity_dir / "answers.json", content)
    assert clinic(["maturity", "show", "--workspace", str(workspace.root)]) == 0
    printed = capsys.readouterr()
    kept = workspace.maturity_dir / "answers.corrupt-1.json"
    assert kept_as_it_was(kept, content)
    assert kept.name in printed.err and reason in printed.err
    assert "No maturity answers yet" in printed.out
    AnswerStore(workspace).update(Answers({"serving": {"package": 2}}))
    assert clinic(["maturity", "show", "--workspace", str(workspace.root)]) == 0
    assert capsys.readouterr().out.startswith("You: ")


def test_show_prints_the_whole_reason(tmp_path, capsys):
    workspace = Workspace(tmp_path / "workspace").create()
    write(workspace.maturity_dir / "answers.json", TWO_PROBLEMS.encode())
    assert clinic(["maturity", "show", "--workspace", str(workspace.root)]) == 0
    err = capsys.readouterr().err
    for line in TWO_PROBLEM_LINES:
        assert line in err


def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text(cohort_inputs, tmp_path):
    # Dimension names are CSV headers and cells; a bank edited by an instructor could start one
    # with a formula character.
    bank = load_bank()
    formulas = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"]
    renamed = [dataclasses.replace(d, name=formulas[i] if i < len(formulas) else d.name)
               for i, d in enumerate(bank.dimensions)]
    cohort = load_cohort(cohort_inputs, dataclasses.replace(bank, dimensions=tuple(renamed)))
    files = write_cohort_report(cohort, tmp_path / "report")
    for path in (files.distribution_csv, files.participants_csv):
        with open(path, newline="", encoding="utf-8") as file:
            cells = [cell for row in csv.reader(file) for cell in row]
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], path.name
        for formula in formulas:
            assert "'" + formula in cells, (path.name, formula)
    counts = read_csv(files.distribution_csv)
    assert counts[0]["dimension"] == "'" + formulas[0] and counts[0]["not answered"].isdigit()  # numbers stay numbers
