"""Shared set-up of the project's tests: the pipeline's code (src/) and the service (serving/)
are importable, as they are to the pipeline itself."""

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT / "src"), str(PROJECT)]
