"""The instructors' agendas are summed from the notebooks' metadata, and the committed ones are current."""

from __future__ import annotations

import json

import pytest

from mlops_clinic import agenda, cli


def _notebook(folder, name, module, teaching, exercises, title=None):
    meta = {"clinic": {"module": module, "title": title or f"Module {module}", "kind": "lesson",
                       "objectives": [f"objective of {module}"], "prerequisites": [],
                       "minutes": {"teaching": teaching, "exercises": exercises}}}
    (folder / name).write_text(json.dumps({"cells": [], "metadata": meta, "nbformat": 4, "nbformat_minor": 5}))


def test_committed_agendas_match_the_notebooks():
    assert agenda.stale() == [], (
        "docs/instructors/agenda-*.md differ from the notebooks' minutes: run `clinic agenda --write`")


def test_one_day_agenda_holds_every_module_with_its_minutes():
    modules = agenda.read_modules()
    sched = agenda.schedule(agenda.PLANS["one-day"], modules)
    assert sched.total("teaching") == sum(m.teaching for m in modules.values())
    assert sched.total("exercises") == sum(m.exercises for m in modules.values())
    assert [s.module.id for s in sched.slots if s.module] == sorted(modules)
    assert sched.later == []


def test_half_day_agenda_fits_and_lists_what_is_left_for_later():
    modules = agenda.read_modules()
    plan = agenda.PLANS["half-day"]
    sched = agenda.schedule(plan, modules)
    assert sched.end <= agenda._minutes(plan.close_by)
    in_room = {s.module.id for s in sched.slots if s.module}
    later = {module.id for module, _ in sched.later}
    assert in_room | later == set(modules)


def test_times_add_up_from_the_metadata(tmp_path):
    _notebook(tmp_path, "00_a.ipynb", "00", 20, 10)
    _notebook(tmp_path, "01_b.ipynb", "01", 30, 15)
    plan = agenda.Plan("t", "Test", "09:00", "10:00",
                       (agenda.Teach("00"), agenda.Pause("Coffee", 15), agenda.Teach("01", exercises=False),
                        agenda.Teach("02"), agenda.Pause("Coffee", 15)))
    text = agenda.render(plan, agenda.read_modules(tmp_path))
    assert "| 09:00-09:30 | 00 · [Module 00](../../notebooks/00_a.ipynb) | 20 min | 10 min |" in text
    assert "| 09:30-09:45 | *Coffee* | | |" in text
    assert "| 09:45-10:15 | 01 · [Module 01](../../notebooks/01_b.ipynb) | 30 min | after the clinic |" in text
    assert text.count("Coffee") == 1, "a trailing break is dropped; a module without a notebook is skipped"
    assert "15 minutes after the planned close (10:00)" in text
    assert "- 01 · Module 01: the exercises (15 min)" in text


def test_a_start_time_moves_the_whole_agenda(tmp_path):
    _notebook(tmp_path, "00_a.ipynb", "00", 20, 10)
    plan = agenda.Plan("t", "Test", "09:00", "17:00", (agenda.Teach("00"),))
    assert "| 13:30-14:00 |" in agenda.render(plan, agenda.read_modules(tmp_path), start="13:30")
    with pytest.raises(agenda.AgendaError, match="HH:MM"):
        agenda.render(plan, agenda.read_modules(tmp_path), start="1pm")


@pytest.mark.parametrize("minutes, message", [
    ({"teaching": 20}, "clinic.minutes.exercises"),
    ({"teaching": "20", "exercises": 5}, "clinic.minutes.teaching"),
    ({"teaching": 20, "exercises": -5}, "clinic.minutes.exercises"),
])
def test_bad_minutes_name_the_notebook_and_the_field(tmp_path, minutes, message):
    meta = {"clinic": {"module": "03", "title": "T", "minutes": minutes}}
    (tmp_path / "03_serving.ipynb").write_text(json.dumps({"cells": [], "metadata": meta}))
    with pytest.raises(agenda.AgendaError, match=message) as error:
        agenda.read_modules(tmp_path)
    assert "03_serving.ipynb" in str(error.value)


def test_check_fails_on_a_stale_agenda_and_write_fixes_it(tmp_path):
    notebooks, out = tmp_path / "notebooks", tmp_path / "out"
    notebooks.mkdir()
    _notebook(notebooks, "00_a.ipynb", "00", 20, 10)
    assert len(agenda.stale(notebooks, out)) == len(agenda.PLANS)  # missing
    for path, text in agenda.generated(notebooks, out).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert agenda.stale(notebooks, out) == []
    _notebook(notebooks, "00_a.ipynb", "00", 25, 10)  # the lesson grew
    assert len(agenda.stale(notebooks, out)) == len(agenda.PLANS)


def test_clinic_agenda_command(capsys):
    assert "agenda" in cli.COMMANDS
    assert cli.main(["agenda", "--check"]) == 0
    assert cli.main(["agenda", "--plan", "half-day", "--start", "13:30"]) == 0
    out = capsys.readouterr().out
    assert "# Half-day clinic: agenda" in out and "| 13:30-" in out and "One-day" not in out


def test_the_one_day_clinic_fits_six_hours_with_half_an_hour_to_spare():
    plan = agenda.PLANS["one-day"]
    sched = agenda.schedule(plan, agenda.read_modules())
    assert sched.total("teaching") + sched.total("exercises") <= 6 * 60
    assert agenda._minutes(plan.close_by) - sched.end >= 30
    assert "Buffer:" in agenda.render(plan, agenda.read_modules())


def test_the_half_day_clinic_says_what_it_leaves_out():
    text = agenda.render(agenda.PLANS["half-day"], agenda.read_modules())
    assert "## After the clinic (self-paced)" in text
    left = text.split("## After the clinic (self-paced)")[1]
    for module in ("04", "05", "06"):
        assert f"- {module} · " in left
