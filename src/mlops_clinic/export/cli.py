"""`clinic export DEST [--dataset NAME | --data FILE --schema FILE] [--remote PATH|URL]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, help="the new repository's folder (must not exist, or be empty)")
    parser.add_argument("--dataset", help="a kit dataset: houses (default), construction, transport")
    parser.add_argument("--data", type=Path, help="your own CSV file (with --schema)")
    parser.add_argument("--schema", type=Path, help="its schema file, drafted by `clinic schema infer` and reviewed")
    parser.add_argument("--remote", help="the DVC remote: a folder or a URL (default: DEST-dvc-storage beside DEST)")
    parser.add_argument("--workspace", type=Path,
                        help="the workshop workspace whose params and champion choice to carry (default: yours)")
    parser.add_argument("--no-workspace", action="store_true", help="carry nothing from the workshop")


def run(args: argparse.Namespace) -> int:
    from mlops_clinic.errors import ClinicError
    from mlops_clinic.export import export

    try:
        exported = export(args.dest, dataset=args.dataset, data=args.data, schema=args.schema,
                          remote=args.remote, workspace=_workspace(args))
    except ClinicError as err:
        print(f"clinic export: {err.message}", file=sys.stderr)
        if err.fix:
            print(f"Fix: {err.fix}", file=sys.stderr)
        return 1
    print(summary(exported, args.dest))
    return 0


def _workspace(args):
    if args.no_workspace:
        return None
    from mlops_clinic.workspace import Workspace

    workspace = Workspace.resolve(args.workspace)
    return workspace if workspace.project.is_dir() else None


def summary(exported, shown: Path) -> str:
    source = exported.source
    lines = [f"Exported {exported.project} to {shown}: {exported.files} files, {source.rows:,} rows of "
             f"{source.schema.task} data ({source.schema.target}), a git repository with its data in DVC "
             f"({exported.seconds:.1f} s).",
             f"DVC remote: {exported.remote_shown}" + (", data pushed" if exported.pushed else
                                                        " (run `dvc push` once its credentials are set)")]
    if exported.carried.notes:
        lines.append("Carried from your workshop: " + "; ".join(exported.carried.notes) + ".")
    lines += ["Next (the README says more):",
              f"  cd {shown}",
              "  pip install -r requirements.txt      # the workshop's environment has them already",
              "  python ci/run_pipeline.py            # what CI runs: data, pipeline, model tests, promotion",
              "  python deploy/reconcile.py           # the champion alias follows deploy/champion.yaml",
              "  bentoml serve serving.service:Predictor --host 127.0.0.1 --port 3000"]
    return "\n".join(lines)
