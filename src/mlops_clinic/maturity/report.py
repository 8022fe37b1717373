"""The maturity profile of one participant: table, radar chart, roadmap, life-cycle checklist, and
a Markdown and a self-contained HTML report in the workspace.

    assessment = gather(maturity_answers)      # saves given answers, loads everything saved
    profile_table(assessment.profile)          # weakest dimension first
    radar_chart(assessment.profile)
    write_reports(assessment)                  # maturity/maturity-profile.{md,html} in the workspace

When nothing has been answered yet, `gather` returns the profile of a fictional example organisation
(example_answers.yaml), clearly labelled, so notebook 07 always has something to show.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_clinic.maturity.answers import Answers, answers_from, parse_answers
from mlops_clinic.maturity.bank import Bank, load_bank
from mlops_clinic import figures
from mlops_clinic.maturity.document import to_html, to_markdown
from mlops_clinic.maturity.mltestscore import MLTestScore, load_rubric, ml_test_score
from mlops_clinic.maturity.scoring import Profile, roadmap, score
from mlops_clinic.maturity.storage import AnswerStore
from mlops_clinic.workspace import Workspace

EXAMPLE_FILE = Path(__file__).with_name("example_answers.yaml")
LIFECYCLE_FILE = Path(__file__).with_name("lifecycle.yaml")
REPORT_NAME = "maturity-profile"
RULE_TEXT = ("A dimension's level is the lowest level among its answered questions, and the overall level "
             "is the lowest among the dimensions: a chain of practice is only as mature as its weakest "
             "link, and an average would let a strong area hide a weak one (the ML Test Score takes the "
             "minimum over its sections for the same reason). The average shows how far the other "
             "practices are ahead.")


# --- what the report is made of ---------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    answers: Answers
    profile: Profile
    ml_test: MLTestScore | None
    is_example: bool = False
    notices: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        bank = load_bank()
        who = "An example organisation (you have not answered any checkpoint yet)" if self.is_example else "You"
        if self.profile.overall is None:
            return "No answers yet: answer the maturity checkpoint at the end of each module."
        overall = bank.level(self.profile.overall)
        answered_dims = len(self.profile.ranked())
        return (f"{who}: {self.profile.answered} of {self.profile.total} questions answered, in "
                f"{answered_dims} of {len(self.profile.dimensions)} dimensions. "
                f"Overall level {overall.level} · {overall.name}.")


def example_answers() -> Answers:
    return parse_answers(yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8")), origin=EXAMPLE_FILE.name)


def gather(source: Any = None, *, workspace=None, example_if_empty: bool = True) -> Assessment:
    """Save any answers given (parameter, or $MLOPS_CLINIC_MATURITY_ANSWERS) into the workspace,
    then score everything saved there. Nothing answered: the example organisation, if allowed."""
    store = AnswerStore(workspace)
    given = answers_from(source, store.bank)
    saved = store.update(given) if given is not None else store.load()
    is_example = example_if_empty and saved.answered == 0
    answers = example_answers() if is_example else saved
    points = saved.ml_test_score or answers.ml_test_score  # your own ML Test Score, even beside the example
    ml_test = ml_test_score(points) if points else None
    return Assessment(answers, score(answers, store.bank, is_example=is_example), ml_test, is_example,
                      tuple(store.notices))


# --- table, chart, roadmap, checklist ---------------------------------------------------------------


def level_text(level: int | None, bank: Bank | None = None) -> str:
    if level is None:
        return "not answered"
    return (bank or load_bank()).level(level).label


def profile_rows(profile: Profile) -> list[dict[str, str]]:
    """One row per dimension, weakest first, unanswered dimensions last."""
    bank = load_bank()
    rows = []
    for d in profile.ranked() + profile.unanswered():
        level = bank.level(d.level) if d.level is not None else None
        rows.append({
            "Dimension": d.dimension.name,
            "Level": level_text(d.level, bank),
            "Microsoft (0-4)": _span(level.microsoft) if level else "",
            "Google (0-2)": _span(level.google) if level else "",
            "Average": f"{d.mean:.1f}" if d.mean is not None else "",
            "Answered": f"{d.answered} of {d.total}",
        })
    return rows


def profile_table(profile: Profile):
    """The profile as a pandas DataFrame, weakest dimension first."""
    import pandas as pd

    return pd.DataFrame(profile_rows(profile)).set_index("Dimension")


def radar_chart(profile: Profile, ax=None):
    """A radar chart: each dimension's level (solid line, circles) and the average of its answers
    (dashed line, squares): the two differ in line style and marker as well as in colour."""
    import matplotlib.pyplot as plt
    import numpy as np

    bank = load_bank()
    names = [textwrap.fill(d.dimension.name + ("" if d.level is not None else " (not answered)"), 16)
             for d in profile.dimensions]
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False).tolist()
    closed = angles + angles[:1]

    def values(attribute):
        raw = [getattr(d, attribute) for d in profile.dimensions]
        raw = [np.nan if v is None else v for v in raw]
        return raw + raw[:1]

    with figures.style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(8.5, 8.5), subplot_kw={"projection": "polar"})
        else:
            fig = ax.figure
        ax.set_theta_offset(np.pi / 2)
        ax.set_theta_direction(-1)
        level, average = figures.series(0), figures.series(1)
        ax.plot(closed, values("level"), **level, label="level (weakest practice)")
        ax.fill(closed, [0 if np.isnan(v) else v for v in values("level")], color=level["color"], alpha=0.15)
        ax.plot(closed, values("mean"), **{**average, "linewidth": 1.5}, label="average of answers")
        ax.set_xticks(angles)
        ax.set_xticklabels(names, fontsize=figures.MIN_FONT_PT)
        ax.tick_params(axis="x", pad=14)
        ax.set_ylim(0, 3)
        ax.set_yticks([0, 1, 2, 3])
        ax.set_yticklabels([level.name for level in bank.levels], fontsize=figures.MIN_FONT_PT, color=figures.GREY)
        title = "MLOps maturity profile" + (" (example organisation)" if profile.is_example else "")
        ax.set_title(title, pad=36)
        ax.legend(loc="upper right", bbox_to_anchor=(1.18, 1.14), frameon=False)
        fig.tight_layout()
    return fig


def radar_alt(profile: Profile) -> str:
    """The radar chart in words, for screen readers: what it plots and every dimension's level."""
    bank = load_bank()
    who = "an example organisation" if profile.is_example else "your answers"
    answered = [d for d in profile.dimensions if d.level is not None]
    missing = [d.dimension.name for d in profile.dimensions if d.level is None]
    text = (f"Radar chart of the maturity profile of {who}: one axis per dimension ({len(profile.dimensions)}), "
            "from level 0 (ad hoc) at the centre to 3 (automated) at the edge.")
    if answered:
        text += " Solid line, each dimension's level: " + "; ".join(
            f"{d.dimension.name} {d.level} ({bank.level(d.level).name})" for d in answered) + "."
        text += " Dashed line, the average of the answers, on or outside the solid line on every axis."
    if missing:
        text += f" Not answered: {', '.join(missing)}."
    return text


