"""The model: its preprocessing, the candidate estimators, and how it is scored.

Defined here and only here: training, evaluation, the model tests and the service use the same
definitions. The features come from schema.yaml (contract.SCHEMA); the model reads them as
contract.model_input() gives them, numbers first, then categories.

    build(name, settings)          the Pipeline for params.yaml's train.model (and its settings)
    fit(model, X, y)               fit, in steps with a progress report for tree ensembles
    scores(model, X, y)            the task's metrics (regression: MAE, RMSE, R²; classification:
                                   log loss, error rate, accuracy, balanced accuracy, ROC AUC)
    error(model, X, y)             the one metric that gates and monitors (params.yaml evaluate.metric)
"""

from importlib.metadata import version

import numpy as np
from sklearn import dummy, ensemble, linear_model
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, log_loss, mean_absolute_error,
                             r2_score, roc_auc_score, root_mean_squared_error)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from contract import SCHEMA
from progress import Progress
from settings import params

TASK = SCHEMA.task
CLASSIFICATION = TASK == "classification"
FAMILIES = ("baseline", "linear", "random_forest", "gradient_boosting", "hist_gradient_boosting",
            "monotone_boosting")
# Lower is better for each: the gate and the monitoring compare models with one of these.
METRICS = {"regression": ("mae", "rmse"), "classification": ("log_loss", "error_rate")}
STEPS = 10  # a tree ensemble grows in this many steps, each reported ...
STEPPED_FROM_ROWS = 50_000  # ... when the data is big enough for training to take a while
# How MLflow saves the model: cloudpickle is fast; pickle runs code when it is loaded, so load
# models only from your own registry.
SERIALIZATION_FORMAT = "cloudpickle"
PIP_REQUIREMENTS = [f"{package}=={version(package)}"
                    for package in ("mlflow", "scikit-learn", "pandas", "numpy", "cloudpickle")]


def preprocessing() -> ColumnTransformer:
    """Numbers (and booleans, dates): fill a gap with the median, then scale. Categories: one
    column per value that schema.yaml allows, so the model knows exactly what the service
    accepts; a missing category is all zeros."""
    numbers = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                        ("scale", StandardScaler())])
    categories = OneHotEncoder(categories=[list(SCHEMA.by_name[c].values) for c in SCHEMA.categorical],
                               handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("numbers", numbers, SCHEMA.numeric),
                              ("categories", categories, SCHEMA.categorical)])


def estimator(name: str, seed: int = 42, **settings):
    """The estimator called `name` for the task, with its settings from params.yaml."""
    if name == "baseline":  # the median (regression) or the class shares: any model must beat it
        return dummy.DummyClassifier(strategy="prior") if CLASSIFICATION else dummy.DummyRegressor(strategy="median")
    if name == "linear":
        if CLASSIFICATION:
            return linear_model.LogisticRegression(max_iter=2_000, **settings)
        return linear_model.Ridge(**settings)
    kind = "Classifier" if CLASSIFICATION else "Regressor"
    if name == "random_forest":
        return getattr(ensemble, f"RandomForest{kind}")(random_state=seed, n_jobs=1, **settings)
    if name == "gradient_boosting":
        return getattr(ensemble, f"GradientBoosting{kind}")(random_state=seed, **settings)
    if name == "hist_gradient_boosting":
        # No early stopping by default: the same data and settings then always give the same model.
        return getattr(ensemble, f"HistGradientBoosting{kind}")(
            random_state=seed, **{"early_stopping": False, **settings})
    if name == "monotone_boosting":
        # Histogram boosting told which way a feature may move the prediction (train.monotonic in
        # params.yaml: area: 1 is "more area never lowers the price"). It cannot break that rule,
        # which tests/gate.yaml's invariance test checks, where an unconstrained model learns
        # steps from noise and breaks it for a few rows.
        return getattr(ensemble, f"HistGradientBoosting{kind}")(
            random_state=seed, monotonic_cst=monotonic(), **{"early_stopping": False, **settings})
    raise ValueError(f"unknown model {name!r} in params.yaml: use one of {', '.join(FAMILIES)}")


