"""Answers: the file format, the short forms a person writes, and where headless answers come from."""

import json

import pytest
from maturity_bad_files import UNREADABLE, write

from mlops_clinic.maturity.answers import (ENV_VAR, Answers, MaturityAnswersError, answers_from, parse_answers,
                                           parse_level)


def test_the_full_format_and_the_short_form_mean_the_same():
    full = {"format": "mlops-clinic maturity answers", "version": 1,
            "checkpoints": {"serving": {"package": 2, "rollback": None}}, "ml_test_score": {"data.1": 0.5}}
    short = {"03": {"package": "reproducible", "rollback": "not answered"}, "ml_test_score": {"data.1": 0.5}}
    assert parse_answers(full) == parse_answers(short) == Answers({"serving": {"package": 2, "rollback": None}},
                                                                  {"data.1": 0.5})


@pytest.mark.parametrize("value, level", [
    (0, 0), (3, 3), ("2", 2), (2.0, 2), ("Ad hoc", 0), ("AUTOMATED", 3), (None, None), ("not answered", None),
])
def test_levels_can_be_numbers_or_names(value, level):
    assert parse_level(value) == level


@pytest.mark.parametrize("value", [4, -1, True, 1.5, "expert", [1]])
def test_anything_else_is_refused_with_the_allowed_values(value):
    with pytest.raises(ValueError, match=r"0 \(ad hoc\), 1 \(repeatable\), 2 \(reproducible\), 3 \(automated\)"):
        parse_level(value)


def test_every_problem_is_listed_at_once_and_names_its_place():
    bad = {"serving": {"package": 7, "nonsense": 1}, "nowhere": {"x": 1}, "ml_test_score": {"data.1": 0.3, "data.99": 1}}
    with pytest.raises(MaturityAnswersError) as error:
        parse_answers(bad, origin="the maturity_answers parameter")
    message = str(error.value)
    assert message.startswith("the maturity_answers parameter cannot be used (5 problem(s)); nothing was saved")
    for expected in ("serving.package: 7 is not an answer", "no question 'nonsense'", "no maturity checkpoint 'nowhere'",
                     "ml_test_score.data.1: 0.3 is not 0, 0.5 or 1", "no test 'data.99'"):
        assert expected in message


def test_answers_merge_and_to_json_keeps_the_banks_order():
    old = Answers({"serving": {"package": 1, "rollback": 2}})
    new = Answers({"serving": {"rollback": None, "service_test": 0}, "business": {"value": 3}})
    assert old.merged(new).checkpoints == {"serving": {"package": 1, "rollback": None, "service_test": 0},
                                           "business": {"value": 3}}
    assert old.merged(new, only_missing=True).checkpoints["serving"] == {"package": 1, "rollback": 2, "service_test": 0}
    data = json.loads(old.merged(new).to_json())
    assert list(data["checkpoints"]) == ["business", "serving"]  # module 00 before module 03
    assert list(data["checkpoints"]["serving"]) == ["package", "rollback", "service_test"]
    assert parse_answers(data) == old.merged(new)  # what is written reads back the same


# --- headless sources ----------------------------------------------------------------------------------


def test_no_source_means_no_answers(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert answers_from(None) is None


def test_a_dict_a_json_file_a_yaml_file_and_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    expected = Answers({"monitoring": {"drift": 2}})
    assert answers_from({"monitoring": {"drift": 2}}) == expected
    as_json = tmp_path / "answers.json"
    as_json.write_text(json.dumps({"checkpoints": {"monitoring": {"drift": 2}}}))
    assert answers_from(as_json) == answers_from(str(as_json)) == expected
    as_yaml = tmp_path / "answers.yaml"
    as_yaml.write_text("monitoring:\n  drift: reproducible\n")
    assert answers_from(str(as_yaml)) == expected
    monkeypatch.setenv(ENV_VAR, str(as_yaml))
    assert answers_from(None) == expected
    # An explicit argument wins over the environment variable.
    assert answers_from({"monitoring": {"drift": 0}}) == Answers({"monitoring": {"drift": 0}})


def test_bad_sources_get_a_message_that_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.yaml"))
    with pytest.raises(MaturityAnswersError, match="missing.yaml does not exist"):
        answers_from(None)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(MaturityAnswersError, match="broken.json is not valid JSON/YAML"):
        answers_from(broken)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("serving: {package: 9}\n")
    with pytest.raises(MaturityAnswersError, match=r"wrong.yaml \(the maturity_answers parameter\) cannot be used"):
        answers_from(wrong)
    with pytest.raises(MaturityAnswersError, match="give a dict"):
        answers_from(42)


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_unreadable_answers_file_is_a_clear_error_naming_it(tmp_path, name):
    content, reason = UNREADABLE[name]
    path = tmp_path / "answers.json"
    write(path, content)
    with pytest.raises(MaturityAnswersError) as error:
        answers_from(path)
    assert str(error.value).startswith(f"The answers file {path} {reason}")


def test_a_yaml_error_is_given_whole_on_one_line(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("serving: {package: 2\n")
    with pytest.raises(MaturityAnswersError) as error:
        answers_from(broken)
    message = str(error.value)
    # PyYAML's message is several lines; its first line alone ("while parsing a flow mapping") says
    # neither what is wrong nor where.
    assert "\n" not in message
    assert "while parsing a flow mapping: expected ',' or '}', but got '<stream end>' at line 2, column 1" in message


def test_values_quoted_in_messages_are_shortened(tmp_path):
    with pytest.raises(MaturityAnswersError) as error:
        parse_answers({"serving": {"package": "x" * 100_000}, "data_versioning": [[[[[[[[[[1]]]]]]]]]]})
    message = str(error.value)
    assert len(message) < 1_000 and "'xxxxxxxx" in message and "..." in message
