"""Module 06's outcome: the pipeline's CI and GitOps files in the project, and what lesson 06 did
with them.

Module 06's setup needs module 05's retraining (`retrained`, stages/monitoring.py).

`gitops`: lesson 06 replayed with the commands the participant types (GITOPS), for the exercises
of a workspace that skipped it: the files of `project_template_ci/` (the CI workflow, the local
runner, the model tests and their gate, the promotion and reconcile scripts, the pinned
requirements) installed and committed; deploy/champion.yaml adopting the registry's champion; the
monotone model proposed by the local CI on a branch, merged and reconciled; the faster model that
the gate blocks; the rollback by revert and the roll forward. The lesson's service is not started:
the reconcile step moves the registry alias, which is what a service would follow. The same
commits, messages and registered versions as the lesson; the exercises clone the project then.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from mlops_clinic.names import MODEL_NAME
from mlops_clinic.project import StageError, git_ok, replay, run, tag_exists
from mlops_clinic.stages import module_needs, module_start, stage
from mlops_clinic.stages.data import on_main
from mlops_clinic.stages.serving import _in_workspace
from mlops_clinic.stages.training import client, committed_messages, copy_into, files_in
from mlops_clinic.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parent.parent / "project_template_ci"
DESIRED = "deploy/champion.yaml"

CI_COMMIT = "CI and GitOps: workflow, model tests, promotion and reconcile"
CHANGE_BRANCH, BAD_BRANCH = "monotone-area", "fewer-rounds"
CHANGE_COMMIT = "Monotone boosting: a bigger house is never priced lower"
MERGE_COMMIT = "Merge pull request: monotone boosting"
BAD_COMMIT = "Train ten times faster: 30 boosting rounds"
ROLLBACK_COMMIT = f'Revert "{MERGE_COMMIT}"'
# The settings lesson 06 writes into params.yaml: the model of src/model.py that respects the rule.
MONOTONE = "\n  monotone_boosting:\n    max_iter: 300\n    learning_rate: 0.05\n    max_depth: 3\nmlflow:"


def ci_files() -> list[str]:
    """The CI template's files, relative to the project (.github/workflows/pipeline.yml, ...)."""
    return files_in(TEMPLATE)


def install_ci(project: Path) -> list[str]:
    """Copy the CI and GitOps files into the project (overwriting what is there); returns them."""
    return copy_into(TEMPLATE, project)


def use_monotone_boosting(project: Path) -> None:
    """The edit of params.yaml that lesson 06 makes on its branch."""
    params = Path(project) / "params.yaml"
    text = params.read_text().replace("  model: gradient_boosting", "  model: monotone_boosting")
    params.write_text(text.replace("\nmlflow:", MONOTONE))


def use_fewer_rounds(project: Path) -> None:
    """The edit of params.yaml that the gate blocks in lesson 06."""
    params = Path(project) / "params.yaml"
    params.write_text(params.read_text().replace("    max_iter: 300\n", "    max_iter: 30\n"))


def gate_blocks(project: Path) -> None:
    """`python ci/run_pipeline.py` on the faster model: the lesson shows it fail at the gate."""
    done = subprocess.run(["python", "ci/run_pipeline.py"], cwd=project, capture_output=True, text=True,
                          env=Workspace(Path(project).parent).process_env())
    if done.returncode != 1 or "test_not_worse_than_the_champion" not in done.stdout:
        raise StageError("The local CI was expected to block the faster model at the quality gate; "
                         f"it ended with exit code {done.returncode}:\n{done.stdout[-2000:]}",
                         fix="Run notebooks/06_automation.ipynb to see the step that differs.")