def radar_caption(profile: Profile) -> str:
    """The sentence under the radar chart: what to take from it."""
    weakest = profile.weakest()
    if weakest is None:
        return "Figure: the maturity profile, empty until a checkpoint is answered."
    level = load_bank().level(weakest.level)
    whose = "the example organisation's" if profile.is_example else "your"
    return (f"Figure: {whose} maturity profile, one level per dimension. The weakest dimension, "
            f"{weakest.dimension.name}, is at level {level.level} ({level.name}): the roadmap starts there.")


def show_radar(profile: Profile) -> None:
    """The radar chart under the cell, with its alt text and caption (figures.show)."""
    figures.show(radar_chart(profile), alt=radar_alt(profile), caption=radar_caption(profile))


def radar_png(profile: Profile, dpi: int = figures.DPI) -> bytes:
    """The radar chart as PNG bytes (the report embeds it; a notebook shows it with show_radar,
    which adds its alt text and caption)."""
    return figures.png(radar_chart(profile), dpi=dpi)


def roadmap_lines(profile: Profile, steps: int = 3) -> list[str]:
    lines = []
    for step in roadmap(profile, steps):
        level = load_bank().level(step.answer.level)
        lines.append(f"{step.dimension.dimension.name} (now: {level.name}): {step.next_step.text()}")
    return lines


@dataclass(frozen=True)
class Phase:
    name: str
    purpose: str
    items: tuple[tuple[str, str | None, str | None], ...]  # (what to do, module that helps, addition)


@functools.lru_cache(maxsize=1)
def lifecycle_phases() -> tuple[Phase, ...]:
    raw = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    return tuple(Phase(p["name"], p["purpose"], tuple((i["text"], i.get("module"), i.get("add")) for i in p["items"]))
                 for p in raw["phases"])


def lifecycle_markdown(profile: Profile | None = None) -> str:
    """The Deployment Service Life Cycle as a Markdown checklist, one level-3 heading per phase; the
    profile's weakest dimension is named in the Assess phase."""
    return to_markdown(_lifecycle_blocks(profile, level=3, title=False))


# --- the report files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    html: Path
    chart: Path


