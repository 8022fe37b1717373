"""The cohort view for instructors: many participants' answers, anonymised, in one report.

    clinic maturity cohort WORKSPACE_OR_FILE... [--out DIR]

Each input is a participant's workspace (its maturity/answers.json), a maturity folder, an exported
answers file, or a folder of exported answers files (one participant each). Participants become
"participant 1..n" in a stable order that does not depend on names: sorted by a hash of their
answers (then by input position, for identical answers). The report names no person, file or path.

Written to --out: cohort.html (self-contained: the heatmap embedded), cohort-distribution.csv
(per dimension, how many participants are at each level) and cohort-participants.csv (one row per
anonymous participant); CSV cells that a spreadsheet would run as a formula are written as text.

A participant whose file cannot be read (not UTF-8, empty, nested too deeply, a folder in its
place, answers the bank does not know) is left out with the whole reason, and the report is made
from the others.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import textwrap
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mlops_clinic import figures
from mlops_clinic.files import spreadsheet_safe, write_atomic
from mlops_clinic.maturity.answers import (
    Answers,
    AnswersFileError,
    MaturityAnswersError,
    parse_answers,
    read_answers_file,
)
from mlops_clinic.maturity.bank import Bank, Dimension, NextStep, load_bank
from mlops_clinic.maturity.document import to_html
from mlops_clinic.maturity.scoring import Profile, score
from mlops_clinic.maturity.storage import ANSWERS_FILE

ANSWER_SUFFIXES = (".json", ".yaml", ".yml")
NOT_ANSWERED = "not answered"
ASK_AGAIN = "ask the participant for the file again."


@dataclass(frozen=True)
class Participant:
    label: str
    answers: Answers
    profile: Profile


@dataclass(frozen=True)
class Focus:
    dimension: Dimension
    weakest_for: int  # participants who have it at their lowest level
    next_step: NextStep | None  # the most common next step of their lowest answer in it
    step_count: int


@dataclass
class Cohort:
    participants: list[Participant]
    skipped: list[str] = field(default_factory=list)  # inputs that could not be read (for the console)
    bank: Bank = field(default_factory=load_bank)

    def distribution(self) -> dict[str, Counter]:
        """dimension id -> Counter of levels (None: not answered) over participants."""
        return {d.id: Counter(p.profile.dimensions[i].level for p in self.participants)
                for i, d in enumerate(self.bank.dimensions)}

    def weakest_counts(self) -> list[tuple[Dimension, int]]:
        """For each dimension, how many participants have it at their lowest level (a participant
        with several dimensions at that level counts for each: for a cohort, which area holds people
        back matters more than the tie-break that orders one person's roadmap). Most often first;
        ties go to the lower average level in the cohort, then to course order."""
        counts = Counter(d.dimension.id for p in self.participants for d in p.profile.dimensions
                         if d.level is not None and d.level == p.profile.overall)
        distribution = self.distribution()

        def average(dimension_id: str) -> float:
            levels = [lv for lv, n in distribution[dimension_id].items() if lv is not None for _ in range(n)]
            return sum(levels) / len(levels) if levels else 3.0

        order = {d.id: i for i, d in enumerate(self.bank.dimensions)}
        ranked = sorted(counts.items(), key=lambda item: (-item[1], average(item[0]), order[item[0]]))
        return [(self.bank.dimension(dim), count) for dim, count in ranked]

    def focus(self) -> Focus | None:
        """The suggested focus of the next session: the most common weakest dimension, and the next
        step most of the participants held back by it share (that of their lowest answer in it)."""
        ranked = self.weakest_counts()
        if not ranked:
            return None
        dimension, count = ranked[0]
        steps = Counter()
        for p in self.participants:
            for d in p.profile.dimensions:
                if d.dimension.id == dimension.id and d.level is not None and d.level == p.profile.overall:
                    steps[sorted(d.answers, key=lambda a: a.level)[0].option.next_step] += 1
        step, step_count = min(steps.items(), key=lambda item: (-item[1], item[0].module, item[0].exercise))
        return Focus(dimension, count, step, step_count)

    @property
    def without_answers(self) -> int:
        return sum(p.profile.overall is None for p in self.participants)


# --- reading ----------------------------------------------------------------------------------------


def find_answer_files(inputs: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """The answers files behind each input, in input order (duplicates once), and the inputs with none.
    A workspace's answers file is taken even if it cannot be read (a folder in its place, say), so
    that the participant is reported as unreadable rather than as having no answers."""
    found: dict[Path, None] = {}
    problems = []
    for raw in inputs:
        path = Path(raw).expanduser()
        try:
            candidates = _answer_files_in(path)
        except OSError as exc:
            problems.append(f"{raw}: cannot be read ({exc.strerror}); check the folder's permissions")
            continue
        if not candidates:
            problems.append(f"{raw}: no maturity answers found (give a workspace, its maturity folder, "
                            "an exported answers file or a folder of them)")
        for candidate in candidates:
            found.setdefault(candidate.resolve(), None)
    return list(found), problems


def _answer_files_in(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if os.path.lexists(path / "maturity" / ANSWERS_FILE):  # a workspace
        return [path / "maturity" / ANSWERS_FILE]
    if os.path.lexists(path / ANSWERS_FILE):  # a workspace's maturity folder
        return [path / ANSWERS_FILE]
    if path.is_dir():  # a folder of exported answers files
        return sorted(p for p in path.iterdir() if p.suffix.lower() in ANSWER_SUFFIXES)
    return []


def load_cohort(inputs: Iterable[str | Path], bank: Bank | None = None) -> Cohort:
    """The participants whose answers can be read; each file that cannot is in `skipped`, with the
    whole reason, and the others are loaded all the same."""
    bank = bank or load_bank()
    files, skipped = find_answer_files(inputs)
    loaded: list[tuple[str, int, Answers]] = []
    for position, path in enumerate(files):
        try:
            answers = parse_answers(read_answers_file(path), bank, origin=str(path))
        except AnswersFileError as exc:
            skipped.append(f"{exc} Unreadable, so left out of the report: {ASK_AGAIN}")
            continue
        except MaturityAnswersError as exc:  # a list of problems: the advice goes below it
            skipped.append(f"{exc}\n  Left out of the report: {ASK_AGAIN}")
            continue
        digest = hashlib.sha256(answers.to_json(bank).encode("utf-8")).hexdigest()
        loaded.append((digest, position, answers))
    loaded.sort(key=lambda item: item[:2])
    participants = [Participant(f"participant {n}", answers, score(answers, bank))
                    for n, (_, _, answers) in enumerate(loaded, 1)]
    return Cohort(participants, skipped, bank)


# --- the report -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFiles:
    html: Path
    distribution_csv: Path
    participants_csv: Path


def distribution_rows(cohort: Cohort) -> list[dict[str, object]]:
    weakest = dict((d.id, n) for d, n in cohort.weakest_counts())
    distribution = cohort.distribution()
    rows = []
    for dimension in cohort.bank.dimensions:
        counts = distribution[dimension.id]
        row: dict[str, object] = {"dimension": dimension.name}
        for level in cohort.bank.levels:
            row[level.label] = counts.get(level.level, 0)
        row[NOT_ANSWERED] = counts.get(None, 0)
        row["weakest for"] = weakest.get(dimension.id, 0)
        rows.append(row)
    return rows


def participant_rows(cohort: Cohort) -> list[dict[str, object]]:
    rows = []
    for p in cohort.participants:
        row: dict[str, object] = {"participant": p.label}
        for d in p.profile.dimensions:
            row[d.dimension.name] = "" if d.level is None else d.level
        row["overall"] = "" if p.profile.overall is None else p.profile.overall
        weakest = p.profile.weakest()  # one per participant, by the roadmap's tie-breaks
        row["weakest dimension"] = weakest.dimension.name if weakest else ""
        rows.append(row)
    return rows


def heatmap(cohort: Cohort):
    """Dimensions x levels, shaded by how many participants are there, counts written in: the
    numbers carry the meaning, the single-hue shading (light to dark) only repeats it."""
    import matplotlib.pyplot as plt
    import numpy as np

    rows = distribution_rows(cohort)
    columns = [level.label for level in cohort.bank.levels] + [NOT_ANSWERED]
    counts = np.array([[row[c] for c in columns] for row in rows], dtype=float)
    with figures.style():
        fig, ax = plt.subplots(figsize=(10, 0.62 * len(rows) + 2.2))
        image = ax.imshow(counts, cmap=figures.sequential_colormap(), aspect="auto", vmin=0,
                          vmax=max(1, counts.max()))
        ax.set_xticks(range(len(columns)), labels=[textwrap.fill(c, 16) for c in columns])
        ax.set_yticks(range(len(rows)), labels=[row["dimension"] for row in rows])
        for (i, j), value in np.ndenumerate(counts):
            colour = figures.text_colour_on(image.cmap(image.norm(value)))
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", color=colour, fontsize=figures.MIN_FONT_PT + 1)
        ax.set_title(f"Participants per level and dimension (n = {len(cohort.participants)})")
        fig.tight_layout()
    return fig


def heatmap_alt(cohort: Cohort) -> str:
    """The heatmap in words: for each dimension, how many participants are at each level."""
    columns = [level.label for level in cohort.bank.levels] + [NOT_ANSWERED]
    per_dimension = "; ".join(
        f"{row['dimension']}: " + ", ".join(f"{row[c]} " + (c if c == NOT_ANSWERED else f"at {c}")
                                            for c in columns if row[c])
        for row in distribution_rows(cohort))
    return (f"Heatmap of {len(cohort.participants)} participants, one row per dimension and one column per "
            f"level (darker: more participants). {per_dimension}.")


def heatmap_caption(cohort: Cohort) -> str:
    ranked = cohort.weakest_counts()
    if not ranked:
        return "Figure: participants per level and dimension; nobody has answered a checkpoint yet."
    dimension, count = ranked[0]
    return (f"Figure: participants per level and dimension. {dimension.name} holds the most people back "
            f"({count} of {len(cohort.participants)} have it at their lowest level).")


def summary_lines(cohort: Cohort) -> list[str]:
    n = len(cohort.participants)
    lines = [f"{n} participants" + (f", {cohort.without_answers} of them with no answers yet." if cohort.without_answers else ".")]
    ranked = cohort.weakest_counts()
    if ranked:
        dimension, count = ranked[0]
        lines.append(f"Most common weakest dimension: {dimension.name} ({count} of {n} participants have it "
                     "at their lowest level).")
    focus = cohort.focus()
    if focus is not None:
        lines.append(f"Suggested focus for the next session: {focus.dimension.name}. The next step most of those "
                     f"participants share ({focus.step_count} of {focus.weakest_for}): {focus.next_step.text()}")
    return lines


def write_cohort_report(cohort: Cohort, out: Path) -> CohortFiles:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = CohortFiles(out / "cohort.html", out / "cohort-distribution.csv", out / "cohort-participants.csv")
    distribution, participants = distribution_rows(cohort), participant_rows(cohort)
    _write_csv(files.distribution_csv, distribution)
    _write_csv(files.participants_csv, participants)
    png = figures.png(heatmap(cohort), dpi=110)
    blocks = [("h", 1, "MLOps maturity: cohort report"),
              *[("p", line) for line in summary_lines(cohort)],
              ("image", "heatmap", heatmap_alt(cohort)),
              ("p", heatmap_caption(cohort)),
              ("h", 2, "Distribution per dimension"),
              ("table", list(distribution[0]), [list(r.values()) for r in distribution]),
              ("h", 2, "Weakest dimension, how often (participants with it at their lowest level)"),
              ("table", ["dimension", "participants"], [[d.name, n] for d, n in cohort.weakest_counts()]),
              ("h", 2, "Participants (anonymous; levels 0 ad hoc to 3 automated)"),
              ("table", list(participants[0]) if participants else ["participant"],
               [list(r.values()) for r in participants]),
              ("p", "Levels per dimension follow the kit's rule: a dimension's level is its weakest practice's "
                    "level. Participants are numbered in an order that does not depend on their names.")]
    if cohort.skipped:
        blocks.append(("p", f"{len(cohort.skipped)} input(s) could not be read and are not included; "
                            "the command's output lists them."))
    write_atomic(files.html, to_html(blocks, images={"heatmap": png}, title="MLOps maturity: cohort report"))
    return files


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    """Header and cells through spreadsheet_safe: a dimension name or label that starts with
    = + - @ would otherwise run as a formula when an instructor opens the file."""
    buffer = io.StringIO()
    if rows:
        writer = csv.writer(buffer)
        writer.writerow([spreadsheet_safe(name) for name in rows[0]])
        writer.writerows([spreadsheet_safe(value) for value in row.values()] for row in rows)
    write_atomic(path, buffer.getvalue())
