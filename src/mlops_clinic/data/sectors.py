"""Datasets for the BridgeAI programme's priority sectors, from documented data-generating processes.

The lessons stay on house prices; these datasets let a participant take the same pipeline home
to a problem closer to their own business (`clinic export DEST --dataset construction`):

    construction   regression: the cost overrun of a construction project, in GBP
    transport      classification: whether a freight delivery arrives late (yes / no)

Each has the house prices' drift scenarios (stable, covariate drift, concept drift with late
labels, a data-quality incident), a data card (sector_datasets/<name>/README.md) and the same
determinism: fixed seeds, only numpy's `Generator.random`, `standard_normal` and `integers`, and
only integers and fixed strings written, so `clinic data generate --check` can compare bytes.

    sector_datasets/<name>/reference.csv               labelled training data, 2,000 rows
    sector_datasets/<name>/traffic/<scenario>.csv      1,000 requests over days 1-10
    sector_datasets/<name>/traffic/<scenario>_labels.csv   the outcomes, which arrive later
    sector_datasets/SHA256SUMS
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from mlops_clinic.data.generate import fault_rows
from mlops_clinic.data.schema import Column, Schema
from mlops_clinic.paths import REPO_ROOT

SECTORS_DIR = REPO_ROOT / "sector_datasets"
REFERENCE_ROWS = 2_000
TRAFFIC_ROWS = 1_000
TRAFFIC_DAYS = 10
SCENARIOS = ("stable", "covariate_drift", "concept_drift", "data_quality")
DAY, DAY_KNOWN = "day", "day_known"
# Share of rows per kind of fault in a data_quality incident (as the house prices' incident).
FAULT_SHARES = {"missing": 0.03, "unknown_category": 0.02, "negative": 0.01, "absurd": 0.01,
                "upper_case": 0.03, "not_a_number": 0.01, "duplicate": 0.01}
# A scenario that should show no data drift is drawn with a seed whose sample is close to the
# reference: a fair 1,000-row sample crosses Evidently's 0.1 threshold on some column now and then,
# and a "stable" scenario showing drift would teach the wrong lesson. Close means: normed
# Wasserstein below 0.05 for every number, Jensen-Shannon below 0.05 for every category (half of
# Evidently's thresholds), and for stable the mean outcome within 8% (construction) or the share
# of late deliveries within 3 points (transport) of the reference's.
SAMPLE_CLOSENESS = {"wasserstein": 0.05, "jensen_shannon": 0.05}
REGIONS = ("london", "south_east", "midlands", "north", "scotland", "wales")
YES_NO = ("yes", "no")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _round_to(x, step):
    # np.rint rounds halves to even on every platform; the step keeps values looking real.
    return (np.rint(np.asarray(x, dtype=float) / step) * step).astype(np.int64)


def _pick(u: np.ndarray, values: tuple[str, ...], weights) -> np.ndarray:
    """values[i] with probability weights[i], from uniforms u (one draw per row)."""
    edges = np.cumsum(np.asarray(weights, dtype=float) / np.sum(weights))[:-1]
    return np.array(values, dtype=object)[np.searchsorted(edges, u, side="right")]


def _yes_no(mask) -> np.ndarray:
    return np.array(["no", "yes"], dtype=object)[np.asarray(mask).astype(np.int64)]


@dataclass(frozen=True)
class Faults:
    """Where a data_quality incident puts each kind of fault."""

    missing: tuple[str, ...]            # columns that get empty cells
    unknown_category: tuple[str, str]   # (column, a value the schema does not allow)
    negative: str                       # a numeric column whose value turns negative
    absurd: tuple[str, int]             # (column, factor): a unit slip, always out of range
    upper_case: tuple[str, ...]         # yes/no columns written in upper case
    not_a_number: tuple[str, str]       # (column, format of the text), e.g. "{:,}" or "{} km"


@dataclass(frozen=True)
class Sector:
    """One sector dataset: its schema, its generating process and its scenarios."""

    name: str
    schema: Schema
    id_prefix: str
    features: Callable              # (rng, n, market) -> DataFrame of the features
    outcome: Callable               # (rng, X, market, progress) -> target values
    markets: dict                   # "reference" and each scenario -> market settings
    seeds: dict[str, int]
    faults: Faults
    label_delay: int                # outcomes are known 0..label_delay days after the request
    id_start: dict[str, int] = field(default_factory=lambda: {
        "reference": 1, "stable": 200_001, "covariate_drift": 300_001, "concept_drift": 400_001,
        "data_quality": 500_001})

    @property
    def folder(self) -> Path:
        return SECTORS_DIR / self.name

    def ids(self, start: int, n: int) -> np.ndarray:
        return np.array([f"{self.id_prefix}{i:06d}" for i in range(start, start + n)], dtype=object)

    def generate(self, n_rows: int = REFERENCE_ROWS, *, seed: int | None = None,
                 id_start: int | None = None, market: str = "reference") -> pd.DataFrame:
        """Labelled rows (id, features, target) of the reference process (or a scenario's)."""
        rng = np.random.default_rng(self.seeds["reference"] if seed is None else seed)
        X = self.features(rng, n_rows, self.markets[market])
        X[self.schema.target] = self.outcome(rng, X, self.markets[market], None)
        X.insert(0, self.schema.id, self.ids(self.id_start["reference"] if id_start is None else id_start, n_rows))
        return X[list(self.schema.layouts["data"])]

    def traffic(self, scenario: str, n_rows: int = TRAFFIC_ROWS, *, seed: int | None = None,
                days: int = TRAFFIC_DAYS) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Requests after go-live (id, day, features) and their outcomes (id, day_known, target),
        which arrive later, in arrival order. data_quality's requests hold the incident's raw
        values, as a CSV from a broken upstream system would."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}")
        market = self.markets[scenario]
        rng = np.random.default_rng(self.seeds[scenario] if seed is None else seed)
        day = 1 + (np.arange(n_rows) * days) // n_rows
        X = self.features(rng, n_rows, market)
        outcome = self.outcome(rng, X, market, (day - 1) / max(days - 1, 1))
        ids = self.ids(self.id_start[scenario], n_rows)
        known = day + rng.integers(0, self.label_delay + 1, size=n_rows)
        X.insert(0, DAY, day)
        X.insert(0, self.schema.id, ids)
        labels = pd.DataFrame({self.schema.id: ids, DAY_KNOWN: known, self.schema.target: outcome})
        if scenario == "data_quality":
            X, keep = corrupt(X, rng, self.faults, self.schema.id)
            labels = labels[keep]
        order = np.lexsort((np.arange(len(labels)), labels[DAY_KNOWN].to_numpy()))
        labels = labels.iloc[order].reset_index(drop=True)
        return X[list(self.schema.layouts["traffic"])], labels


