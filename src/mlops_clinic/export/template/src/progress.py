"""Progress of the long stages: a bar on a terminal, a line every quarter in a log (CI, dvc repro
through a pipe), so a million rows do not look like a hang and a log stays readable."""

import sys
import time


class Progress:
    """Progress.of("prepare", total, unit) ... .update(n) ... .close()."""

    def __init__(self, label: str, total: float | None, unit: str = "rows", scale: float = 1.0):
        self.label, self.total, self.unit, self.scale = label, total, unit, scale
        self.done, self.started, self.next_quarter = 0.0, time.monotonic(), 0.25
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit=unit, unit_scale=True, file=sys.stderr,
                            leave=False, dynamic_ncols=True)

    def update(self, amount: float) -> None:
        self.done += amount
        if self.bar is not None:
            self.bar.update(amount)
            return
        if self.total and self.done / self.total >= self.next_quarter:
            while self.done / self.total >= self.next_quarter:
                self.next_quarter += 0.25
            print(f"{self.label}: {min(self.done / self.total, 1):.0%} ({self._amount(self.done)} of "
                  f"{self._amount(self.total)}, {time.monotonic() - self.started:.0f} s)",
                  file=sys.stderr, flush=True)

    def _amount(self, value: float) -> str:
        return f"{value / self.scale:,.1f} {self.unit}" if self.scale != 1 else f"{value:,.0f} {self.unit}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
