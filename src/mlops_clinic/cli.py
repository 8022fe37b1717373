"""The `clinic` command. Each subcommand lives in its own module with add_arguments() and run()."""

from __future__ import annotations

import argparse
import importlib
import sys

from mlops_clinic.errors import ClinicError

# name -> (module, one-line help). Modules are imported only when their command runs, so
# `clinic doctor` does not pay for importing papermill or MLflow.
COMMANDS = {
    "lab": ("mlops_clinic.lab", "open the workshop in JupyterLab (at notebooks/00)"),
    "doctor": ("mlops_clinic.doctor", "check this machine is ready for the workshop"),
    "run": ("mlops_clinic.run", "run the lessons and solutions headless, with a summary table"),
    "batch": ("mlops_clinic.batch.cli", "instructors: papermill batches of notebooks x parameters, and grading"),
    "build": ("mlops_clinic.build", "regenerate exercises/ and committed outputs (--check: fail if stale)"),
    "stop": ("mlops_clinic.stop", "stop every server running in the workspace (by PID); deletes nothing"),
    "reset": ("mlops_clinic.reset", "delete the workspace and start a fresh one (asks first)"),
    "data": ("mlops_clinic.data.cli", "regenerate the datasets (`clinic data generate [--check]`)"),
    "export": ("mlops_clinic.export.cli", "take it home: the pipeline as your own repository, on a kit dataset or your CSV"),
    "schema": ("mlops_clinic.export.schema_cli", "draft a schema file from your CSV (`clinic schema infer DATA --target COLUMN`)"),
    "maturity": ("mlops_clinic.maturity.cli", "maturity answers: show, export, and a cohort report for instructors"),
    "pins": ("mlops_clinic.pins", "compare (or --write) environment.yml with requirements.lock"),
    "progress": ("mlops_clinic.progress.cli", "how far you are per module; instructors: --cohort DIR... or --server URL (the room, live)"),
    "agenda": ("mlops_clinic.agenda", "instructors: one-day and half-day agendas from the notebooks' minutes (--write, --check)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clinic", description="The MLOps Clinic kit.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    sub = argparse.ArgumentParser(prog=f"clinic {args.command}", description=COMMANDS[args.command][1])
    module.add_arguments(sub)
    try:
        return module.run(sub.parse_args(rest))
    except ClinicError as error:
        # The kit's own errors are sentences with their fix: no traceback to read past.
        print(f"clinic {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
