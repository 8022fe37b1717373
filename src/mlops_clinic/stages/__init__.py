"""`ensure(stage)`: build on a fast path whatever earlier modules would have built.

Any notebook can be opened first, on an empty workspace, and any notebook can run twice in a row:
its setup cell ensures the stages it needs. A stage checks whether it is already done (cheap) and
only then builds. Stages are scaffolding, not lessons: the lesson that teaches a step shows the
real tool calls; the stage replays the outcome so later lessons have something to stand on.

Stages live one file per module in this package (`base.py` for the workspace itself); each file
registers its stages with `@stage(...)` and says what its module's setup needs with
`module_needs("NN", ...)`. Importing the package registers them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mlops_clinic.workspace import Workspace


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    requires: tuple[str, ...]
    is_done: Callable[[Workspace], bool]
    build: Callable[[Workspace], None]


STAGES: dict[str, Stage] = {}


def stage(name: str, description: str, *, requires: tuple[str, ...] = (),
          is_done: Callable[[Workspace], bool]):
    """Register the decorated function as the builder of stage `name`."""
    def register(build: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
        STAGES[name] = Stage(name, description, requires, is_done, build)
        return build
    return register


def ensure(name: str, workspace: Workspace | None = None) -> list[str]:
    """Make sure stage `name` and everything it requires exist; returns the stages built now."""
    workspace = workspace or Workspace.resolve()
    built: list[str] = []
    _ensure(name, workspace, built, chain=())
    return built


def _ensure(name: str, workspace: Workspace, built: list[str], chain: tuple[str, ...]) -> None:
    if name not in STAGES:
        raise KeyError(f"Unknown stage {name!r}; known stages: {', '.join(STAGES)}")
    if name in chain:
        raise RuntimeError(f"Stages require each other in a loop: {' -> '.join(chain + (name,))}")
    current = STAGES[name]
    for requirement in current.requires:
        _ensure(requirement, workspace, built, chain + (name,))
    if not current.is_done(workspace):
        current.build(workspace)
        built.append(name)


# What each module's setup cell ensures before its first lesson cell runs.
MODULE_NEEDS: dict[str, tuple[str, ...]] = {}


def module_needs(module: str, *stage_names: str) -> None:
    MODULE_NEEDS[module] = stage_names


def needs_of(module: str) -> tuple[str, ...]:
    return MODULE_NEEDS.get(module, ("project",))


def main(argv: list[str] | None = None) -> int:
    """`python -m mlops_clinic.stages STAGE...`: prepare a workspace ahead of time (Binder's postBuild)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlops_clinic.stages", description=main.__doc__)
    parser.add_argument("stages", nargs="+", choices=sorted(STAGES))
    parser.add_argument("--workspace", help="workspace directory (default: $MLOPS_CLINIC_WORKSPACE or workspace/)")
    args = parser.parse_args(argv)
    workspace = Workspace.resolve(args.workspace).activate()
    for name in args.stages:
        built = ensure(name, workspace)
        print(f"{name}: {'built ' + ', '.join(built) if built else 'already there'}")
    return 0


# Register the stages (after the machinery above exists).
from mlops_clinic.stages import base, data, training, serving, monitoring, automation  # noqa: E402,F401
