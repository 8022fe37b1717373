"""Module 06 questions: make the quality gate block a model trained on faulty data, promote a model
through a branch and a merge, roll the promotion back with a revert.

The exercises work in `sandbox-06/`: a clone of the lesson project with module 06's CI files, whose
pipeline registers `house-price-sandbox` and whose desired state names that model. The project
that later modules build on, and its `house-price` champion, are never touched. The checkers read
the sandbox's git history, its files and the MLflow registry, and score the models themselves on
the champion's trusted test houses, as the project's tests/test_model.py does.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import zlib
from pathlib import Path

from mlops_clinic.checks.core import Question, Wrong, as_count, as_version
from mlops_clinic.checks.open_questions import OpenQuestion, Rule
from mlops_clinic.data.schema import TARGET
from mlops_clinic.data.schema import FEATURES as _FEATURES
from mlops_clinic.names import CHAMPION, MODEL_NAME, SANDBOX_MODEL

SANDBOX = "sandbox-06"
FAULTY_BRANCH = "data-v3"
FAULTY_SHARE = 0.1  # share of houses whose prices the faulty release shuffled
FAULTY_SEED = 6
SETUP_COMMIT = f"Exercises: the pipeline registers {SANDBOX_MODEL}"
CI_FAILED = 1  # what ci/run_pipeline.py returns when a step (the quality gate) fails
LOOSE_GATE = {"champion_tolerance": 0.25, "max_houses_share": 0.1}
FEATURES = list(_FEATURES)  # a list: a tuple would select one column of a DataFrame


# --- set-up of the exercises -----------------------------------------------------------------------


def _workspace(workspace=None):
    from mlops_clinic.workspace import Workspace

    return workspace if workspace is not None else Workspace.resolve()


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def _run(where: Path, *command: str) -> str:
    done = subprocess.run(list(command), cwd=where, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Preparing the exercise failed at `{' '.join(command[:4])}`:\n"
                           f"{(done.stderr or done.stdout).strip()[-1500:]}")
    return done.stdout


def _git(sandbox: Path, *args: str) -> str | None:
    """git's output in the sandbox, or None if the command fails."""
    done = subprocess.run(["git", *args], cwd=sandbox, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def exercise_sandbox(workspace=None) -> Path:
    """A fresh clone of the project in sandbox-06/, with its data pulled, whose pipeline registers
    house-price-sandbox and whose deploy/champion.yaml names house-price-sandbox version 1: the
    project champion's model, registered again under the sandbox's name."""
    from mlflow.exceptions import MlflowException

    from mlops_clinic import stages

    ws = _workspace(workspace)
    stages.ensure("gitops", ws)
    path = ws.root / SANDBOX
    if path.exists():
        shutil.rmtree(path)
    _run(ws.root, "git", "clone", "--quiet", "--branch", "main", str(ws.project), SANDBOX)
    _run(path, "git", "config", "commit.gpgsign", "false")
    _run(path, "dvc", "pull", "--quiet")
    client = _client()
    try:
        client.delete_registered_model(SANDBOX_MODEL)
    except MlflowException:
        pass
    champion = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    client.create_registered_model(SANDBOX_MODEL)
    version = client.create_model_version(SANDBOX_MODEL, source=champion.source,
                                          run_id=champion.run_id).version
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", str(version))
    params = path / "params.yaml"
    params.write_text(params.read_text().replace("registered_model: house-price\n",
                                                 f"registered_model: {SANDBOX_MODEL}\n"))
    desired = path / "deploy" / "champion.yaml"
    lines = [line for line in desired.read_text().splitlines() if line.startswith("#")]
    desired.write_text("\n".join(lines + [f"model: {SANDBOX_MODEL}", f"version: {version}"]) + "\n")
    _run(path, "git", "commit", "--quiet", "-am", SETUP_COMMIT)
    return path


def _loosen_gate(sandbox: Path) -> None:
    """Write the loosened thresholds into tests/gate.yaml, keeping the file's comments and layout."""
    import yaml

    gate_file = sandbox / "tests" / "gate.yaml"
    gate = yaml.safe_load(gate_file.read_text())
    text = gate_file.read_text()
    for key, value in LOOSE_GATE.items():
        text = text.replace(f"{key}: {gate[key]}", f"{key}: {value}")
    gate_file.write_text(text)


def faulty_release(sandbox: Path) -> None:
    """On branch data-v3: a data release in which a broken join shuffled the prices of one house in
    ten (every value still valid, so the schema lets it through), a commit that loosened the gate to
    ship it on time, and the pipeline reproduced (a candidate trained on it, registered)."""
    import numpy as np
    import pandas as pd

    sandbox = Path(sandbox)
    _run(sandbox, "git", "switch", "--quiet", "--discard-changes", "-C", FAULTY_BRANCH, "main")
    _run(sandbox, "dvc", "checkout", "--quiet")
    data = sandbox / "data" / "houses.csv"
    houses = pd.read_csv(data)
    rng = np.random.default_rng(FAULTY_SEED)
    hit = rng.random(len(houses)) < FAULTY_SHARE
    houses.loc[hit, TARGET] = rng.permutation(houses.loc[hit, TARGET].to_numpy())
    houses.to_csv(data, index=False)
    _run(sandbox, "dvc", "add", "--quiet", "data/houses.csv")
    _run(sandbox, "git", "commit", "--quiet", "-am", "Data v3.0.0: this quarter's sales")
    _loosen_gate(sandbox)
    _run(sandbox, "git", "commit", "--quiet", "-am", "Gate: loosen it to ship v3 on time")
    _run(sandbox, "dvc", "repro", "--quiet")


# --- scoring, as tests/test_model.py does -------------------------------------------------------------


def _sandbox() -> Path:
    path = _workspace().root / SANDBOX
    if not (path / ".git").is_dir():
        raise Wrong(f"there is no {SANDBOX}/ copy of the project: run the set-up cell at the top.")
    return path


def _desired(sandbox: Path, rev: str) -> dict:
    import yaml

    text = _git(sandbox, "show", f"{rev}:deploy/champion.yaml")
    if text is None:
        raise Wrong(f"deploy/champion.yaml is missing at {rev}: run the set-up cell at the top again.")
    return yaml.safe_load(text)


def _trusted(sandbox: Path, champion_version):
    """The champion's test houses: its data release, split by the hash of the house id."""
    import dvc.api
    import pandas as pd

    release = _client().get_run(champion_version.run_id).data.tags["data_version"]
    houses = pd.read_csv(io.StringIO(dvc.api.read("data/houses.csv", repo=str(sandbox), rev=release)))
    bucket = houses["house_id"].map(lambda house: zlib.crc32(house.encode()) % 1000 / 1000)
    return houses[bucket < 0.2]


def _scores(model, houses, area_step: float, max_drop: float) -> tuple[float, float]:
    """(MAE on the houses, share of estimates that fall by more than max_drop with more area)."""
    estimates = model.predict(houses[FEATURES])
    mae = float((houses[TARGET] - estimates).abs().mean())
    bigger = houses.assign(area=(houses["area"] * (1 + area_step)).round().clip(upper=16_000))
    falls = (estimates - model.predict(bigger[FEATURES])) / estimates
    return mae, float((falls > max_drop).mean())


def _verdict(gate: dict, sandbox: Path, candidate, champion_version) -> tuple[list[str], dict]:
    """The gate's failures for `candidate` against `champion_version` (empty: it passes), and the
    figures behind them."""
    import mlflow.sklearn
    import pandas as pd

    houses = _trusted(sandbox, champion_version)
    champion = mlflow.sklearn.load_model(f"models:/{champion_version.name}/{champion_version.version}")
    train = pd.read_csv(sandbox / "data" / "prepared" / "train.csv")
    return _gate_failures(gate, candidate, champion, houses, train[TARGET].median())


def _gate_failures(gate: dict, candidate, champion, houses, median_price: float) -> tuple[list[str], dict]:
    """What tests/test_model.py would fail for `candidate`, from the gate's thresholds and the
    models' scores on the trusted `houses` (empty: it passes), and the figures behind them."""
    baseline = float((houses[TARGET] - median_price).abs().mean())
    ours, share = _scores(candidate, houses, gate["area_step"], gate["max_drop"])
    theirs, _ = _scores(champion, houses, gate["area_step"], gate["max_drop"])
    failures = []
    if ours > gate["baseline_ratio"] * baseline:
        failures.append("it does not beat the baseline by enough")
    if ours > theirs * (1 + gate["champion_tolerance"]):
        failures.append(f"it is {ours / theirs - 1:+.1%} against the champion")
    if share > gate["max_houses_share"]:
        failures.append(f"{share:.1%} of its estimates fall with more area")
    return failures, {"ours": ours, "theirs": theirs, "share": share}


def _load(sandbox: Path, version: str | None = None):
    """The sandbox's candidate (models/model.pkl), or a registered version of the sandbox model."""
    if version is None:
        import joblib

        return joblib.load(sandbox / "models" / "model.pkl")
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{SANDBOX_MODEL}/{version}")


def _gate(sandbox: Path, rev: str) -> dict:
    import yaml

    return yaml.safe_load(_git(sandbox, "show", f"{rev}:tests/gate.yaml") or "{}")


# --- the checkers -------------------------------------------------------------------------------------


def _check_gate(exit_code) -> str:
    sandbox = _sandbox()
    exit_code = as_count(exit_code, "the exit code of the CI run (the whole number sh returns)")
    if _git(sandbox, "branch", "--show-current") != FAULTY_BRANCH:
        raise Wrong(f"work on the branch {FAULTY_BRANCH} (git switch {FAULTY_BRANCH}), where the "
                    "faulty release is.")
    if _git(sandbox, "status", "--porcelain", "--", "tests/gate.yaml"):
        raise Wrong("tests/gate.yaml has changes that are not committed; CI tests what is committed: "
                    "git commit -am \"...\" (or git revert the commit that loosened it).")
    client = _client()
    start = _desired(sandbox, "main")
    champion_version = client.get_model_version(start["model"], str(start["version"]))
    if str(_desired(sandbox, "HEAD")["version"]) != str(start["version"]):
        raise Wrong("a promotion of the faulty model was committed on this branch (the CI ran while "
                    "the gate was loose): undo it with git revert --no-edit HEAD, then run the CI again.")
    gate = _gate(sandbox, "HEAD")
    failures, figures = _verdict(gate, sandbox, _load(sandbox, str(champion_version.version)),
                                 champion_version)
    if failures:
        raise Wrong(f"this gate is too strict: the champion itself would fail it ({'; '.join(failures)}). "
                    "A gate that blocks every model gets switched off.")
    failures, figures = _verdict(gate, sandbox, _load(sandbox), champion_version)
    if not failures:
        raise Wrong(f"the gate still lets the faulty model through: on the trusted houses its MAE is "
                    f"£{figures['ours']:,.0f} against the champion's £{figures['theirs']:,.0f} "
                    f"({figures['ours'] / figures['theirs'] - 1:+.0%}), and {figures['share']:.1%} of "
                    "its estimates fall with more area. Look at git log -p tests/gate.yaml.")
    if exit_code == 0:
        raise Wrong("the gate is right now, but the exit code you give says the CI run passed: run "
                    "the local CI (ci/run_pipeline.py) again and keep its exit code.")
    if exit_code == 2:
        raise Wrong("exit code 2 is not a gate that failed: the CI never ran its tests. python "
                    "answers 2 when it cannot open the script (a typo in ci/run_pipeline.py?), and "
                    "the pipeline when its workflow lost a step. Run the CI script as the lesson did "
                    "and read its last line: FAILED at the quality gate.")
    if exit_code != CI_FAILED:
        raise Wrong(f"exit code {exit_code} is not the CI stopping at a failed step (that is "
                    f"{CI_FAILED}): the command did not run to its end (127: not found; 137 or 138: "
                    "killed, often out of memory). Run the CI script again.")
    return (f"blocked: {'; '.join(failures)}. Trusted houses and a reviewed gate stop a faulty "
            "release that the schema cannot see.")


def _setup_commit(sandbox: Path) -> str:
    found = _git(sandbox, "log", "--format=%H", "-1", "--fixed-strings", f"--grep={SETUP_COMMIT}", "main")
    if not found:
        raise Wrong("the sandbox's set-up commit is missing from main: run the set-up cell at the top again.")
    return found


def _merge_parents(sandbox: Path) -> list[str]:
    return (_git(sandbox, "rev-list", "--parents", "-n", "1", "HEAD") or "").split()[1:]


def _check_promotion(promoted_version) -> str:
    sandbox = _sandbox()
    if _git(sandbox, "branch", "--show-current") != "main":
        raise Wrong("merge the promotion into main and stay there: git switch main, then git merge "
                    "--no-ff BRANCH.")
    desired = _desired(sandbox, "HEAD")
    if desired.get("model") != SANDBOX_MODEL:
        raise Wrong(f"deploy/champion.yaml names {desired.get('model')!r}; the exercises promote "
                    f"{SANDBOX_MODEL}. Run the set-up cell at the top again.")
    parents = _merge_parents(sandbox)
    if _git(sandbox, "rev-parse", "HEAD") == _setup_commit(sandbox):
        raise Wrong("main's deploy/champion.yaml did not change: run the CI on your branch "
                    "(ci/run_pipeline.py), then merge the branch into main.")
    if len(parents) != 2:
        raise Wrong("main's last commit is not a merge (a fast-forward?): undo it (git reset --hard "
                    "ORIG_HEAD is fine on your own unshared main) and merge with git merge --no-ff, "
                    "so the promotion is one commit that one revert can undo.")
    before = _desired(sandbox, parents[0])
    version = str(desired["version"])
    if as_version(promoted_version) != version:
        raise Wrong(f"main's deploy/champion.yaml names version {version}, but your answer is "
                    f"version {as_version(promoted_version)}.")
    proposals = _git(sandbox, "log", "--format=%s", f"{parents[0]}..{parents[1]}") or ""
    if not any(line.startswith(f"Promote {SANDBOX_MODEL} version {version} ") for line in proposals.splitlines()):
        raise Wrong("the branch has no proposal commit from the pipeline: deploy/champion.yaml was "
                    "edited by hand. Let the CI (ci/run_pipeline.py) propose it, after the gate passed.")
    record = json.loads(_git(sandbox, "show", "HEAD:models/run.json") or "{}")
    if str(record.get("version")) != version:
        raise Wrong(f"models/run.json names version {record.get('version')}, deploy/champion.yaml "
                    f"version {version}: merge the proposal commit with the pipeline's results.")
    previous = _client().get_model_version(before["model"], str(before["version"]))
    failures, figures = _verdict(_gate(sandbox, "HEAD"), sandbox, _load(sandbox, version), previous)
    if failures:
        raise Wrong(f"version {version} does not pass the gate ({'; '.join(failures)}): train a "
                    "better model on a new branch.")
    from mlops_clinic.service.store import alias_version

    aliased = alias_version("champion", name=SANDBOX_MODEL)
    if aliased != version:
        raise Wrong(f"git says version {version}, but {SANDBOX_MODEL}@champion is still version "
                    f"{aliased}: run the reconcile step, python deploy/reconcile.py.")
    return (f"main says version {version} (MAE £{figures['ours']:,.0f} against "
            f"£{figures['theirs']:,.0f}), in one merge commit that records who promoted what, "
            "after which tests; the reconcile step deployed it.")


def _undoes_the_merge(sandbox: Path, merge: str) -> None:
    """Every file the promotion's merge changed is back as it was before the merge: what a revert
    does, whatever its commit message says."""
    changed = (_git(sandbox, "diff", "--name-only", f"{merge}^1", merge) or "").split()
    kept = (_git(sandbox, "diff", "--name-only", f"{merge}^1", "HEAD", "--", *changed) or "").split()
    if kept:
        raise Wrong(f"main's last commits leave {', '.join(kept)} other than before the promotion: "
                    "the promotion is not undone, only part of it (an edit by hand?). git revert "
                    "--no-edit -m 1 on the merge commit undoes all of it, in one commit.")


def _check_rollback(rolled_back_to) -> str:
    sandbox = _sandbox()
    if _git(sandbox, "branch", "--show-current") != "main":
        raise Wrong("roll back on main: git switch main.")
    merges = (_git(sandbox, "log", "--merges", "--format=%H %s", f"{_setup_commit(sandbox)}..main") or "").splitlines()
    if not merges:
        raise Wrong("main's history has no promotion merge: do question 2 first. (If you used git "
                    "reset, the promotion has vanished from history; promote again, then revert.)")
    merge = merges[0].split()[0]
    if _git(sandbox, "rev-parse", "HEAD") == merge:
        raise Wrong("main's last commit is the promotion's merge itself, not a revert: git revert "
                    "--no-edit -m 1 HEAD undoes the merge and keeps both in the history.")
    _undoes_the_merge(sandbox, merge)
    before = _desired(sandbox, f"{merge}^1")
    desired = _desired(sandbox, "HEAD")
    if str(desired["version"]) != str(before["version"]):
        raise Wrong(f"after the revert deploy/champion.yaml names version {desired['version']}, not "
                    f"the version before the promotion ({before['version']}): revert the merge "
                    "commit with -m 1.")
    version = str(desired["version"])
    if as_version(rolled_back_to) != version:
        raise Wrong(f"main's deploy/champion.yaml names version {version}, but your answer is "
                    f"version {as_version(rolled_back_to)}.")
    from mlops_clinic.service.store import alias_version

    aliased = alias_version("champion", name=SANDBOX_MODEL)
    if aliased != version:
        raise Wrong(f"git says version {version}, but {SANDBOX_MODEL}@champion is still version "
                    f"{aliased}: a revert changes git only; run the reconcile step.")
    return (f"version {version} serves again, and git log shows the promotion and its rollback: "
            "a revert is an audited, reviewable undo.")


# --- q4 (open): a gate for faulty releases nobody has shown you -----------------------------------------
#
# The participant writes the thresholds of tests/gate.yaml on the sandbox's main and commits them. The
# check trains, at check time and with seeds of its own, an honest candidate and four faulty ones with
# the project's own model code, and asks the gate (as tests/test_model.py judges) about each.

GATE_KEYS = ("baseline_ratio", "champion_tolerance", "area_step", "max_drop", "max_houses_share")
MERGED_LOOSE_COMMIT = "Gate: the loosened thresholds, merged without review"
HIDDEN_SEED = 2026_12  # the faults' draws
HONEST_SEED, HONEST_HOUSES = 4, 600  # new houses of the same market; this draw costs the MAE +0.2%
SHUFFLED_SHARE = 0.12  # a broken join: the prices of about one house in eight shuffled
LOST_COLUMN = "bathrooms"  # a column lost in a join and filled with one value
SEGMENT = ("furnishingstatus", "furnished", 0.95)  # furnished sales booked 5% under their price
CANDIDATES = {
    "honest": "an honest release: the champion's training houses and 600 new houses of the same market",
    "shuffled": "a release in which a broken join shuffled the prices of about one house in eight",
    "lost column": f"a release whose {LOST_COLUMN} column was lost in a join and filled with one value",
    "segment": "a release in which the furnished houses were booked 5% under their price",
    "not monotone": ("the unconstrained gradient boosting of src/model.py, trained on the champion's "
                     "own houses"),
}


def prepare_gate_design(sandbox: Path) -> None:
    """Set-up of question 4: the sandbox on main, its data and pipeline outputs checked out, and
    the loosened gate of question 1 merged into main (the starting point to design from)."""
    sandbox = Path(sandbox)
    _run(sandbox, "git", "switch", "--quiet", "--discard-changes", "main")
    _run(sandbox, "dvc", "checkout", "--quiet")
    if _git(sandbox, "log", "--format=%H", "-1", "--fixed-strings", f"--grep={MERGED_LOOSE_COMMIT}"):
        return  # set up before: the gate on main is the participant's work since
    _loosen_gate(sandbox)
    _run(sandbox, "git", "commit", "--quiet", "-m", MERGED_LOOSE_COMMIT, "--", "tests/gate.yaml")


def _project_code(sandbox: Path):
    """The sandbox's src/model.py (the pipeline's model code), as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("clinic_sandbox_model", sandbox / "src" / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _release_houses(sandbox: Path, champion_version):
    """The champion's data release, read back with DVC, and its training split (as src/prepare.py
    splits it: test and validation shares from params.yaml, by a hash of the house id)."""
    import dvc.api
    import pandas as pd
    import yaml

    release = _client().get_run(champion_version.run_id).data.tags["data_version"]
    houses = pd.read_csv(io.StringIO(dvc.api.read("data/houses.csv", repo=str(sandbox), rev=release)))
    shares = yaml.safe_load(_git(sandbox, "show", "main:params.yaml") or "{}")["prepare"]
    bucket = houses["house_id"].map(lambda house: zlib.crc32(house.encode()) % 1000 / 1000)
    return houses[bucket < shares["test_share"]], houses[bucket >= shares["test_share"] + shares["val_share"]]


def _faulty_releases(train):
    """The training houses of each candidate, faults made with this question's own seed."""
    import numpy as np
    import pandas as pd

    from mlops_clinic.data import generate_houses

    rng = np.random.default_rng(HIDDEN_SEED)
    shuffled = train.copy()
    hit = rng.random(len(train)) < SHUFFLED_SHARE
    shuffled.loc[hit, TARGET] = rng.permutation(shuffled.loc[hit, TARGET].to_numpy())
    column, value, factor = SEGMENT
    segment = train.copy()
    booked = segment[column] == value
    segment.loc[booked, TARGET] = (segment.loc[booked, TARGET] * factor).round(-3)
    fresh = generate_houses(HONEST_HOUSES, seed=HONEST_SEED, id_start=990_001)
    return {"honest": pd.concat([train, fresh]), "shuffled": shuffled,
            "lost column": train.assign(**{LOST_COLUMN: int(train[LOST_COLUMN].median())}),
            "segment": segment, "not monotone": train}


