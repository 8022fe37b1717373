"""The kit's own house-price data: a documented, deterministic data-generating process (DGP).

Why generate rather than ship BridgeAI's 545 rows: their licence is not stated, and a known process
lets the lessons show drift on purpose (the datasets/README.md data card explains each scenario).

Determinism: every file has a fixed seed, only numpy's `Generator.random`, `standard_normal` and
`integers` are used, and every value written is an integer or a fixed string, so the CSV bytes do
not depend on float formatting. `clinic data generate --check` proves the committed files match.

    clinic data generate            rewrite datasets/*.csv, datasets/traffic/*.csv, SHA256SUMS,
                                    and the sector datasets (sector_datasets/, data/sectors.py)
    clinic data generate --check    regenerate in a temporary directory and compare, byte for byte
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlops_clinic.data.schema import COLUMNS, DAY, DAY_SOLD, FEATURES, ID, LAYOUTS, TARGET
from mlops_clinic.paths import DATASETS_DIR, REPO_ROOT

REFERENCE_ROWS = 2_000
NEW_ROWS = 1_000
TRAFFIC_ROWS = 1_000
TRAFFIC_DAYS = 10
SCENARIOS = ("stable", "covariate_drift", "concept_drift", "data_quality")

# One seed per file, and one block of house ids per file, so ids are unique across all files
# (blocks hold 100,000 ids; bigger benchmark batches simply run on, still unique within the batch).
# The stable, concept_drift and data_quality seeds are the first ones, counting up from
# 20240303 / 20240505 / 20240606, whose 1,000-row sample sits close to the reference (normed
# Wasserstein < 0.04 for area and bedrooms, Jensen-Shannon < 0.03 for the other features, KS
# p > 0.3, mean price within 2%). A fair sample crosses Evidently's default 0.1 drift threshold
# now and then, and a "stable" scenario that shows drift would teach the wrong lesson.
SEEDS = {"reference": 20240101, "new": 20240202, "stable": 20240313,
         "covariate_drift": 20240404, "concept_drift": 20240568, "data_quality": 20240645}
ID_START = {"reference": 1, "new": 100_001, "stable": 200_001, "covariate_drift": 300_001,
            "concept_drift": 400_001, "data_quality": 500_001}

MEDIAN_AREA = 4_600      # square feet; the "typical" house every effect is measured against
BASE_PRICE = 300_000     # GBP for a typical house with no extras, before noise


@dataclass(frozen=True)
class Market:
    """Knobs of the DGP that the releases and scenarios turn. Defaults = the reference market."""

    area_median: float = MEDIAN_AREA   # median floor area of houses on the market
    area_spread: float = 0.38          # sd of log(area)
    aircon_shift: float = 0.0          # added to the log-odds of having air conditioning
    price_level: float = 0.0           # added to log(price): +0.10 is about 10% dearer
    prefarea_premium: float = 0.25     # log-price premium of the preferred area (typical house)
    # Concept drift only: by the last day the price level has moved by `drift_level` and the
    # preferred-area premium has been multiplied by `drift_pref`; linear in the day in between.
    drift_level: float = 0.0
    drift_pref: float = 1.0


REFERENCE = Market()
# v2 "new data" release: ~11% dearer on average (BridgeAI's drift demo showed ~+11%): houses ~5%
# bigger and the market ~6.5% up.
NEW_RELEASE = Market(area_median=5_000, price_level=0.065)
SCENARIO_MARKETS = {
    "stable": REFERENCE,
    # Inputs move (much bigger houses, air conditioning far more common); the price rule does not.
    "covariate_drift": Market(area_median=7_600, area_spread=0.33, aircon_shift=1.4),
    # Inputs look like the reference; the price rule moves day by day: the market falls 16% and
    # the preferred-area premium turns into a small discount by day 10. A model gets worse while
    # no data drift shows.
    "concept_drift": Market(drift_level=-0.17, drift_pref=-0.25),
    # An incident batch: stable houses, then corrupted cells (see _corrupt).
    "data_quality": REFERENCE,
}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _round_to(x, step):
    # np.rint rounds halves to even on every platform; the step keeps values looking real.
    return (np.rint(np.asarray(x, dtype=float) / step) * step).astype(np.int64)


_NO_YES = np.array(["no", "yes"], dtype=object)
_FURNISHING = np.array(["unfurnished", "semi-furnished", "furnished"], dtype=object)


def _yes_no(mask):
    # Indexing an object array is ~10x faster than np.where on strings (matters at 1M rows).
    return _NO_YES[mask.astype(np.int64)]


def _house_ids(start: int, n: int) -> np.ndarray:
    return np.array([f"H{i:06d}" for i in range(start, start + n)], dtype=object)


def _features(rng: np.random.Generator, n: int, market: Market) -> pd.DataFrame:
    """Correlated features: floor area drives the room counts, storeys, parking and extras."""
    z = rng.standard_normal((n, 6))
    u = rng.random((n, 6))
    lo, hi = COLUMNS["area"].min, COLUMNS["area"].max
    area = np.clip(_round_to(market.area_median * np.exp(market.area_spread * z[:, 0]), 10), lo, hi)
    size = np.log(area / MEDIAN_AREA) / 0.38          # ~N(0, 1) in the reference market
    bedrooms = np.clip(np.rint(2.8 + 0.9 * size + 0.7 * z[:, 1]), 1, 6).astype(np.int64)
    bathrooms = np.clip(np.rint(0.3 + 0.3 * bedrooms + 0.3 * size + 0.5 * z[:, 2]), 1, 4)
    stories = np.clip(np.rint(0.9 + 0.3 * bedrooms + 0.2 * size + 0.6 * z[:, 3]), 1, 4)
    parking = np.clip(np.rint(0.6 + 0.5 * size + 0.8 * z[:, 4]), 0, 3)
    # Furnishing: bigger houses are more often sold furnished.
    f = 0.5 * size + z[:, 5]
    furnishing = _FURNISHING[(f > -0.45).astype(np.int64) + (f > 0.65)]
    return pd.DataFrame({
        "area": area,
        "bedrooms": bedrooms,
        "bathrooms": bathrooms.astype(np.int64),
        "stories": stories.astype(np.int64),
        "mainroad": _yes_no(u[:, 0] < _sigmoid(1.7 + 0.5 * size)),
        "guestroom": _yes_no(u[:, 1] < _sigmoid(-1.5 + 0.6 * size)),
        "basement": _yes_no(u[:, 2] < 0.35),
        "hotwaterheating": _yes_no(u[:, 3] < 0.06),
        "airconditioning": _yes_no(u[:, 4] < _sigmoid(-0.8 + 0.8 * size + market.aircon_shift)),
        "parking": parking.astype(np.int64),
        "prefarea": _yes_no(u[:, 5] < 0.24),
        "furnishingstatus": furnishing,
    }, columns=list(FEATURES))


def _price(rng: np.random.Generator, X: pd.DataFrame, market: Market, progress=None) -> np.ndarray:
    """Price in GBP, rounded to £1,000. Effects multiply (they add on the log scale):

    log p = log 300,000 + level
            + 1.30 min(s, 0) + 0.35 max(s, 0)     s = log(area / 4,600): diminishing returns
            + 0.03 bedrooms + 0.07 (bathrooms-1) + 0.05 (stories-1) + 0.04 parking
            + mainroad * (0.12 - 0.35 max(s, 0))  access helps small houses, noise hurts big ones
            + 0.05 guestroom + 0.06 basement + 0.08 hotwaterheating
            + airconditioning * (0.02 + 0.35 sigmoid((area - 7,000) / 1,000))   big houses gain most
            + prefarea * premium * max(0, 1 + 2 s)                              prefarea x area
            + 0.07 furnished | 0.035 semi-furnished
            + noise * (0.06 + 0.10 (area - 1,500) / 14,500)                     heteroscedastic
    premium = 0.25 in the reference market. `progress` (0..1 per row) moves the level and the
    premium in the concept-drift scenario.
    """
    n = len(X)
    noise = rng.standard_normal(n)
    area = X["area"].to_numpy(dtype=float)
    s = np.log(area / MEDIAN_AREA)
    yes = {c: (X[c].to_numpy() == "yes") for c in
           ("mainroad", "guestroom", "basement", "hotwaterheating", "airconditioning", "prefarea")}
    furn = X["furnishingstatus"].to_numpy()
    t = np.zeros(n) if progress is None else np.asarray(progress, dtype=float)
    level = market.price_level + market.drift_level * t
    premium = market.prefarea_premium * (1.0 + (market.drift_pref - 1.0) * t)
    log_p = (np.log(BASE_PRICE) + level
             + 1.30 * np.minimum(s, 0.0) + 0.35 * np.maximum(s, 0.0)
             + 0.03 * X["bedrooms"].to_numpy() + 0.07 * (X["bathrooms"].to_numpy() - 1)
             + 0.05 * (X["stories"].to_numpy() - 1) + 0.04 * X["parking"].to_numpy()
             + yes["mainroad"] * (0.12 - 0.35 * np.maximum(s, 0.0))
             + 0.05 * yes["guestroom"] + 0.06 * yes["basement"] + 0.08 * yes["hotwaterheating"]
             + yes["airconditioning"] * (0.02 + 0.35 * _sigmoid((area - 7_000) / 1_000))
             + yes["prefarea"] * premium * np.maximum(0.0, 1.0 + 2.0 * s)
             + np.where(furn == "furnished", 0.07, np.where(furn == "semi-furnished", 0.035, 0.0))
             + noise * (0.06 + 0.10 * (area - 1_500) / 14_500))
    lo, hi = COLUMNS[TARGET].min, COLUMNS[TARGET].max
    return np.clip(_round_to(np.exp(log_p), 1_000), lo, hi)


def generate_houses(n_rows: int = REFERENCE_ROWS, *, release: str = "reference",
                    seed: int | None = None, id_start: int | None = None) -> pd.DataFrame:
    """Labelled houses (house_id, features, price). release: "reference" (training data, v1)
    or "new" (the v2 release: market up ~11%, slightly bigger houses)."""
    markets = {"reference": REFERENCE, "new": NEW_RELEASE}
    if release not in markets:
        raise ValueError(f"unknown release {release!r}; use 'reference' or 'new'")
    rng = np.random.default_rng(SEEDS[release] if seed is None else seed)
    X = _features(rng, n_rows, markets[release])
    X[TARGET] = _price(rng, X, markets[release])
    X.insert(0, ID, _house_ids(ID_START[release] if id_start is None else id_start, n_rows))
    return X[list(LAYOUTS["houses"])]


def generate_traffic(scenario: str, n_rows: int = TRAFFIC_ROWS, seed: int | None = None,
                     days: int = TRAFFIC_DAYS, *, id_start: int | None = None,
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prediction requests after go-live and the sale prices that arrive later.

    Returns (features, labels):
      features  house_id, day, then the features; no price. Rows are in day order, spread evenly
                over days 1..`days`.
      labels    house_id, day_sold, price; day_sold = day + 0..14 (a sale completes later), sorted
                in arrival order (day_sold, house_id).
    For "data_quality" the features hold the incident's raw values (object columns where cells
    were corrupted), as a CSV from a broken upstream system would.
    """
    if scenario not in SCENARIO_MARKETS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}")
    if n_rows < 1 or days < 1:
        raise ValueError("n_rows and days must be at least 1")
    market = SCENARIO_MARKETS[scenario]
    rng = np.random.default_rng(SEEDS[scenario] if seed is None else seed)
    day = 1 + (np.arange(n_rows) * days) // n_rows
    X = _features(rng, n_rows, market)
    progress = (day - 1) / max(days - 1, 1)
    price = _price(rng, X, market, progress)
    ids = _house_ids(ID_START[scenario] if id_start is None else id_start, n_rows)
    day_sold = day + rng.integers(0, 15, size=n_rows)
    X.insert(0, DAY, day)
    X.insert(0, ID, ids)
    labels = pd.DataFrame({ID: ids, DAY_SOLD: day_sold, TARGET: price})
    if scenario == "data_quality":
        X, keep = _corrupt(X, rng)
        labels = labels[keep]
    # Arrival order: by day_sold, then house_id (ids grow with the row number, so sort on that).
    order = np.lexsort((np.arange(len(labels)), labels[DAY_SOLD].to_numpy()))
    labels = labels.iloc[order].reset_index(drop=True)
    return X[list(LAYOUTS["traffic"])], labels


