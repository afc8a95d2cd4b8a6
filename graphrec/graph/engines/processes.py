"""Process and port helpers shared by the embedded engines."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterable
from pathlib import Path

HOST = "127.0.0.1"


def pid_exists(pid: int) -> bool:
    """True while ``pid`` runs (a zombie child of this process counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # reap it if it is our own exited child
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return not Path("/proc").is_dir()  # no procfs (macOS): trust os.kill


def pid_runs(pid: int, marker: bytes) -> bool:
    """True when ``pid`` runs and its command line holds ``marker`` (not a recycled pid)."""
    if not pid_exists(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        return marker in cmdline.read_bytes()
    except OSError:
        return False


def terminate(pid: int, steps: Iterable[tuple[signal.Signals, float]]) -> signal.Signals | None:
    """Send each signal in turn, waiting up to its seconds for ``pid`` to exit.

    Returns the signal after which it exited (``None``: it was gone before the first, or
    outlived them all)."""
    for signum, wait in steps:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return None
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_exists(pid):
                return signum
            time.sleep(0.1)
    return None


def port_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on ``host:port`` and we could bind it.

    ``SO_REUSEADDR`` as the servers themselves use it: a port whose old connections
    linger in TIME_WAIT after a stop counts as free; one with a listener does not.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port the OS considers free right now (for tests and ``--port 0``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
