"""Exercise checks. Each module's questions live in `checks.mNN`; the placeholder is `____`."""

from mlops_clinic.checks.core import (  # noqa: F401
    NotAttempted, Outcome, Question, Status, Wrong, ____, is_blank,
)
