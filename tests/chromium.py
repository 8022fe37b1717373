"""Debian's Chromium for the browser tests, driven by the `playwright` package.

Never `playwright install`: it would download browsers. Install Chromium with
`apt-get install -y chromium chromium-driver` (as root; .ci/run does it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mlops_clinic.processes import processes_inside, stop_processes

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed: run `apt-get update && apt-get install -y "
    "chromium chromium-driver` as root (never `playwright install`)")


@contextlib.contextmanager
def chromium(playwright, tmp_path: Path):
    """A headless Chromium with a profile of its own under `tmp_path`, stopped completely afterwards."""
    # Chromium puts a socket in TMPDIR, and a socket path must stay under ~100 characters: a test
    # workspace's tmp/ is too deep, so the browser gets a short one.
    short_tmp = tempfile.mkdtemp(prefix="clinic-chromium-", dir="/tmp")
    profile = tmp_path / "browser-config"  # Chromium's profile and crash database live here
    env = {**os.environ, "TMPDIR": short_tmp, "HOME": str(tmp_path / "browser-home"),
           "XDG_CONFIG_HOME": str(profile)}
    browser = None
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS, env=env)
        yield browser
    finally:
        try:
            if browser is not None:
                browser.close()
        finally:
            # Chromium daemonises its crash handler, which outlives close(): it is found by the
            # profile folder on its command line (unique to one test) and stopped by PID, as
            # `clinic reset` stops what runs in a workspace.
            stop_processes(processes_inside(profile))
            shutil.rmtree(short_tmp, ignore_errors=True)
