"""The answers file in the workspace: maturity/answers.json, never half-written, never lost.

- Every change is read-modify-write under an exclusive lock (two notebooks saving at once both
  keep their answers), and the new file is written to a temporary file in the same folder, flushed
  to disk and renamed over the old one with os.replace, which is atomic: a crash leaves either the
  old file or the new one, never a mix.
- A file that cannot be read (not UTF-8, empty, bad JSON, nested too deeply, a folder in its
  place, answers the bank does not know) is renamed to answers.corrupt-N.json, kept for the
  participant to repair, and reported in a notice that names it and gives the whole reason; the
  store then starts from empty answers instead of failing the lesson.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock

from mlops_clinic.files import set_aside, write_atomic
from mlops_clinic.maturity.answers import (
    Answers,
    AnswersFileError,
    MaturityAnswersError,
    parse_answers,
    read_answers_file,
)
from mlops_clinic.maturity.bank import Bank, load_bank
from mlops_clinic.workspace import Workspace

ANSWERS_FILE = "answers.json"
LOCK_FILE = ".answers.lock"


class AnswerStore:
    """The maturity answers of one workspace."""

    def __init__(self, workspace: Workspace | str | os.PathLike | None = None, bank: Bank | None = None):
        ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
        self.directory = ws.maturity_dir
        self.path = self.directory / ANSWERS_FILE
        self.bank = bank or load_bank()
        self.notices: list[str] = []  # what went wrong while reading, in words for the participant

    def load(self) -> Answers:
        """The saved answers (empty if none); a corrupted file is set aside with a notice."""
        if not self.path.exists():
            return Answers()
        with self._locked():
            return self._read()

    def update(self, answers: Answers, *, only_missing: bool = False) -> Answers:
        """Merge `answers` into the file (keeping every other answer) and return the result.

        With only_missing, questions already in the file keep their value: used to record "not
        answered" without ever overwriting a real answer.
        """
        with self._locked():
            current = self._read()
            merged = current.merged(answers, only_missing=only_missing)
            if merged != current or not self.path.exists():
                self._write(merged)
            return merged

    # --- inside the lock -----------------------------------------------------------------------
    def _read(self) -> Answers:
        if not os.path.lexists(self.path):
            return Answers()
        try:
            return parse_answers(read_answers_file(self.path), self.bank, origin=self.path.name)
        except MaturityAnswersError as exc:
            kept = set_aside(self.path)
            reason = f"It {exc.reason}." if isinstance(exc, AnswersFileError) else str(exc)
            # The reason comes last and whole: a list of problems reads on below it.
            self.notices.append(
                f"Your maturity answers file {self.path} could not be used, so it was kept as {kept.name} "
                "in the same folder and your answers start again from empty. To get them back, repair "
                f"that file and pass it as maturity_answers. {reason}")
            return Answers()

    def _write(self, answers: Answers) -> None:
        # Keep the mode the file had (or an ordinary file's), not the temporary file's private 0600.
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        write_atomic(self.path, answers.to_json(self.bank), mode=mode)

    def _locked(self) -> FileLock:
        # filelock: the same OS lock on every platform, released when its holder dies, so a crashed
        # kernel never leaves the answers locked. A holder writes for milliseconds: wait for it.
        self.directory.mkdir(parents=True, exist_ok=True)
        return FileLock(self.directory / LOCK_FILE)
