"""The process between the kit and papermill, so that a run leaves nothing running behind it.

    python -m mlops_clinic.supervisor --report FILE --parent PID [--isolate-network] -- COMMAND ...
    python -m mlops_clinic.supervisor --probe

execute.py starts one per run, in a session of its own. It runs COMMAND (papermill) and:

- keeps everything the run starts as its descendant, even a process that double-forks or calls
  setsid (Linux: PR_SET_CHILD_SUBREAPER), and also looks through the sessions and process groups
  the run used; when papermill ends, whatever still runs is named and stopped;
- ends with its parent: PR_SET_PDEATHSIG on Linux, and a watch on the parent's PID everywhere, so a
  `clinic run` killed with kill -9 does not leave papermill and its kernel working on the workspace
  (the kernel runs in a session of its own: stopping papermill alone would leave it);
- stops the whole run on SIGTERM, SIGHUP or SIGINT;
- with --isolate-network, gives the run a network namespace of its own with only a loopback
  interface (Linux), so handed-in code reaches neither the internet nor this machine's servers;
- measures the memory of the run's processes.

At the end it writes FILE (JSON): papermill's return code, the peak memory, the processes left
running, the network state and the signal that stopped the run, if one did.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import json
import os
import signal
import subprocess
import sys
import time

import psutil

from mlops_clinic.processes import descendants, running, send

POLL_S = 0.2
STOP_GRACE_S = 3
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
ISOLATED = "isolated (a network namespace with only a loopback interface)"

# Linux constants (linux/prctl.h, linux/sched.h, linux/sockios.h, net/if.h).
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFREQ = "16sH22x"  # struct ifreq on 64-bit Linux: the interface name, then the flags (40 bytes)


class NetworkUnavailable(Exception):
    """The platform cannot give this run a network namespace; the message says why."""


# --- the network ------------------------------------------------------------------------------------


def enter_network_namespace() -> None:
    """Move this process into a new network namespace whose only interface is loopback, brought up
    (papermill talks to its kernel over 127.0.0.1). Everything started afterwards inherits it.

    Without root, a user namespace comes first (as `unshare -rn` does), mapping this user to itself.
    Must run before any thread starts (unshare of a user namespace needs a single thread).
    Raises NetworkUnavailable when the platform does not allow it, before anything has changed.
    """
    if not sys.platform.startswith("linux"):
        raise NetworkUnavailable("network namespaces are a Linux feature")
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    try:
        # A user namespace too even as root: then the run holds no capability over the machine's
        # own network namespace and cannot simply join it again.
        _unshare(libc, CLONE_NEWUSER | CLONE_NEWNET)
    except OSError as user_ns:
        if os.geteuid() != 0:
            raise NetworkUnavailable(f"user namespaces are not allowed here ({user_ns.strerror})") from None
        try:
            _unshare(libc, CLONE_NEWNET)
        except OSError as net_ns:
            raise NetworkUnavailable(f"unshare of the network failed ({net_ns.strerror})") from None
    else:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _loopback_up()


def _unshare(libc, flags: int) -> None:
    if libc.unshare(flags) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _loopback_up() -> None:
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(IFREQ, b"lo", 0)
        flags = struct.unpack(IFREQ, fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack(IFREQ, b"lo", flags | IFF_UP))


@functools.lru_cache(maxsize=None)
def network_isolation() -> tuple[bool, str]:
    """(available, what a record says): whether runs here can have no network, probed once per
    process in a throw-away child (the namespace cannot be left again)."""
    try:
        probe = subprocess.run([sys.executable, "-m", "mlops_clinic.supervisor", "--probe"],
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"not isolated (the probe failed: {exc})"
    said = probe.stdout.strip()
    if probe.returncode == 0 and said == ISOLATED:
        return True, ISOLATED
    return False, said or f"not isolated (the probe failed: {probe.stderr.strip()[-200:]})"


# --- the run's processes ----------------------------------------------------------------------------


class RunProcesses:
    """Everything the run started: descendants of this process, and the members of every session
    and process group they used (the way back to a daemon where no subreaper exists)."""

    def __init__(self):
        self.me = psutil.Process()
        # Our own session and group hold papermill, but only when execute.py made us their leader:
        # a supervisor started from a terminal shares the terminal's session.
        self.groups = {os.getpid()} if os.getsid(0) == os.getpid() else set()
        self.peak_mb = 0.0

    def sample(self) -> None:
        total = 0
        for p in self._descendants():
            try:
                total += p.memory_info().rss
                # A session or group that one of ours leads was made by the run (the kernel's).
                if p.pid in (os.getsid(p.pid), os.getpgid(p.pid)):
                    self.groups.add(p.pid)
            except (OSError, psutil.Error):
                continue
        self.peak_mb = max(self.peak_mb, total / 2**20)

    def alive(self) -> list[psutil.Process]:
        found = {p.pid: p for p in self._descendants()}
        for p in psutil.process_iter():
            try:
                if p.pid != self.me.pid and p.pid not in found and (
                        os.getsid(p.pid) in self.groups or os.getpgid(p.pid) in self.groups):
                    found[p.pid] = p
            except (OSError, psutil.Error):
                continue
        return [p for p in found.values() if running(p)]

    def stop(self) -> None:
        """TERM everything, KILL what is left after a grace period; repeated, so that a process
        started while the others were stopping is stopped too."""
        for sig, wait_s in ((signal.SIGTERM, STOP_GRACE_S), *[(signal.SIGKILL, 1)] * 5):
            procs = self.alive()
            if not procs:
                return
            for p in procs:
                send(p, sig)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and any(running(p) for p in procs):
                reap()
                time.sleep(0.05)

    def _descendants(self) -> list[psutil.Process]:
        return descendants(self.me.pid)


def reap() -> dict[int, int]:
    """Collect every child that ended (a subreaper inherits orphans: they must not stay zombies);
    {pid: return code, negative for a signal, as subprocess gives it}."""
    ended = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended[pid] = os.waitstatus_to_exitcode(status)


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0


# --- the supervisor ---------------------------------------------------------------------------------


_stop_requested: list[int] = []


def _on_signal(signum, frame) -> None:
    _stop_requested.append(signum)


def supervise(command: list[str], parent: int, isolate_network: bool) -> dict:
    """Run `command` until it ends, the parent goes or a signal comes; stop what is left; report."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)
    report = {"returncode": None, "peak_mb": 0.0, "leftovers": [], "network": "", "stopped": ""}
    if isolate_network:
        try:
            enter_network_namespace()
            report["network"] = ISOLATED
        except NetworkUnavailable as exc:
            report["network"] = f"not isolated ({exc})"
    # After the namespace: a change of credentials clears the parent-death signal.
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above
        report["stopped"] = "parent gone"
        return report
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    run = RunProcesses()
    report["returncode"], report["stopped"] = _run(command, parent, run)
    if not report["stopped"]:
        report["leftovers"] = [_name(p) for p in run.alive()]
    run.stop()
    reap()
    report["peak_mb"] = round(run.peak_mb, 1)
    return report


