"""Propose the model the pipeline just trained as the champion: write deploy/champion.yaml and
commit it with the pipeline's results. CI runs this after the quality gate has passed; the commit
lands on the branch, and the branch's pull request is the proposal a person reviews.

    python ci/promote.py

The first model that passes the gate becomes the first champion. Nothing here changes what is
served: once the promotion is merged, deploy/reconcile.py makes the service serve it.
"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DESIRED = ROOT / "deploy" / "champion.yaml"
RESULTS = ["dvc.lock", "metrics.json", "models/run.json"]
HEADER = """\
# Desired state: the model version the service must serve. Change it only in a reviewed commit
# (a pull request); deploy/reconcile.py makes the registry alias and the service match it. To roll
# back a promotion, `git revert` its commit and reconcile.
"""


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def main() -> int:
    candidate = json.loads((ROOT / "models" / "run.json").read_text())
    model, version = candidate["registered_model"], int(candidate["version"])
    current = (yaml.safe_load(DESIRED.read_text()) or {}) if DESIRED.is_file() else {}
    if current.get("model") == model and str(current.get("version")) == str(version):
        print(f"{model} version {version} is already the desired champion: nothing to propose.")
        return 0
    metrics = json.loads((ROOT / "metrics.json").read_text())
    score = metrics.get("test", {}).get(metrics["metric"])
    was = f"version {current['version']}" if current.get("version") is not None else "none yet"
    message = (f"Promote {model} version {version} (champion before: {was})\n\n"
               f"It passed the quality gate (tests/). Test {metrics['metric']}: {score}.")
    kept = {key: value for key, value in current.items() if key not in ("model", "version")}
    DESIRED.write_text(HEADER + yaml.safe_dump({"model": model, "version": version, **kept},
                                               sort_keys=False, allow_unicode=True))
    git("add", str(DESIRED), *[p for p in RESULTS if (ROOT / p).exists()])
    git("commit", "--quiet", "-m", message)
    print(f"Proposed: {model} version {version} (champion before: {was}) in deploy/champion.yaml, committed on "
          f"branch {git('branch', '--show-current')}. Review and merge it, then reconcile to deploy it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
