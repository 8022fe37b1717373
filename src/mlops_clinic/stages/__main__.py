"""`python -m mlops_clinic.stages STAGE...`: prepare a workspace ahead of time (Binder's postBuild)."""

from mlops_clinic.stages import main

raise SystemExit(main())
