"""What the lessons and solutions say must hold for every participant's path: no registered version
number is written into them (a participant who took the modules in another order, or ran one twice,
has other numbers), and kit helpers come with a link to their source."""

from __future__ import annotations

import re

import nbformat
import pytest

from mlops_clinic import catalogue

# A version number typed where the registry's answer belongs.
HARD_CODED_VERSION = [
    re.compile(r"set_registered_model_alias\([^)]*,\s*['\"]?\d+['\"]?\s*\)"),  # ..., "champion", "1")
    re.compile(r"models:/[\w-]+/\d+\b"),  # models:/house-price/2
    re.compile(r"get_model_version\([^,)]+,\s*['\"]?\d+['\"]?\s*\)"),  # get_model_version(name, "2")
    # "version 2 is the champion", "house-price:v3", "model version 5" (not "schema version 4")
    re.compile(r"\b(?:house-price:v|house-price version |model version |[Vv]ersion "
               r"(?=\d+\b[^.\n]{0,40}\b(?:champion|challenger|alias|registered)))\d+\b", re.IGNORECASE),
]
NOTEBOOKS = [*catalogue.course().paths("lesson"), *catalogue.course().paths("solution")]


def hard_coded_versions(source: str) -> list[str]:
    return [match.group(0) for pattern in HARD_CODED_VERSION for match in pattern.finditer(source)]


def test_the_patterns_find_what_they_should_and_nothing_else():
    assert hard_coded_versions('client.set_registered_model_alias("house-price", "champion", "1")')
    assert hard_coded_versions("mlflow.pyfunc.load_model('models:/house-price/2')")
    assert hard_coded_versions("House-price version 2 is the champion.")
    assert hard_coded_versions("so version 3 became the challenger") and hard_coded_versions("model version 5")
    for fine in ('client.set_registered_model_alias(name, "champion", champion.version)',
                 "f\"models:/house-price/{version}\"", "models:/house-price@champion",
                 "Python 3.11 or newer", "version of the data (data-v2.0.0)", "schema version 4"):
        assert hard_coded_versions(fine) == [], fine


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_registered_version_is_written_into_a_notebook(path):
    nb = nbformat.read(path, as_version=4)
    found = {index: hard_coded_versions(cell.source) for index, cell in enumerate(nb.cells)}
    found = {index: hits for index, hits in found.items() if hits}
    assert not found, (f"{path.name}: read the version from the registry (\"the champion\", "
                       f"champion.version) instead of writing it: {found}")
