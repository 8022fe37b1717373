"""Commands in the participant's project (git and DVC), with the workspace's environment.

The stages replay lessons with these (`replay` runs a lesson's commands as they were typed); a
failed command is a StageError that names the command, what it printed and the fix
(`failure_advice`).
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Callable, Iterable, Union

from mlops_clinic.errors import DOCTOR, ClinicError
from mlops_clinic.workspace import Workspace


class StageError(ClinicError, RuntimeError):
    """A stage could not be built: the step, what the tool said, and the fix for it."""


# What a failed step's output says, and the fix to name for it. Two builders never run at once (the
# workspace lock), but a command the participant runs meanwhile can hold DVC's or git's own lock;
# only a damaged repository needs a fresh workspace.
_FIXES = (
    (("Unable to acquire lock",),
     "Another DVC command is running in this project (a notebook cell or a terminal): let it "
     "finish, then run this again."),
    (("index.lock",),
     "Another git command is running in this project: let it finish, then run this again. If "
     "none is running, delete project/.git/index.lock."),
    (("not a git repository", "is corrupt", "bad object", "not inside of a DVC repository"),
     "The project's git or DVC repository is damaged. `clinic reset` gives a fresh workspace "
     "(it deletes everything in this one)."),
)
_USUAL_FIX = ("The steps finished before this one are kept: fix what the message above names, then "
              f"run this again. If it looks like the installation, {DOCTOR}.")


def failure_advice(output: str) -> str:
    """The sentence that tells a participant what to do about a failed preparation step."""
    for signs, fix in _FIXES:
        if any(sign in output for sign in signs):
            return fix
    return _USUAL_FIX


def run(ws: Workspace, *cmd: str, cwd: Path | None = None) -> str:
    """Run a command in the project with the workspace's environment; a clear error if it fails."""
    result = subprocess.run(list(cmd), cwd=cwd or ws.project, env=ws.process_env(), capture_output=True,
                            text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-2000:]
        raise StageError(f"Preparing the workspace failed at `{' '.join(cmd)}` in {cwd or ws.project}:\n"
                         f"{output}", fix=failure_advice(output))
    return result.stdout


def git_ok(ws: Workspace, *args: str) -> bool:
    """True if `git args...` succeeds in the project (cheap checks: a tag exists, a file is tracked)."""
    if not (ws.project / ".git").is_dir():
        return False
    return subprocess.run(["git", *args], cwd=ws.project, capture_output=True).returncode == 0


def tag_exists(ws: Workspace, tag: str) -> bool:
    return git_ok(ws, "rev-parse", "--quiet", "--verify", f"refs/tags/{tag}")


def commit(ws: Workspace, *paths: str, message: str) -> None:
    """`git add` the paths and commit them, if that changes anything (a lesson interrupted after
    its own commit must not make the replay fail on "nothing to commit")."""
    run(ws, "git", "add", *paths)
    if not git_ok(ws, "diff", "--cached", "--quiet"):
        run(ws, "git", "commit", "--quiet", "-m", message)


# One step of a lesson: a command line as the participant types it, or a Python edit of the project
# folder (what the lesson does in a cell, such as changing a setting in params.yaml).
Step = Union[str, Callable[[Path], None]]


def replay(ws: Workspace, steps: Iterable[Step]) -> None:
    """Run a lesson's steps in the project, in order, as the participant did.

    A command line is split as a shell would split it and run without a shell. A `git commit` that
    finds nothing to commit is skipped: a lesson interrupted just after its commit is completed,
    not failed on "nothing to commit"."""
    for step in steps:
        if callable(step):
            step(ws.project)
            continue
        words = shlex.split(step)
        if words[:2] == ["git", "commit"] and _nothing_to_commit(ws, words):
            continue
        run(ws, *words)


def _nothing_to_commit(ws: Workspace, words: list[str]) -> bool:
    # `git commit -a` commits every change to a tracked file; plain `git commit` what was staged.
    if {"-a", "-am", "--all"} & set(words):
        return git_ok(ws, "diff", "--quiet", "HEAD")
    return git_ok(ws, "diff", "--cached", "--quiet")
