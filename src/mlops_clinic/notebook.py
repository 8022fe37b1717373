"""What the setup cell of every notebook does: `ws = setup("03", workspace=workspace)`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from mlops_clinic import stages
from mlops_clinic.workspace import Workspace


def setup(module: str, workspace: str | os.PathLike | None = None, *, quiet: bool = False,
          from_lesson_start: bool = False) -> Workspace:
    """Open module `module` in a workspace and return it.

    - picks the workspace (the `workspace` parameter, else $MLOPS_CLINIC_WORKSPACE, else workspace/
      in the repository) and points every tool at it, telemetry off;
    - builds whatever earlier modules would have built, so this notebook can run first;
    - with `from_lesson_start` (a lesson that rewrites the project's history: 06), puts the project
      back where the lesson started the first time. Only the lesson asks: its exercises work on a
      copy and must find the project as the lesson left it;
    - makes the workspace's project repository the current directory, so `!dvc ...` and
      `!git ...` cells act on it, and runs those cells as plain commands (see `plain_shell`).
    """
    plain_shell()
    ws = Workspace.resolve(workspace).activate()
    built = []
    for needed in stages.needs_of(module):
        built += stages.ensure(needed, ws, starting=None if quiet else _say_building)
    if from_lesson_start:
        stages.start_module(module, ws)
    os.chdir(ws.project)
    if not quiet:
        # Only stable text here: this output is compared by nbval.
        print(f"Module {module} is ready. Workspace: {ws.root.name}/ (project, MLflow store, "
              "BentoML home and logs inside it); telemetry is off.")
    return ws


# The first words of the line printed while a stage is built. Only a notebook opened before the
# modules it builds on prints it, so output_masks.cfg leaves these lines out of nbval's comparison.
BUILDING = "Building what earlier modules leave:"


def _say_building(stage) -> None:
    # A fresh workspace can take a minute or more here: say what it is waiting for.
    print(f"{BUILDING} {stage.name} ({stage.description}) ...", flush=True)


class CommandFailed(subprocess.CalledProcessError):
    """A `!command` cell that exited with an error: shown as one line, not a traceback."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [f"`{self.cmd}` failed (exit code {self.returncode}); its messages are above."]


def plain_shell() -> None:
    """Run `!command` lines in this kernel through pipes rather than a terminal, and stop the cell
    when a command fails.

    IPython runs `!command` in a pseudo-terminal (and ipykernel sets FORCE_COLOR), so DVC, git and
    pip draw progress bars, spinners and colours: unreadable once saved in a notebook, and
    different on every run. Through pipes the tools print the plain text a log or a CI job shows.
    A failing command (non-zero exit code) raises CommandFailed, so a lesson never carries on as if
    it had worked. `{variable}` expansion and `_exit_code` work as before. Does nothing outside
    IPython; safe to call twice.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_clinic_plain_shell", False):
        return

    def system(cmd: str) -> None:
        if cmd.rstrip().endswith("&"):
            raise OSError("Background processes are not supported in `!` lines; the kit's "
                          "BackgroundServer starts servers (mlops_clinic.servers).")
        command = shell.var_expand(cmd, depth=1)
        sys.stdout.flush()
        process = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   text=True, errors="replace", env=_plain_env())
        try:
            for line in process.stdout:
                sys.stdout.write(line)
            code = process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
        finally:
            process.stdout.close()
        sys.stdout.flush()
        shell.user_ns["_exit_code"] = code
        if code != 0:
            raise CommandFailed(code, command)

    shell.system = system
    shell._clinic_plain_shell = True


def _plain_env() -> dict[str, str]:
    # ipykernel sets FORCE_COLOR and CLICOLOR_FORCE so that tools draw colours even without a
    # terminal; for plain text, take them out and ask for no colour. Unbuffered Python output keeps
    # a command's lines in the order it wrote them (stdout and stderr share the pipe).
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env
