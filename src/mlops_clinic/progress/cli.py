"""`clinic progress`: how far you are, per module; for instructors, the cohort or the room.

    clinic progress [--workspace DIR]                     your table: lesson run, checks correct, checkpoint
    clinic progress --export FILE [--workspace DIR]       your progress as a file to hand in (outcomes only)
    clinic progress --cohort INPUT... [--out FILE.csv]    instructors: workspaces or exported files
    clinic progress --server URL [--out FILE.csv]         instructors: the room, live, from its MLflow server

For --server, the admin's credentials come from MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD
(never from the command line, which every local user can read). To follow the room during a session:
`watch -n 30 clinic progress --server URL`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlops_clinic.workspace import add_workspace_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_workspace_argument(parser)
    views = parser.add_mutually_exclusive_group()
    views.add_argument("--export", metavar="FILE", help="write your progress to FILE (or - for standard output)")
    views.add_argument("--cohort", nargs="+", metavar="INPUT",
                       help="instructors: workspaces, exported progress files, or folders of them")
    views.add_argument("--server", metavar="URL", help="instructors: the room's MLflow server")
    parser.add_argument("--out", type=Path, metavar="FILE.csv",
                        help="with --cohort or --server: also write the table as CSV")


def run(args: argparse.Namespace) -> int:
    from mlops_clinic.progress.room import RoomError
    from mlops_clinic.progress.store import ProgressFileError

    if args.out is not None and not (args.cohort or args.server):
        print("clinic progress: --out goes with --cohort or --server.", file=sys.stderr)
        return 2
    try:
        if args.cohort:
            return _cohort(args)
        if args.server:
            return _server(args)
        if args.export:
            return _export(args)
        return _show(args)
    except (RoomError, ProgressFileError) as exc:
        print(f"clinic progress: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # --out or --export names a folder, or a folder that cannot be written
        print(f"clinic progress: cannot write {exc.filename}: {exc.strerror}; choose another file or check "
              "its permissions.", file=sys.stderr)
        return 1


def _show(args) -> int:
    from mlops_clinic.progress.views import module_rows, progress_text, workspace_snapshot

    snapshot, notices = workspace_snapshot(args.workspace)
    for notice in notices:
        print(notice, file=sys.stderr)
    print(progress_text(module_rows(snapshot)))
    return 0


def _export(args) -> int:
    from mlops_clinic.files import write_atomic
    from mlops_clinic.progress.views import workspace_snapshot

    snapshot, notices = workspace_snapshot(args.workspace, strict=True)
    for notice in notices:
        print(notice, file=sys.stderr)
    text = json.dumps(snapshot.to_dict(), indent=2) + "\n"
    if args.export == "-":
        sys.stdout.write(text)
        return 0
    out = write_atomic(args.export, text)
    print(f"Wrote your progress to {out}: outcomes of checks, lessons run and how many checkpoint questions "
          "you answered. No answers, no code, no name, no path.")
    return 0


def _cohort(args) -> int:
    from mlops_clinic.progress.cohort import cohort_text, load_cohort, write_csv

    participants, skipped = load_cohort(args.cohort)
    for problem in skipped:
        print(f"skipped: {problem}", file=sys.stderr)
    if not participants:
        print("clinic progress: no readable progress among the inputs.", file=sys.stderr)
        return 1
    print(cohort_text(participants))
    if args.out:
        print(f"CSV: {write_csv(participants, args.out)}")
    return 0


def _server(args) -> int:
    from mlops_clinic.progress.cohort import Participant, cohort_text, write_csv
    from mlops_clinic.progress.room import read_room

    seats = read_room(args.server)
    if not seats:
        print(f"Nobody shares their progress on {args.server} yet: participants join with "
              "progress.join_room(URL) in a notebook.")
        return 0
    participants = [Participant(seat.participant, seat.snapshot, seat.updated) for seat in seats]
    print(cohort_text(participants, with_updated=True))
    if args.out:
        print(f"CSV: {write_csv(participants, args.out)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from mlops_clinic import cli

    return cli.main(["progress", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
