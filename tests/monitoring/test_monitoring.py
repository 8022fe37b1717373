"""Module 05's scaffolding (mlops_clinic.monitoring) on small, made-up frames: no workspace needed."""

import numpy as np
import pandas as pd
import pytest

from mlops_clinic import monitoring
from mlops_clinic.data import FEATURES, load


def _traffic(days=10, per_day=4, labelled_until=None):
    rows = []
    for day in range(1, days + 1):
        for i in range(per_day):
            actual = 100_000 + 1_000 * i
            rows.append({"day": day, "day_sold": day + i, "prediction_gbp": actual + 1_000 * day,
                         "actual_price_gbp": actual})
    frame = pd.DataFrame(rows)
    if labelled_until is not None:
        frame["actual_price_gbp"] = frame["actual_price_gbp"].where(frame["day_sold"] <= labelled_until)
    return frame


def test_windowed_mae_groups_request_days_and_counts_labels():
    table = monitoring.windowed_mae(_traffic(), days=2)
    assert list(table.index) == ["days 1-2", "days 3-4", "days 5-6", "days 7-8", "days 9-10"]
    assert table["requests"].tolist() == [8] * 5
    assert table["labels"].tolist() == [8] * 5
    # the error is 1,000 x the request day: days 1-2 average 1,500, rounded to the nearest 100
    assert table.loc["days 1-2", "MAE (£)"] == 1_500
    assert table.loc["days 9-10", "MAE (£)"] == 9_500


def test_windowed_mae_uses_only_known_labels_and_names_a_short_last_window():
    table = monitoring.windowed_mae(_traffic(labelled_until=10), days=3)
    assert list(table.index) == ["days 1-3", "days 4-6", "days 7-9", "day 10"]
    assert table.loc["day 10", "labels"] == 1  # sold on day 10 itself; the rest later
    assert table.loc["days 1-3", "labels"] == 12
    empty = monitoring.windowed_mae(_traffic(labelled_until=0), days=5)
    assert empty["labels"].tolist() == [0, 0]
    assert empty["MAE (£)"].isna().all()  # no label, no error: not zero


@pytest.fixture(scope="module")
def snapshot():
    import warnings

    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    reference = load("houses_reference")[list(FEATURES)]
    current = load("traffic/covariate_drift")[list(FEATURES)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definition = monitoring.data_definition()
        return Report([DataDriftPreset()], include_tests=True).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition))


def test_drift_results_read_tests_scores_and_thresholds(snapshot):
    table = monitoring.drift_results(snapshot)
    assert sorted(table.index) == sorted(FEATURES)
    assert table.loc["area", "test"] == "Wasserstein distance (normed)"  # > 1,000 reference rows
    assert table.loc["bedrooms", "test"] == "Wasserstein distance (normed)"  # declared numerical
    assert table.loc["mainroad", "test"] == "Jensen-Shannon distance"
    assert (table["threshold"] == 0.1).all()
    assert table["drifted"].tolist() == (table["score"] >= table["threshold"]).tolist()
    assert table.loc["area", "drifted"] and not table.loc["prefarea", "drifted"]
    assert monitoring.drift_share(snapshot) == pytest.approx(table["drifted"].mean())


def test_drift_share_needs_a_drift_report():
    from evidently import Report
    from evidently.metrics import RowCount

    frame = pd.DataFrame({"x": np.arange(10)})
    with pytest.raises(ValueError, match="DataDriftPreset"):
        monitoring.drift_share(Report([RowCount()]).run(current_data=frame, reference_data=None))


def test_report_link_opens_the_file_through_the_servers_files_url(tmp_path, monkeypatch):
    """JupyterLab's own viewer shows an untrusted HTML file without its JavaScript (a blank
    Evidently report): the link goes through /files/, under the hub's prefix when there is one."""
    from mlops_clinic import paths

    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "kit")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    report = tmp_path / "kit" / "workspace" / "reports" / "drift report.html"
    report.parent.mkdir(parents=True)
    report.write_bytes(b"x" * 3_000_000)
    link = monitoring.report_link(report, "Drift")
    assert link.data == ('<a href="/files/workspace/reports/drift%20report.html" target="_blank" rel="noopener">'
                         "Drift</a> (3 MB, opens in a new browser tab; saved as "
                         "<code>reports/drift report.html</code> in your workspace)")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    assert 'href="/user/ada/files/workspace/reports/drift%20report.html"' in monitoring.report_link(report).data


def test_a_report_outside_the_servers_folder_gets_the_steps_to_open_it(tmp_path, monkeypatch):
    from mlops_clinic import paths

    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "kit")
    report = tmp_path / "elsewhere" / "reports" / "drift.html"
    report.parent.mkdir(parents=True)
    report.write_bytes(b"x" * 1_000_000)
    text = monitoring.report_link(report, "Drift").data
    assert "<a " not in text
    assert "open <code>reports/drift.html</code> in JupyterLab's file browser, then click <b>Trust HTML</b>" in text
