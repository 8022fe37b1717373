"""`clinic export DEST`: the workshop's pipeline as a standalone repository the participant owns.

    clinic export DEST                                  the house prices (with the workshop's choices)
    clinic export DEST --dataset construction           a sector dataset (construction, transport)
    clinic schema infer data.csv --target COLUMN        draft a schema for your own CSV; review it
    clinic export DEST --data data.csv --schema data.schema.yaml

The repository never imports this kit: its code is in template/ (copied as it is) and the files
render.py writes for the dataset (schema.yaml, params.yaml, the gate, the README, the pinned
requirements from the kit's lock). The data is validated by the kit's loader first, and the
repository is built beside DEST and renamed into place only when complete.
"""

from mlops_clinic.export.build import Exported, export
from mlops_clinic.export.sources import ExportError

__all__ = ["ExportError", "Exported", "export"]
