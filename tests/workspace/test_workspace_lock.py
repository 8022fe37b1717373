"""One builder at a time per workspace: two processes preparing the same workspace at once (two
notebooks, the BentoML launcher card and a setup cell) take turns; the second says what it waits
for, then finds the stages done. Real processes, real git and DVC."""

import json
import subprocess
import sys
import textwrap
import time

import pytest

from mlops_clinic import stages
from mlops_clinic.workspace_lock import WorkspaceBusy, workspace_lock

WAITING = "Another notebook or server is preparing this workspace"

# A participant's process: opens the workspace as setup() does, then waits for the starting
# signal so that both processes call ensure() at the same moment.
PREPARE = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from mlops_clinic import stages
    from mlops_clinic.workspace import Workspace

    workspace, signals, name = Workspace(sys.argv[1]).activate(), Path(sys.argv[2]), sys.argv[3]
    (signals / f"ready-{name}").touch()
    while not (signals / "go").exists():
        time.sleep(0.01)
    started = time.monotonic()
    built = stages.ensure("data_v1", workspace)
    print(json.dumps({"built": built, "seconds": round(time.monotonic() - started, 1)}))
""")

# Holds the lock, as a builder in another notebook would, until its stdin closes.
HOLD = textwrap.dedent("""
    import sys
    from mlops_clinic.workspace import Workspace
    from mlops_clinic.workspace_lock import workspace_lock

    with workspace_lock(Workspace(sys.argv[1]), "stage champion"):
        print("holding", flush=True)
        sys.stdin.read()
""")


def _git(workspace, *args):
    return subprocess.run(["git", *args], cwd=workspace.project, capture_output=True, text=True,
                          check=True).stdout


def test_two_processes_preparing_one_fresh_workspace_take_turns(tmp_path, workspace):
    signals = tmp_path / "signals"
    signals.mkdir()
    processes = {name: subprocess.Popen([sys.executable, "-c", PREPARE, str(workspace.root), str(signals), name],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name in ("first", "second")}
    while not all((signals / f"ready-{name}").exists() for name in processes):
        assert all(p.poll() is None for p in processes.values()), [p.communicate() for p in processes.values()]
        time.sleep(0.01)
    (signals / "go").touch()
    outputs = {name: p.communicate(timeout=300) for name, p in processes.items()}

    for name, (out, err) in outputs.items():
        assert processes[name].returncode == 0, f"{name} failed:\n{err[-3000:]}"
    results = {name: json.loads(out.strip().splitlines()[-1]) for name, (out, _) in outputs.items()}
    built = [stage for result in results.values() for stage in result["built"]]
    assert sorted(built) == ["data_v1", "project"], f"built twice or not at all: {results}"

    waiters = [name for name, (out, _) in outputs.items() if WAITING in out]
    assert len(waiters) == 1, outputs
    waiter = waiters[0]
    builder = next(name for name in processes if name != waiter)
    out = outputs[waiter][0]
    assert out.count(WAITING) == 1, "the waiting message is said once"
    assert f"(PID {processes[builder].pid}, stage " in out and "waiting..." in out
    assert results[waiter]["built"] == [] and results[builder]["built"] == ["project", "data_v1"]
    print(f"the second caller waited {results[waiter]['seconds']} s "
          f"(the builder took {results[builder]['seconds']} s)")

    assert _git(workspace, "tag", "--list").split() == ["data-v1.0.0"]
    assert _git(workspace, "log", "--format=%s").count("Data v1.0.0") == 1


def test_a_nested_ensure_in_the_same_thread_goes_on(workspace):
    with workspace_lock(workspace, "clinic run") as lock:
        assert stages.ensure("project", workspace) == ["project"]
        lock.doing("still here")  # the outer holder keeps the lock after the nested call


def test_a_child_of_the_holder_works_for_it_instead_of_waiting(workspace):
    # `clinic run` holds the lock for the course; its notebooks' kernels are its descendants.
    with workspace_lock(workspace, "clinic run"):
        result = subprocess.run([sys.executable, "-m", "mlops_clinic.stages", "project",
                                 "--workspace", str(workspace.root)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "project: built project" in result.stdout and WAITING not in result.stdout


def test_waiting_too_long_ends_with_a_message_naming_the_holder(workspace):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(workspace.root)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        said = []
        with pytest.raises(WorkspaceBusy) as busy:
            with workspace_lock(workspace, "stage project", timeout=1.5, echo=said.append):
                pytest.fail("the lock was taken while another process held it")
    finally:
        holder.communicate("")
    assert said == [f"{WAITING} (PID {holder.pid}, stage champion); waiting..."]
    message = str(busy.value)
    assert f"PID {holder.pid} (stage champion)" in message and "run this again" in message
    assert "clinic reset" not in message
    # A notebook shows the sentence and its fix, not a traceback.
    assert busy.value._render_traceback_() == [f"WorkspaceBusy: {busy.value.message}", f"Fix: {busy.value.fix}"]
    with workspace_lock(workspace, "stage project", timeout=5):  # free again once the holder ended
        pass


@pytest.mark.parametrize("output, fix", [
    ("ERROR: Unable to acquire lock. Most likely another DVC process is running", "Another DVC command"),
    ("fatal: Unable to create '/w/project/.git/index.lock': File exists.", "Another git command"),
    ("ERROR: you are not inside of a DVC repository", "`clinic reset`"),
    ("ERROR: failed to push data to the cloud - No space left on device", "run this again"),
])
def test_a_failed_step_names_the_real_fix(output, fix):
    advice = stages.failure_advice(output)
    assert fix in advice
    assert ("clinic reset" in advice) == (fix == "`clinic reset`"), "reset only for a damaged repository"


def test_a_failing_command_in_a_stage_does_not_advise_a_reset(workspace):
    from mlops_clinic.stages.data import run

    stages.ensure("project", workspace)
    with pytest.raises(RuntimeError) as failed:
        run(workspace, "dvc", "pull", "no-such-file.dvc")
    assert "Preparing the workspace failed at `dvc pull" in str(failed.value)
    assert "clinic reset" not in str(failed.value) and "run this again" in str(failed.value)