def corrupt(X: pd.DataFrame, rng: np.random.Generator, faults: Faults, id_column: str,
            ) -> tuple[pd.DataFrame, np.ndarray]:
    """Apply an incident's faults to disjoint, seeded sets of rows (one fault per row, so a data
    card can give exact counts). Returns the frame and a mask of the rows whose outcome still
    exists (a duplicated row re-sends the one before it)."""
    n = len(X)
    X = X.copy()
    counts = {k: max(1, int(round(share * n))) for k, share in FAULT_SHARES.items()}
    dup, rows = fault_rows(X[DAY].to_numpy(), rng, counts, ("missing", "unknown_category", "negative",
                                                           "absurd", "upper_case", "not_a_number"))
    touched = {*faults.missing, faults.unknown_category[0], faults.negative, faults.absurd[0],
               *faults.upper_case, faults.not_a_number[0]}
    for column in touched:
        X[column] = X[column].astype(object)
    missing = np.array(faults.missing)
    which = missing[rng.integers(0, len(missing), size=len(rows["missing"]))]
    for column in missing:
        X.loc[rows["missing"][which == column], column] = None
    column, value = faults.unknown_category
    X.loc[rows["unknown_category"], column] = value
    X.loc[rows["negative"], faults.negative] = -X.loc[rows["negative"], faults.negative]
    column, factor = faults.absurd
    X.loc[rows["absurd"], column] = X.loc[rows["absurd"], column] * factor
    for column in faults.upper_case:
        X.loc[rows["upper_case"], column] = X.loc[rows["upper_case"], column].str.upper()
    column, text = faults.not_a_number
    X.loc[rows["not_a_number"], column] = [text.format(int(v)) for v in X.loc[rows["not_a_number"], column]]
    keep = np.ones(n, dtype=bool)
    keep[dup] = False
    copied = [X.columns.get_loc(c) for c in X.columns if c != DAY]
    X.iloc[dup, copied] = X.iloc[dup - 1, copied].to_numpy()
    return X, keep


