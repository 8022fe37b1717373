"""Progress: what a participant has done, per module, recorded in their workspace as they go.

    from mlops_clinic import progress
    progress.show()                                   # the table: lesson run, checks correct, checkpoint
    progress.lesson_end("07")                         # the last cell of lesson 07 (00-06: the checkpoint)
    progress.join_room("http://192.168.1.20:5000")    # opt in: the room's server sees your outcomes

Every `q.check(...)` notes its outcome (question id, outcome, time; never the answer or any code)
in <workspace>/progress/checks.json. Terminal: `clinic progress`; instructors: `clinic progress
--cohort WORKSPACE_OR_FILE...` and `clinic progress --server URL` (the room, live).

One concern per module:

    store.py   the progress file: locked, atomic, a corrupt file kept aside
    views.py   one participant's snapshot and the per-module table (text and HTML)
    room.py    opt-in publishing to the room's MLflow server, and reading the room back
    cohort.py  instructors: many workspaces or exported files, or the room, in one table
    cli.py     `clinic progress`
"""

from __future__ import annotations

from mlops_clinic.workspace import Workspace


def note_check(question: str, outcome: str, *, workspace=None) -> str | None:
    """Record a check's outcome (Question.check calls this) and, when the workspace shares its
    progress with a room, send it there. Never raises: a check's feedback matters more than its
    record, so a problem comes back as one sentence to show under it (None when all went well)."""
    return _record(lambda store: store.record_check(question, outcome), workspace)


def lesson_end(module: str, *, workspace=None) -> str | None:
    """Record that lesson `module` reached its end (the maturity checkpoint calls this; in 07, its
    last cell). Returns a sentence to show when something went wrong, else None."""
    return _record(lambda store: store.record_lesson_end(module), workspace)


def _record(change, workspace) -> str | None:
    from mlops_clinic.progress.store import ProgressStore

    try:
        ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
        store = ProgressStore(ws)
        change(store)
    except Exception as exc:  # noqa: BLE001 - a full disk or a read-only folder must not break a check
        return f"(Your progress could not be saved: {type(exc).__name__}: {exc})"
    notices = list(store.notices)
    shared = _share(ws)
    return " ".join(notices + ([shared] if shared else [])) or None


def _share(ws: Workspace) -> str | None:
    """Send the workspace's snapshot to its room, if it has one; a sentence if that failed."""
    from mlops_clinic.progress.room import RoomError, load_room, publish
    from mlops_clinic.progress.views import workspace_snapshot

    try:
        room = load_room(ws)
        if room is not None:
            publish(room, workspace_snapshot(ws)[0])
    except RoomError as exc:
        return (f"(Saved here, not yet shared with the room: {exc.message} It goes with your next check.)")
    return None


def show(workspace=None) -> None:
    """Show the progress table of the workspace under the cell."""
    from mlops_clinic.progress.views import show as show_table

    show_table(workspace)


def join_room(server: str, account: str | None = None, *, workspace=None):
    from mlops_clinic.progress.room import join_room as join

    return join(server, account, workspace=workspace)


def leave_room(*, workspace=None) -> None:
    from mlops_clinic.progress.room import leave_room as leave

    leave(workspace=workspace)


join_room.__doc__ = "Share this workspace's progress with the room's MLflow server (see progress.room)."
leave_room.__doc__ = "Stop sharing this workspace's progress with the room."
