"""Run the CI pipeline on this machine, as CI runs it, with one command:

    python ci/run_pipeline.py          # the steps below, in order; stops at the first failure
    python ci/run_pipeline.py --list   # the steps and their commands, without running them

The commands are read from .github/workflows/pipeline.yml, by step name: the workflow is the one
source, so what runs here cannot drift from what CI runs. The steps that only make sense on CI
(check-out, installing Python and the pinned packages, configuring git and the DVC remote,
uploading results, opening the pull request) are skipped: your clone and environment are here.
"""

import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOW = Path(".github/workflows/pipeline.yml")
JOB = "pipeline"
LOCAL_STEPS = [
    "Fetch the data",
    "Reproduce the pipeline",
    "Test the model (quality gate)",
    "Propose the promotion",
]


def workflow_steps() -> dict:
    workflow = yaml.safe_load((PROJECT / WORKFLOW).read_text())
    return {step["name"]: step for step in workflow["jobs"][JOB]["steps"] if "name" in step}


def main(argv: list[str]) -> int:
    steps = workflow_steps()
    missing = [name for name in LOCAL_STEPS if "run" not in steps.get(name, {})]
    if missing:
        print(f"{WORKFLOW} has no step named {', '.join(map(repr, missing))} with a `run:` "
              "command: rename the step back, or update LOCAL_STEPS here.")
        return 2
    for number, name in enumerate(LOCAL_STEPS, 1):
        command = steps[name]["run"].strip()
        print(f"--- step {number}/{len(LOCAL_STEPS)}: {name}", flush=True)
        if "--list" in argv:
            print("    " + command.replace("\n", "\n    "))
            continue
        # bash -e, as GitHub runs a `run:` block: the first failing command fails the step.
        done = subprocess.run(["bash", "-e", "-c", command], cwd=PROJECT)
        if done.returncode != 0:
            print(f"FAILED: '{name}' (exit code {done.returncode}). The steps after it did not "
                  "run: nothing was proposed.", flush=True)
            return 1
    if "--list" not in argv:
        print("PASSED: every step ran.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
