"""`clinic data generate [--out DIR] [--check]`."""

from __future__ import annotations


def add_arguments(parser) -> None:
    from mlops_clinic.data import generate

    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate.add_arguments(actions.add_parser(
        "generate", help="write the datasets (deterministic), or --check them"))


def run(args) -> int:
    from mlops_clinic.data import generate

    return generate.run(args)
