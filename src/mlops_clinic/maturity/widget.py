"""The checkpoint widget: questions as radio buttons, a Save button, and feedback at once.

    from mlops_clinic.maturity import checkpoint
    checkpoint("serving", answers=maturity_answers)

One call shows the checkpoint, pre-selects what was saved before, and prints a plain-text summary
(for batch logs and nbval; the widget's own text/plain is a fixed one-line description, so no model
id or saved state leaks into compared outputs). A headless run never waits for a click: answers
come from `answers` / $MLOPS_CLINIC_MATURITY_ANSWERS, or the checkpoint is recorded as not answered.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle  # not exported at the top level

from mlops_clinic.maturity.answers import Answers, answers_from
from mlops_clinic.maturity.bank import Bank, Checkpoint, load_bank
from mlops_clinic.maturity.mltestscore import Rubric, load_rubric, ml_test_score
from mlops_clinic.maturity.scoring import CheckpointResult, checkpoint_result
from mlops_clinic.maturity.storage import AnswerStore
from mlops_clinic.progress import lesson_end

FEEDBACK_CLASS = "clinic-maturity-feedback"  # browser tests and custom CSS find the panel by it
VIEW_CLASS = "clinic-maturity"
QUESTION_CLASS = "clinic-maturity-q"  # + the question's number: its RadioButtons
# Out of sight, still read by screen readers (the usual "visually hidden" rules).
VISUALLY_HIDDEN = ("position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; "
                   "clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;")
WIDE = widgets.Layout(width="auto")
# Long option labels: let them wrap beside their radio button instead of under it. A keyboard
# user sees where the focus is: a thick orange ring (the blue Save button hides JupyterLab's blue one).
STYLE = f"""<style>
.{VIEW_CLASS} .widget-radio-box label {{ height: auto; line-height: 1.35; white-space: normal;
  display: flex; align-items: flex-start; gap: 0.4em; margin: 0.2em 0; }}
