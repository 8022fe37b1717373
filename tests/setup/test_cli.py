import subprocess
import sys

from mlops_clinic import cli
from mlops_clinic.workspace import Workspace


def test_help_lists_every_command(capsys):
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    for command in ("lab", "doctor", "run", "build", "reset", "data", "pins"):
        assert command in out


def test_reset_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    result = subprocess.run([sys.executable, "-m", "mlops_clinic.cli", "reset", "--yes",
                             "--workspace", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode != 0 and "does not look like a clinic workspace" in result.stderr
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_reset_without_a_terminal_asks_for_yes(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mlops_clinic.cli", "reset",
                             "--workspace", str(tmp_path / "workspace")],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "--yes" in result.stdout


def test_reset_gives_a_fresh_workspace(tmp_path):
    ws = Workspace(tmp_path / "workspace").create()
    (ws.maturity_dir / "answers.json").write_text("{}")
    assert cli.main(["reset", "--yes", "--workspace", str(ws.root)]) == 0
    assert ws.project.is_dir() and not (ws.maturity_dir / "answers.json").exists()


def test_lab_command_opens_the_repository_on_loopback():
    from mlops_clinic import lab, paths

    command = lab.lab_command(port=9999, open_browser=False)
    assert f"--ServerApp.root_dir={paths.REPO_ROOT}" in command
    assert "--ServerApp.ip=127.0.0.1" in command and "--no-browser" in command
