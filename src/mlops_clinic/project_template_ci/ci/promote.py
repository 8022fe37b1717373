"""Propose the model the pipeline just trained as the new champion: write deploy/champion.yaml
and commit it with the pipeline's results. CI runs this after the quality gate has passed; the
commit lands on the branch, and the branch's pull request is the proposal a person reviews.

    python ci/promote.py            # propose the candidate of models/run.json
    python ci/promote.py --adopt    # first time only: declare the registry's current champion

The proposal's message carries what a reviewer needs: the gate passed, the test MAE, and the latest
monitoring evidence (monitoring/evidence.md, committed with the data release it led to).

Nothing here changes what is served. Once the promotion is merged into main, the reconcile step
(deploy/reconcile.py) makes the service serve what deploy/champion.yaml says.
"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

DESIRED = Path("deploy/champion.yaml")
EVIDENCE = Path("monitoring/evidence.md")
RESULTS = ["dvc.lock", "metrics.json", "models/run.json"]
HEADER = """\
# Desired state: the model version the service must serve. Change it only in a reviewed commit
# (a pull request); deploy/reconcile.py makes the service match it. To roll back a promotion,
# `git revert` its commit and reconcile.
"""


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


def desired() -> dict | None:
    return yaml.safe_load(DESIRED.read_text()) if DESIRED.is_file() else None


def write_and_commit(model: str, version: str, message: str, *paths: str) -> None:
    DESIRED.parent.mkdir(exist_ok=True)
    DESIRED.write_text(HEADER + yaml.safe_dump({"model": model, "version": int(version)}, sort_keys=False))
    git("add", str(DESIRED), *[p for p in paths if Path(p).exists()])
    git("commit", "--quiet", "-m", message)


def adopt() -> int:
    from mlflow import MlflowClient

    model = yaml.safe_load(Path("params.yaml").read_text())["mlflow"]["registered_model"]
    version = MlflowClient().get_model_version_by_alias(model, "champion").version
    if (desired() or {}).get("model") == model and str(desired()["version"]) == str(version):
        print(f"{DESIRED} already names {model} version {version}.")
        return 0
    write_and_commit(model, version, f"Desired state: {model} version {version} (adopted from the registry)")
    print(f"{DESIRED}: {model} version {version}, committed.")
    return 0


def propose() -> int:
    candidate = json.loads(Path("models/run.json").read_text())
    model, version = candidate["registered_model"], str(candidate["version"])
    current = desired()
    if current is None:
        print(f"There is no {DESIRED} yet: run `python ci/promote.py --adopt` once, on main.")
        return 1
    if current["model"] == model and str(current["version"]) == version:
        print(f"{model} version {version} is already the desired champion: nothing to propose.")
        return 0
    metrics = json.loads(Path("metrics.json").read_text())
    message = (f"Promote {model} version {version} (was {current['model']} version {current['version']})\n\n"
               f"It passed the quality gate (tests/). Test MAE £{metrics['test']['mae']:,.0f}.")
    if EVIDENCE.is_file():
        message += f"\n\nThe latest monitoring evidence ({EVIDENCE}):\n\n{EVIDENCE.read_text().strip()}"
    write_and_commit(model, version, message, *RESULTS)
    print(f"Proposed: {model} version {version} replaces version {current['version']} in {DESIRED}, "
          f"committed on branch {git('branch', '--show-current')}. Review and merge it to deploy it.")
    return 0


if __name__ == "__main__":
    sys.exit(adopt() if "--adopt" in sys.argv[1:] else propose())
