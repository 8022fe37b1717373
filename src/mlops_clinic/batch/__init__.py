"""Papermill batches for instructors: notebooks x parameters, each run in a workspace of its own.

    clinic batch run GRID.yaml [--out DIR] [--concurrency N] [--scheduler ADDRESS] ...
    clinic batch grade SUBMISSIONS [--out DIR] ...

One concern per module:

    plan.py       the grid file -> runs, each with a stable id, its own folder and workspace
    run.py        one run: execute.py in the run's workspace -> a record (JSON next to the output)
    executors.py  where runs execute: a local process pool, or a Dask cluster's executor; bounded
                  concurrency, a progress bar, and a run that crashes its worker never stops the rest
    report.py     summary.csv and summary.html (status, duration, peak memory, failing cell, checks,
                  maturity levels)
    grade.py      a folder of participants' exercise notebooks -> each check's outcome per participant
    cli.py        `clinic batch`

The grid file format is in plan.py's docstring (and `clinic batch run --help`).
"""