def _schema(name, description, columns, target, task, id_column) -> Schema:
    time = (Column(DAY, "integer", "time", "Day the request arrived, counted from 1 = the day the "
                   "model went live (traffic files only)", unit="day", min=1, example=3),
            Column(DAY_KNOWN, "integer", "time", "Day the outcome became known; never before `day` "
                   "(label files only)", unit="day", min=1, example=5))
    features = tuple(c.name for c in columns if c.role == "feature")
    return Schema(name=name, columns=(*columns, *time), target=target, task=task,
                  description=description,
                  layouts={"data": (id_column, *features, target),
                           "traffic": (id_column, DAY, *features),
                           "labels": (id_column, DAY_KNOWN, target)})


# =============================================================================================
# Construction: cost overrun of a project (regression, GBP)

PROJECT_TYPES = ("new_build_housing", "commercial", "infrastructure", "refurbishment")
QUARTERS = ("q1", "q2", "q3", "q4")


@dataclass(frozen=True)
class ConstructionMarket:
    """Knobs of the construction process. Defaults = the reference market."""

    type_weights: tuple[float, ...] = (0.35, 0.25, 0.15, 0.25)
    size_factor: float = 1.0      # multiplies every contract value
    steel_level: float = 100.0    # materials price index at contract start (100 = reference)
    bim_shift: float = 0.0        # log-odds of using BIM
    level: float = 0.0            # added to every overrun rate
    # Concept drift only: by the last day the rate has risen by `drift_level` and BIM's benefit
    # has been multiplied by `drift_bim`; linear in the day in between.
    drift_level: float = 0.0
    drift_bim: float = 1.0


CONSTRUCTION_COLUMNS = (
    Column("project_id", "id", "identifier", "Identifier of the project; unique across every file",
           pattern=r"^P[0-9]{6,}$", example="P000123", pattern_hint="'P' followed by six digits"),
    Column("project_type", "category", "feature", "Kind of project", allowed=PROJECT_TYPES,
           example="commercial"),
    Column("region", "category", "feature", "UK region of the site", allowed=REGIONS, example="midlands"),
    Column("contract_value_gbp", "integer", "feature", "Contract value at award, rounded to £1,000",
           unit="GBP", min=50_000, max=20_000_000, example=1_200_000),
    Column("planned_weeks", "integer", "feature", "Planned duration", unit="weeks", min=8, max=208,
           example=30),
    Column("design_changes", "integer", "feature", "Design changes ordered after award", min=0,
           max=40, example=3),
    Column("subcontractors", "integer", "feature", "Subcontractors on the project", min=1, max=60,
           example=8),
    Column("bidders", "integer", "feature", "Firms that bid for the contract", min=1, max=12,
           example=4),
    Column("site_survey", "yes_no", "feature", "A ground investigation was done before award",
           allowed=YES_NO, example="yes"),
    Column("fixed_price", "yes_no", "feature", "Fixed-price contract (the contractor carries the "
           "risk of most cost rises)", allowed=YES_NO, example="no"),
    Column("bim", "yes_no", "feature", "Building information modelling used for design and "
           "clash detection", allowed=YES_NO, example="yes"),
    Column("steel_index", "integer", "feature", "Materials price index at contract start "
           "(100 = the reference market)", min=60, max=250, example=100),
    Column("start_quarter", "category", "feature", "Quarter of the year work started",
           allowed=QUARTERS, example="q2"),
    Column("overrun_gbp", "integer", "target", "Final cost minus contract value, rounded to "
           "£1,000; negative when the project came in under budget", unit="GBP",
           min=-2_000_000, max=20_000_000, example=90_000),
)
TYPE_MEDIAN_VALUE = {"new_build_housing": 800_000, "commercial": 1_500_000,
                     "infrastructure": 4_000_000, "refurbishment": 400_000}
