"""The ML Test Score (Breck et al., IEEE Big Data 2017): 28 tests, a score, and what it means.

Rule, as in the paper: each test earns 0 points (not done), 0.5 (done by hand, result documented) or
1 (automated, run repeatedly); a test not scored counts as 0. The points of each of the four sections
(features and data, model development, ML infrastructure, monitoring) are summed, and the final
score is the MINIMUM of the four sums. The minimum is the point: a team with perfect data tests and
no monitoring scores 0, because the gap in monitoring is what will hurt in production, and an
average would hide it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, field_validator

from mlops_clinic.maturity import datafile
from mlops_clinic.maturity.datafile import DataFileError, Text, refuse

RUBRIC_FILE = Path(__file__).with_name("ml_test_score.yaml")
POINT_VALUES = (0.0, 0.5, 1.0)
TESTS_PER_SECTION = 7


class RubricError(DataFileError):
    """The ML Test Score file has problems; the message lists each one with its place."""


@dataclass(frozen=True)
class Test:
    id: str
    name: str
    section: str
    module: str | None  # the lesson of this course that shows it, if any


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    tests: tuple[Test, ...]


@dataclass(frozen=True)
class Band:
    above: float | None  # scores strictly above this ...
    up_to: float | None  # ... and up to this, included
    label: Text
    meaning: Text

    def __post_init__(self):
        if self.above is None and self.up_to is None:
            raise ValueError("a band needs `above`, `up_to` or both")

    def contains(self, score: float) -> bool:
        if self.above is None:
            return score <= self.up_to
        return score > self.above and (self.up_to is None or score <= self.up_to)

    @property
    def range_text(self) -> str:
        if self.above is None:
            return f"{self.up_to:g}"
        if self.up_to is None:
            return f"above {self.above:g}"
        return f"above {self.above:g} up to {self.up_to:g}"


@dataclass(frozen=True)
class Rubric:
    sections: tuple[Section, ...]
    bands: tuple[Band, ...]
    point_labels: dict[float, str]
    citation: str
    doi: str

    def test(self, test_id: str) -> Test:
        for section in self.sections:
            for test in section.tests:
                if test.id == test_id:
                    return test
        raise KeyError(f"no ML Test Score test {test_id!r}")


@dataclass(frozen=True)
class MLTestScore:
    section_points: dict[str, float]  # section id -> sum of its points
    final: float  # the minimum over sections
    weakest_section: str
    band: Band
    scored: int  # tests given any points (0, 0.5 or 1) explicitly

    def text(self, rubric: "Rubric | None" = None) -> str:
        rubric = rubric or load_rubric()
        names = {s.id: s.name for s in rubric.sections}
        parts = ", ".join(f"{names[s]} {p:g}" for s, p in self.section_points.items())
        return (f"ML Test Score {self.final:g} ({self.band.label}): {self.band.meaning} "
                f"Section points: {parts}; the final score is the lowest, {names[self.weakest_section]}.")


@functools.lru_cache(maxsize=2)
def load_rubric(path: str | Path = RUBRIC_FILE) -> Rubric:
    rubric_file, problems = datafile.validate(RubricFile, datafile.read_yaml(Path(path), RubricError))
    if problems:
        raise RubricError(datafile.problem_list(f"The ML Test Score file {Path(path).name}", problems))
    sections = tuple(Section(s.id, s.name, tuple(Test(t.id, t.name, s.id, t.module) for t in s.tests))
                     for s in rubric_file.sections)
    return Rubric(sections, tuple(rubric_file.bands), {p.value: p.label for p in rubric_file.points},
                  rubric_file.source.citation, rubric_file.source.doi)


# --- the file, as pydantic models --------------------------------------------------------------------


class TestEntry(BaseModel):
    id: Text
    name: Text
    module: str | None = None  # the lesson of this course that shows it


class SectionEntry(BaseModel):
    id: Text
    name: Text
    tests: list[TestEntry]

    @field_validator("tests")
    @classmethod
    def _has_seven_tests(cls, tests: list[TestEntry]) -> list[TestEntry]:
        if len(tests) != TESTS_PER_SECTION:
            raise ValueError(f"must be {TESTS_PER_SECTION} tests; there are {len(tests)}")
        return tests


class PointEntry(BaseModel):
    value: float
    label: Text


class SourceEntry(BaseModel):
    citation: Text
    doi: Text


class RubricFile(BaseModel):
    """ml_test_score.yaml."""

    source: SourceEntry
    points: list[PointEntry]
    sections: list[SectionEntry]
    bands: list[Band]  # validated as they are

    @field_validator("points")
    @classmethod
    def _are_the_papers_points(cls, points: list[PointEntry]) -> list[PointEntry]:
        if sorted(p.value for p in points) != list(POINT_VALUES):
            raise ValueError(f"must be {POINT_VALUES}")
        return points

    @field_validator("sections")
    @classmethod
    def _are_four_of_distinct_tests(cls, sections: list[SectionEntry]) -> list[SectionEntry]:
        problems = [] if len(sections) == 4 else [f"expected 4 sections, found {len(sections)}"]
        ids = [t.id for s in sections for t in s.tests]
        if len(ids) != len(set(ids)):
            problems.append("test ids must be unique")
        refuse(problems)
        return sections

    @field_validator("bands")
    @classmethod
    def _hold_every_score_once(cls, bands: list[Band]) -> list[Band]:
        # Every possible score falls in exactly one band: 0, then (0,1], (1,2], ... up to the maximum.
        problems = []
        for score in [0.0] + [x / 2 for x in range(1, 2 * TESTS_PER_SECTION + 1)]:
            holders = [b.label for b in bands if b.contains(score)]
            if len(holders) != 1:
                problems.append(f"score {score:g} falls in {len(holders)} bands ({holders})")
        refuse(problems)
        return bands


def band_of(score: float, rubric: Rubric | None = None) -> Band:
    rubric = rubric or load_rubric()
    for band in rubric.bands:
        if band.contains(score):
            return band
    raise ValueError(f"no band holds the score {score!r}")


def ml_test_score(points: Mapping[str, float], rubric: Rubric | None = None) -> MLTestScore:
    """Section sums and the final score (their minimum) for `points` (test id -> 0, 0.5 or 1)."""
    rubric = rubric or load_rubric()
    known = {t.id for s in rubric.sections for t in s.tests}
    for test, value in points.items():
        if test not in known:
            raise KeyError(f"no ML Test Score test {test!r}")
        if float(value) not in POINT_VALUES:
            raise ValueError(f"{test}: {value!r} points; a test earns 0, 0.5 or 1")
    section_points = {s.id: sum(float(points.get(t.id, 0.0)) for t in s.tests) for s in rubric.sections}
    weakest = min(section_points, key=lambda s: section_points[s])  # first in section order on ties
    final = section_points[weakest]
    return MLTestScore(section_points, final, weakest, band_of(final, rubric), len(points))
