"""Reconcile: make the running service serve what git says. The idea behind Flux and Argo CD,
shown without a cluster: desired state in git, a loop that compares it with reality and converges.

    python deploy/reconcile.py --service http://127.0.0.1:3000   # registry alias and service
    python deploy/reconcile.py                                   # registry alias only

1. desired: deploy/champion.yaml as committed at HEAD (uncommitted edits do not count: only a
   reviewed, merged change may deploy);
2. actual: the version the registry alias `champion` names, which the service follows, and the
   version the service answers with;
3. converge: if the alias differs, move it; the service loads the new version by itself;
4. verify: ask the service until it answers with the desired version (or fail after --timeout).

A controller runs this in a loop (every minute, say); here you run it by hand.
"""

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from schema import EXAMPLE_HOUSE  # noqa: E402 (the project's data contract)

ALIAS = "champion"


def desired_state() -> dict:
    text = subprocess.run(["git", "show", "HEAD:deploy/champion.yaml"], check=True,
                          capture_output=True, text=True).stdout
    return yaml.safe_load(text)


def served_version(service: str) -> str:
    """Ask the service for one estimate; every answer names the model version that made it."""
    request = urllib.request.Request(f"{service}/predict", data=json.dumps({"house": EXAMPLE_HOUSE}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["model_version"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", help="the service's URL; without it, only the registry is reconciled")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the service")
    args = parser.parse_args()

    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    want = desired_state()
    model, version = want["model"], str(want["version"])
    print(f"desired  (git HEAD):  {model} version {version}")
    try:
        aliased = str(client.get_model_version_by_alias(model, ALIAS).version)
    except MlflowException:
        aliased = None
    print(f"registry ({model}@{ALIAS}): version {aliased}")
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