TYPE_RATE = {"new_build_housing": 0.06, "commercial": 0.08, "infrastructure": 0.14, "refurbishment": 0.11}


def construction_features(rng: np.random.Generator, n: int, market: ConstructionMarket) -> pd.DataFrame:
    """Correlated features: the project type sets the typical size, size drives duration,
    design changes, subcontractors, surveys and BIM."""
    z = rng.standard_normal((n, 6))
    u = rng.random((n, 7))
    kind = _pick(u[:, 0], PROJECT_TYPES, market.type_weights)
    median = np.array([TYPE_MEDIAN_VALUE[k] for k in kind], dtype=float)
    value = np.clip(_round_to(median * market.size_factor * np.exp(0.7 * z[:, 0]), 1_000), 50_000, 20_000_000)
    s = np.log(value / 1_000_000)
    infra = kind == "infrastructure"
    weeks = np.clip(np.rint(22 * np.exp(0.45 * s) * np.where(infra, 1.3, 1.0) + 5 * z[:, 1]), 8, 208)
    changes = np.clip(np.rint(np.exp(1.1 + 0.3 * s + 0.6 * z[:, 2]) - 1), 0, 40)
    subs = np.clip(np.rint(4 + 3 * np.exp(0.5 * s) + 2 * z[:, 3]), 1, 60)
    bidders = np.clip(np.rint(4.5 + 2 * z[:, 4]), 1, 12)
    steel = np.clip(np.rint(market.steel_level + 8 * z[:, 5]), 60, 250)
    return pd.DataFrame({
        "project_type": kind,
        "region": _pick(u[:, 1], REGIONS, (0.18, 0.17, 0.20, 0.22, 0.13, 0.10)),
        "contract_value_gbp": value,
        "planned_weeks": weeks.astype(np.int64),
        "design_changes": changes.astype(np.int64),
        "subcontractors": subs.astype(np.int64),
        "bidders": bidders.astype(np.int64),
        "site_survey": _yes_no(u[:, 2] < _sigmoid(0.8 + 0.6 * s)),
        "fixed_price": _yes_no(u[:, 3] < 0.45),
        "bim": _yes_no(u[:, 4] < _sigmoid(-0.6 + 0.9 * s + market.bim_shift)),
        "steel_index": steel.astype(np.int64),
        "start_quarter": _pick(u[:, 5], QUARTERS, (1, 1, 1, 1)),
    })


def construction_overrun(rng: np.random.Generator, X: pd.DataFrame, market: ConstructionMarket,
                         progress=None) -> np.ndarray:
    """Overrun in GBP = contract value x overrun rate, rounded to £1,000 (see the data card):

    rate = type rate (housing 0.06, commercial 0.08, infrastructure 0.14, refurbishment 0.11)
           + 0.009 design_changes + 0.012 max(bidders - 4, 0)      late changes; winner's curse
           + 0.004 max(subcontractors - 10, 0)                       coordination
           - 0.05 site_survey - 0.04 fixed_price - 0.04 bim          known risks priced or removed
           + 0.0012 (steel_index - 100) + 0.025 [start in q4 or q1]  materials; winter start
           + noise x (0.05, 0.08 for infrastructure)
    """
    n = len(X)
    noise = rng.standard_normal(n)
    t = np.zeros(n) if progress is None else np.asarray(progress, dtype=float)
    kind = X["project_type"].to_numpy()
    yes = {c: X[c].to_numpy() == "yes" for c in ("site_survey", "fixed_price", "bim")}
    bim_benefit = 0.04 * (1.0 + (market.drift_bim - 1.0) * t)
    rate = (np.array([TYPE_RATE[k] for k in kind]) + market.level + market.drift_level * t
            + 0.009 * X["design_changes"].to_numpy()
            + 0.012 * np.maximum(X["bidders"].to_numpy() - 4, 0)
            + 0.004 * np.maximum(X["subcontractors"].to_numpy() - 10, 0)
            - 0.05 * yes["site_survey"] - 0.04 * yes["fixed_price"] - bim_benefit * yes["bim"]
            + 0.0012 * (X["steel_index"].to_numpy() - 100)
            + 0.025 * np.isin(X["start_quarter"].to_numpy(), ("q4", "q1"))
            + noise * np.where(kind == "infrastructure", 0.08, 0.05))
    return np.clip(_round_to(X["contract_value_gbp"].to_numpy() * rate, 1_000), -2_000_000, 20_000_000)


