"""The maturity data files (bank.yaml, ml_test_score.yaml): read, validated by a pydantic model, and
every problem listed at once, each naming its place in the file, so an author fixes them in one go.

    raw = read_yaml(path, BankError)
    bank_file, problems = validate(BankFile, raw)   # problems: ["levels[1]: `google` should be ...", ...]

The models check each part of a file where it is. What a part refers to (a module, a dimension) is
checked through the validation context: pydantic validates a model's fields in their order, so a
field validated earlier records what may be named (`remember`), and the parts after it look there
(`recall`, `named_in`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Callable, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from mlops_clinic.errors import ClinicError

Model = TypeVar("Model", bound=BaseModel)
Place = Callable[[tuple, Any], str]
RULE = "rule"  # the error type of `refuse`


class DataFileError(ClinicError, ValueError):
    """A data file of the kit cannot be read, or has problems; the message lists each one with its place."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]


def refuse(problems: list[str]) -> None:
    """In a validator: raise every problem a rule found, each its own line in the list."""
    if problems:
        raise ValidationError.from_exception_data(RULE, [
            InitErrorDetails(type=PydanticCustomError(RULE, "{problem}", {"problem": problem}), loc=(), input=None)
            for problem in problems])


def remember(info: ValidationInfo, key: str, value: Any) -> None:
    """In a validator: record what the parts validated later may name (a module, a dimension)."""
    if info.context is not None:
        info.context[key] = value


def recall(info: ValidationInfo, key: str) -> Any:
    """What `remember` recorded; None when that part of the file had problems (they are listed)."""
    return (info.context or {}).get(key)


def named_in(key: str, what: str) -> AfterValidator:
    """For a field that names one of the things remembered under `key`: `Annotated[str, named_in(...)]`."""

    def check(value: str, info: ValidationInfo) -> str:
        known = recall(info, key)
        if known is not None and value not in known:
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def read_yaml(path: Path, error: type[DataFileError] = DataFileError) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{path.name} is not valid YAML: {exc}") from None


def validate(model: type[Model], raw: Any, place: Place | None = None) -> tuple[Model | None, list[str]]:
    """The validated file, or None and every problem, one line each, naming where it is."""
    try:
        return model.model_validate(raw, context={}), []
    except ValidationError as exc:
        return None, [describe(error, raw, place or index_place) for error in exc.errors()]


def problem_list(what: str, problems: list[str]) -> str:
    return f"{what} has {len(problems)} problem(s):\n  " + "\n  ".join(problems)


def describe(error: ErrorDetails, raw: Any, place: Place) -> str:
    """`checkpoints[3] (serving): `module` ...`: the object named as its author knows it, then the field."""
    loc, message = tuple(error["loc"]), _message(error)
    if not loc:
        return f"the file {message}"
    if isinstance(loc[-1], int):  # a rule on a whole object
        return f"{place(loc, raw)}: {message}"
    where, field = place(loc[:-1], raw), loc[-1]
    if where:
        return f"{where}: `{field}` {message}"
    return f"`{field}` {message}" if error["type"] == "missing" else f"{field}: {message}"


def index_place(loc: tuple, raw: Any, *, start: int = 0, where: str = "") -> str:
    """`sections[0] (data).tests[2] (data.3)`: the path through the file, each item with its id;
    from `start` on in `loc`, after `where`."""
    node = raw
    for depth, part in enumerate(loc):
        node = child(node, part)
        if depth < start:
            continue
        if isinstance(part, int):
            where += f"[{part}]" + (f" ({node['id']})" if isinstance(node, dict) and "id" in node else "")
        else:
            where += f".{part}" if where else str(part)
    return where


def value_at(raw: Any, loc: tuple, key: str) -> Any:
    """The `key` of the raw item at `loc`, or "?" where the file has none."""
    node = raw
    for part in (*loc, key):
        node = child(node, part)
    return "?" if node is None else node


def child(node: Any, part: str | int) -> Any:
    """The part of a raw file at one step of a location; None where the file has nothing there."""
    try:
        return node[part]
    except (KeyError, IndexError, TypeError):
        return None


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == RULE:
        return error["msg"]
    message = error["msg"].replace("Input should", "should", 1)
    return message[:1].lower() + message[1:]
