"""Module 06's questions: each proven not attempted, wrong (plausible mistakes) and correct, against
a real workspace: the sandbox clone of its project, its git history, the MLflow registry, and the
local CI run for real."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from checking import activated_workspace, rules_met
from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m06 import SANDBOX_MODEL, exercise_sandbox, faulty_release, q1, q2, q3

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer")]


def sh(*command, check=True):
    done = subprocess.run(list(command), capture_output=True, text=True)
    if check:
        assert done.returncode == 0, f"{' '.join(command)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A workspace with the champion and module 06's files, activated for this module's tests."""
    with activated_workspace(tmp_path_factory.mktemp("m06") / "workspace", "gitops", enter="root") as ws:
        yield ws


def desired_version() -> str:
    return str(yaml.safe_load(open("deploy/champion.yaml"))["version"])


def test_q1_q2_q3_in_order(world):
    # The three questions build on each other in one sandbox, as in the notebook.
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate(1), Status.WRONG, "no sandbox-06/")

    sandbox = exercise_sandbox(world)
    os.chdir(sandbox)
    assert yaml.safe_load(open("deploy/champion.yaml")) == {"model": SANDBOX_MODEL, "version": 1}
    faulty_release(sandbox)

    # q1: the gate
    _assert(q1.evaluate("1"), Status.WRONG, "whole number")
    _assert(q1.evaluate(0), Status.WRONG, "still lets the faulty model through")
    strict = sh("git", "show", "HEAD~1:tests/gate.yaml").stdout
    open("tests/gate.yaml", "w").write(strict)
    _assert(q1.evaluate(1), Status.WRONG, "not committed")
    open("tests/gate.yaml", "w").write(strict.replace("champion_tolerance: 0.02", "champion_tolerance: -0.5"))
    sh("git", "commit", "--quiet", "-am", "Too strict")
    _assert(q1.evaluate(1), Status.WRONG, "too strict")
    sh("git", "reset", "--quiet", "--keep", "HEAD~1")  # keeps the pipeline's uncommitted results
    sh("git", "revert", "--no-edit", "HEAD")
    _assert(q1.evaluate(0), Status.WRONG, "exit code you give")
    typo = sh(sys.executable, "ci/run_pipelin.py", check=False)  # a typo: CI never ran
    assert typo.returncode == 2, typo.stderr
    _assert(q1.evaluate(typo.returncode), Status.WRONG, "exit code 2", "never ran its tests")
    _assert(q1.evaluate(127), Status.WRONG, "did not run to its end")
    run = sh(sys.executable, "ci/run_pipeline.py", check=False)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "test_not_worse_than_the_champion" in run.stdout
    _assert(q1.evaluate(run.returncode), Status.CORRECT, "blocked")
    _assert(q1.evaluate(np.int64(1)), Status.CORRECT, "blocked")
    _assert(q1.evaluate(1.0), Status.CORRECT, "blocked")
    # the other fix: the reviewed thresholds written back by hand and committed, instead of a revert
    sh("git", "reset", "--quiet", "--keep", "HEAD~1")
    open("tests/gate.yaml", "w").write(strict)
    sh("git", "commit", "--quiet", "-am", "Gate: back to the reviewed thresholds")
    _assert(q1.evaluate(1), Status.CORRECT, "blocked")

    # q2: the promotion
    _assert(q2.evaluate(3), Status.WRONG, "into main")
    sh("git", "switch", "--quiet", "--discard-changes", "main")
    _assert(q2.evaluate(3), Status.WRONG, "did not change")
    # a promotion typed by hand, of the faulty model, merged
    sh("git", "switch", "--quiet", "-c", "by-hand")
    text = open("deploy/champion.yaml").read().replace("version: 1", "version: 2")
    open("deploy/champion.yaml", "w").write(text)
    sh("git", "commit", "--quiet", "-am", "Promote it, I checked")
    sh("git", "switch", "--quiet", "main")
    sh("git", "merge", "--quiet", "--no-ff", "by-hand", "-m", "Merge by hand")
    _assert(q2.evaluate(2), Status.WRONG, "edited by hand")
    sh("git", "reset", "--quiet", "--hard", "HEAD~1")
    # the real thing, first merged as a fast-forward
    sh("git", "switch", "--quiet", "-c", "smoother")
    params = open("params.yaml").read()
    assert "    max_iter: 300\n" in params
    open("params.yaml", "w").write(params.replace("    max_iter: 300\n", "    max_iter: 400\n"))
    sh("git", "commit", "--quiet", "-am", "Monotone boosting: 400 rounds")
    run = sh(sys.executable, "ci/run_pipeline.py")
    proposed = re.search(r"Proposed: house-price-sandbox version (\d+) replaces version 1", run.stdout)
    assert proposed, run.stdout[-3000:]
    promoted = int(proposed.group(1))
    sh("git", "switch", "--quiet", "main")
    sh("git", "merge", "--quiet", "--ff-only", "smoother")
    _assert(q2.evaluate(promoted), Status.WRONG, "--no-ff")
    sh("git", "reset", "--quiet", "--hard", "ORIG_HEAD")
    sh("git", "merge", "--quiet", "--no-ff", "smoother", "-m", "Merge pull request: smoother trees")
    _assert(q2.evaluate(1), Status.WRONG, "your answer")
    _assert(q2.evaluate(promoted), Status.WRONG, "reconcile")
    sh(sys.executable, "deploy/reconcile.py")
    _assert(q2.evaluate(desired_version()), Status.CORRECT, "one merge commit")
    # the same promotion (on a branch and with a message of the participant's own) in other forms:
    # numpy's integer, the text MLflow's alias lookup gives, spaces and a newline around it
    _assert(q2.evaluate(np.int64(promoted)), Status.CORRECT, "one merge commit")
    _assert(q2.evaluate(f" {promoted}\n"), Status.CORRECT, "one merge commit")

    # q3: the rollback
    _assert(q3.evaluate(1), Status.WRONG, "not a revert")
    sh("git", "reset", "--quiet", "--hard", "HEAD~1")
    _assert(q3.evaluate(1), Status.WRONG, "no promotion merge")
    sh("git", "reset", "--quiet", "--hard", "ORIG_HEAD")
    # a rollback typed by hand, under a revert's name: the pipeline's results still say the new version
    text = open("deploy/champion.yaml").read().replace(f"version: {promoted}", "version: 1")
    open("deploy/champion.yaml", "w").write(text)
    sh("git", "commit", "--quiet", "-am", 'Revert "Merge pull request: smoother trees"')
    _assert(q3.evaluate(1), Status.WRONG, "models/run.json", "only part of it")
    sh("git", "reset", "--quiet", "--hard", "HEAD~1")
    # the real revert, committed with the team's own message
    sh("git", "revert", "--no-commit", "-m", "1", "HEAD")
    sh("git", "commit", "--quiet", "-m", "Roll back the smoother trees: complaints from the agents")
    _assert(q3.evaluate(promoted), Status.WRONG, "your answer")
    _assert(q3.evaluate(1), Status.WRONG, "reconcile")
    sh(sys.executable, "deploy/reconcile.py")
    _assert(q3.evaluate(int(desired_version())), Status.CORRECT, "rollback")
    _assert(q3.evaluate(desired_version()), Status.CORRECT, "rollback")
    _assert(q3.evaluate(np.int64(desired_version())), Status.CORRECT, "rollback")


