"""Fixtures of the service tests: the session's workspace with the champion in its BentoML store."""

from __future__ import annotations

import pytest

from mlops_clinic import stages


@pytest.fixture(scope="module")
def ws(session_workspace):
    """The session's workspace with the champion imported into its BentoML model store (stage
    `bento_model`). In-process services all use it: BentoML fixes its model store at first use."""
    stages.ensure("bento_model", session_workspace)
    return session_workspace
