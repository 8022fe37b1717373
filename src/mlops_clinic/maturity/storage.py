"""The answers file in the workspace: maturity/answers.json, never half-written, never lost.

- Every change is read-modify-write under an exclusive lock (two notebooks saving at once both
  keep their answers), and the new file is written to a temporary file in the same folder, flushed
  to disk and renamed over the old one with os.replace, which is atomic: a crash leaves either the
  old file or the new one, never a mix.
- A file that cannot be read (bad JSON, answers the bank does not know) is renamed to
  answers.corrupt-N.json, kept for the participant to repair, and reported in a notice that names
  it; the store then starts from empty answers instead of failing the lesson.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from mlops_clinic.maturity.answers import Answers, MaturityAnswersError, parse_answers
from mlops_clinic.maturity.bank import Bank, load_bank
from mlops_clinic.workspace import Workspace

ANSWERS_FILE = "answers.json"
LOCK_FILE = ".answers.lock"

try:  # POSIX
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


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
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Answers()
        try:
            return parse_answers(json.loads(text), self.bank, origin=self.path.name)
        except (json.JSONDecodeError, MaturityAnswersError) as exc:
            kept = self._set_aside()
            reason = str(exc).splitlines()[0]
            self.notices.append(
                f"Your maturity answers file {self.path} could not be read ({reason}). It was kept as "
                f"{kept.name} in the same folder, and your answers start again from empty. To get them "
                f"back, repair that file and pass it as maturity_answers.")
            return Answers()

    def _set_aside(self) -> Path:
        number = 1
        while (self.directory / f"answers.corrupt-{number}.json").exists():
            number += 1
        kept = self.directory / f"answers.corrupt-{number}.json"
        os.replace(self.path, kept)
        return kept

    def _write(self, answers: Answers) -> None:
        text = answers.to_json(self.bank)
        # mkstemp makes the file private (0600); keep the mode an ordinary file here would have.
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".answers-", suffix=".tmp")
        try:
            os.chmod(temporary, mode)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def _locked(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a+b") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            else:
                lock.seek(0)
                msvcrt.locking(lock.fileno(), msvcrt.LK_LOCK, 1)  # retries for up to 10 s
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(lock, fcntl.LOCK_UN)
                else:
                    lock.seek(0)
                    msvcrt.locking(lock.fileno(), msvcrt.LK_UNLCK, 1)
