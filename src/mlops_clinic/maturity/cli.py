"""`clinic maturity show | export | cohort`: the maturity answers from a terminal.

    clinic maturity show [--workspace DIR]                 your profile and roadmap, as text
    clinic maturity export [--workspace DIR] [--out FILE]  your answers file, to hand to an instructor
    clinic maturity cohort INPUT... [--out DIR]            instructors: an anonymised cohort report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlops_clinic import paths
from mlops_clinic.workspace import add_workspace_argument

DEFAULT_EXPORT = "maturity-answers.json"
DEFAULT_COHORT_OUT = paths.REPO_ROOT / "build" / "maturity-cohort"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = sub.add_parser("show", help="print your maturity profile and roadmap")
    add_workspace_argument(show)

    export = sub.add_parser("export", help="write your answers to a file (default maturity-answers.json)")
    add_workspace_argument(export)
    export.add_argument("--out", default=DEFAULT_EXPORT, help="file to write, or - for standard output")

    cohort = sub.add_parser("cohort", help="instructors: anonymised report over many participants")
    cohort.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="a workspace, its maturity folder, an exported answers file, or a folder of them")
    cohort.add_argument("--out", type=Path, default=DEFAULT_COHORT_OUT,
                        help="folder for cohort.html and the CSV files (default build/maturity-cohort)")


def run(args: argparse.Namespace) -> int:
    from mlops_clinic.maturity.answers import MaturityAnswersError

    try:
        return {"show": _show, "export": _export, "cohort": _cohort}[args.action](args)
    except MaturityAnswersError as exc:
        print(f"clinic maturity {args.action}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. --out names a folder, or a folder that cannot be written
        print(f"clinic maturity {args.action}: cannot write {exc.filename}: {exc.strerror}; choose another "
              "--out or check its permissions.", file=sys.stderr)
        return 1


def _show(args) -> int:
    from mlops_clinic.maturity.report import gather, profile_text

    assessment = gather(workspace=args.workspace, example_if_empty=False)
    for notice in assessment.notices:
        print(notice, file=sys.stderr)
    if assessment.profile.overall is None:
        print("No maturity answers yet in this workspace. Answer the checkpoint at the end of each module "
              "(notebooks 00-06), then run this again.")
        return 0
    print(profile_text(assessment))
    return 0


def _export(args) -> int:
    from mlops_clinic.maturity.storage import AnswerStore

    store = AnswerStore(args.workspace)
    answers = store.load()
    for notice in store.notices:
        print(notice, file=sys.stderr)
    if answers.is_empty():
        print(f"clinic maturity export: no answers yet in {store.path}; answer the checkpoints first.",
              file=sys.stderr)
        return 1
    text = answers.to_json(store.bank)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    from mlops_clinic.files import write_atomic

    out = write_atomic(args.out, text)
    print(f"Wrote {answers.answered} answers to {out}. It holds your answers only: no name, no path.")
    return 0


def _cohort(args) -> int:
    from mlops_clinic.maturity.cohort import load_cohort, summary_lines, write_cohort_report

    cohort = load_cohort(args.inputs)
    for problem in cohort.skipped:
        print(f"skipped: {problem}", file=sys.stderr)
    if not cohort.participants:
        print("clinic maturity cohort: no readable answers among the inputs.", file=sys.stderr)
        return 1
    files = write_cohort_report(cohort, args.out)
    print("\n".join(summary_lines(cohort)))
    print(f"Report: {files.html}\nCSV: {files.distribution_csv}, {files.participants_csv}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from mlops_clinic import cli

    return cli.main(["maturity", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