def write_reports(assessment: Assessment, workspace=None) -> ReportFiles:
    """Write maturity-profile.md (with its chart as a PNG beside it) and a self-contained
    maturity-profile.html (the chart embedded) into the workspace's maturity folder."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    folder = ws.maturity_dir
    folder.mkdir(parents=True, exist_ok=True)
    png = radar_png(assessment.profile, dpi=110)
    files = ReportFiles(folder / f"{REPORT_NAME}.md", folder / f"{REPORT_NAME}.html",
                        folder / f"{REPORT_NAME}-radar.png")
    blocks = _report_blocks(assessment, image=files.chart.name)
    files.chart.write_bytes(png)
    files.markdown.write_text(to_markdown(blocks), encoding="utf-8")
    files.html.write_text(to_html(blocks, images={files.chart.name: png}, title="MLOps maturity profile"),
                          encoding="utf-8")
    return files


def profile_text(assessment: Assessment) -> str:
    """The profile as plain text (`clinic maturity show`)."""
    lines = [assessment.summary(), ""]
    rows = profile_rows(assessment.profile)
    widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in rows[0]}
    lines.append("  ".join(key.ljust(widths[key]) for key in rows[0]))
    for row in rows:
        lines.append("  ".join(value.ljust(widths[key]) for key, value in row.items()))
    lines += ["", "Roadmap, the next three actions:"]
    lines += [f"  {i}. {line}" for i, line in enumerate(roadmap_lines(assessment.profile), 1)]
    if assessment.ml_test is not None:
        lines += ["", assessment.ml_test.text()]
    return "\n".join(lines)


# --- the report's content, as document blocks (see document.py) -------------------------------------


def _report_blocks(assessment: Assessment, *, image: str) -> list[tuple]:
    bank, profile = load_bank(), assessment.profile
    blocks: list[tuple] = [("h", 1, "MLOps maturity profile")]
    if assessment.is_example:
        blocks.append(("p", "This is the profile of a fictional example organisation: no checkpoint had "
                            "been answered in this workspace when the report was written."))
    blocks.append(("p", assessment.summary()))
    blocks += [("h", 2, "Profile, weakest dimension first")]
    rows = profile_rows(profile)
    blocks.append(("table", list(rows[0]), [list(r.values()) for r in rows]))
    blocks.append(("image", image, radar_alt(profile)))
    blocks.append(("p", radar_caption(profile)))
    blocks.append(("p", "How it is scored: " + RULE_TEXT))
    blocks += [("h", 2, "Roadmap: the next three actions"), ("ol", roadmap_lines(profile))]
    blocks += _lifecycle_blocks(profile, level=2)
    if assessment.ml_test is not None:
        rubric = load_rubric()
        names = {s.id: s.name for s in rubric.sections}
        blocks += [("h", 2, "ML Test Score"),
                   ("table", ["Section", "Points (of 7)"],
                    [[names[s], f"{p:g}"] for s, p in assessment.ml_test.section_points.items()]),
                   ("p", assessment.ml_test.text(rubric)),
                   ("p", f"Source: {rubric.citation} doi:{rubric.doi}")]
    blocks += [("h", 2, "Levels in other frameworks"),
               ("table", ["Level", "Meaning", "Microsoft (0-4)", "Google (0-2)"],
                [[lv.label, lv.meaning, _microsoft_names(lv.microsoft, bank), _google_name(lv.google, bank)]
                 for lv in bank.levels]),
               ("h", 2, "Sources"),
               ("ol", [f"{f['name']}: {f['url']}" for f in bank.frameworks.values()])]
    return blocks


def _lifecycle_blocks(profile: Profile | None, *, level: int, title: bool = True) -> list[tuple]:
    weakest = profile.weakest() if profile is not None else None
    blocks: list[tuple] = []
    if title:
        blocks += [("h", level, "Deployment Service Life Cycle checklist"),
                   ("p", "The five phases of the BridgeAI knowledge hub's Deployment Service Life Cycle, "
                         "to go through before, during and after you change anything.")]
        level += 1
    for phase in lifecycle_phases():
        items = []
        for text, module, addition in phase.items:
            if addition == "weakest_dimension" and weakest is not None:
                text += f" (Yours: {weakest.dimension.name}.)"
            items.append(text + (f" Module {module}." if module and module != "07" else ""))
        blocks += [("h", level, f"{phase.name}: {phase.purpose}"), ("checklist", items)]
    return blocks


def _microsoft_names(levels: tuple[int, ...], bank: Bank) -> str:
    names = bank.frameworks["microsoft"]["levels"]
    return "; ".join(f"{n} {names[n]}" for n in levels)


def _google_name(levels: tuple[int, ...], bank: Bank) -> str:
    names = bank.frameworks["google"]["levels"]
    return "; ".join(f"{n} {names[n]}" for n in levels)


def _span(levels: tuple[int, ...]) -> str:
    """The framework levels that one of the kit's levels covers: "1", or "2–4"."""
    return "–".join(map(str, sorted({levels[0], levels[-1]})))
