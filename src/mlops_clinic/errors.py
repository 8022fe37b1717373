"""One root for the kit's own errors: a message that says what went wrong, and the fix.

    raise ClinicError("the grid names no notebook", fix="add `notebooks: [notebooks/00_welcome.ipynb]`")

`clinic` catches ClinicError once (cli.py) and prints the message and the fix, exit code 1, no
traceback. In a notebook the same error shows as those two lines too (`_render_traceback_`). Each
part of the kit derives its own class (BuildError, StageError, ...) so callers can catch what they
expect, and everything else can catch ClinicError.
"""

from __future__ import annotations

# The one wording of the advice when the installation itself may be at fault.
DOCTOR = "run `clinic doctor`: it checks Python, the packages, disk, memory and ports, with a fix for each"


class ClinicError(Exception):
    """An error a participant or an instructor can fix; `fix` says how (or None when the message
    already does)."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\nFix: {self.fix}"

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the participant did nothing wrong in
        # Python, and a stack of kit internals would hide the sentence that matters.
        return [f"{type(self).__name__}: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines())]
