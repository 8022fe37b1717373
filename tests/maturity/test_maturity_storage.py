"""The answers file: merged, written atomically under a lock, corrupt files kept aside, never lost."""

import json
import multiprocessing
import os

import pytest
from maturity_bad_files import TWO_PROBLEM_LINES, TWO_PROBLEMS, UNREADABLE, kept_as_it_was, write

from mlops_clinic.maturity import storage
from mlops_clinic.maturity.answers import Answers
from mlops_clinic.maturity.bank import load_bank
from mlops_clinic.maturity.storage import AnswerStore


def test_answers_persist_and_other_modules_answers_are_kept(workspace):
    AnswerStore(workspace).update(Answers({"business": {"value": 1}}))
    AnswerStore(workspace).update(Answers({"serving": {"package": 2}}))
    AnswerStore(workspace).update(Answers({"business": {"use_cases": 3}}))
    saved = AnswerStore(workspace).load()
    assert saved.checkpoints == {"business": {"use_cases": 3, "value": 1}, "serving": {"package": 2}}
    path = workspace.maturity_dir / "answers.json"
    assert json.loads(path.read_text())["format"] == "mlops-clinic maturity answers"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)  # not mkstemp's private 0600


def test_recording_not_answered_never_overwrites_an_answer(workspace):
    store = AnswerStore(workspace)
    store.update(Answers({"serving": {"package": 2}}))
    saved = store.update(Answers({"serving": {"package": None, "rollback": None}}), only_missing=True)
    assert saved.checkpoints["serving"] == {"package": 2, "rollback": None}


def test_an_empty_workspace_has_empty_answers_and_no_file(workspace):
    assert AnswerStore(workspace).load() == Answers()
    assert not (workspace.maturity_dir / "answers.json").exists()


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(workspace, monkeypatch):
    store = AnswerStore(workspace)
    store.update(Answers({"serving": {"package": 2}}))
    before = store.path.read_text()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(storage.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.update(Answers({"serving": {"package": 3}}))
    monkeypatch.undo()
    assert store.path.read_text() == before
    assert sorted(p.name for p in workspace.maturity_dir.iterdir()) == [".answers.lock", "answers.json"]


def _writer(root: str, checkpoint: str, rounds: int) -> None:
    # One participant's kernel saving one checkpoint again and again; the last round saves level 3.
    from mlops_clinic.maturity.answers import Answers as A
    from mlops_clinic.maturity.storage import AnswerStore as S

    questions = [q.id for q in load_bank().checkpoint(checkpoint).questions]
    for round_ in range(rounds):
        level = 3 if round_ == rounds - 1 else round_ % 3
        S(root).update(A({checkpoint: {q: level for q in questions}}))


def _reader(root: str, stop, bad) -> None:
    path = os.path.join(root, "maturity", "answers.json")
    while not stop.is_set():
        try:
            with open(path, encoding="utf-8") as file:
                json.load(file)
        except FileNotFoundError:
            pass
        except ValueError:
            with bad.get_lock():
                bad.value += 1


def test_concurrent_writers_lose_nothing_and_readers_never_see_half_a_file(workspace):
    context = multiprocessing.get_context("fork")
    stop, bad = context.Event(), context.Value("i", 0)
    reader = context.Process(target=_reader, args=(str(workspace.root), stop, bad))
    reader.start()
    writers = [context.Process(target=_writer, args=(str(workspace.root), cp.id, 25))
               for cp in load_bank().checkpoints]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
    stop.set()
    reader.join(10)
    assert all(p.exitcode == 0 for p in writers + [reader])
    assert bad.value == 0, f"a reader saw a half-written file {bad.value} times"
    saved = AnswerStore(workspace).load()
    for checkpoint in load_bank().checkpoints:
        assert saved.checkpoints[checkpoint.id] == {q.id: 3 for q in checkpoint.questions}
    assert not list(workspace.maturity_dir.glob("*.tmp"))


@pytest.mark.parametrize("content, reason", [
    ("{this is not json", "Expecting property name"),
    ('{"checkpoints": {"serving": {"package": 12}}}', "answers.json cannot be used"),
    ("[1, 2, 3]", "expected a mapping"),
])
def test_a_corrupted_file_is_kept_aside_with_a_message_naming_it(workspace, content, reason):
    store = AnswerStore(workspace)
    store.directory.mkdir(parents=True, exist_ok=True)
    store.path.write_text(content)
    assert store.load() == Answers()
    kept = workspace.maturity_dir / "answers.corrupt-1.json"
    assert kept.read_text() == content  # kept, byte for byte, not deleted
    assert len(store.notices) == 1
    notice = store.notices[0]
    assert str(store.path) in notice and "answers.corrupt-1.json" in notice and reason in notice
    # The participant goes on: new answers are saved, and the kept file stays.
    store.update(Answers({"serving": {"package": 1}}))
    assert AnswerStore(workspace).load().checkpoints == {"serving": {"package": 1}}
    assert kept.read_text() == content


def test_a_second_corruption_does_not_overwrite_the_first_one_kept(workspace):
    store = AnswerStore(workspace)
    store.directory.mkdir(parents=True, exist_ok=True)
    for text in ("first", "second"):
        store.path.write_text(text)
        store.load()
    assert (workspace.maturity_dir / "answers.corrupt-1.json").read_text() == "first"
    assert (workspace.maturity_dir / "answers.corrupt-2.json").read_text() == "second"


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_unreadable_file_is_kept_aside_and_the_participant_goes_on(workspace, name):
    content, reason = UNREADABLE[name]
    other = workspace.maturity_dir / "answers.corrupt-1.json"  # an earlier file kept aside
    write(other, b'{"serving": {"package": 3}}')
    store = AnswerStore(workspace)
    write(store.path, content)
    assert store.load() == Answers()
    kept = workspace.maturity_dir / "answers.corrupt-2.json"
    assert kept_as_it_was(kept, content)
    assert other.read_bytes() == b'{"serving": {"package": 3}}'  # nothing kept earlier is lost
    (notice,) = store.notices
    assert str(store.path) in notice and kept.name in notice and reason in notice
    store.update(Answers({"serving": {"package": 1}}))
    assert AnswerStore(workspace).load().checkpoints == {"serving": {"package": 1}}


def test_the_notice_gives_the_whole_reason_not_its_first_line(workspace):
    store = AnswerStore(workspace)
    write(store.path, TWO_PROBLEMS.encode())
    store.load()
    (notice,) = store.notices
    assert "answers.json cannot be used (2 problem(s))" in notice
    for line in TWO_PROBLEM_LINES:
        assert line in notice