CONSTRUCTION = Sector(
    name="construction",
    schema=_schema("construction", "Synthetic construction projects: the cost overrun (GBP) "
                   "a project will end with, known at contract award", CONSTRUCTION_COLUMNS,
                   "overrun_gbp", "regression", "project_id"),
    id_prefix="P",
    features=construction_features,
    outcome=construction_overrun,
    markets={
        "reference": ConstructionMarket(),
        "stable": ConstructionMarket(),
        # Inputs move (bigger projects, more infrastructure, materials 40% dearer); the rule does not.
        "covariate_drift": ConstructionMarket(type_weights=(0.2, 0.2, 0.4, 0.2), size_factor=2.5,
                                              steel_level=140),
        # Inputs look like the reference; overruns rise day by day (a supply-chain shock: +10
        # points of rate by day 10) and BIM stops helping.
        "concept_drift": ConstructionMarket(drift_level=0.10, drift_bim=0.0),
        "data_quality": ConstructionMarket(),
    },
    # stable, concept_drift and data_quality: the first seeds counting up from 20250303 /
    # 20250505 / 20250606 whose 1,000-row sample sits close to the reference (SAMPLE_CLOSENESS).
    seeds={"reference": 20250101, "stable": 20250308, "covariate_drift": 20250404,
           "concept_drift": 20250510, "data_quality": 20250612},
    faults=Faults(missing=("contract_value_gbp", "design_changes", "region", "bim", "planned_weeks"),
                  unknown_category=("region", "Greater London"), negative="contract_value_gbp",
                  absurd=("steel_index", 10), upper_case=("bim", "site_survey"),
                  not_a_number=("contract_value_gbp", "{:,}")),
    label_delay=14,
)


# =============================================================================================
# Transport: will a freight delivery arrive late? (classification, yes / no)

VEHICLES = ("van", "rigid_truck", "articulated")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEATHER = ("clear", "rain", "fog", "snow")


@dataclass(frozen=True)
class TransportMarket:
    """Knobs of the delivery process. Defaults = the reference market."""

    weather_weights: tuple[float, ...] = (0.62, 0.30, 0.04, 0.04)
    distance_factor: float = 1.0
    roadworks_share: float = 0.2
    level: float = 0.0            # added to the log-odds of a late delivery
    # Concept drift only: by the last day the log-odds have risen by `drift_level` and the effect
    # of roadworks has been multiplied by `drift_roadworks`; linear in the day in between.
    drift_level: float = 0.0
    drift_roadworks: float = 1.0


