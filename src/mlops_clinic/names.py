"""Names that the lessons, the stages, the checks and the services share, written once.

The registered model and its experiment in MLflow (and the model's name in BentoML), the alias
that names the serving version, and the environment variables the kit reads (one prefix).
"""

MODEL_NAME = "house-price"  # the registered model in MLflow and the model's name in BentoML
EXPERIMENT = MODEL_NAME  # the MLflow experiment of the pipeline's runs
SANDBOX_MODEL = f"{MODEL_NAME}-sandbox"  # exercises register here, never under MODEL_NAME
CHAMPION = "champion"  # the registry alias of the version that serves

ENV_PREFIX = "MLOPS_CLINIC_"
WORKSPACE_ENV = ENV_PREFIX + "WORKSPACE"  # the participant's workspace
REPO_ENV = ENV_PREFIX + "REPO"  # the kit's repository, for unusual installs
INFERENCE_LOG_ENV = ENV_PREFIX + "INFERENCE_LOG"  # the services' inference log (SQLite file)
MODEL_ENV = ENV_PREFIX + "MODEL"  # a BentoML tag the model server serves, pinned (a rollback)
ALIAS_ENV = ENV_PREFIX + "ALIAS"  # the registry alias the model server follows (default champion)
