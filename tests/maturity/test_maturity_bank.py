"""The question bank, the ML Test Score rubric and the life-cycle checklist: data files, checked."""

import copy
import json

import pytest
import yaml

from mlops_clinic import paths
from mlops_clinic.maturity import bank as bank_module
from mlops_clinic.maturity.bank import (BANK_FILE, GOOGLE_LEVELS, LEVEL_NAMES, LEVELS, MICROSOFT_LEVELS, BankError,
                                        course_modules, load_bank, modules_with_checkpoint, validate)
from mlops_clinic.maturity.mltestscore import RUBRIC_FILE, load_rubric
from mlops_clinic.maturity.report import example_answers, lifecycle_phases


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(BANK_FILE.read_text())


def test_the_bank_is_valid_and_loads(raw):
    assert validate(raw) == []
    bank = load_bank()
    assert [lv.name for lv in bank.levels] == list(LEVEL_NAMES)
    assert len(bank.questions) >= 2 * len(modules_with_checkpoint())


def test_every_module_00_to_06_has_one_checkpoint_of_2_to_4_questions():
    bank = load_bank()
    modules = [cp.module for cp in bank.checkpoints]
    assert sorted(modules) == list(modules_with_checkpoint())
    for checkpoint in bank.checkpoints:
        assert 2 <= len(checkpoint.questions) <= 4, checkpoint.id
        assert bank.checkpoint(checkpoint.module) is checkpoint  # by module number too


def test_every_option_has_a_level_meaning_and_a_recommendation_naming_a_course_module():
    bank = load_bank()
    for question in bank.questions:
        assert [o.level for o in question.options] == list(LEVELS), question.key
        for option in question.options:
            assert option.text and option.meaning, question.key
            step = option.next_step
            assert step.module in course_modules(), f"{question.key}: module {step.module}"
            assert step.exercise_title in bank.modules[step.module].exercises.values()
            assert step.action.endswith("."), f"{question.key} level {option.level}: end the action with '.'"
            assert f"Module {step.module}" in step.text()


def test_questions_ask_about_practice_not_for_a_rating():
    for question in load_bank().questions:
        text = question.text.lower()
        assert text.endswith("?")
        assert text.startswith(("how", "what", "when", "if", "for", "can", "who", "where")), question.key
        assert not any(word in text for word in ("rate", "mature", "scale of", "score")), question.key


def test_the_dimensions_cover_digital_catapults_sections_and_each_has_questions():
    bank = load_bank()
    sections = {d.dc_section.lower() for d in bank.dimensions}
    for expected in ("business alignment and ai strategy", "data management and pipeline",
                     "model lifecycle / development and training", "model lifecycle / testing and validation",
                     "model lifecycle / release and deployment",
                     "model lifecycle / lifecycle management and governance",
                     "model lifecycle / monitoring and retraining", "infrastructure and automation"):
        assert expected in sections
    for dimension in bank.dimensions:
        assert bank.questions_of(dimension.id), dimension.id


def test_every_level_maps_to_microsoft_and_google_and_the_mapping_is_complete_and_monotone():
    bank = load_bank()
    microsoft = [m for level in bank.levels for m in level.microsoft]
    google = [g for level in bank.levels for g in level.google]
    assert sorted(set(microsoft)) == list(MICROSOFT_LEVELS)
    assert sorted(set(google)) == list(GOOGLE_LEVELS)
    assert microsoft == sorted(microsoft) and google == sorted(google)
    assert sorted(bank.frameworks["microsoft"]["levels"]) == list(MICROSOFT_LEVELS)
    assert sorted(bank.frameworks["google"]["levels"]) == list(GOOGLE_LEVELS)