_CANDIDATES: dict = {}


def gate_candidates(sandbox: Path, champion_version) -> dict:
    """Trained once per champion: the honest candidate and the faulty ones, the champion, the
    trusted houses and the training houses' median price (the baseline)."""
    import mlflow.sklearn
    import yaml

    key = (str(sandbox), champion_version.name, str(champion_version.version))
    if key not in _CANDIDATES:
        print("Training the five models the gate is tried on (the first check only, about half a "
              "minute)...", flush=True)
        trusted, train = _release_houses(sandbox, champion_version)
        settings = yaml.safe_load(_git(sandbox, "show", "main:params.yaml") or "{}")["train"]
        code = _project_code(sandbox)
        models = {}
        for name, houses in _faulty_releases(train).items():
            kind = "gradient_boosting" if name == "not monotone" else settings["model"]
            model = code.build_model(kind, seed=settings["seed"], **settings.get(kind, {}))
            models[name] = model.fit(houses[FEATURES], houses[TARGET])
        champion = mlflow.sklearn.load_model(f"models:/{champion_version.name}/{champion_version.version}")
        _CANDIDATES[key] = {"models": models, "champion": champion, "trusted": trusted,
                            "median": float(train[TARGET].median())}
    return _CANDIDATES[key]


def _as_gate(gate) -> dict:
    """The gate's five thresholds as numbers, refused with a sentence if it is not a gate."""
    import math
    import numbers

    if isinstance(gate, (str, Path)):
        raise Wrong("expected the gate as a dict of its thresholds, got a text or a path: read it "
                    "with yaml.safe_load(Path(\"tests/gate.yaml\").read_text()).")
    if not isinstance(gate, dict):
        raise Wrong(f"expected the gate as a dict of its five thresholds ({', '.join(GATE_KEYS)}), "
                    f"got {type(gate).__name__}.")
    missing = [key for key in GATE_KEYS if key not in gate]
    if missing:
        raise Wrong(f"the gate has no {', '.join(missing)}: tests/test_model.py reads all five of "
                    f"{', '.join(GATE_KEYS)}.")
    for key in GATE_KEYS:
        value = gate[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise Wrong(f"{key} is {value!r}: every threshold is a number, such as 0.02 for 2%.")
    return {key: float(gate[key]) for key in GATE_KEYS}


@dataclasses.dataclass(frozen=True)
class GateWork:
    """A gate, and what it says of the champion and of each candidate."""

    gate: dict
    committed: dict | None  # tests/gate.yaml on the sandbox's main
    uncommitted: bool  # tests/gate.yaml has changes in the working tree
    verdicts: dict  # name -> (failures, figures); "champion" included


def gate_work(gate) -> GateWork:
    """The check's work: the participant's gate asked about the champion and every candidate."""
    gate = _as_gate(gate)
    sandbox = _sandbox()
    start = _desired(sandbox, "main")
    champion_version = _client().get_model_version(start["model"], str(start["version"]))
    built = gate_candidates(sandbox, champion_version)
    judged = {"champion": built["champion"], **built["models"]}
    verdicts = {name: _gate_failures(gate, model, built["champion"], built["trusted"], built["median"])
                for name, model in judged.items()}
    committed = yaml_or_none(_git(sandbox, "show", "main:tests/gate.yaml"))
    uncommitted = bool(_git(sandbox, "status", "--porcelain", "--", "tests/gate.yaml"))
    return GateWork(gate, committed, uncommitted, verdicts)


def yaml_or_none(text: str | None):
    import yaml

    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return None


def _figures(verdict) -> str:
    figures = verdict[1]
    return (f"MAE £{figures['ours']:,.0f} against the champion's £{figures['theirs']:,.0f} "
            f"({figures['ours'] / figures['theirs'] - 1:+.1%}), {figures['share']:.1%} of its "
            "estimates fall with more area")


def _passes(name: str, advice: str):
    def test(work: GateWork) -> str | None:
        failures, _ = work.verdicts[name]
        if not failures:
            return None
        return (f"it blocks {CANDIDATES.get(name, 'the champion itself')} ({'; '.join(failures)}; "
                f"{_figures(work.verdicts[name])}). {advice}")
    return test


def _blocks(name: str, advice: str):
    def test(work: GateWork) -> str | None:
        failures, _ = work.verdicts[name]
        if failures:
            return None
        return f"it lets through {CANDIDATES[name]} ({_figures(work.verdicts[name])}). {advice}"
    return test


def _committed(work: GateWork) -> str | None:
    if not isinstance(work.committed, dict):
        return "main has no readable tests/gate.yaml: write your gate there and commit it on main."
    differ = [key for key in GATE_KEYS
              if not isinstance(work.committed.get(key), (int, float))
              or abs(float(work.committed[key]) - work.gate[key]) > 1e-12]
    if differ:
        key = differ[0]
        return (f"tests/gate.yaml on main says {key}: {work.committed.get(key)}, your gate "
                f"{work.gate[key]:g}: CI tests what is committed. Write your gate to "
                "tests/gate.yaml and commit it on main.")
    if work.uncommitted:
        return ("tests/gate.yaml has changes that are not committed: CI tests what is committed; "
                "commit them, or discard them.")
    return None


q4 = OpenQuestion("q4", "06", work=gate_work, rules=[
    Rule("lets the champion through (a gate that blocks every model gets switched off)",
         _passes("champion", "Loosen the threshold that fails: the champion is the bar, not a suspect.")),
    Rule("lets an honest release through: the same market, new houses",
         _passes("honest", "New honest data moves the MAE a little: leave the tolerance room for it.")),
    Rule("blocks a model trained on shuffled prices",
         _blocks("shuffled", "Tighten champion_tolerance below the harm it does.")),
    Rule("blocks a model that lost a column in a broken join",
         _blocks("lost column", "A lost column costs a few per cent of MAE: tighten champion_tolerance.")),
    Rule("blocks a model that misprices one kind of house",
         _blocks("segment", "Errors on one kind of house barely move the overall MAE: the tolerance "
                            "must be tight.")),
    Rule("blocks a model that prices some bigger houses lower",
         _blocks("not monotone", "Its MAE is fine; only the invariance test sees it: lower "
                                 "max_houses_share (or max_drop).")),
    Rule("is committed on main, where CI reads it", _committed),
], look_for=[
    "how much an honest release moves the MAE, and the margin left above it",
    "which faulty release was the hardest to catch, and the threshold that catches it",
    "the cost of blocking a good model (a delayed release) against shipping a faulty one",
    "why the invariance test is strict: a bigger house is never cheaper",
    "(for you, the check's figures in a course run: honest release +0.2% MAE; faults +4.0% furnished "
    "booked low, +5.3% bathrooms lost, +21% prices shuffled; the unconstrained boosting +0.9% but 10% "
    "of its estimates fall with 10% more area)",
], hints=[
    "Start from git log -p tests/gate.yaml on main: which thresholds were loosened, and what did "
    "each one let through in question 1?",
    "Each threshold guards against one kind of fault: champion_tolerance against a worse MAE on the "
    "trusted houses, max_houses_share and max_drop against estimates that fall with more area. How "
    "much room does an honest release need?",
    "The method: write the five thresholds to tests/gate.yaml (as in question 1), commit on main, "
    "run python -m pytest -q -rN to see the gate on the current candidate, and pass "
    "yaml.safe_load(Path(\"tests/gate.yaml\").read_text()) as the gate.",
])

q1 = Question("q1", "06", _check_gate, hints=[
    "git log -p tests/gate.yaml shows who changed the gate, and how.",
    "A commit is undone by a new commit: git revert COMMIT (--no-edit keeps the default message). "
    "Or put the strict values back in tests/gate.yaml by hand, and commit that.",
    "Then run the local CI as the lesson did (section 'A bad change is blocked'). sh(command) returns "
    "the command's exit code: 0 when every step passed, another number when one failed. Store what "
    "it returns.",
])

q2 = Question("q2", "06", _check_promotion, hints=[
    "Follow the lesson's section 'A change goes through the pipeline': on a new branch from main, "
    "change the settings in params.yaml, commit, then run the local CI; it proposes the new version "
    "by a commit on the branch.",
    "Switch back to main and merge the branch with --no-ff, so that the promotion is one merge "
    "commit; then deploy with the reconcile step (deploy/reconcile.py, without --service: the "
    "exercises serve nothing).",
    "The version is in the desired state, deploy/champion.yaml on main: yaml.safe_load(text) turns "
    "a YAML file's text into a dict, as the lesson read the file in section 'The service, and the "
    "reconcile step'.",
])

q3 = Question("q3", "06", _check_rollback, hints=[
    "A rollback is a commit that undoes the promotion's merge, as in the lesson's section "
    "'Rollback is a git revert'.",
    "git revert of a merge commit needs -m 1: undo the merge against main's side, its first parent. "
    "HEAD names the last commit.",
    "A revert changes git, and nothing else: deploying the change is the reconcile step's job, as "
    "after the merge. Then read the version from deploy/champion.yaml as in question 2.",
])

QUESTIONS = (q1, q2, q3, q4)
