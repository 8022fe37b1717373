"""The prediction service (BentoML): serve the registry's champion behind the data contract.

    bentoml serve serving.service:Predictor --host 127.0.0.1 --port 3000
"""

import sys
from pathlib import Path

# The service shares the pipeline's contract and settings (src/): one definition of the data.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
