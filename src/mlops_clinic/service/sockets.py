"""The sockets `bentoml serve` opens besides the public port, reachable by their owner only.

On a shared machine (a JupyterHub: one Unix account per participant) every local user can connect
to every loopback TCP port. BentoML 1.4 opens three such doors next to the service's own port:

- circus, the process manager of `bentoml serve`, listens for commands and publishes events on two
  loopback TCP ports. It asks for no password, and one of its commands starts a program: anyone
  who connects can run code as the service's owner;
- a service with a dependency (module 04) reaches it with pickled Python objects, and unpickling
  runs code. BentoML puts that hop on a Unix socket in a fresh 0700 folder, except under WSL or
  with $BENTOML_NO_UDS set, where it takes a loopback TCP port.

`make_private()` runs in the `bentoml serve` process before it opens any of them (an
`@bentoml.on_deployment` hook of both services) and keeps all of them Unix sockets in 0700
folders, which other users cannot even connect to. The HTTP middleware (http.py) refuses pickle
from any TCP connection, in case a hop is on TCP all the same.

A Unix socket's path must stay under 103 characters (BentoML checks it). The sockets go in the
temporary folder ($TMPDIR: the workspace's tmp/), unless its path is too long for them (a workspace
in a deep folder): then in a new 0700 folder in /tmp, removed when the server stops. A server
that was killed cannot remove it: the next one removes such folders when none of their sockets
answers any more.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import tempfile
from pathlib import Path

logger = logging.getLogger("bentoml.serve")

MAX_SOCKET_PATH = 103  # characters; BentoML asserts it (macOS allows 104 bytes, Linux 108)
# BentoML's dependency socket is <temp folder>/bentoml-uds-XXXXXXXX/<id() of the service>.sock,
# and an id() has at most 20 digits.
ROOM_FOR_BENTOML = len("/bentoml-uds-XXXXXXXX/") + 20 + len(".sock")
SHORT_PARENT = "/tmp"
SHORT_PREFIX = "clinic-sockets-"

_made_private = False


def fits(folder: str) -> bool:
    """True if BentoML's socket paths inside `folder` stay under the limit."""
    return len(folder) + ROOM_FOR_BENTOML < MAX_SOCKET_PATH


def short_temp_folder() -> str:
    """The temporary folder if its path is short enough for sockets, else a new private one."""
    current = tempfile.gettempdir()
    if fits(current):
        return current
    remove_folders_of_killed_servers()
    folder = tempfile.mkdtemp(prefix=SHORT_PREFIX, dir=SHORT_PARENT)  # 0700, a name nobody guesses
    atexit.register(shutil.rmtree, folder, True)
    return folder


def remove_folders_of_killed_servers() -> None:
    """Remove this user's short socket folders whose sockets all refuse connections: their server
    was killed before it could remove them. A folder without sockets yet is a server starting."""
    for folder in Path(SHORT_PARENT).glob(f"{SHORT_PREFIX}*"):
        try:
            if folder.is_symlink() or folder.lstat().st_uid != os.getuid():
                continue
            inside = [path for path in folder.rglob("*") if path.is_socket()]
        except OSError:
            continue
        if inside and all(refuses(path) for path in inside):
            shutil.rmtree(folder, ignore_errors=True)


def refuses(path: Path) -> bool:
    """True if nothing listens on the Unix socket at `path` any more (a busy one still counts)."""
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return True
        except OSError:
            return False
    return False


def make_private() -> None:
    """Keep every socket of this `bentoml serve` process, but the public port, a Unix socket in a
    0700 folder (the module docstring says why). Both services call it; it acts once."""
    global _made_private
    if _made_private:
        return
    _made_private = True
    # BentoML makes its socket folder with tempfile.mkdtemp() right after this hook: point
    # tempfile at a folder whose path leaves room for the socket's name.
    tempfile.tempdir = short_temp_folder()
    dependencies_over_unix_sockets()
    circus_over_unix_sockets(tempfile.mkdtemp(prefix="circus-"))


def dependencies_over_unix_sockets() -> None:
    """BentoML 1.4 takes a TCP port for a dependency under WSL (WSL 2's Linux file system has
    working Unix sockets) or when $BENTOML_NO_UDS is set: ask for the Unix socket there too."""
    from _bentoml_impl.server import serving

    if "BENTOML_NO_UDS" in os.environ:
        logger.warning("BENTOML_NO_UDS is ignored: the model server takes pickled Python objects, "
                       "which must not come over a TCP port that every local user can reach")
        del os.environ["BENTOML_NO_UDS"]
    serving.IS_WSL = False


def circus_over_unix_sockets(folder: str) -> None:
    """Circus's command and event sockets as Unix sockets in `folder` instead of loopback TCP
    ports. BentoML builds circus's arbiter with those two TCP addresses written in; its classes
    are looked up when `bentoml serve` creates the arbiter, after this hook."""
    from bentoml._internal.utils import circus

    atexit.register(shutil.rmtree, folder, True)
    endpoints = {"endpoint": f"ipc://{folder}/control", "pubsub_endpoint": f"ipc://{folder}/events"}
    for name in ("Arbiter", "ThreadedArbiter"):
        setattr(circus, name, with_endpoints(getattr(circus, name), endpoints))


def with_endpoints(arbiter_class: type, endpoints: dict[str, str]) -> type:
    """A subclass of `arbiter_class` that binds `endpoints` whatever it is given."""

    class Arbiter(arbiter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, **endpoints})

    Arbiter.__name__ = Arbiter.__qualname__ = arbiter_class.__name__
    return Arbiter