TRANSPORT_COLUMNS = (
    Column("journey_id", "id", "identifier", "Identifier of the delivery; unique across every file",
           pattern=r"^J[0-9]{6,}$", example="J000123", pattern_hint="'J' followed by six digits"),
    Column("vehicle", "category", "feature", "Vehicle class", allowed=VEHICLES, example="van"),
    Column("distance_km", "integer", "feature", "Planned route length", unit="km", min=2, max=800,
           example=45),
    Column("stops", "integer", "feature", "Drops on the route, this one included", min=1, max=30,
           example=6),
    Column("departure_hour", "integer", "feature", "Hour the vehicle left the depot (24-hour clock)",
           unit="hour", min=0, max=23, example=9),
    Column("weekday", "category", "feature", "Day of the week of the delivery", allowed=WEEKDAYS,
           example="tue"),
    Column("region", "category", "feature", "UK region of the delivery address", allowed=REGIONS,
           example="north"),
    Column("weather", "category", "feature", "Weather forecast for the route at departure",
           allowed=WEATHER, example="clear"),
    Column("driver_years", "integer", "feature", "Driver's years of experience", unit="years",
           min=0, max=45, example=7),
    Column("roadworks", "yes_no", "feature", "Roadworks announced on the planned route",
           allowed=YES_NO, example="no"),
    Column("load_tonnes", "integer", "feature", "Load carried, rounded to the tonne", unit="tonnes",
           min=0, max=44, example=1),
    Column("late", "yes_no", "target", "Arrived more than 30 minutes after its booked slot",
           allowed=YES_NO, example="no"),
)
VEHICLE_DISTANCE = {"van": 40, "rigid_truck": 90, "articulated": 180}
WEATHER_EFFECT = {"clear": 0.0, "rain": 0.7, "fog": 1.4, "snow": 2.4}


def transport_features(rng: np.random.Generator, n: int, market: TransportMarket) -> pd.DataFrame:
    """The vehicle sets the typical route: vans make many short drops, articulated lorries few
    long ones; weather and roadworks come from the market."""
    z = rng.standard_normal((n, 4))
    u = rng.random((n, 5))
    vehicle = _pick(u[:, 0], VEHICLES, (0.5, 0.3, 0.2))
    median = np.array([VEHICLE_DISTANCE[v] for v in vehicle], dtype=float)
    distance = np.clip(np.rint(median * market.distance_factor * np.exp(0.6 * z[:, 0])), 2, 800)
    van, artic = vehicle == "van", vehicle == "articulated"
    stops = np.clip(np.rint(np.where(van, 8 + 4 * z[:, 1], np.where(artic, 2 + 0.8 * z[:, 1], 4 + 2 * z[:, 1]))), 1, 30)
    load = np.clip(np.rint(np.where(van, 1.2 + 0.6 * z[:, 2], np.where(artic, 22 + 8 * z[:, 2], 8 + 4 * z[:, 2]))), 0, 44)
    driver = np.clip(np.rint(np.exp(2.0 + 0.6 * z[:, 3])), 0, 45)
    return pd.DataFrame({
        "vehicle": vehicle,
        "distance_km": distance.astype(np.int64),
        "stops": stops.astype(np.int64),
        "departure_hour": rng.integers(4, 22, size=n),
        "weekday": _pick(u[:, 1], WEEKDAYS, (0.16, 0.16, 0.16, 0.16, 0.17, 0.12, 0.07)),
        "region": _pick(u[:, 2], REGIONS, (0.18, 0.17, 0.20, 0.22, 0.13, 0.10)),
        "weather": _pick(u[:, 3], WEATHER, market.weather_weights),
        "driver_years": driver.astype(np.int64),
        "roadworks": _yes_no(u[:, 4] < market.roadworks_share),
        "load_tonnes": load.astype(np.int64),
    })


def transport_late(rng: np.random.Generator, X: pd.DataFrame, market: TransportMarket,
                   progress=None) -> np.ndarray:
    """"yes" with probability sigmoid(log-odds), see the data card:

    log-odds = -3.7 + 0.010 min(distance_km, 400) + 0.12 stops
               + 1.1 [departs 7-9 or 16-18]                           rush hours
               + weather (rain 0.7, fog 1.4, snow 2.4) + 1.2 roadworks
               - 0.07 min(driver_years, 20)                           experience
               + 0.9 [london] + 0.4 [south_east] + 0.4 [fri] - 0.5 [sun]
               + 0.3 [articulated] + 0.015 load_tonnes
    """
    n = len(X)
    u = rng.random(n)
    t = np.zeros(n) if progress is None else np.asarray(progress, dtype=float)
    hour = X["departure_hour"].to_numpy()
    region, day = X["region"].to_numpy(), X["weekday"].to_numpy()
    roadworks = 1.2 * (1.0 + (market.drift_roadworks - 1.0) * t)
    logit = (-3.7 + market.level + market.drift_level * t
             + 0.010 * np.minimum(X["distance_km"].to_numpy(), 400) + 0.12 * X["stops"].to_numpy()
             + 1.1 * (((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 18)))
             + np.array([WEATHER_EFFECT[w] for w in X["weather"].to_numpy()])
             + roadworks * (X["roadworks"].to_numpy() == "yes")
             - 0.07 * np.minimum(X["driver_years"].to_numpy(), 20)
             + 0.9 * (region == "london") + 0.4 * (region == "south_east")
             + 0.4 * (day == "fri") - 0.5 * (day == "sun")
             + 0.3 * (X["vehicle"].to_numpy() == "articulated") + 0.015 * X["load_tonnes"].to_numpy())
    return _yes_no(u < _sigmoid(logit))


