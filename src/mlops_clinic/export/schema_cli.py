"""`clinic schema infer DATA.csv --target COLUMN [--task ...] [--out FILE] [--force]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    infer = actions.add_parser("infer", help="draft a schema file from a CSV, for you to review")
    infer.add_argument("data", type=Path, help="the CSV file")
    infer.add_argument("--target", required=True, help="the column to predict, as written in the header")
    infer.add_argument("--task", choices=("regression", "classification"),
                       help="default: regression for a numeric target, classification otherwise")
    infer.add_argument("--out", type=Path, help="where to write it (default: DATA.schema.yaml beside the CSV)")
    infer.add_argument("--force", action="store_true", help="overwrite an existing schema file")


def run(args: argparse.Namespace) -> int:
    from mlops_clinic.data.infer import infer
    from mlops_clinic.data.load import DataValidationError
    from mlops_clinic.errors import ClinicError

    out = args.out or args.data.with_name(f"{args.data.stem}.schema.yaml")
    try:
        draft = infer(args.data, args.target, task=args.task)
        if out.exists() and not args.force:
            raise ClinicError(f"{out.name} already exists (perhaps already reviewed)",
                              fix="add --force to overwrite it, or --out to write elsewhere")
    except DataValidationError as err:
        print(f"clinic schema infer: {err}", file=sys.stderr)
        return 1
    except ClinicError as err:
        print(f"clinic schema infer: {err.message}", file=sys.stderr)
        if err.fix:
            print(f"Fix: {err.fix}", file=sys.stderr)
        return 1
    out.write_text(draft.to_yaml(), encoding="utf-8")
    schema = draft.schema
    print(f"Drafted {out.name}: {len(schema.columns)} columns, target {schema.target!r} "
          f"({schema.task}), {len(schema.features)} features"
          + (f", identifier {schema.id!r}" if schema.id else "") + ".")
    for column in schema.columns:
        print(f"  {column.name!r:32} {column.kind:9} {draft.notes.get(column.name, '')}")
    for warning in draft.warnings:
        print(f"Check: {warning}")
    print(f"Review it (ranges, categories, units, which columns to ignore), then:\n"
          f"  clinic export DEST --data {args.data.name} --schema {out.name}")
    return 0
