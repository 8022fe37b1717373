"""Reconcile: make the running service serve what git says. The idea behind Flux and Argo CD,
without a cluster: the desired state in git, a loop that compares it with what runs, and converges.

    python deploy/reconcile.py --service http://127.0.0.1:3000   # registry alias and service
    python deploy/reconcile.py                                   # registry alias only

1. desired: deploy/champion.yaml as committed at HEAD (uncommitted edits do not deploy: only a
   reviewed, merged change may);
2. actual: the version the registry alias `champion` names, which the service follows, and the
   version the service answers with;
3. converge: if the alias differs, move it; the service loads the new version by itself;
4. verify: ask the service until it answers with the desired version (or fail after --timeout).

A scheduler runs this every few minutes in production; here you run it by hand.
"""

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from settings import ALIAS, mlflow_client, tracking_uri  # noqa: E402


def desired_state() -> dict:
    done = subprocess.run(["git", "show", "HEAD:deploy/champion.yaml"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("deploy/champion.yaml is not committed: commit it (ci/promote.py does) first")
    return yaml.safe_load(done.stdout) or {}


def served_version(service: str) -> str:
    """Ask the service for one prediction; every answer names the version that made it."""
    body = (ROOT / "serving" / "example.json").read_bytes()
    request = urllib.request.Request(f"{service.rstrip('/')}/predict", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["model_version"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", help="the service's URL; without it, only the registry is reconciled")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the service")
    args = parser.parse_args()
    from mlflow.exceptions import MlflowException

    client = mlflow_client()
    want = desired_state()
    model, version = want.get("model"), want.get("version")
    if version is None:
        print("deploy/champion.yaml names no version yet: run `python ci/run_pipeline.py`, whose last "
              "step proposes the first champion.")
        return 1
    version = str(version)
    print(f"desired  (git HEAD):  {model} version {version}")
    try:
        aliased = str(client.get_model_version_by_alias(model, ALIAS).version)
    except MlflowException:
        aliased = None
    print(f"registry ({model}@{ALIAS}): version {aliased}   ({tracking_uri()})")
    if args.service:
        print(f"service  (answers):   version {served_version(args.service)}")
    if aliased != version:
        client.set_registered_model_alias(model, ALIAS, version)
        print(f"converge: moved {model}@{ALIAS} from version {aliased} to {version}")
    if args.service:
        deadline = time.monotonic() + args.timeout
        while (now := served_version(args.service)) != version:
            if time.monotonic() > deadline:
                print(f"NOT IN SYNC: the service still answers with version {now} after "
                      f"{args.timeout:.0f} s; read its log.")
                return 1
            time.sleep(0.5)
        print(f"in sync:  the service answers with version {version}, as git says")
    else:
        print(f"in sync:  {model}@{ALIAS} is version {version}, as git says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
