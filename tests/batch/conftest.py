"""Fixtures of the batch and execution tests."""

import psutil
import pytest


@pytest.fixture
def no_process_left():
    """Fails the test when a process it started (a kernel, a worker) outlives it."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    after = {p.pid for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}
    assert after <= before, f"processes left behind: {after - before}"
