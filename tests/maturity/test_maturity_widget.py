"""The checkpoint widget, driven as a participant would: choose, press Save, read the feedback."""

import json

import pytest
from maturity_bad_files import TWO_PROBLEM_LINES, TWO_PROBLEMS, UNREADABLE, kept_as_it_was, write

from mlops_clinic.maturity import ENV_VAR, checkpoint, checkpoint_view, ml_test_score_view
from mlops_clinic.maturity.answers import Answers, MaturityAnswersError
from mlops_clinic.maturity.bank import load_bank
from mlops_clinic.maturity.scoring import score
from mlops_clinic.maturity.storage import AnswerStore


@pytest.fixture(autouse=True)
def no_answers_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def saved(workspace) -> dict:
    return json.loads((workspace.maturity_dir / "answers.json").read_text())["checkpoints"]


def test_a_first_run_shows_nothing_selected_and_records_not_answered(workspace):
    view = checkpoint_view("serving", workspace=workspace)
    assert list(view.radios) == ["package", "rollback", "service_test"]
    assert all(radio.value is None for radio in view.radios.values())
    assert saved(workspace) == {"serving": {"package": None, "rollback": None, "service_test": None}}
    assert "Not answered yet" in view.feedback.value
    assert view.summary_text().endswith("no answers saved when this cell ran. Choose your answers above and "
                                        "press Save; module 07 builds your profile from them.")


def test_choosing_and_pressing_save_stores_the_answers_and_shows_level_and_next_step(workspace):
    view = checkpoint_view("serving", workspace=workspace)
    view.radios["package"].value = 2
    view.radios["rollback"].value = 1
    assert "press Save to keep it" in view.feedback.value  # chosen, not yet saved
    view.save_button.click()
    assert saved(workspace)["serving"] == {"package": 2, "rollback": 1, "service_test": None}
    step = load_bank().checkpoint("serving").question("rollback").option(1).next_step
    panel = view.feedback.value
    assert "Saved. Level 1 · repeatable" in panel and "(2 of 3 questions answered)" in panel
    question = load_bank().checkpoint("serving").question("package")
    assert f"1. {question.option(2).meaning} <i>(level 2)</i>" in panel  # each answer's level, in words
    assert "Next step:" in panel and step.where in panel
    assert view.summary_text() == ("Maturity checkpoint 03 · Model serving: level 1 (repeatable), from 2 of 3 answers.\n"
                                   f"Next step: {step.text()}")


def test_saving_with_nothing_chosen_asks_for_an_answer_and_saves_nothing(workspace):
    view = checkpoint_view("serving", workspace=workspace)
    view.save_button.click()
    assert "Choose an answer for at least one question" in view.feedback.value
    assert saved(workspace)["serving"] == {"package": None, "rollback": None, "service_test": None}


def test_a_rerun_shows_the_saved_answers_selected_and_a_change_updates_the_profile(workspace):
    first = checkpoint_view("monitoring", workspace=workspace)
    first.radios["drift"].value, first.radios["performance"].value, first.radios["retrain"].value = 0, 2, 2
    first.save_button.click()
    again = checkpoint_view("monitoring", workspace=workspace)  # the notebook re-run
    assert {q: r.value for q, r in again.radios.items()} == {"drift": 0, "performance": 2, "retrain": 2}
    assert "Level 0 · ad hoc" in again.feedback.value and "Saved." not in again.feedback.value
    monitoring = lambda: next(d for d in score(AnswerStore(workspace).load()).dimensions  # noqa: E731
                              if d.dimension.id == "monitoring")
    assert monitoring().level == 0
    again.radios["drift"].value = 3
    again.save_button.click()
    assert monitoring().level == 2 and monitoring().mean == pytest.approx(2.33)


def test_saving_one_checkpoint_keeps_the_others(workspace):
    AnswerStore(workspace).update(Answers({"business": {"value": 3}}))
    view = checkpoint_view("gitops", workspace=workspace)
    view.radios["ci"].value = 1
    view.save_button.click()
    assert saved(workspace)["business"] == {"value": 3}
    assert saved(workspace)["gitops"]["ci"] == 1


# --- headless ----------------------------------------------------------------------------------------


def test_headless_answers_from_a_dict(workspace):
    view = checkpoint_view("03", {"serving": {"package": 3, "rollback": 3, "service_test": 2}}, workspace=workspace)
    assert {q: r.value for q, r in view.radios.items()} == {"package": 3, "rollback": 3, "service_test": 2}
    assert saved(workspace)["serving"] == {"package": 3, "rollback": 3, "service_test": 2}
    assert view.summary_text().startswith("Maturity checkpoint 03 · Model serving: level 2 (reproducible), from 3 of 3")


def test_headless_answers_from_a_file_and_from_the_environment_variable(workspace, tmp_path, monkeypatch):
    answers = tmp_path / "cohort-answers.yaml"
    answers.write_text("business: {use_cases: 2, value: 2, continuity: 1}\nserving: {package: 0}\n")
    assert "level 1 (repeatable)" in checkpoint_view("business", str(answers), workspace=workspace).summary_text()
    monkeypatch.setenv(ENV_VAR, str(answers))
    view = checkpoint_view("serving", workspace=workspace)
    assert view.radios["package"].value == 0 and view.radios["rollback"].value is None
    assert saved(workspace)["serving"] == {"package": 0, "rollback": None, "service_test": None}