def monotonic() -> dict[str, int]:
    """train.monotonic of params.yaml, checked: feature name -> 1 (up) or -1 (down)."""
    wanted = params()["train"].get("monotonic") or {}
    unknown = sorted(set(wanted) - set(SCHEMA.numeric))
    if unknown or any(sign not in (1, -1) for sign in wanted.values()):
        raise ValueError(f"train.monotonic in params.yaml: {wanted}: give numeric features of "
                         f"schema.yaml ({', '.join(SCHEMA.numeric)}) with 1 or -1"
                         + (f"; not numeric features: {', '.join(unknown)}" if unknown else ""))
    return {name: int(sign) for name, sign in wanted.items()}


def build(name: str | None = None, settings: dict | None = None) -> Pipeline:
    """Preprocessing and estimator in one Pipeline (what is fitted is what is served)."""
    train = params()["train"]
    name = name or train["model"]
    if settings is None:
        settings = train.get(name) or {}
    prepare = preprocessing()
    if name == "monotone_boosting":  # its constraints name features: the columns keep their names
        prepare.set_params(verbose_feature_names_out=False).set_output(transform="pandas")
    return Pipeline([("prepare", prepare),
                     ("estimator", estimator(name, train.get("seed", 42), **settings))])


def fit(model: Pipeline, X, y, label: str = "train") -> Pipeline:
    """Fit; on big data a tree ensemble grows in STEPS steps (warm start: the same model as one
    fit, measured) with a progress report, so a long training shows that it moves. Steps cost
    time (each re-reads the data), hence only from STEPPED_FROM_ROWS rows."""
    step = model.named_steps["estimator"]
    size = "max_iter" if hasattr(step, "max_iter") and "HistGradient" in type(step).__name__ else "n_estimators"
    total = getattr(step, size, None) if hasattr(step, "warm_start") else None
    if not total or total < STEPS or len(X) < STEPPED_FROM_ROWS:
        return model.fit(X, y)
    features = model.named_steps["prepare"].fit_transform(X, y)
    progress = Progress(f"{label} {type(step).__name__}", total, "trees")
    step.set_params(warm_start=True)
    grown = 0
    for stop in np.linspace(total / STEPS, total, STEPS).round().astype(int):
        step.set_params(**{size: int(stop)})
        step.fit(features, y)
        progress.update(stop - grown)
        grown = stop
    progress.close()
    step.set_params(warm_start=False)
    return model


def predict(model, X):
    """Class probabilities (classification, columns in model.classes_) or values (regression)."""
    return model.predict_proba(X) if CLASSIFICATION else model.predict(X)


def scores(model, X, y) -> dict[str, float]:
    return scores_of(y, predict(model, X), list(model.classes_) if CLASSIFICATION else None)


def scores_of(y, predicted, classes=None) -> dict[str, float]:
    """The task's metrics from true values and predictions (probabilities for classification)."""
    y = np.asarray(y)
    if not CLASSIFICATION:
        return {"mae": round(float(mean_absolute_error(y, predicted)), 4),
                "rmse": round(float(root_mean_squared_error(y, predicted)), 4),
                "r2": round(float(r2_score(y, predicted)), 4)}
    chosen = np.asarray(classes)[np.argmax(predicted, axis=1)]
    result = {"log_loss": round(float(log_loss(y, predicted, labels=classes)), 4),
              "error_rate": round(float(np.mean(chosen != y)), 4),
              "accuracy": round(float(accuracy_score(y, chosen)), 4),
              "balanced_accuracy": round(float(balanced_accuracy_score(y, chosen)), 4)}
    if len(classes) == 2 and len(set(y)) == 2:
        result["roc_auc"] = round(float(roc_auc_score(y == classes[1], predicted[:, 1])), 4)
    return result


def metric() -> str:
    """The metric that gates and monitors, lower is better (params.yaml evaluate.metric)."""
    name = params()["evaluate"]["metric"]
    if name not in METRICS[TASK]:
        raise ValueError(f"params.yaml evaluate.metric is {name!r}; for {TASK} use one of "
                         f"{', '.join(METRICS[TASK])}")
    return name


def error(model, X, y) -> float:
    return scores(model, X, y)[metric()]


def describe(value: float, name: str | None = None) -> str:
    """A metric's value in words, with the target's unit where it has one."""
    name = name or metric()
    unit = SCHEMA.by_name[SCHEMA.target].unit
    if name in ("mae", "rmse"):
        return f"{name.upper()} {value:,.2f}{' ' + unit if unit else ''}"
    if name == "error_rate":
        return f"error rate {value:.1%}"
    return f"log loss {value:.4f}"
