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

from checking import activated_workspace
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
