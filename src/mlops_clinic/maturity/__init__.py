"""Maturity checkpoints and the maturity profile.

After each module the participant answers a few questions, in widgets, about what their own
organisation does for that component of the pipeline; each answer is a level (0 ad hoc,
1 repeatable, 2 reproducible, 3 automated: Digital Catapult's names, mapped to Microsoft's 0-4 and
Google's 0-2) with a next step that names the module and exercise of this course that teaches it.
Notebook 07 turns the answers into a profile, a roadmap and a report.

Adding the checkpoint to a lesson (module NN), in one line:

    python -m mlops_clinic.maturity.lesson notebooks/NN_name.ipynb

It adds `maturity_answers = None` to the parameters cell and, just before "## Summary", a markdown
cell "## Maturity checkpoint" (id mNN-cp0) and this one code cell (id mNN-cp1):

    from mlops_clinic.maturity import checkpoint

    checkpoint("serving", answers=maturity_answers)   # the checkpoint id in bank.yaml, or "NN"

tests/maturity/test_maturity_bank.py checks that every lesson notebook 00-06 that exists carries it.

One concern per module:

    bank.yaml, bank.py         the question bank (data), its pydantic models and typed classes
    datafile.py                reads a data file, validates it, lists every problem with its place
    answers.py                 answers, the answers file format, headless sources
    storage.py                 the answers file in the workspace: locked, atomic, corrupt files kept aside
    scoring.py                 levels per question, dimension and overall; weakest dimension; roadmap
    mltestscore.py (+ .yaml)   the ML Test Score (Breck et al. 2017): 28 tests, minimum over sections
    widget.py                  checkpoint() and ml_test_score_form(): ipywidgets, Save, feedback
    report.py, document.py     the profile: table, radar chart, life-cycle checklist, Markdown/HTML report
                               (the HTML through the kit's one page writer, mlops_clinic.html_page)
                               (lifecycle.yaml: the checklist; example_answers.yaml: the example profile)
    cohort.py                  instructors: many participants, anonymised, heatmap and CSV
    cli.py                     `clinic maturity show | export | cohort`
    lesson.py                  adds the checkpoint cells to a lesson notebook (nbformat, stable ids)

Scoring rule (scoring.py says more): a dimension's level is the lowest level among its answered
questions, the overall level the lowest among dimensions, so a weak practice is never hidden by
strong ones. Answers format and headless use: see answers.py.
"""

from __future__ import annotations

import importlib

# name -> module that defines it; imported on first use, so `clinic maturity show` does not load
# ipywidgets and a notebook's first import stays quick.
_EXPORTS = {
    "checkpoint": "widget", "checkpoint_view": "widget", "ml_test_score_form": "widget",
    "ml_test_score_view": "widget",
    "load_bank": "bank", "BankError": "bank",
    "Answers": "answers", "MaturityAnswersError": "answers", "answers_from": "answers",
    "parse_answers": "answers", "ENV_VAR": "answers",
    "AnswerStore": "storage",
    "score": "scoring", "dimension_level": "scoring", "overall_level": "scoring", "roadmap": "scoring",
    "checkpoint_result": "scoring",
    "ml_test_score": "mltestscore", "load_rubric": "mltestscore",
    "gather": "report", "profile_table": "report", "radar_chart": "report", "radar_png": "report", "show_radar": "report", "roadmap_lines": "report",
    "lifecycle_markdown": "report", "write_reports": "report", "profile_text": "report",
    "example_answers": "report",
    "load_cohort": "cohort", "write_cohort_report": "cohort",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
