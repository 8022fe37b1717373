"""The kit's datasets: the schema, the deterministic generator and loading with clear errors.

    from mlops_clinic.data import load, FEATURES, TARGET
    df = load("houses_reference")               # validated, proper dtypes
    X, y = df[list(FEATURES)], df[TARGET]

The data card is datasets/README.md; `clinic data generate --check` proves the committed CSVs are
what the generator writes.
"""

from mlops_clinic.data.load import (
    DataValidationError,
    Problem,
    available_datasets,
    dataset_path,
    load,
    read_csv,
    validate,
    validated,
)
from mlops_clinic.data.schema import (
    CATEGORICAL_FEATURES,
    CATEGORIES,
    COLUMNS,
    DAY,
    DAY_SOLD,
    FEATURES,
    ID,
    LAYOUTS,
    NUMERIC_FEATURES,
    TARGET,
    YES_NO_COLUMNS,
    Column,
)

# The generator is imported on first use: it keeps `python -m mlops_clinic.data.generate` free of
# runpy's "found in sys.modules" warning, and loading data does not need it.
_FROM_GENERATE = {"SCENARIOS", "generate_houses", "generate_traffic", "write_all"}


def __getattr__(name):
    if name in _FROM_GENERATE:
        from mlops_clinic.data import generate

        return getattr(generate, name)
    raise AttributeError(f"module 'mlops_clinic.data' has no attribute {name!r}")


__all__ = [
    "CATEGORICAL_FEATURES", "CATEGORIES", "COLUMNS", "Column", "DAY", "DAY_SOLD",
    "DataValidationError", "FEATURES", "ID", "LAYOUTS", "NUMERIC_FEATURES", "Problem",
    "SCENARIOS", "TARGET", "YES_NO_COLUMNS", "available_datasets", "dataset_path",
    "generate_houses", "generate_traffic", "load", "read_csv", "validate", "validated",
    "write_all",
]
