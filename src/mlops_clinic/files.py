"""Writing files safely: atomically (a crash leaves the old file or the new one, never half of one),
privately (secrets are 0600 from the first byte), CSV cells a spreadsheet will not run, and a file
that cannot be read set aside rather than overwritten."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

# A CSV cell that starts with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); a participant's name or an error message could start with one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_atomic(path: str | os.PathLike, text: str, *, mode: int = 0o644) -> Path:
    """Write `text` to a temporary file beside `path` and rename it over `path` (atomic on POSIX and
    Windows). `mode` is the new file's permission bits; mkstemp alone would leave 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_private(path: str | os.PathLike, text: str) -> Path:
    """Write a secret: the file is created 0600 (no moment when others could read it), then
    renamed over `path`."""
    return write_atomic(path, text, mode=0o600)


def set_aside(path: str | os.PathLike) -> Path:
    """Rename a file the kit cannot read to <stem>.corrupt-N<suffix> beside it (the first free N):
    the participant's data stays on disk to repair, and the next write starts clean."""
    path = Path(path)
    number = 1
    while os.path.lexists(path.with_name(f"{path.stem}.corrupt-{number}{path.suffix}")):
        number += 1
    kept = path.with_name(f"{path.stem}.corrupt-{number}{path.suffix}")
    os.replace(path, kept)
    return kept


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: strings that would start a formula get a
    leading apostrophe; numbers and everything else are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
