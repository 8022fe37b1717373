"""Prepare: check the data against the schema, then split it into train, validation and test.

A house always lands in the same split (decided by a hash of its id), so when new data arrives the
old test houses stay test houses and scores stay comparable across data versions.
"""

import sys
import zlib
from pathlib import Path

import pandas as pd
import yaml

from schema import read_csv, validate  # the data contract of the project (src/schema.py)

DATA = Path("data/houses.csv")
OUT = Path("data/prepared")
settings = yaml.safe_load(Path("params.yaml").read_text())["prepare"]

problems = validate(read_csv(DATA), source=str(DATA))
if problems:
    print(f"{DATA}: {len(problems)} problems, so nothing was prepared. The first ones:", file=sys.stderr)
    for problem in problems[:10]:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(1)

houses = pd.read_csv(DATA)
bucket = houses["house_id"].map(lambda house: zlib.crc32(house.encode()) % 1000 / 1000)
test = bucket < settings["test_share"]
val = ~test & (bucket < settings["test_share"] + settings["val_share"])
splits = {"train": houses[~test & ~val], "val": houses[val], "test": houses[test]}

OUT.mkdir(parents=True, exist_ok=True)
for name, rows in splits.items():
    rows.to_csv(OUT / f"{name}.csv", index=False)
print(f"prepare: {len(houses):,} houses -> " + ", ".join(f"{n} {len(r):,}" for n, r in splits.items()))
