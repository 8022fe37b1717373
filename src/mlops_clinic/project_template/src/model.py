"""The house-price model: its features, its preprocessing and the candidate regressors.

The model is defined here and only here: the pipeline (src/train.py) and any notebook that imports
this file train exactly the same thing.
"""

from importlib.metadata import version

import numpy as np
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TARGET = "price"
NUMERIC = ["area", "bedrooms", "bathrooms", "stories", "parking"]
CATEGORICAL = ["mainroad", "guestroom", "basement", "hotwaterheating", "airconditioning",
               "prefarea", "furnishingstatus"]
FEATURES = NUMERIC + CATEGORICAL
# What everyone knows about houses, as a constraint a model can be given: all else equal, more floor
# area never lowers the price (+1: the estimate may only rise with the column).
INCREASING = {"area": 1}

# How MLflow saves the model. cloudpickle takes about 1 s for 200 trees where the safer skops
# format takes 4 s. Pickle can run code when it is loaded, so load models only from your own
# registry. To use skops instead, log with serialization_format="skops" and
# skops_trusted_types=SKOPS_TRUSTED_TYPES (the types skops may rebuild for trees and one-hot codes).
SERIALIZATION_FORMAT = "cloudpickle"
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree", "numpy.dtype"]
# What a server needs to install to load the model, pinned to what trained it. Given explicitly,
# MLflow does not spend seconds inferring it.
PIP_REQUIREMENTS = [f"{package}=={version(package)}"
                    for package in ("mlflow", "scikit-learn", "skops", "pandas", "numpy")]


def preprocessing() -> ColumnTransformer:
    """Numbers: fill a missing value with the median, then scale. Categories: one column per
    value; a value never seen in training becomes all zeros instead of an error."""
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categories = OneHotEncoder(handle_unknown="ignore")
    return ColumnTransformer([("numbers", numbers, NUMERIC), ("categories", categories, CATEGORICAL)])


def regressor(name: str, seed: int = 42, **settings):
    """The regressor called `name`, with its settings from params.yaml."""
    if name == "baseline":  # predicts the median price for every house: any model must beat it
        return DummyRegressor(strategy="median")
    if name == "linear":
        return Ridge(**settings)
    if name == "random_forest":
        return RandomForestRegressor(random_state=seed, n_jobs=1, **settings)
    if name == "gradient_boosting":
        return GradientBoostingRegressor(random_state=seed, **settings)
    if name == "monotone_boosting":
        return monotone_boosting(seed, **settings)
    raise ValueError(f"unknown model {name!r}: use baseline, linear, random_forest, gradient_boosting "
                     "or monotone_boosting")


def monotone_boosting(seed: int = 42, **settings) -> TransformedTargetRegressor:
    """Gradient boosting that never prices a bigger house lower. HistGradientBoostingRegressor
    accepts monotonic constraints (GradientBoostingRegressor does not). It learns the log of the
    price, where the features' effects add up as they do in a market (air conditioning adds a
    share of the price, not a fixed sum), and answers in pounds."""
    boosting = HistGradientBoostingRegressor(random_state=seed, monotonic_cst=INCREASING, **settings)
    return TransformedTargetRegressor(boosting, func=np.log, inverse_func=np.exp)


def build_model(name: str, seed: int = 42, **settings) -> Pipeline:
    """Preprocessing and regressor in one Pipeline: what is fitted is what is served."""
    prepare = preprocessing()
    if name == "monotone_boosting":  # its constraint names a column: the columns keep their names
        prepare.set_params(categories__sparse_output=False, verbose_feature_names_out=False)
        prepare.set_output(transform="pandas")
    return Pipeline([("prepare", prepare), ("regressor", regressor(name, seed, **settings))])


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """MAE in pounds (the business metric: how far off is a typical estimate?), RMSE and R²."""
    return {
        "mae": round(float(mean_absolute_error(y_true, y_pred)), 2),
        "rmse": round(float(root_mean_squared_error(y_true, y_pred)), 2),
        "r2": round(float(r2_score(y_true, y_pred)), 4),
    }
