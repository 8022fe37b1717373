"""Grading runs handed-in code isolated: its own folder, HOME and TMPDIR in its run's workspace, none
of the grader's environment, no network where the platform allows it, and nothing left running.

One `clinic batch grade` (real papermill kernels) of three small submissions that try what a
careless or hostile participant could: read the grader's secrets and home, leave daemons behind,
reach a server of this machine.
"""

from __future__ import annotations

import json
import os
import socket

import nbformat
import psutil
import pytest

from mlops_clinic.batch.cli import main as batch_main
from mlops_clinic.supervisor import network_isolation

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX processes")]

SECRETS = {
    "MLFLOW_AUTH_ADMIN_PASSWORD": "admin-password-of-the-grader",
    "AWS_SECRET_ACCESS_KEY": "aws-key-of-the-grader",
    "MLFLOW_TRACKING_URI": "http://grader:secret@mlflow.example.org",
    "CLINIC_TEST_GRADER_TOKEN": "token-of-the-grader",
}

LOOKS_AROUND = """\
import json, os, tempfile
print(json.dumps({"environ": dict(os.environ), "home": os.path.expanduser("~"), "cwd": os.getcwd(),
                  "tmp": tempfile.gettempdir(), "secret": os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD")}))
"""

LEAVES_DAEMONS = """\
import os, subprocess, time
def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.05)
# A double fork: the shell starts `sleep` in the background and exits.
subprocess.run(["sh", "-c", f"sleep 300 & echo $! > {workspace}/double-fork.tmp; "
                f"mv {workspace}/double-fork.tmp {workspace}/double-fork.pid"], check=True)
# A daemon: fork, setsid, fork again.
child = os.fork()
if child == 0:
    os.setsid()
    if os.fork() == 0:
        with open(f"{workspace}/setsid.tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.rename(f"{workspace}/setsid.tmp", f"{workspace}/setsid.pid")
        os.execvp("sleep", ["sleep", "301"])
    os._exit(0)
os.waitpid(child, 0)
wait_for(f"{workspace}/setsid.pid")
"""

REACHES_OUT = """\
import socket
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=10).close()
    print("connected")
except OSError as exc:
    print("no connection:", type(exc).__name__)
"""


def submission(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("workspace = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def printed(record, out):
    nb = nbformat.read(out / "runs" / record["id"] / record["output"], as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The three submissions graded once, with secrets and a home of the grader's in the grader's
    environment and a server listening on 127.0.0.1; (records by participant, out folder, grader's home)."""
    tmp = tmp_path_factory.mktemp("grading")
    grader_home = tmp / "grader-home"
    grader_home.mkdir()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    subs = tmp / "submissions"
    submission(subs / "looks-around" / "task.ipynb", LOOKS_AROUND)
    submission(subs / "leaves-daemons" / "task.ipynb", LEAVES_DAEMONS)
    submission(subs / "reaches-out" / "task.ipynb", REACHES_OUT.replace("PORT", str(port)))
    out = tmp / "out"
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in {**SECRETS, "HOME": str(grader_home)}.items():
                mp.setenv(name, value)
            code = batch_main(["grade", str(subs), "--out", str(out), "--no-progress", "--concurrency", "2",
                               "--cell-timeout", "120"])
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
    finally:
        listener.close()
    records = {}
    for record_file in (out / "runs").glob("*/record.json"):
        record = json.loads(record_file.read_text())
        records[record["participant"]] = record
    yield {"code": code, "records": records, "out": out, "grader_home": grader_home, "reached": reached}
    for record in records.values():  # a failing run of this test must not leave its daemons running
        workspace = out / "runs" / record["id"] / "workspace"
        for pid_file in (workspace / "double-fork.pid", workspace / "setsid.pid"):
            if pid_file.exists():
                try:
                    psutil.Process(int(pid_file.read_text())).kill()
                except psutil.Error:
                    pass


def test_a_submission_sees_its_workspace_and_none_of_the_graders_environment(graded):
    record = graded["records"]["looks-around"]
    assert record["status"] == "ok", record
    text = printed(record, graded["out"])
    for value in SECRETS.values():
        assert value not in text
    assert str(graded["grader_home"]) not in text
    seen = json.loads(text)
    workspace = str(graded["out"] / "runs" / record["id"] / "workspace")
    for where in ("home", "cwd", "tmp"):
        assert seen[where].startswith(workspace + os.sep) or seen[where] == workspace, (where, seen[where])
    assert seen["secret"] is None
    assert not {name for name in seen["environ"] if name.startswith(("AWS_", "MLFLOW_AUTH", "CLINIC_TEST_"))}
    assert seen["environ"]["MLFLOW_TRACKING_URI"].startswith(f"sqlite:///{workspace}/")


def test_daemons_a_submission_leaves_are_stopped_and_listed(graded):
    record = graded["records"]["leaves-daemons"]
    assert record["status"] == "ok", record
    workspace = graded["out"] / "runs" / record["id"] / "workspace"
    for pid_file in ("double-fork.pid", "setsid.pid"):
        pid = int((workspace / pid_file).read_text())
        assert f"sleep[{pid}]" in record["leftovers"], (pid_file, record["leftovers"])
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_submission_cannot_reach_this_machines_servers(graded):
    available, reason = network_isolation()
    record = graded["records"]["reaches-out"]
    assert record["status"] == "ok", record
    if not available:
        assert record["network"] == reason and reason.startswith("not isolated (")
        pytest.skip(f"no network namespace on this platform: {reason}")
    assert record["network"].startswith("isolated")
    assert "no connection: ConnectionRefusedError" in printed(record, graded["out"])
    assert not graded["reached"]
    grades = (graded["out"] / "grades.html").read_text()
    assert "network: isolated" in grades


def test_without_a_namespace_the_record_and_the_grade_report_say_so(tmp_path, monkeypatch, capsys):
    # A platform without network namespaces (macOS, a container that forbids them): the probe's
    # answer stands in for it. The local pool's workers are forked, so they see the same answer.
    import mlops_clinic.execute

    reason = "not isolated (network namespaces are a Linux feature)"
    monkeypatch.setattr(mlops_clinic.execute, "network_isolation", lambda: (False, reason))
    submission(tmp_path / "subs" / "p01.ipynb", "print('hello')")
    code = batch_main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 0
    record = json.loads(next((tmp_path / "out" / "runs").glob("*/record.json")).read_text())
    assert record["status"] == "ok" and record["network"] == reason
    assert f"network: {reason}" in (tmp_path / "out" / "grades.html").read_text()
    assert reason in (tmp_path / "out" / "grades.csv").read_text()
    assert f"network: {reason}" in capsys.readouterr().out