# Share of rows per kind of fault in the data_quality incident. Each corrupted row has exactly
# one fault, so the counts in the data card are exact.
FAULTS = {"missing": 0.03, "unknown_category": 0.02, "negative_area": 0.01, "absurd_area": 0.01,
          "upper_case": 0.03, "not_a_number": 0.01, "duplicate": 0.01}


def fault_rows(days: np.ndarray, rng: np.random.Generator, counts: dict[str, int],
               kinds: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Seeded, disjoint rows for each fault of an incident (the house prices' and the sectors').

    Duplicates come first: row j re-sends row j-1 of the same day, so neither may carry another
    fault. Returns the duplicated rows and, for each kind, its rows, sorted. The random draws are
    always the same, in the same order: the committed files depend on them."""
    same_day = np.flatnonzero(days[1:] == days[:-1]) + 1
    dup = np.sort(rng.choice(same_day[same_day % 2 == 1], counts["duplicate"], replace=False))
    taken = np.zeros(len(days), dtype=bool)
    taken[dup] = taken[dup - 1] = True
    free = rng.permutation(np.flatnonzero(~taken))
    rows, at = {}, 0
    for kind in kinds:
        rows[kind] = np.sort(free[at:at + counts[kind]])
        at += counts[kind]
    return dup, rows


def _corrupt(X: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Apply the incident's faults to disjoint, seeded sets of rows.

    Returns the corrupted frame and a mask of rows whose house still has a label (a duplicated
    row is a re-sent earlier request, so the house it replaced never existed).
    """
    n = len(X)
    X = X.copy()
    counts = {k: max(1, int(round(share * n))) for k, share in FAULTS.items()}
    dup, rows = fault_rows(X[DAY].to_numpy(), rng, counts, ("missing", "unknown_category",
                           "negative_area", "absurd_area", "upper_case", "not_a_number"))
    for col in ("area", "bathrooms", "parking", "airconditioning", "furnishingstatus", "mainroad"):
        X[col] = X[col].astype(object)
    # Missing values: spread over a few columns (empty cells in the CSV).
    missing_cols = np.array(["area", "bathrooms", "parking", "airconditioning", "furnishingstatus"])
    which = missing_cols[rng.integers(0, len(missing_cols), size=len(rows["missing"]))]
    for c in missing_cols:
        X.loc[rows["missing"][which == c], c] = None
    X.loc[rows["unknown_category"], "furnishingstatus"] = "part-furnished"
    X.loc[rows["negative_area"], "area"] = -X.loc[rows["negative_area"], "area"]
    X.loc[rows["absurd_area"], "area"] = X.loc[rows["absurd_area"], "area"] * 100  # sq ft x 100
    # Upper case: the training/serving skew BridgeAI's prediction service had.
    for c in ("mainroad", "airconditioning"):
        X.loc[rows["upper_case"], c] = X.loc[rows["upper_case"], c].str.upper()
    # Not a number: a spreadsheet's thousands separator.
    nan_rows = rows["not_a_number"]
    X.loc[nan_rows, "area"] = [f"{int(a):,}" for a in X.loc[nan_rows, "area"]]
    keep = np.ones(n, dtype=bool)
    keep[dup] = False
    X.iloc[dup, [X.columns.get_loc(c) for c in (ID, *FEATURES)]] = \
        X.iloc[dup - 1, [X.columns.get_loc(c) for c in (ID, *FEATURES)]].to_numpy()
    return X, keep


# ---------------------------------------------------------------------------------------------
# Files

def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV bytes the same on every platform: no index, "\\n" line endings, UTF-8."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def generated_files() -> dict[str, bytes]:
    """Every committed data file, by path relative to the datasets directory (posix)."""
    files = {
        "houses_reference.csv": to_csv_bytes(generate_houses(REFERENCE_ROWS, release="reference")),
        "houses_new.csv": to_csv_bytes(generate_houses(NEW_ROWS, release="new")),
    }
    for scenario in SCENARIOS:
        features, labels = generate_traffic(scenario, TRAFFIC_ROWS, days=TRAFFIC_DAYS)
        files[f"traffic/{scenario}.csv"] = to_csv_bytes(features)
        files[f"traffic/{scenario}_labels.csv"] = to_csv_bytes(labels)
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode("utf-8")
    return files


def write_all(out_dir: str | Path = DATASETS_DIR) -> list[Path]:
    """Write every house-price data file and SHA256SUMS under out_dir; returns the paths written."""
    return _write(generated_files(), out_dir)


def write_sectors(out_dir: str | Path | None = None) -> list[Path]:
    """Write every sector data file and its SHA256SUMS under out_dir (default sector_datasets/)."""
    from mlops_clinic.data import sectors

    return _write(sectors.generated_files(), sectors.SECTORS_DIR if out_dir is None else out_dir)


def _write(files: dict[str, bytes], out_dir: str | Path) -> list[Path]:
    out_dir = Path(out_dir)
    written = []
    for name, data in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def compare(out_dir: str | Path = DATASETS_DIR, writer=write_all) -> dict[str, str]:
    """Compare out_dir with a fresh generation by `writer` (write_all or write_sectors):
    {relative path: "differs" | "missing" | "not generated"}; empty when everything is identical."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="clinic-data-") as tmp:
        writer(tmp)
        fresh = {p.relative_to(tmp).as_posix(): p.read_bytes()
                 for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
    report = {}
    for name, data in fresh.items():
        path = out_dir / name
        if not path.is_file():
            report[name] = "missing"
        elif path.read_bytes() != data:
            report[name] = "differs"
    for path in sorted(out_dir.rglob("*.csv")):
        name = path.relative_to(out_dir).as_posix()
        if name not in fresh:
            report[name] = "not generated"
    return report


def _shown(path: Path) -> str:
    # Print paths relative to the repository so outputs carry no machine-specific paths.
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="directory of the house-price datasets to write or check (default: the "
                             "kit's datasets/; given alone, only those)")
    parser.add_argument("--sectors-out", type=Path, default=None,
                        help="directory of the sector datasets to write or check (default: the kit's "
                             "sector_datasets/; given alone, only those)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate in a temporary directory and report files that differ")


def run(args: argparse.Namespace) -> int:
    """`clinic data generate [--out DIR] [--sectors-out DIR] [--check]`."""
    from mlops_clinic.data import sectors

    houses_out, sectors_out = args.out, getattr(args, "sectors_out", None)
    if houses_out is None and sectors_out is None:
        houses_out, sectors_out = DATASETS_DIR, sectors.SECTORS_DIR
    folders = [(folder, writer) for folder, writer in ((houses_out, write_all), (sectors_out, write_sectors))
               if folder is not None]
    if args.check:
        return 0 if all([_check(folder, writer) for folder, writer in folders]) else 1
    for folder, writer in folders:
        for path in writer(folder):
            print(f"wrote {_shown(path)}")
    return 0


def _check(out_dir: Path, writer) -> bool:
    """Print the outcome of compare(); True when out_dir is identical to a fresh generation."""
    shown = _shown(out_dir)
    report = compare(out_dir, writer)
    if not report:
        print(f"All data files in {shown}/ are identical to a fresh generation.")
        return True
    hints = {"differs": "differs from a fresh generation",
             "missing": "is missing",
             "not generated": "is not produced by the generator (delete it, or add it to "
                              "generate.py)"}
    for name, status in report.items():
        print(f"{shown}/{name} {hints[status]}")
    print("Run `clinic data generate` to rewrite the generated files, or undo the edits.")
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="clinic data generate",
        description="Write the kit's generated datasets (deterministic), or check them.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