.{VIEW_CLASS} .widget-radio-box input {{ flex: none; order: -1; margin: 0.2em 0 0 0; }}
.{VIEW_CLASS} .clinic-maturity-question {{ margin-top: 0.8em; }}
.{VIEW_CLASS} .widget-radio-box input:focus-visible, .{VIEW_CLASS} .jupyter-button:focus-visible:enabled {{
  outline: 3px solid #E69F00; outline-offset: 2px; }}
</style>"""


def checkpoint(key: str, answers: Any = None, *, workspace=None) -> None:
    """Show checkpoint `key` (an id such as "serving", or a module number such as "03").

    `answers`: a dict or the path of a JSON/YAML answers file (see mlops_clinic.maturity.answers);
    None falls back to $MLOPS_CLINIC_MATURITY_ANSWERS, then to what is saved in the workspace.
    """
    view = checkpoint_view(key, answers, workspace=workspace)
    _show(view, view.summary_text())
    # The checkpoint is the last code cell of lessons 00-06: reaching it is the lesson's end.
    problem = lesson_end(view.checkpoint.module, workspace=workspace)
    if problem:
        print(problem)


def checkpoint_view(key: str, answers: Any = None, *, workspace=None, bank: Bank | None = None) -> "CheckpointView":
    """The widget, without displaying it (tests, and notebooks that lay widgets out themselves)."""
    bank = bank or load_bank()
    chosen = bank.checkpoint(key)
    store = AnswerStore(workspace, bank)
    given = answers_from(answers, bank)
    if given is not None and chosen.id in given.checkpoints:
        store.update(Answers({chosen.id: given.checkpoints[chosen.id]}))
    # Record the checkpoint as reached; answers saved earlier are never overwritten.
    saved = store.update(Answers({chosen.id: {q.id: None for q in chosen.questions}}), only_missing=True)
    return CheckpointView(chosen, store, saved)


class CheckpointView(widgets.VBox):
    """One checkpoint: a RadioButtons per question, Save, and a feedback panel."""

    def __init__(self, checkpoint: Checkpoint, store: AnswerStore, saved: Answers):
        self.checkpoint = checkpoint
        self.store = store
        self.saved = saved
        self.radios: dict[str, widgets.RadioButtons] = {}
        rows: list[widgets.Widget] = [widgets.HTML(
            f"{STYLE}{_question_labels(checkpoint)}"
            f"<h3>Maturity checkpoint · module {checkpoint.module} · {html.escape(checkpoint.title)}</h3>"
            f"<p>{html.escape(checkpoint.intro)} Choose the answer closest to what your organisation "
            "does today, then press <b>Save</b>.</p>")]
        for number, question in enumerate(checkpoint.questions, 1):
            radio = widgets.RadioButtons(
                options=[(option.text, option.level) for option in question.options],
                value=saved.level(question), layout=WIDE)
            radio.observe(self._changed, names="value")
            radio.add_class(f"{QUESTION_CLASS}{number}")
            self.radios[question.id] = radio
            # aria-hidden: screen readers get the question once, from the first option's name.
            rows += [widgets.HTML(f"<div class='clinic-maturity-question' aria-hidden='true'><b>{number}. "
                                  f"{html.escape(question.text)}</b></div>"), radio]
        self.save_button = widgets.Button(description="Save", button_style="primary", icon="check")
        self.save_button.on_click(self.save)
        self.feedback = widgets.HTML(self._feedback_html())
        self.feedback.add_class(FEEDBACK_CLASS)
        super().__init__(rows + [self.save_button, self.feedback])
        self.add_class(VIEW_CLASS)
        self.add_class(f"{VIEW_CLASS}-{checkpoint.id}")

    def __repr__(self) -> str:
        # The text/plain fallback of the widget: fixed text, safe to compare.
        return (f"Maturity checkpoint {self.checkpoint.module} · {self.checkpoint.title} "
                f"({len(self.checkpoint.questions)} questions; answer them in JupyterLab)")

    # --- state ----------------------------------------------------------------------------------
    def selected(self) -> dict[str, int]:
        return {qid: radio.value for qid, radio in self.radios.items() if radio.value is not None}

    def result(self) -> CheckpointResult:
        return checkpoint_result(self.checkpoint, self.saved)

    def save(self, _button=None) -> None:
        chosen = self.selected()
        if not chosen:
            self.feedback.value = _panel("Choose an answer for at least one question, then press Save.")
            return
        self.saved = self.store.update(Answers({self.checkpoint.id: chosen}))
        self.feedback.value = self._feedback_html(saved_now=True)

    def _changed(self, _change) -> None:
        unsaved = any(self.saved.level(q) != self.radios[q.id].value for q in self.checkpoint.questions)
        self.feedback.value = self._feedback_html(unsaved=unsaved)

    # --- words ----------------------------------------------------------------------------------
    def summary_text(self) -> str:
        notices = "".join(f"{notice}\n" for notice in self.store.notices)
        return notices + result_text(self.result(), self.store.bank)

    def _feedback_html(self, *, saved_now: bool = False, unsaved: bool = False) -> str:
        result = self.result()
        # pre-line: a notice's list of problems keeps its lines.
        parts = [f"<p style='color:#b45309;white-space:pre-line'>{html.escape(n)}</p>" for n in self.store.notices]
        if unsaved:
            parts.append("<p><i>You changed an answer: press Save to keep it.</i></p>")
        if result.level is None:
            parts.append("<p>Not answered yet. Module 07 turns your answers into a profile and a roadmap.</p>")
            return _panel("".join(parts), raw=True)
        level = self.store.bank.level(result.level)
        parts.append(
            f"<p><b>{'Saved. ' if saved_now else ''}Level {level.level} · {html.escape(level.name)}</b> "
            f"({result.answered} of {result.total} questions answered): the lowest of your answers. "
            f"{html.escape(level.meaning)}</p>")
        answered = [(n, q, self.saved.level(q)) for n, q in enumerate(self.checkpoint.questions, 1)
                    if self.saved.level(q) is not None]
        parts.append("<ul style='list-style:none;padding-left:0.5em'>" + "".join(
            f"<li>{n}. {html.escape(q.option(lv).meaning)} <i>(level {lv})</i></li>" for n, q, lv in answered)
            + "</ul>")
        parts.append(f"<p><b>Next step:</b> {html.escape(result.next_step.action)} "
                     f"<i>{html.escape(result.next_step.where)}.</i></p>")
        return _panel("".join(parts), raw=True)


def result_text(result: CheckpointResult, bank: Bank) -> str:
    """One plain-text line for a checkpoint (printed under the widget, and in batch logs)."""
    head = f"Maturity checkpoint {result.checkpoint.module} · {result.checkpoint.title}"
    if result.level is None:
        return (f"{head}: no answers saved when this cell ran. Choose your answers above and press Save; "
                "module 07 builds your profile from them.")
    level = bank.level(result.level)
    return (f"{head}: level {level.level} ({level.name}), from {result.answered} of {result.total} answers.\n"
            f"Next step: {result.next_step.text()}")


# --- the ML Test Score form -------------------------------------------------------------------------


def ml_test_score_form(answers: Any = None, *, workspace=None) -> None:
    """Show the 28 tests of the ML Test Score with 0 / ½ / 1 point each, Save, and the score.

    `answers`: like checkpoint()'s, a dict or answers file whose `ml_test_score` part is used;
    None falls back to $MLOPS_CLINIC_MATURITY_ANSWERS, then to what the workspace holds.
    """
    view = ml_test_score_view(answers, workspace=workspace)
    _show(view, view.summary_text())


def ml_test_score_view(answers: Any = None, *, workspace=None) -> "MLTestScoreView":
    store = AnswerStore(workspace)
    given = answers_from(answers, store.bank)
    if given is not None and given.ml_test_score:
        store.update(Answers(ml_test_score=given.ml_test_score))
    return MLTestScoreView(store, store.load(), load_rubric())


class MLTestScoreView(widgets.VBox):
    """The ML Test Score self-assessment: a 0 / ½ / 1 toggle per test, Save, and the score."""

    def __init__(self, store: AnswerStore, saved: Answers, rubric: Rubric):
        self.store, self.saved, self.rubric = store, saved, rubric
        self.toggles: dict[str, widgets.ToggleButtons] = {}
        labels = rubric.point_labels
        # 28 rows: one layout and one style object shared by all, and a grid rather than a box per
        # row, keep the widget state a notebook saves small (a layout object per widget tripled it).
        layout, html_style = widgets.Layout(), HTMLStyle()
        toggle_style = widgets.ToggleButtonsStyle(button_width="3em")
        rows: list[widgets.Widget] = [widgets.HTML(
            "<h3>The ML Test Score</h3><p>For each test: 0 if you do not do it, ½ if you do it by hand "
            "and document the result, 1 if it is automated and runs repeatedly. Then press <b>Save</b>.</p>",
            layout=layout, style=html_style)]
        for section in rubric.sections:
            cells: list[widgets.Widget] = []
            for test in section.tests:
                toggle = widgets.ToggleButtons(
                    options=[("0", 0.0), ("½", 0.5), ("1", 1.0)], value=saved.ml_test_score.get(test.id),
                    tooltips=[labels[0.0], labels[0.5], labels[1.0]], style=toggle_style, layout=layout)
                self.toggles[test.id] = toggle
                cells += [toggle, widgets.HTML(html.escape(test.name), layout=layout, style=html_style)]
            rows += [widgets.HTML(f"<b>{html.escape(section.name)}</b>", layout=layout, style=html_style),
                     widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns="auto 1fr",
                                                                   grid_gap="0 0.6em", align_items="center"))]
        self.save_button = widgets.Button(description="Save", button_style="primary", icon="check")
        self.save_button.on_click(self.save)
        self.feedback = widgets.HTML(_panel(html.escape(self.summary_text())))
        self.feedback.add_class(FEEDBACK_CLASS)
        super().__init__(rows + [self.save_button, self.feedback])

    def __repr__(self) -> str:
        return "ML Test Score self-assessment (28 tests; answer them in JupyterLab)"

    def save(self, _button=None) -> None:
        chosen = {test: value for test, value in ((t, w.value) for t, w in self.toggles.items()) if value is not None}
        self.saved = self.store.update(Answers(ml_test_score=chosen))
        self.feedback.value = _panel("Saved. " + html.escape(self.summary_text()))

    def summary_text(self) -> str:
        if not self.saved.ml_test_score:
            return "ML Test Score: not scored yet (optional). Give each test 0, ½ or 1 point and press Save."
        return ml_test_score(self.saved.ml_test_score, self.rubric).text(self.rubric)


# --- helpers ----------------------------------------------------------------------------------------


def _panel(content: str, *, raw: bool = False) -> str:
    # role="status": screen readers read the feedback after Save without moving the focus there.
    body = content if raw else f"<p>{content}</p>"
    return (f"<div role='status' style='border-left:4px solid #2563eb;padding:0.2em 0.8em;margin-top:0.5em'>"
            f"{body}</div>")


def _question_labels(checkpoint: Checkpoint) -> str:
    """CSS that names each question's group for screen readers, with no JavaScript.

    ipywidgets draws RadioButtons as bare <label><input></label> pairs: nothing ties the options to
    the question above them, so a screen reader that tabs to an option hears the option alone. The
    first option's label gets the question as generated text that is clipped out of sight but part
    of its accessible name (browsers include CSS generated content in it), as a fieldset's legend
    is read on entering the group."""
    rules = []
    for number, question in enumerate(checkpoint.questions, 1):
        text = f"Question {number} of {len(checkpoint.questions)}: {question.text} Answer: "
        rules.append(f".{VIEW_CLASS}-{checkpoint.id} .{QUESTION_CLASS}{number} label:first-child::before "
                     f"{{ content: {_css_string(text)}; {VISUALLY_HIDDEN} }}")
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return f'"{escaped}"'


def _show(view: widgets.Widget, text: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(view)
    print(text)