# --- q4 (open): a gate for faulty releases nobody has shown you -----------------------------------------

GATE_REASONS = ("An honest release moved the MAE by under 1% and the mildest fault by 4%, so a 3% "
                "tolerance blocks the faults and lets honest data through; a late release costs less.")
SOLUTION_GATE = {"baseline_ratio": 0.5, "champion_tolerance": 0.03, "area_step": 0.1, "max_drop": 0.0,
                 "max_houses_share": 0.0}


def commit_gate(gate, message="Gate: thresholds for the releases to come"):
    open("tests/gate.yaml", "w").write("# The quality gate.\n" + yaml.safe_dump(gate, sort_keys=False))
    sh("git", "commit", "--quiet", "-m", message, "--", "tests/gate.yaml")


def test_q4_open_gate_for_releases_not_seen(world):
    from mlops_clinic.checks.m06 import MERGED_LOOSE_COMMIT, prepare_gate_design, q4

    _assert(q4.evaluate(____, ____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)  # the reasons forgotten too
    _assert(q4.evaluate(SOLUTION_GATE, ____), Status.NOT_ATTEMPTED)
    sandbox = exercise_sandbox(world)
    os.chdir(sandbox)
    prepare_gate_design(sandbox)
    loose = yaml.safe_load(open("tests/gate.yaml"))
    assert (loose["champion_tolerance"], loose["max_houses_share"]) == (0.25, 0.1)
    assert sh("git", "log", "--format=%s", "-1").stdout.strip() == MERGED_LOOSE_COMMIT

    # where the question starts: the loosened gate lets the subtler faults through
    outcome = q4.evaluate(loose, GATE_REASONS)
    _assert(outcome, Status.WRONG, "5 of 8 rules met (5 of 8 points)",
            "lets through a release in which a broken join shuffled")
    assert rules_met(outcome) == [True, True, False, False, False, True, True, True]

    # the solution, and a set-up cell run again, which leaves the participant's gate alone
    commit_gate(SOLUTION_GATE)
    prepare_gate_design(sandbox)
    _assert(q4.evaluate(SOLUTION_GATE, GATE_REASONS), Status.CORRECT, "8 of 8 rules met (8 of 8 points)")

    # other good gates: tighter and on a smaller step; a small drop allowed on no house
    tight = {**SOLUTION_GATE, "baseline_ratio": 0.4, "champion_tolerance": 0.01, "area_step": 0.05}
    commit_gate(tight)
    _assert(q4.evaluate(tight, GATE_REASONS), Status.CORRECT, "8 of 8 rules met")
    drop = {**SOLUTION_GATE, "champion_tolerance": 0.035, "max_drop": 0.01, "max_houses_share": 0.005}
    commit_gate(drop)
    _assert(q4.evaluate(drop, GATE_REASONS), Status.CORRECT, "8 of 8 rules met")
    # and the reviewed gate of the lesson, by reverting the merge that loosened it
    sh("git", "reset", "--quiet", "--hard", "HEAD~3")
    sh("git", "revert", "--no-edit", "HEAD")
    reviewed = yaml.safe_load(open("tests/gate.yaml"))
    assert reviewed["champion_tolerance"] == 0.02
    _assert(q4.evaluate(reviewed, GATE_REASONS), Status.CORRECT, "8 of 8 rules met")

    # never worse than the champion: an honest release, a little worse by chance, is blocked
    never_worse = {**SOLUTION_GATE, "champion_tolerance": 0.0}
    commit_gate(never_worse)
    outcome = q4.evaluate(never_worse, GATE_REASONS)
    _assert(outcome, Status.WRONG, "it blocks an honest release", "leave the tolerance room")
    assert rules_met(outcome) == [True, False, True, True, True, True, True, True]

    # only the gross fault stopped: a 10% tolerance
    gross = {**SOLUTION_GATE, "champion_tolerance": 0.1}
    commit_gate(gross)
    outcome = q4.evaluate(gross, GATE_REASONS)
    _assert(outcome, Status.WRONG, "lets through a release whose bathrooms column was lost")
    assert rules_met(outcome) == [True, True, True, False, False, True, True, True]

    # "a bigger house may be up to 10% cheaper, for 2% of houses": the unconstrained model gets through
    lenient = {**SOLUTION_GATE, "max_drop": 0.1, "max_houses_share": 0.02}
    commit_gate(lenient)
    outcome = q4.evaluate(lenient, GATE_REASONS)
    _assert(outcome, Status.WRONG, "lets through the unconstrained gradient boosting", "max_houses_share")
    assert rules_met(outcome) == [True, True, True, True, True, False, True, True]

    # a bar the champion cannot clear
    too_strict = {**SOLUTION_GATE, "baseline_ratio": 0.2}
    commit_gate(too_strict)
    outcome = q4.evaluate(too_strict, GATE_REASONS)
    _assert(outcome, Status.WRONG, "it blocks the champion itself", "does not beat the baseline")
    assert rules_met(outcome) == [False, False, True, True, True, True, True, True]

    # the right gate, written but not committed; then committed on another branch only
    open("tests/gate.yaml", "w").write(yaml.safe_dump(SOLUTION_GATE))
    outcome = q4.evaluate(SOLUTION_GATE, GATE_REASONS)
    _assert(outcome, Status.WRONG, "tests/gate.yaml on main says baseline_ratio: 0.2",
            "CI tests what is committed")
    assert rules_met(outcome) == [True, True, True, True, True, True, False, True]
    sh("git", "switch", "--quiet", "-c", "new-gate")
    sh("git", "commit", "--quiet", "-am", "Gate: on a branch")
    _assert(q4.evaluate(SOLUTION_GATE, GATE_REASONS), Status.WRONG, "commit it on main")
    sh("git", "switch", "--quiet", "main")
    sh("git", "merge", "--quiet", "--no-ff", "new-gate", "-m", "Merge pull request: the new gate")
    _assert(q4.evaluate(SOLUTION_GATE, GATE_REASONS), Status.CORRECT, "8 of 8 rules met")
    open("tests/gate.yaml", "a").write("# a note not committed\n")
    _assert(q4.evaluate(SOLUTION_GATE, GATE_REASONS), Status.WRONG, "changes that are not committed")
    sh("git", "checkout", "--", "tests/gate.yaml")

    # reasons too short; answers of the wrong kind, each with a sentence and no traceback
    outcome = q4.evaluate(SOLUTION_GATE, "strict is safe")
    _assert(outcome, Status.WRONG, "your reasons have 3 word(s)")
    assert rules_met(outcome) == [True] * 7 + [False]
    for wrong, words in (("tests/gate.yaml", "yaml.safe_load"), (0.03, "got float"),
                         ({"champion_tolerance": 0.03}, "the gate has no baseline_ratio"),
                         ({**SOLUTION_GATE, "max_drop": "none"}, "every threshold is a number")):
        outcome = q4.evaluate(wrong, GATE_REASONS)
        _assert(outcome, Status.WRONG, words)
        assert rules_met(outcome) == [False] * 7 + [True] and "Traceback" not in outcome.text()