def _run(command: list[str], parent: int, run: RunProcesses) -> tuple[int | None, str]:
    """(the command's return code, "") when it ends, or (None, why) when it must stop first."""
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    # Blocked after the start (a blocked signal would be inherited), so that the wait below wakes
    # as soon as a child ends rather than at the next poll. macOS has no sigtimedwait: it polls.
    can_wait_for_children = hasattr(signal, "sigtimedwait")
    if can_wait_for_children:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        run.sample()
        ended = reap()
        if child.pid in ended:
            child.returncode = ended[child.pid]
            return child.returncode, ""
        if _stop_requested:
            return None, signal.Signals(_stop_requested[0]).name
        if os.getppid() != parent:
            return None, "parent gone"
        if can_wait_for_children:
            signal.sigtimedwait({signal.SIGCHLD}, POLL_S)
        else:
            time.sleep(POLL_S)


def _name(p: psutil.Process) -> str:
    try:
        return f"{p.name()}[{p.pid}]"
    except psutil.Error:
        return f"?[{p.pid}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_clinic.supervisor",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe", action="store_true",
                        help="say whether a run can have a network namespace here, and stop")
    parser.add_argument("--report", help="where to write the JSON report")
    parser.add_argument("--parent", type=int, help="the PID whose end stops the run")
    parser.add_argument("--isolate-network", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.probe:
        try:
            enter_network_namespace()
        except (NetworkUnavailable, OSError) as exc:
            print(f"not isolated ({exc})")
            return 0
        print(ISOLATED)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or not args.report or args.parent is None:
        parser.error("--report, --parent and a command after -- are needed")
    report = supervise(command, args.parent, args.isolate_network)
    from mlops_clinic.files import write_atomic

    write_atomic(args.report, json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
