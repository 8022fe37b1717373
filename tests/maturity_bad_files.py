"""Answers files that cannot be read, as participants' machines and copies make them, with the
words each reason must contain. Shared by the storage, widget and cohort tests."""

from pathlib import Path

DEPTH = 100_000
A_FOLDER = None  # content of an "answers file" that is a folder

UNREADABLE = {  # name: (content, words of the reason)
    # Saved by a Windows editor: é is byte 0xe9 in Windows-1252.
    "not UTF-8": ('{"serving": {"package": "café"}}'.encode("cp1252"),
                  "is not UTF-8 text (byte 0xe9 at position 28); save it again as UTF-8"),
    "nested 100,000 deep": (b"[" * DEPTH + b"]" * DEPTH, "is nested too deeply to be an answers file"),
    "empty": (b"", "is empty"),
    "a folder": (A_FOLDER, "is a folder, not a file"),
}

# Valid JSON with two answers the bank does not accept: the reason is several lines long.
TWO_PROBLEMS = '{"serving": {"package": 12, "rollback": "sometimes"}}'
TWO_PROBLEM_LINES = ("  - serving.package: 12 is not an answer; use 0 (ad hoc)",
                     "  - serving.rollback: 'sometimes' is not an answer; use 0 (ad hoc)")


def write(path: Path, content: bytes | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is A_FOLDER:
        path.mkdir()
        (path / "note.txt").write_text("a folder where the answers file should be")
    else:
        path.write_bytes(content)


def kept_as_it_was(kept: Path, content: bytes | None) -> bool:
    """The file set aside is the participant's, unchanged: the same bytes, or the same folder."""
    if content is A_FOLDER:
        return (kept / "note.txt").is_file()
    return kept.read_bytes() == content
