"""`ensure(stage)`: build on a fast path whatever earlier modules would have built.

Any notebook can be opened first, on an empty workspace, and any notebook can run twice in a row:
its setup cell ensures the stages it needs. A stage checks whether it is already done (cheap) and
only then builds. Stages are scaffolding, not lessons: the lesson that teaches a step shows the
real tool calls; the stage replays the outcome so later lessons have something to stand on.

Stages live one file per module in this package (`base.py` for the workspace itself); each file
registers its stages with `@stage(...)` and says what its module's setup needs with
`module_needs("NN", ...)`. Importing the package registers them all.

`ensure` holds the workspace's lock (mlops_clinic.workspace_lock), so two processes preparing one
workspace take turns instead of building the same stage together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mlops_clinic.project import StageError, failure_advice  # noqa: F401 (the stages' errors)
from mlops_clinic.workspace import Workspace, add_workspace_argument
from mlops_clinic.workspace_lock import Holding, WorkspaceBusy, workspace_lock


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


def ensure(name: str, workspace: Workspace | None = None, *,
           starting: Callable[[Stage], None] | None = None) -> list[str]:
    """Make sure stage `name` and everything it requires exist; returns the stages built now.

    Holds the workspace's lock meanwhile: another process preparing the same workspace (a second
    notebook, the BentoML launcher card) waits, then finds the stages done. `starting` is told of
    each stage before it is built (a notebook's setup says what it is waiting for).
    """
    workspace = workspace or Workspace.resolve()
    _known(name)
    built: list[str] = []
    with workspace_lock(workspace, f"stage {name}") as lock:
        _ensure(name, workspace, built, chain=(), lock=lock, starting=starting)
    return built


def _known(name: str) -> None:
    if name not in STAGES:
        raise KeyError(f"Unknown stage {name!r}; known stages: {', '.join(STAGES)}")


def _ensure(name: str, workspace: Workspace, built: list[str], chain: tuple[str, ...],
            lock: Holding, starting: Callable[[Stage], None] | None) -> None:
    _known(name)
    if name in chain:
        raise StageError(f"Stages require each other in a loop: {' -> '.join(chain + (name,))}",
                         fix="change the `requires` of one of them in mlops_clinic/stages/")
    current = STAGES[name]
    for requirement in current.requires:
        _ensure(requirement, workspace, built, chain + (name,), lock, starting)
    if not current.is_done(workspace):
        lock.doing(f"stage {name}")
        if starting is not None:
            starting(current)
        current.build(workspace)
        built.append(name)


# What each module's setup cell ensures before its first lesson cell runs.
MODULE_NEEDS: dict[str, tuple[str, ...]] = {}


def module_needs(module: str, *stage_names: str) -> None:
    MODULE_NEEDS[module] = stage_names


def needs_of(module: str) -> tuple[str, ...]:
    return MODULE_NEEDS.get(module, ("project",))


# A lesson that rewrites the project's history (merges, reverts) puts it back where the lesson
# started when it runs again, so each step means the second time what it meant the first.
MODULE_STARTS: dict[str, Callable[[Workspace], None]] = {}


def module_start(module: str):
    """Register `fn(ws)`, run by the setup cell of the module's lesson after its stages are built
    (`setup(module, from_lesson_start=True)`), never by its exercises'."""
    def register(fn: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
        MODULE_STARTS[module] = fn
        return fn
    return register


def start_module(module: str, ws: Workspace) -> None:
    if module in MODULE_STARTS:
        MODULE_STARTS[module](ws)


def main(argv: list[str] | None = None) -> int:
    """`python -m mlops_clinic.stages STAGE...`: prepare a workspace ahead of time (Binder's postBuild)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlops_clinic.stages", description=main.__doc__)
    parser.add_argument("stages", nargs="+", choices=sorted(STAGES))
    add_workspace_argument(parser)
    args = parser.parse_args(argv)
    workspace = Workspace.resolve(args.workspace).activate()
    for name in args.stages:
        try:
            built = ensure(name, workspace)
        except WorkspaceBusy as busy:
            parser.exit(1, f"{busy}\n")
        print(f"{name}: {'built ' + ', '.join(built) if built else 'already there'}")
    return 0


# Register the stages (after the machinery above exists).
from mlops_clinic.stages import base, data, training, serving, monitoring, automation  # noqa: E402,F401
