"""The profile report: example when empty, parameter answers saved, Markdown and self-contained HTML."""

import base64
import html
import re

import pytest

from mlops_clinic import maturity
from mlops_clinic.maturity import ENV_VAR
from mlops_clinic.maturity.answers import Answers
from mlops_clinic.maturity.report import (
    gather, lifecycle_markdown, profile_table, profile_text, radar_alt, radar_caption, radar_chart, write_reports,
)
from mlops_clinic.maturity.storage import AnswerStore

ANSWERS = {"business": {"use_cases": 2, "value": 2, "continuity": 2},
           "data_versioning": {"exact_data": 1, "quality": 2, "lineage": 2, "retraining_data": 2},
           "monitoring": {"drift": 0, "performance": 1, "retrain": 1},
           "ml_test_score": {"data.1": 1, "model.1": 1, "infrastructure.1": 0.5, "monitoring.1": 0.5}}


@pytest.fixture(autouse=True)
def no_answers_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_with_no_answers_the_example_organisation_is_shown_and_nothing_is_saved(workspace):
    assessment = gather(workspace=workspace)
    assert assessment.is_example and assessment.profile.is_example
    assert assessment.summary().startswith("An example organisation")
    assert AnswerStore(workspace).load() == Answers()
    assert gather(workspace=workspace, example_if_empty=False).profile.overall is None


def test_your_own_ml_test_score_is_kept_beside_the_example_profile(workspace):
    assessment = gather({"ml_test_score": {"data.1": 1, "model.1": 1, "infrastructure.1": 1, "monitoring.1": 1}},
                        workspace=workspace)
    assert assessment.is_example and assessment.ml_test.final == 1


def test_parameter_answers_are_saved_and_scored(workspace):
    assessment = gather(ANSWERS, workspace=workspace)
    assert not assessment.is_example
    assert AnswerStore(workspace).load().checkpoints["monitoring"] == {"drift": 0, "performance": 1, "retrain": 1}
    assert assessment.summary() == ("You: 10 of 22 questions answered, in 3 of 8 dimensions. "
                                    "Overall level 0 · ad hoc.")
    assert assessment.ml_test.final == 0.5


def test_the_table_lists_the_weakest_dimension_first_and_unanswered_last(workspace):
    table = profile_table(gather(ANSWERS, workspace=workspace).profile)
    assert list(table.index[:3]) == ["Monitoring and retraining", "Data management and pipeline",
                                     "Business alignment and AI strategy"]
    assert table.loc["Monitoring and retraining", "Level"] == "0 · ad hoc"
    # Reproducible work that people still start is not automated: Microsoft 1, Google 0 (manual).
    assert table.loc["Business alignment and AI strategy", "Microsoft (0-4)"] == "1"
    assert table.loc["Business alignment and AI strategy", "Google (0-2)"] == "0"
    assert table.loc["Infrastructure and automation", "Level"] == "not answered"
    assert list(table.columns) == ["Level", "Microsoft (0-4)", "Google (0-2)", "Average", "Answered"]


def test_the_radar_chart_has_one_axis_per_dimension(workspace):
    fig = radar_chart(gather(ANSWERS, workspace=workspace).profile)
    labels = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_xticklabels()]
    assert len(labels) == 8 and "Monitoring and retraining" in labels
    assert "Infrastructure and automation (not answered)" in labels


def test_the_lifecycle_checklist_names_the_weakest_dimension(workspace):
    text = lifecycle_markdown(gather(ANSWERS, workspace=workspace).profile)
    for phase in ("Gather", "Assess", "Plan/Design", "Implement", "Evaluate/Review"):
        assert f"### {phase}:" in text
    assert "(Yours: Monitoring and retraining.)" in text
    assert text.count("- [ ] ") == 15


def test_reports_are_written_to_the_workspace_self_contained_and_without_paths(workspace):
    files = write_reports(gather(ANSWERS, workspace=workspace), workspace)
    assert {files.markdown.name, files.html.name} == {"maturity-profile.md", "maturity-profile.html"}
    assert files.markdown.parent == workspace.maturity_dir
    markdown, page = files.markdown.read_text(), files.html.read_text()
    alt = radar_alt(gather(workspace=workspace).profile)
    assert alt.startswith("Radar chart of the maturity profile of your answers")
    assert f"![{alt}](maturity-profile-radar.png)" in markdown
    assert f"<img alt='{html.escape(alt)}'" in page  # the figure in words, for screen readers
    assert radar_caption(gather(workspace=workspace).profile) in markdown
    assert files.chart.read_bytes().startswith(b"\x89PNG")
    embedded = re.search(r"src='data:image/png;base64,([^']+)'", page)
    assert embedded and base64.b64decode(embedded.group(1)) == files.chart.read_bytes()
    assert "src='http" not in page and "<script" not in page and "<link" not in page  # nothing fetched
    for text in (markdown, page):
        assert "Roadmap: the next three actions" in text
        assert "ML Test Score" in text and "Breck" in text
        assert "Deployment Service Life Cycle" in text
        assert str(workspace.root) not in text and "/tmp" not in text
    assert write_reports(gather(workspace=workspace), workspace).markdown.read_text() == markdown  # stable


def test_profile_text_for_the_terminal(workspace):
    text = profile_text(gather(ANSWERS, workspace=workspace))
    lines = text.splitlines()
    assert lines[2].split() == ["Dimension", "Level", "Microsoft", "(0-4)", "Google", "(0-2)", "Average", "Answered"]
    assert lines[3].startswith("Monitoring and retraining")
    assert "Roadmap, the next three actions:" in text and "  1. Monitoring and retraining (now: ad hoc)" in text


def test_the_package_exports_its_api_lazily():
    for name in maturity.__all__:
        assert getattr(maturity, name) is not None
    with pytest.raises(AttributeError):
        maturity.nothing_like_this
