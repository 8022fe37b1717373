import hashlib

from mlops_clinic import doctor, pins
from mlops_clinic.workspace import TELEMETRY_OFF


def test_doctor_passes_in_the_set_up_environment(workspace, capsys):
    assert doctor.doctor(workspace.activate())
    assert "All set for the workshop." in capsys.readouterr().out


def test_telemetry_check_names_the_variable_and_the_fix():
    environ = dict(TELEMETRY_OFF, MLFLOW_DISABLE_TELEMETRY="false")
    check = doctor.check_telemetry(environ)
    assert not check.ok and "MLFLOW_DISABLE_TELEMETRY" in check.detail and "clinic lab" in check.fix
    assert doctor.check_telemetry(dict(TELEMETRY_OFF)).ok


def test_changed_or_missing_dataset_is_reported(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2\n")
    digest = hashlib.sha256(b"x\n1\n").hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{digest}  a.csv\n{digest}  b.csv\n{digest}  c.csv\n")
    check = doctor.check_datasets(tmp_path)
    assert not check.ok
    assert "b.csv changed" in check.detail and "c.csv missing" in check.detail
    assert "git checkout datasets/" in check.fix


def test_package_at_another_version_is_reported():
    problems = pins.installed_mismatches([pins.Pin("pandas", "0.1.0"), pins.Pin("not-a-package-xyz", "1.0")])
    assert any(p.startswith("pandas ") and "lock: 0.1.0" in p for p in problems)
    assert "not-a-package-xyz missing (lock: 1.0)" in problems


def test_failed_check_is_rendered_with_its_fix():
    text = doctor.render([doctor.Check("Python", False, "3.9.1", "Install Python 3.11 or newer")])
    assert "FAIL  Python  3.9.1" in text and "-> Install Python 3.11 or newer" in text
    assert "1 problem(s) to fix" in text
