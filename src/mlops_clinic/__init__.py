"""The MLOps Clinic kit: scaffolding for a hands-on MLOps workshop in Jupyter.

The lessons call DVC, MLflow, BentoML and Evidently directly; this package only carries what is
not the lesson: the participant's workspace, the datasets, exercise checks, widgets and the
`clinic` command.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # `from mlops_clinic import setup` without importing the heavier modules at package import.
    if name == "setup":
        from mlops_clinic.notebook import setup

        return setup
    raise AttributeError(name)
