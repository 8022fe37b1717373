"""Module 05's needs.

Module 05 reads the inference log (stage `inference_log`, stages/serving.py: the four traffic
scenarios replayed through the prediction service, with their late labels) and the champion that
answered it; its setup ensures both. The lesson itself versions the new data (`data-v3.0.0`),
reruns the pipeline and moves `house-price@champion` to the retrained version when it wins, so a
course run leaves the project there for module 06. Module 06 starts from `bento_model` and needs
no stage of this module.
"""

from __future__ import annotations

from mlops_clinic.stages import module_needs

module_needs("05", "inference_log")