GITOPS = (
    (CI_COMMIT, (
        install_ci,
        "git add .github ci deploy tests pytest.ini requirements.txt",
        f'git commit --quiet -m "{CI_COMMIT}"',
    )),
    ("Desired state: ", (  # the adoption's message names the version: found by its start
        "python ci/promote.py --adopt",
    )),
    (MERGE_COMMIT, (
        f"git switch --quiet -C {CHANGE_BRANCH} main",
        use_monotone_boosting,
        f'git commit --quiet -am "{CHANGE_COMMIT}"',
        "python ci/run_pipeline.py",
        "git switch --quiet main",
        f'git merge --quiet --no-ff {CHANGE_BRANCH} -m "{MERGE_COMMIT}"',
        "python deploy/reconcile.py",
    )),
    (BAD_COMMIT, (  # on a branch that is thrown away: found by the version it registered
        f"git switch --quiet -C {BAD_BRANCH} main",
        use_fewer_rounds,
        f'git commit --quiet -am "{BAD_COMMIT}"',
        gate_blocks,
        "git switch --quiet --discard-changes main",
        f"git branch --quiet -D {BAD_BRANCH}",
        "dvc checkout --quiet",
    )),
    (ROLLBACK_COMMIT, (
        "git revert --no-edit -m 1 HEAD",
        "dvc checkout --quiet",
        "python deploy/reconcile.py",
    )),
    ("Roll forward", (  # git names the revert of a revert itself ("Reapply ..."): found by HEAD
        "git revert --no-edit HEAD",
        "dvc checkout --quiet",
        "python deploy/reconcile.py",
    )),
)


def _blocked_version_registered(ws: Workspace) -> bool:
    """The newest version of house-price was trained from the blocked change's commit."""
    registry = client(ws)
    versions = registry.search_model_versions(f"name = '{MODEL_NAME}'")
    if not versions:
        return False
    newest = max(versions, key=lambda version: int(version.version))
    commit = registry.get_run(newest.run_id).data.tags.get("git_commit", "")
    subject = subprocess.run(["git", "log", "-1", "--format=%s", commit], cwd=ws.project,
                             capture_output=True, text=True).stdout.strip()
    return bool(commit) and subject == BAD_COMMIT


def _head_subject(ws: Workspace) -> str:
    return run(ws, "git", "log", "-1", "--format=%s").strip()


def _done(ws: Workspace, group: str, messages: set[str]) -> bool:
    if group == "Desired state: ":
        return git_ok(ws, "cat-file", "-e", f"main:{DESIRED}")
    if group == BAD_COMMIT:
        return ROLLBACK_COMMIT in messages or _blocked_version_registered(ws)
    if group == "Roll forward":
        return ROLLBACK_COMMIT in messages and _head_subject(ws) != ROLLBACK_COMMIT
    return group in messages


def _gitops_done(ws: Workspace) -> bool:
    # The CI files and the desired state committed (the lesson, or this stage, got that far) and
    # the lesson's last step, the roll forward, done.
    if not (git_ok(ws, "cat-file", "-e", f"HEAD:{DESIRED}") and git_ok(ws, "cat-file", "-e", "HEAD:ci/run_pipeline.py")):
        return False
    return _done(ws, "Roll forward", committed_messages(ws))


@stage("gitops", "lesson 06 replayed: the CI files committed, the champion adopted, the monotone "
       "model promoted through a branch and a merge, a faster one blocked, rolled back and forward",
       requires=("retrained",), is_done=_gitops_done)
def build_gitops(ws: Workspace) -> None:
    on_main(ws)
    for group, steps in GITOPS:
        if not _done(ws, group, committed_messages(ws)):
            replay(ws, steps)
    # The lesson's model server imported each champion into the BentoML store as the alias moved.
    _in_workspace(ws, "from mlops_clinic.service import store; "
                      "print(store.import_version(store.alias_version('champion')).tag)")


module_needs("06", "retrained")

# Where lesson 06 started: main as module 05 left it, and the champion then (in the tag's message).
START_TAG = "lesson-06-start"


@module_start("06")
def back_to_where_lesson_06_started(ws: Workspace) -> None:
    """The first time, tag main and note the champion. Run again, the lesson would find its merge
    done and nothing to promote, and `git revert -m 1 HEAD` would have no merge to undo: main goes
    back to the tag, its data to that commit's, and the alias to the champion of then."""
    if not tag_exists(ws, START_TAG):
        on_main(ws)
        champion = client(ws).get_model_version_by_alias(MODEL_NAME, "champion").version
        run(ws, "git", "tag", "-a", START_TAG, "-m", f"champion {champion}", "main")
        return
    run(ws, "git", "switch", "--quiet", "--discard-changes", "main")
    run(ws, "git", "reset", "--quiet", "--hard", START_TAG)
    run(ws, "dvc", "checkout", "--quiet")
    champion = run(ws, "git", "tag", "-l", "--format=%(contents:subject)", START_TAG).split()[-1]
    client(ws).set_registered_model_alias(MODEL_NAME, "champion", champion)