def test_headless_without_answers_for_this_checkpoint_records_not_answered_and_goes_on(workspace, capsys):
    checkpoint("training", answers={"serving": {"package": 1}}, workspace=workspace)
    out = capsys.readouterr().out
    assert "Maturity checkpoint 02 · Training pipeline: no answers saved when this cell ran." in out
    assert saved(workspace) == {"training": {"rerun": None, "experiments": None, "better": None}}


def test_invalid_headless_answers_stop_with_a_clear_error_and_save_nothing(workspace):
    AnswerStore(workspace).update(Answers({"serving": {"package": 1}}))
    before = (workspace.maturity_dir / "answers.json").read_text()
    with pytest.raises(MaturityAnswersError, match="serving.package: 'sometimes' is not an answer"):
        checkpoint_view("serving", {"serving": {"package": "sometimes"}}, workspace=workspace)
    assert (workspace.maturity_dir / "answers.json").read_text() == before


def test_a_corrupted_answers_file_is_named_in_the_panel_and_the_summary(workspace):
    workspace.maturity_dir.mkdir(parents=True, exist_ok=True)
    (workspace.maturity_dir / "answers.json").write_text("{oops")
    view = checkpoint_view("serving", workspace=workspace)
    assert "answers.corrupt-1.json" in view.feedback.value
    assert "answers.corrupt-1.json" in view.summary_text()
    assert saved(workspace)["serving"] == {"package": None, "rollback": None, "service_test": None}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_unreadable_answers_file_is_set_aside_and_the_checkpoint_goes_on(workspace, name):
    content, reason = UNREADABLE[name]
    write(workspace.maturity_dir / "answers.json", content)
    view = checkpoint_view("serving", workspace=workspace)
    kept = workspace.maturity_dir / "answers.corrupt-1.json"
    assert kept_as_it_was(kept, content)
    for shown in (view.feedback.value, view.summary_text()):
        assert kept.name in shown and reason in shown
    assert saved(workspace) == {"serving": {"package": None, "rollback": None, "service_test": None}}
    view.radios["package"].value = 2
    view.save_button.click()
    assert saved(workspace)["serving"]["package"] == 2


def test_the_panel_and_the_summary_give_the_whole_reason(workspace):
    write(workspace.maturity_dir / "answers.json", TWO_PROBLEMS.encode())
    view = checkpoint_view("serving", workspace=workspace)
    for line in TWO_PROBLEM_LINES:
        assert line in view.summary_text()
        assert line.replace("'", "&#x27;") in view.feedback.value  # html-escaped, on its own line
    assert "white-space:pre-line" in view.feedback.value


def test_the_widgets_plain_text_is_fixed_whatever_its_state(workspace):
    view = checkpoint_view("serving", workspace=workspace)
    text = view._repr_mimebundle_()["text/plain"]
    assert text == "Maturity checkpoint 03 · Model serving (3 questions; answer them in JupyterLab)"
    view.radios["package"].value = 2
    view.save_button.click()
    assert view._repr_mimebundle_()["text/plain"] == text
    assert view.model_id not in text


def test_unknown_checkpoints_are_named_with_the_known_ones(workspace):
    with pytest.raises(KeyError, match="no maturity checkpoint 'deployment'.*serving \\(03\\)"):
        checkpoint_view("deployment", workspace=workspace)


# --- the ML Test Score form --------------------------------------------------------------------------


def test_the_ml_test_score_form_saves_points_and_shows_the_score(workspace):
    view = ml_test_score_view(workspace=workspace)
    assert len(view.toggles) == 28 and all(t.value is None for t in view.toggles.values())
    assert "not scored yet" in view.feedback.value
    for test in ("data.1", "model.1", "infrastructure.1", "monitoring.1"):
        view.toggles[test].value = 1.0
    view.toggles["monitoring.2"].value = 0.5
    view.save_button.click()
    stored = AnswerStore(workspace).load().ml_test_score
    assert stored == {"data.1": 1.0, "model.1": 1.0, "infrastructure.1": 1.0, "monitoring.1": 1.0, "monitoring.2": 0.5}
    assert "Saved. ML Test Score 1 (not totally untested)" in view.feedback.value
    again = ml_test_score_view(workspace=workspace)
    assert again.toggles["monitoring.2"].value == 0.5 and again.toggles["data.2"].value is None
    assert repr(again) == "ML Test Score self-assessment (28 tests; answer them in JupyterLab)"


def test_the_ml_test_score_form_takes_headless_points(workspace):
    view = ml_test_score_view({"ml_test_score": {"data.1": 1, "model.1": 0.5, "infrastructure.1": 1,
                                                 "monitoring.1": 1}}, workspace=workspace)
    assert view.summary_text().startswith("ML Test Score 0.5 (not totally untested)")
