"""The set-up promises of the README hold: one lock, environment files that agree, two commands."""

import re

from mlops_clinic import paths, pins

ROOT = paths.REPO_ROOT


def test_every_lock_line_is_an_exact_pin():
    lock = pins.read_lock()
    assert len(lock) > 100
    names = [pin.name.lower() for pin in lock if pin.marker is None]
    assert len(names) == len(set(names)), "a package is pinned twice without a marker"


def test_direct_dependencies_are_all_in_the_lock():
    locked = {pin.name.lower().replace("_", "-") for pin in pins.read_lock()}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[=<>\[ ]", line)[0].lower().replace("_", "-")
            assert name in locked, f"{name} is in requirements.in but not in requirements.lock"


def test_environment_files_are_identical_and_agree_with_the_lock():
    assert (ROOT / "environment.yml").read_text() == (ROOT / "binder" / "environment.yml").read_text()
    assert pins.stale_environment_files() == [], "run `clinic pins --write`"
    text = (ROOT / "environment.yml").read_text()
    assert "python=3.11" in text  # repo2docker's default Python (3.10) is too old
    for pin in pins.read_lock():
        assert f'"{pin.requirement()}"' in text


def test_installed_packages_match_the_lock():
    assert pins.installed_mismatches() == []


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M), ".ci/run must run the README's test command"


def test_binder_badge_opens_the_first_notebook_of_the_configured_repository():
    from mlops_clinic.paths import binder_url, repository

    readme = (ROOT / "README.md").read_text()
    assert f"]({binder_url('notebooks/00_welcome.ipynb')})" in readme, (
        "the README's Binder badge must use [project.urls] Repository of pyproject.toml")
    assert "/" in repository() and "OWNER" not in readme
