"""The kit's datasets: the schema, the deterministic generator and loading with clear errors.

    from mlops_clinic.data import load, FEATURES, TARGET
    df = load("houses_reference")               # validated, proper dtypes
    X, y = df[list(FEATURES)], df[TARGET]

The data card is datasets/README.md; `clinic data generate --check` proves the committed CSVs are
what the generator writes. Every name above means the house prices; other datasets have a
`Schema` (`HOUSES` is the house prices'), passed as `load(path, schema=...)`: the sector datasets
(`mlops_clinic.data.sectors`) and a participant's own CSV (`read_schema`, `clinic schema infer`).
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
    HOUSES,
    ID,
    LAYOUTS,
    NUMERIC_FEATURES,
    TARGET,
    YES_NO_COLUMNS,
    Column,
    Schema,
    SchemaError,
    read_schema,
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
    "DataValidationError", "FEATURES", "HOUSES", "ID", "LAYOUTS", "NUMERIC_FEATURES", "Problem",
    "SCENARIOS", "Schema", "SchemaError", "TARGET", "YES_NO_COLUMNS", "available_datasets",
    "dataset_path", "generate_houses", "generate_traffic", "load", "read_csv", "read_schema",
    "validate", "validated", "write_all",
]