@pytest.mark.parametrize("breakage, expected", [
    (lambda b: b["checkpoints"][3]["questions"][0]["options"][1].pop("next_step"), "serving.package, option level 1: `next_step`"),
    (lambda b: b["checkpoints"][3]["questions"][0]["options"][2]["next_step"].update(module="09"), "module '09', which is not in the course plan"),
    (lambda b: b["checkpoints"][3]["questions"][0]["options"][2]["next_step"].update(exercise="nope"), "exercise 'nope', which module 06 does not have"),
    (lambda b: b["checkpoints"][3]["questions"][0]["options"][0].pop("level"), "needs exactly one option per level"),
    (lambda b: b["checkpoints"][3]["questions"][0]["options"][0].pop("meaning"), "`meaning`"),
    (lambda b: b["checkpoints"][3]["questions"][0]["options"][0].update(meaning="Fine."), "must start with the level's name"),
    (lambda b: b["checkpoints"].pop(3), "modules 03 have no checkpoint"),
    (lambda b: b["checkpoints"][0]["questions"].pop(), None),  # 3 -> 2 questions: still valid
    (lambda b: b["checkpoints"][1]["questions"].append(copy.deepcopy(b["checkpoints"][1]["questions"][0])), "needs 2 to 4 questions"),
    (lambda b: b["levels"][3].update(microsoft=[2, 3]), "Microsoft levels [4] are not mapped"),
    (lambda b: b["levels"][3].update(google=[2]), "Google levels [1] are not mapped"),
    (lambda b: b["levels"][1].update(name="managed"), "name must be 'repeatable'"),
    (lambda b: b["checkpoints"][0]["questions"][0].update(text="How mature is your AI strategy, from 0 to 3?"), "not for a self-rating"),
    # A module the course does not have (a new lesson without bank entries is fine: see the catalogue tests).
    (lambda b: b["modules"].update({"09": {"exercises": {"x": "X"}}}), "modules 09 are not in the course"),
])
def test_validation_names_each_problem_and_where(raw, breakage, expected):
    broken = copy.deepcopy(raw)
    breakage(broken)
    problems = validate(broken)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_a_broken_bank_file_is_refused_with_every_problem_listed(tmp_path, raw):
    broken = copy.deepcopy(raw)
    broken["checkpoints"][0]["questions"][0]["options"][0].pop("next_step")
    broken["checkpoints"][0]["questions"][1]["dimension"] = "nowhere"
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(BankError) as error:
        bank_module.load_bank(path)
    assert "2 problem(s)" in str(error.value)
    path.write_text("levels: [unclosed")
    with pytest.raises(BankError, match="not valid YAML"):
        bank_module.load_bank(path)


def test_a_bank_of_the_wrong_shape_gets_its_problems_listed_not_a_crash(raw):
    broken = copy.deepcopy(raw)
    broken["levels"][2]["level"] = "two"
    broken["checkpoints"][0]["questions"][0]["options"] = "all of them"
    assert validate(broken) == ["levels[2]: `level` should be 0, 1, 2 or 3",
                                "business.use_cases: `options` should be a valid list"]


def test_a_broken_ml_test_score_file_is_refused_with_every_problem_and_its_place(tmp_path):
    broken = yaml.safe_load(RUBRIC_FILE.read_text())
    broken["sections"][1]["tests"][0].pop("name")
    broken["sections"][3]["tests"].pop()
    broken["bands"][2]["up_to"] = 1.5
    path = tmp_path / "ml_test_score.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(ValueError) as error:
        load_rubric(path)
    assert "ml_test_score.yaml has 3 problem(s)" in str(error.value)
    for problem in ("sections[1] (model).tests[0] (model.1): `name` is missing",
                    "sections[3] (monitoring): `tests` must be 7 tests; there are 6",
                    "bands: score 2 falls in 0 bands"):
        assert problem in str(error.value)


def test_the_ml_test_score_rubric_has_28_tests_in_4_sections_of_7_and_covering_bands():
    rubric = load_rubric()
    assert [s.name for s in rubric.sections] == ["Features and data", "Model development", "ML infrastructure",
                                                "Monitoring"]
    assert [len(s.tests) for s in rubric.sections] == [7, 7, 7, 7]
    assert len({t.name for s in rubric.sections for t in s.tests}) == 28
    assert [b.label for b in rubric.bands][0] == "research project"
    assert [b.label for b in rubric.bands][-1] == "exceptional"
    for section in rubric.sections:
        for test in section.tests:
            assert test.module is None or test.module in course_modules()


def test_the_lifecycle_checklist_has_the_five_phases_of_the_knowledge_hub():
    assert [p.name for p in lifecycle_phases()] == ["Gather", "Assess", "Plan/Design", "Implement", "Evaluate/Review"]
    assert all(p.items for p in lifecycle_phases())


def test_the_example_answers_answer_every_question():
    answers = example_answers()
    assert answers.answered == len(load_bank().questions)


def test_lesson_notebooks_that_exist_carry_their_checkpoint():
    # Module authors: `python -m mlops_clinic.maturity.lesson notebooks/NN_name.ipynb` adds it.
    bank = load_bank()
    for checkpoint in bank.checkpoints:
        for notebook in paths.NOTEBOOKS_DIR.glob(f"{checkpoint.module}_*.ipynb"):
            nb = json.loads(notebook.read_text())
            sources = ["".join(c["source"]) for c in nb["cells"]]
            call = f'checkpoint("{checkpoint.id}", answers=maturity_answers)'
            assert any(call in s for s in sources), f"{notebook.name}: no `{call}` cell"
            parameters = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
            assert "maturity_answers = None" in "".join(parameters["source"]), notebook.name
            index = next(i for i, s in enumerate(sources) if call in s)
            assert sources[index - 1].startswith("## Maturity checkpoint"), notebook.name
            # Then the summary (module 00 shows the participant's progress table first).
            assert sources[index + 1].startswith(("## Summary", "## Your progress")), notebook.name
