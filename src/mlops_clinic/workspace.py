"""A participant's workspace: one directory that holds everything the workshop writes.

Layout (created on demand):

    workspace/
      project/        the participant's git + DVC repository (data, dvc.yaml, params, ...)
      dvc-remote/     a local DVC remote: `dvc push` / `dvc pull` work offline
      mlflow/         the MLflow SQLite store (mlflow.db) and its artifacts
      bentoml/        BENTOML_HOME: the BentoML model store and bentos
      inference/      the prediction service's inference log
      maturity/       the participant's maturity answers
      servers/        PID files of background servers started by the notebooks
      home/           every tool's config, cache and data directory (XDG, Jupyter, IPython, git, ...)
      tmp/            TMPDIR, so temporary files go away with the workspace

Nothing is written to $HOME, /var or a /tmp that outlives the run: every tool is pointed here by
environment variables (`Workspace.env`) and telemetry is switched off.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic import paths
from mlops_clinic.names import WORKSPACE_ENV

WORKSPACE_ENV_VAR = WORKSPACE_ENV
MARKER_FILE = ".clinic-workspace"  # `clinic reset` deletes only directories that carry it

# The workspace's global git settings (GIT_CONFIG_GLOBAL): a plain `git init` makes a `main`
# branch, and no commit or tag waits for a signing key the participant may have configured.
GIT_SETTINGS = """\
# git settings of the clinic's repositories, used instead of your own global ones (~/.gitconfig)
[init]
\tdefaultBranch = main
[commit]
\tgpgsign = false
[tag]
\tgpgsign = false
"""

# Module 01's first commands, as the participant types them: a git repository, DVC inside it, the
# workspace's folder as the default DVC remote (DVC stores the path relative to .dvc/, so the
# workspace can move), and the first commit. `dvc init --quiet` leaves out DVC's welcome links.
PROJECT_START = (
    "git init --quiet",
    "dvc init --quiet",
    "dvc remote add -d local ../dvc-remote",
    "git add .dvc .dvcignore",
    'git commit --quiet -m "Start the clinic project: git + DVC"',
)

# Literal spellings matter: each tool reads its own variable.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "BENTOML_DO_NOT_TRACK": "true",
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "1",
}


@dataclass(frozen=True)
class Workspace:
    """Paths of one participant's workspace, and the environment that points every tool at it."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @classmethod
    def resolve(cls, path: str | os.PathLike | None = None) -> "Workspace":
        """The workspace to use: an explicit path (papermill parameter, --workspace), else the
        MLOPS_CLINIC_WORKSPACE environment variable, else workspace/ in the repository."""
        chosen = path or os.environ.get(WORKSPACE_ENV_VAR) or paths.DEFAULT_WORKSPACE
        return cls(Path(chosen).expanduser().resolve())

    # --- where things live ------------------------------------------------------------------
    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def dvc_remote(self) -> Path:
        return self.root / "dvc-remote"

    @property
    def mlflow_dir(self) -> Path:
        return self.root / "mlflow"

    @property
    def mlflow_db(self) -> Path:
        return self.mlflow_dir / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.mlflow_dir / "artifacts"

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.mlflow_db}"

    @property
    def bentoml_home(self) -> Path:
        return self.root / "bentoml"

    @property
    def inference_dir(self) -> Path:
        return self.root / "inference"

    @property
    def maturity_dir(self) -> Path:
        return self.root / "maturity"

    @property
    def servers_dir(self) -> Path:
        return self.root / "servers"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def git_config(self) -> Path:
        return self.home / "gitconfig"

    # --- the environment ----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment variables that keep every tool inside this workspace, telemetry off."""
        home = self.home
        return {
            WORKSPACE_ENV_VAR: str(self.root),
            **TELEMETRY_OFF,
            # Tool homes, caches and config (XDG covers DVC's global config, pip, matplotlib, ...)
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_CONFIG_DIR": str(home / "jupyter" / "config"),
            "JUPYTER_DATA_DIR": str(home / "jupyter" / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "jupyter" / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "jupyter" / "lab" / "user-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "jupyter" / "lab" / "workspaces"),
            "MPLCONFIGDIR": str(home / "matplotlib"),
            # JupyterLab asks npm for its prefix at start; npm then writes logs to ~/.npm/_logs.
            "NPM_CONFIG_CACHE": str(home / "npm"),
            "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
            "DVC_GLOBAL_CONFIG_DIR": str(home / "config" / "dvc"),
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            # Without a server, MLflow puts a new experiment's artifacts in ./mlruns under the
            # current directory. This is the variable MLflow itself reads for the artifact root
            # (mlflow.tracking._tracking_service.utils); a test checks artifacts land here.
            "_MLFLOW_SERVER_ARTIFACT_ROOT": str(self.mlflow_artifacts),
            # Progress bars would write carriage-return noise into every logged cell output.
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            # A run logged to a tracking server prints its URL (port, run id): noise that changes
            # every time in a notebook's output. The lessons print the links they mean to show.
            "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
            "BENTOML_HOME": str(self.bentoml_home),
            "TMPDIR": str(self.tmp),
            # git reads the workspace's settings (GIT_SETTINGS) instead of the participant's global
            # ones: signing, hooks or another default branch in ~/.gitconfig must not break a lesson.
            "GIT_CONFIG_GLOBAL": str(self.git_config),
            # git: commits work without a global identity, and never open an editor or a pager.
            "GIT_AUTHOR_NAME": "Clinic participant",
            "GIT_AUTHOR_EMAIL": "participant@clinic.invalid",
            "GIT_COMMITTER_NAME": "Clinic participant",
            "GIT_COMMITTER_EMAIL": "participant@clinic.invalid",
            "GIT_EDITOR": "true",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def process_env(self) -> dict[str, str]:
        """The environment of a process that works in this workspace: this process's, the
        workspace's variables over it, and the kit's tools first on PATH."""
        env = {**os.environ, **self.env()}
        env["PATH"] = path_with_kit_tools(env.get("PATH", ""))
        return env

    def create(self) -> "Workspace":
        """Create the directories (idempotent)."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / MARKER_FILE).touch()
        for directory in (
            self.project, self.dvc_remote, self.mlflow_artifacts, self.bentoml_home,
            self.inference_dir, self.maturity_dir, self.servers_dir, self.tmp,
        ):
            directory.mkdir(parents=True, exist_ok=True)
        for name, value in self.env().items():
            # Make every tool directory exist, so a tool that refuses missing dirs does not fall
            # back to $HOME.
            if value.startswith(str(self.home)) and name != "GIT_CONFIG_GLOBAL":
                Path(value).mkdir(parents=True, exist_ok=True)
        if not self.git_config.is_file():
            self.git_config.write_text(GIT_SETTINGS)
        return self

    def activate(self) -> "Workspace":
        """Create the workspace and point this process (and its children) at it."""
        self.create()
        os.environ.update(self.env())
        os.environ["PATH"] = path_with_kit_tools(os.environ.get("PATH", ""))
        return self

    def init_project(self) -> None:
        """Make `project/` a git + DVC repository with the local remote as default (idempotent).

        Runs the commands module 01 has the participant type (PROJECT_START), so a workspace
        prepared for a later module holds the same repository, configuration and first commit.
        """
        project = self.project
        env = self.process_env()
        project.mkdir(parents=True, exist_ok=True)
        if (project / ".git").exists() and (project / ".dvc").exists():
            return
        for command in PROJECT_START:
            words = shlex.split(command)
            if words[:2] == ["git", "init"] and (project / ".git").exists():
                continue  # a start interrupted after `git init`: the rest completes it
            _run(words, project, env)

    def __str__(self) -> str:
        return str(self.root)


def add_workspace_argument(parser) -> None:
    """`--workspace`, as every command that works on a workspace takes it."""
    parser.add_argument("--workspace", help=f"workspace directory (default: ${WORKSPACE_ENV_VAR} or workspace/ "
                                            "in the kit)")


def path_with_kit_tools(path: str) -> str:
    """PATH with the kit's own bin directory first, so `!dvc`, `!mlflow` and `!bentoml` cells run
    the pinned tools even when JupyterLab was started without activating the environment."""
    kit_bin = str(Path(sys.executable).parent)
    parts = [part for part in path.split(os.pathsep) if part and part != kit_bin]
    return os.pathsep.join([kit_bin, *parts])


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        from mlops_clinic.project import StageError, failure_advice  # it imports this module

        output = (result.stderr or result.stdout).strip()
        raise StageError(f"Setting up the workspace failed at `{' '.join(cmd[:3])}` in {cwd}:\n{output}",
                         fix=failure_advice(output))


def shell_exports(workspace: Workspace) -> str:
    """`export NAME=value` lines for a shell script (Binder's start) to enter the workspace."""
    env = {**workspace.env(), "PATH": path_with_kit_tools(os.environ.get("PATH", ""))}
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in env.items())


if __name__ == "__main__":
    # `eval "$(python -m mlops_clinic.workspace --exports)"`: used by binder/start.
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlops_clinic.workspace")
    parser.add_argument("--exports", action="store_true", help="print shell exports for the workspace")
    add_workspace_argument(parser)
    args = parser.parse_args()
    print(shell_exports(Workspace.resolve(args.workspace)))
