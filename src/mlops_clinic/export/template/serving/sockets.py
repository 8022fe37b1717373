"""The control sockets of `bentoml serve`, reachable by their owner only.

Besides the service's port, BentoML's process manager (circus) listens for commands on two
loopback TCP ports, without a password, and one of its commands starts a program: on a shared
machine any local user could run code as you. `make_private()` runs before the server starts
(an `@bentoml.on_deployment` hook) and moves both to Unix sockets in a 0700 folder.
"""

import atexit
import shutil
import tempfile

MAX_FOLDER = 80  # characters: a Unix socket's path must stay under about 100
_done = []


def make_private() -> None:
    if _done:
        return
    _done.append(True)
    from bentoml._internal.utils import circus

    parent = tempfile.gettempdir()
    parent = parent if len(parent) < MAX_FOLDER else "/tmp"
    folder = tempfile.mkdtemp(prefix="circus-", dir=parent)  # 0700: only you can connect
    atexit.register(shutil.rmtree, folder, True)
    endpoints = {"endpoint": f"ipc://{folder}/control", "pubsub_endpoint": f"ipc://{folder}/events"}
    for name in ("Arbiter", "ThreadedArbiter"):
        setattr(circus, name, _with_endpoints(getattr(circus, name), endpoints))


def _with_endpoints(arbiter_class: type, endpoints: dict) -> type:
    class Arbiter(arbiter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, **endpoints})

    Arbiter.__name__ = Arbiter.__qualname__ = arbiter_class.__name__
    return Arbiter
