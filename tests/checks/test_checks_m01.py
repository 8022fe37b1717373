"""Module 01's questions: each proven not attempted, wrong (plausible mistakes) and correct, on a
real sandbox project built with git and DVC as a participant would."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m01 import DATA, new_sandbox, q1, q2, q3, q4, q5
from mlops_clinic.data import dataset_path, read_csv, validate
from mlops_clinic.workspace import WORKSPACE_ENV_VAR

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox(workspace, monkeypatch):
    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(workspace.root))
    path = new_sandbox(workspace)
    monkeypatch.chdir(path)
    return path


def git(*args):
    subprocess.run(["git", *args], check=True, capture_output=True)


def dvc(*args):
    # DVC's command line, in this process: the same as `!dvc ...`, without a second start-up.
    from dvc.cli import main

    assert main([*args, "--quiet"]) == 0, f"dvc {' '.join(args)} failed"


def track_and_commit(message="Data v1.0.0"):
    dvc("add", DATA)
    git("add", f"{DATA}.dvc", "data/.gitignore")
    git("commit", "--quiet", "-m", message)


def release_v1():
    track_and_commit()
    dvc("remote", "add", "-d", "storage", "../sandbox-01-remote")
    dvc("push")
    git("tag", "data-v1.0.0")


def test_q1_track_and_push(sandbox):
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate("data/houses.csv"), Status.WRONG, "data itself")
    _assert(q1.evaluate("data/houses.csv.dvc"), Status.WRONG, "dvc add")
    dvc("add", DATA)
    _assert(q1.evaluate("data/houses.csv.dvc"), Status.WRONG, "not committed")
    git("add", f"{DATA}.dvc", "data/.gitignore")
    git("commit", "--quiet", "-m", "Data v1.0.0")
    _assert(q1.evaluate("data/houses.csv.dvc"), Status.WRONG, "no default DVC remote")
    dvc("remote", "add", "-d", "storage", "../sandbox-01-remote")
    _assert(q1.evaluate("data/houses.csv.dvc"), Status.WRONG, "dvc push")
    dvc("push")
    _assert(q1.evaluate("./data/houses.csv.dvc"), Status.CORRECT)


def test_q1_data_committed_to_git_is_named(sandbox):
    track_and_commit()
    git("add", "--force", DATA)  # past the .gitignore that DVC wrote
    git("commit", "--quiet", "-m", "the data in git too, by mistake")
    _assert(q1.evaluate("data/houses.csv.dvc"), Status.WRONG, "git rm --cached")


def test_q2_tag_the_release(sandbox):
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate("v1.0.0"), Status.WRONG, "data-vMAJOR.MINOR.PATCH")
    git("tag", "data-v0.1.0")  # on the first commit, before the data was tracked
    _assert(q2.evaluate("data-v0.1.0"), Status.WRONG, "without data/houses.csv.dvc")
    track_and_commit()
    _assert(q2.evaluate("data-v1.0.0"), Status.WRONG, "no tag data-v1.0.0")
    git("tag", "data-v1.0.1")
    _assert(q2.evaluate("data-v1.0.1"), Status.WRONG, "first release")
    git("tag", "data-v1.0.0")
    _assert(q2.evaluate("data-v1.0.0"), Status.CORRECT)


def test_q3_gate(sandbox):
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(lambda path: True), Status.WRONG, "accepted upper_case.csv")
    only_missing = lambda path: not pd.read_csv(path).isna().any().any()  # noqa: E731
    _assert(q3.evaluate(only_missing), Status.WRONG, "mainroad = 'YES'")
    _assert(q3.evaluate(lambda path: False), Status.WRONG, "clean batch")
    _assert(q3.evaluate(lambda path: validate(read_csv(path))), Status.WRONG, "returns a list")
    from mlops_clinic.data import load

    _assert(q3.evaluate(lambda path: len(load(path)) > 0), Status.WRONG, "instead of returning False")
    _assert(q3.evaluate(42), Status.WRONG, "function")
    _assert(q3.evaluate(lambda path: len(validate(read_csv(path))) == 0), Status.CORRECT)


def _append_new_rows(keep_old=True):
    new = pd.read_csv(dataset_path("houses_new"))
    rows = pd.concat([pd.read_csv(DATA), new]) if keep_old else new
    rows.to_csv(DATA, index=False)


def test_q4_new_release(sandbox):
    release_v1()
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate("data-v1.0.0"), Status.WRONG, "new tag")
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "no tag data-v2.0.0")
    git("tag", "data-v1.9.0")  # tagged before the new data was added
    _assert(q4.evaluate("data-v1.9.0"), Status.WRONG, "same data as data-v1.0.0")
    _append_new_rows(keep_old=False)  # the new rows replace the old ones
    track_and_commit("only the new rows")
    git("tag", "data-v2.0.0")
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "only the 1,000 new rows")
    git("tag", "-d", "data-v2.0.0")
    git("checkout", "--quiet", "HEAD~1", "--", f"{DATA}.dvc")
    dvc("checkout")
    _append_new_rows()
    track_and_commit("Data v2.0.0")
    git("tag", "data-v2.0.0")
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "dvc push")
    dvc("push")
    _assert(q4.evaluate("data-v2.0.0"), Status.CORRECT, "3,000 rows")


def test_q4_moved_release_tag_is_named(sandbox):
    release_v1()
    _append_new_rows()
    track_and_commit("Data v2.0.0")
    git("tag", "--force", "data-v1.0.0")
    git("tag", "data-v2.0.0")
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "never move a release tag")


def test_q5_restore_v1(sandbox):
    _assert(q5.evaluate(____), Status.NOT_ATTEMPTED)
    release_v1()
    _append_new_rows()
    track_and_commit("Data v2.0.0")
    git("tag", "data-v2.0.0")
    _assert(q5.evaluate(3000), Status.WRONG, "latest release")
    _assert(q5.evaluate(2001), Status.WRONG, "header")
    _assert(q5.evaluate(2000), Status.WRONG, "not v1")
    _assert(q5.evaluate("2000"), Status.WRONG, "whole number")
    git("checkout", "--quiet", "data-v1.0.0")
    dvc("checkout")
    _assert(q5.evaluate(len(pd.read_csv(DATA))), Status.CORRECT)


# --- answers in other forms (issue 15) ---------------------------------------------------------------


def test_q1_the_pointer_as_an_absolute_path_or_a_path_object(sandbox):
    release_v1()
    for pointer in (sandbox / f"{DATA}.dvc", str(sandbox / f"{DATA}.dvc"), Path(f"{DATA}.dvc")):
        _assert(q1.evaluate(pointer), Status.CORRECT)
    _assert(q1.evaluate(sandbox / DATA), Status.WRONG, "data itself")
    _assert(q1.evaluate(f"../{DATA}.dvc"), Status.WRONG, "is not the file")


def test_q3_a_gate_that_answers_with_numpy_booleans(sandbox):
    # Comparisons of pandas and numpy values give numpy.bool_, which is True or False all the same.
    def gate(path):
        return pd.Series([len(validate(read_csv(path)))]).eq(0).all()

    assert isinstance(gate(dataset_path("houses_new")), np.bool_)
    _assert(q3.evaluate(gate), Status.CORRECT)


def test_q3_a_gate_that_stops_on_an_error_is_told_which(sandbox):
    def gate(path):  # a missing price (NaN) cannot become an int: ValueError
        houses = pd.read_csv(path)
        return houses["mainroad"].isin(["yes", "no"]).all() and (houses["price"].astype(int) > 0).all()

    def asserting_gate(path):
        assert len(validate(read_csv(path))) == 0

    outcome = q3.evaluate(gate)
    _assert(outcome, Status.WRONG, "your gate, on missing_price.csv, raised", "in a cell of its own")
    assert "Traceback" not in outcome.message
    _assert(q3.evaluate(asserting_gate), Status.WRONG, "True or False", "`return` missing")


# --- each question: valid alternatives accepted, plausible mistakes named (issue 15) ----------------


def _release_v2(write):
    release_v1()
    write()
    track_and_commit("Data v2.0.0")
    git("tag", "data-v2.0.0")
    dvc("push")


def test_q4_a_release_written_with_the_index_is_refused(sandbox):
    new = pd.read_csv(dataset_path("houses_new"))
    _release_v2(lambda: pd.concat([pd.read_csv(DATA), new]).to_csv(DATA))  # index=True, the default
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "without a name", "row index", "without the index")


def test_q4_a_release_with_a_second_header_line_is_refused(sandbox):
    def append_whole_file():  # the new file appended as text, its header line included
        with open(DATA, "a") as data:
            data.write(dataset_path("houses_new").read_text())

    _release_v2(append_whole_file)
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "does not validate", "line 2002")


def test_q4_a_release_with_other_houses_is_refused(sandbox):
    def rounded_prices():
        rows = pd.concat([pd.read_csv(DATA), pd.read_csv(dataset_path("houses_new"))])
        rows["price"] = (rows["price"] // 1000 + 1) * 1000
        rows.to_csv(DATA, index=False)

    _release_v2(rounded_prices)
    _assert(q4.evaluate("data-v2.0.0"), Status.WRONG, "not the 2,000 reference houses plus")


def test_q4_releases_made_in_other_ways(sandbox):
    def new_rows_first():
        pd.concat([pd.read_csv(dataset_path("houses_new")), pd.read_csv(DATA)]).to_csv(DATA, index=False)

    _release_v2(new_rows_first)
    _assert(q4.evaluate("data-v2.0.0"), Status.CORRECT, "3,000 rows")
    git("checkout", "--quiet", "data-v1.0.0", "--", f"{DATA}.dvc")
    dvc("checkout")
    with open(DATA, "a") as data:  # as `tail -n +2 new.csv >> data/houses.csv` does
        data.write("".join(dataset_path("houses_new").read_text().splitlines(keepends=True)[1:]))
    track_and_commit("Data v2.1.0")
    git("tag", "-a", "-m", "the reference plus the new release", "data-v2.1.0")
    dvc("push")
    _assert(q4.evaluate(" data-v2.1.0 "), Status.CORRECT, "3,000 rows")


def test_q5_the_pointer_restored_without_the_data_is_named(sandbox):
    release_v1()
    _append_new_rows()
    track_and_commit("Data v2.0.0")
    git("checkout", "--quiet", "data-v1.0.0")  # git only: the pointer is v1, the file is still v2
    _assert(q5.evaluate(2000), Status.WRONG, "pointer back", "dvc checkout")


def test_q5_restored_in_other_ways(sandbox):
    release_v1()
    _append_new_rows()
    track_and_commit("Data v2.0.0")
    git("checkout", "--quiet", "data-v1.0.0", "--", f"{DATA}.dvc")  # only the pointer, staying on main
    dvc("checkout")
    _assert(q5.evaluate(np.int64(len(pd.read_csv(DATA)))), Status.CORRECT)
    _assert(q5.evaluate(2000.0), Status.CORRECT)


def test_q1_a_remote_with_another_name_and_an_absolute_path(sandbox):
    track_and_commit()
    dvc("remote", "add", "-d", "backup", str(sandbox.parent / "elsewhere"))
    dvc("push")
    _assert(q1.evaluate(f"{DATA}.dvc"), Status.CORRECT)


def test_q2_an_annotated_tag_and_plausible_misnamings(sandbox):
    track_and_commit()
    git("tag", "-a", "-m", "first release", "data-v1.0.0")
    _assert(q2.evaluate("data-v1.0.0\n"), Status.CORRECT)
    _assert(q2.evaluate("data-v1.0"), Status.WRONG, "data-vMAJOR.MINOR.PATCH")
    _assert(q2.evaluate("data_v1.0.0"), Status.WRONG, "data-vMAJOR.MINOR.PATCH")



def test_q2_a_tag_on_a_later_commit_with_the_same_data(sandbox):
    track_and_commit()
    Path("NOTES.md").write_text("Where the houses come from.\n")
    git("add", "NOTES.md")
    git("commit", "--quiet", "-m", "Notes")  # the release is the data, whichever commit holds it
    git("tag", "data-v1.0.0")
    _assert(q2.evaluate(np.str_("data-v1.0.0")), Status.CORRECT, "data-v1.0.0")


def test_q3_gates_written_other_ways(sandbox):
    from mlops_clinic.data import DataValidationError, load

    def strict_loader(path):  # the kit's loader refuses what does not validate: catch and answer
        try:
            load(Path(path))
        except DataValidationError:
            return False
        return True

    def counted(path):  # the problems as a DataFrame, counted
        return pd.DataFrame(validate(read_csv(path))).empty

    _assert(q3.evaluate(strict_loader), Status.CORRECT)
    _assert(q3.evaluate(counted), Status.CORRECT)


# --- the open question: what goes in git, what goes in DVC (issue 15) --------------------------------

REASONS = ("listings.csv is 3.6 MB and grows with every survey, so DVC keeps it out of every clone; "
           "the settings and the data card are a few lines that a reviewer should read as a diff.")
LISTINGS, REGIONS = "survey/listings.csv", "survey/regions.csv"
TEXT = ["survey/settings.yaml", "survey/README.md"]


@pytest.fixture
def survey(workspace, monkeypatch):
    from mlops_clinic.checks.m01 import new_survey_project

    monkeypatch.setenv(WORKSPACE_ENV_VAR, str(workspace.root))
    path = new_survey_project(workspace)
    monkeypatch.chdir(path)
    return path


def _rules(outcome):
    """{rule's words: its note} for the rules missed, to name exactly which one a mistake breaks."""
    return {r.says.split(":")[0].split(" (")[0]: r.note for r in outcome.rules if not r.met}


LARGE_IN_DVC = "every file over 1 MB is tracked by DVC"
HISTORY = "no commit holds a file over 1 MB"
TEXT_IN_GIT = "the settings and the data card are committed to git, where a review shows each change"
CLEAN = "git status and dvc status are clean"
CLONE = "a fresh git clone followed by dvc pull gives back every file of survey/, byte for byte"


def deliver(to_dvc=(LISTINGS,), push=True):
    """The work of a participant: DVC for `to_dvc`, git for the rest, one commit, the data pushed."""
    from mlops_clinic.checks.m01 import survey_files

    dvc("add", *to_dvc)
    git("add", *[name for name in survey_files() if name not in to_dvc],
        *[f"{name}.dvc" for name in to_dvc], "survey/.gitignore")
    git("commit", "--quiet", "-m", "The partner survey: listings in DVC, the rest in git")
    if push:
        dvc("push")


def test_q6_not_attempted_and_the_solution(survey):
    from mlops_clinic.checks.m01 import q6

    _assert(q6.evaluate(____, ____), Status.NOT_ATTEMPTED)
    _assert(q6.evaluate(____), Status.NOT_ATTEMPTED)  # the reasons forgotten altogether
    _assert(q6.evaluate(survey, ____), Status.NOT_ATTEMPTED)
    before = q6.evaluate(survey, REASONS)  # nothing done yet: every work rule has something to say
    _assert(before, Status.WRONG, "survey/listings.csv (3.6 MB) is not tracked by DVC")
    assert set(_rules(before)) == {LARGE_IN_DVC, TEXT_IN_GIT, CLEAN, CLONE}
    deliver()
    outcome = q6.evaluate(survey, REASONS)
    _assert(outcome, Status.CORRECT, "6 of 6 rules met (8 of 8 points)")
    assert outcome.justification == REASONS
    _assert(q6.evaluate(".", REASONS), Status.CORRECT)  # the project as a path relative to it
    _assert(q6.evaluate(str(survey), REASONS), Status.CORRECT)


def test_q6_the_lookup_table_in_dvc_too_is_also_good(survey):
    from mlops_clinic.checks.m01 import q6

    deliver(to_dvc=(LISTINGS, REGIONS))
    _assert(q6.evaluate(survey, REASONS), Status.CORRECT)


def test_q6_text_first_then_the_data_with_autostage_and_a_named_remote_is_also_good(survey):
    from mlops_clinic.checks.m01 import q6

    git("add", *TEXT, REGIONS)
    git("commit", "--quiet", "-m", "The survey's settings, data card and regions")
    dvc("config", "core.autostage", "true")  # dvc add stages its pointer and .gitignore itself
    dvc("add", LISTINGS)
    dvc("push", "-r", "storage")
    git("add", ".dvc/config")
    git("commit", "--quiet", "-m", "The listings, tracked by DVC")
    _assert(q6.evaluate(survey, REASONS), Status.CORRECT)


def test_q6_everything_in_git_misses_dvc_and_the_small_history(survey):
    from mlops_clinic.checks.m01 import q6

    git("add", "survey")
    git("commit", "--quiet", "-m", "The survey, all in git")
    outcome = q6.evaluate(survey, REASONS)
    _assert(outcome, Status.WRONG, "4 of 6 rules met (5 of 8 points)")
    missed = _rules(outcome)
    assert list(missed) == [LARGE_IN_DVC, HISTORY], missed
    assert missed[LARGE_IN_DVC].startswith("survey/listings.csv (3.6 MB) is not tracked by DVC: dvc add")
    assert missed[HISTORY].startswith("git's history holds survey/listings.csv (3.6 MB)")


def test_q6_the_whole_folder_in_dvc_hides_the_reviewed_text(survey):
    from mlops_clinic.checks.m01 import q6

    dvc("add", "survey")
    git("add", "survey.dvc", ".gitignore")
    git("commit", "--quiet", "-m", "The survey as one DVC folder")
    dvc("push")
    missed = _rules(q6.evaluate(survey, REASONS))
    assert list(missed) == [TEXT_IN_GIT], missed
    assert missed[TEXT_IN_GIT].startswith("survey/settings.yaml is tracked by DVC, so a review")


def test_q6_no_push_leaves_the_clone_without_the_listings(survey):
    from mlops_clinic.checks.m01 import q6

    deliver(push=False)
    missed = _rules(q6.evaluate(survey, REASONS))
    assert list(missed) == [CLONE], missed
    assert missed[CLONE] == ("a fresh clone has no survey/listings.csv, even after dvc pull: the "
                             "remote lacks its data, dvc push.")


def test_q6_data_committed_then_moved_to_dvc_stays_in_the_history(survey):
    from mlops_clinic.checks.m01 import q6

    git("add", "survey")
    git("commit", "--quiet", "-m", "The survey, all in git")
    git("rm", "--quiet", "--cached", LISTINGS)
    deliver()
    missed = _rules(q6.evaluate(survey, REASONS))
    assert list(missed) == [HISTORY], missed
    assert "every clone downloads it, even after git rm" in missed[HISTORY]


def test_q6_data_changed_after_its_push_or_a_stray_file_is_not_clean(survey):
    from mlops_clinic.checks.m01 import q6

    deliver()
    with open(LISTINGS, "a") as listings:  # a row added by hand after the push
        listings.write("H999999,4000,3,1,2,yes,no,no,no,no,1,no,furnished,450000\n")
    missed = _rules(q6.evaluate(survey, REASONS))
    assert list(missed) == [CLEAN], missed
    assert missed[CLEAN].startswith("dvc status lists changes (survey/listings.csv.dvc)")
    dvc("checkout", "--force")
    Path("notes.txt").write_text("to do: ask the partner about withdrawn houses\n")
    missed = _rules(q6.evaluate(survey, REASONS))
    assert missed == {CLEAN: "git status is not clean (notes.txt): commit what belongs to the project, "
                             "delete what does not."}, missed


def test_q6_a_file_changed_before_tracking_is_named(survey):
    from mlops_clinic.checks.m01 import q6

    Path(REGIONS).write_text("region,name,agency\n")  # the lookup table emptied before tracking
    deliver()
    missed = _rules(q6.evaluate(survey, REASONS))
    assert list(missed) == [CLONE], missed
    assert missed[CLONE].startswith("survey/regions.csv in a fresh clone is not the file the partner sent")


def test_q6_short_reasons_and_an_answer_of_the_wrong_kind(survey, workspace):
    from mlops_clinic.checks.m01 import new_sandbox, q6

    deliver()
    short = q6.evaluate(survey, "DVC for big files.")
    _assert(short, Status.WRONG, "your reasons have 4 word(s)")
    assert [r.met for r in short.rules] == [True] * 5 + [False]
    wrong_kind = q6.evaluate(42, REASONS)
    _assert(wrong_kind, Status.WRONG, "expected the path of your project", "got 42")
    assert "Traceback" not in wrong_kind.text()
    other = new_sandbox(workspace)
    _assert(q6.evaluate(other, REASONS), Status.WRONG, "sandbox-01/ is not the project of this question")