TRANSPORT = Sector(
    name="transport",
    schema=_schema("transport", "Synthetic freight deliveries: whether a delivery will arrive more "
                   "than 30 minutes late, known at departure", TRANSPORT_COLUMNS, "late",
                   "classification", "journey_id"),
    id_prefix="J",
    features=transport_features,
    outcome=transport_late,
    markets={
        "reference": TransportMarket(),
        "stable": TransportMarket(),
        # Winter and a wider service area: snow and fog common, routes 50% longer, more roadworks.
        "covariate_drift": TransportMarket(weather_weights=(0.35, 0.35, 0.12, 0.18),
                                           distance_factor=1.5, roadworks_share=0.35),
        # Inputs look like the reference; deliveries get later day by day (a driver shortage: +1.0
        # on the log-odds by day 10) and roadworks cost twice as much.
        "concept_drift": TransportMarket(drift_level=1.0, drift_roadworks=2.0),
        "data_quality": TransportMarket(),
    },
    # As for construction, counting up from 20250808 / 20251010 / 20251111.
    seeds={"reference": 20250707, "stable": 20250829, "covariate_drift": 20250909,
           "concept_drift": 20251025, "data_quality": 20251118},
    faults=Faults(missing=("distance_km", "stops", "weather", "driver_years", "vehicle"),
                  unknown_category=("weather", "sleet"), negative="distance_km",
                  absurd=("distance_km", 1000), upper_case=("roadworks",),
                  not_a_number=("distance_km", "{} km")),
    label_delay=2,
)

SECTORS: dict[str, Sector] = {s.name: s for s in (CONSTRUCTION, TRANSPORT)}


def sector(name: str) -> Sector:
    """The sector dataset called `name`; a ValueError names the choices."""
    try:
        return SECTORS[name]
    except KeyError:
        raise ValueError(f"unknown sector dataset {name!r}; choose one of: {', '.join(SECTORS)}") from None


# ---------------------------------------------------------------------------------------------
# Files

def to_csv_bytes(df: pd.DataFrame) -> bytes:
    from mlops_clinic.data.generate import to_csv_bytes as plain_bytes

    return plain_bytes(df)


def generated_files() -> dict[str, bytes]:
    """Every committed sector file, by path relative to sector_datasets/ (posix)."""
    files = {}
    for s in SECTORS.values():
        files[f"{s.name}/reference.csv"] = to_csv_bytes(s.generate(REFERENCE_ROWS))
        for scenario in SCENARIOS:
            requests, labels = s.traffic(scenario)
            files[f"{s.name}/traffic/{scenario}.csv"] = to_csv_bytes(requests)
            files[f"{s.name}/traffic/{scenario}_labels.csv"] = to_csv_bytes(labels)
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode("utf-8")
    return files


def file_path(name: str, file: str = "reference") -> Path:
    """sector_datasets/<name>/<file>.csv, e.g. file_path("transport", "traffic/stable")."""
    return sector(name).folder / f"{file}.csv"


def with_market(s: Sector, scenario: str, **changes) -> Sector:
    """A copy of sector `s` whose scenario market has `changes` (for experiments and tests)."""
    return replace(s, markets={**s.markets, scenario: replace(s.markets[scenario], **changes)})
