"""What every embedded engine shares: a detached server process with pid, state and log files.

Each engine lives in ``<data_dir>/<engine>/``::

    password        the generated password (mode 0600)
    server.pid      pid of the background process while it runs
    server.json     engine, version, port and database of the running server
    server.log      the process's output

A subclass says how to launch its process (:meth:`EmbeddedServer._command`), which
ports it needs and how to stop it. Only one engine may run on a data dir at a time.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from signal import Signals
from typing import Any, ClassVar

from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.engines.processes import HOST, pid_exists, pid_runs, port_free, terminate
from graphrec.graph.errors import EmbeddedServerError, GraphError, PortInUseError

log = logging.getLogger(__name__)

#: name -> class of every engine, filled as the engine modules are imported.
ENGINES: dict[str, type[EmbeddedServer]] = {}

Progress = Callable[[str], None]
#: ``<data_dir>/engine`` names the engine that last started there.
LAST_ENGINE_FILE = "engine"


@dataclass(frozen=True)
class ServerStatus:
    engine: str
    version: str | None
    running: bool
    pid: int | None
    uri: str
    user: str
    database: str
    password_file: Path
    log_file: Path
    data_dir: Path
    already_running: bool = False

    def describe(self) -> dict[str, str | int | bool | None]:
        """A JSON-friendly view (paths as strings, never the password itself)."""
        data = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}


@dataclass(frozen=True)
class Port:
    name: str  # "Bolt"
    number: int
    setting: str  # the environment variable that changes it


def _port_frees_up(port: int, grace: float = 3.0) -> bool:
    """True when ``port`` is free, or frees up within ``grace`` seconds: the kernel closes
    the listener of a process that just exited (a stop, a crash) a moment after it is gone."""
    deadline = time.monotonic() + grace
    while not port_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


class EmbeddedServer(ABC):
    """One embedded server rooted at ``data_dir/<engine>``.

    Args:
        data_dir: graphrec's data directory.
        bolt_port: Bolt port to start on (default: 7687). A running server keeps its own.
        database: the database graphrec uses (default: ``"neo4j"``).
        heap: JVM heap size such as ``"2g"`` (default: the engine's).
        start_timeout: seconds to wait for Bolt to answer once the process runs (default: 90).
    """

    engine: ClassVar[str]
    user: ClassVar[str]
    #: Bytes of the process's command line that identify it (guards against recycled pids).
    process_markers: ClassVar[tuple[bytes, ...]]
    #: How :meth:`stop` asks the process to exit: (signal, seconds to wait), last resort last.
    stop_signals: ClassVar[tuple[tuple[Signals, float], ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ENGINES[cls.engine] = cls

    def __init__(
        self,
        data_dir: Path,
        *,
        bolt_port: int = 7687,
        database: str = "neo4j",
        heap: str | None = None,
        start_timeout: float = 90.0,
    ) -> None:
        self.check_database_name(database)
        self.data_dir = Path(data_dir).expanduser()
        self.root = self.data_dir / self.engine
        self.bolt_port = bolt_port
        self.database = database
        self.heap = heap
        self.start_timeout = start_timeout

    # -- what an engine provides ----------------------------------------------------------
    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Any) -> EmbeddedServer: ...

    @classmethod
    @abstractmethod
    def check_database_name(cls, name: str) -> None:
        """Raise :class:`EmbeddedServerError` for a name the engine cannot use."""

    @abstractmethod
    def version(self) -> str:
        """The engine version this server runs (or would run)."""

    @abstractmethod
    def _command(self) -> list[str]:
        """The command line of the server process."""

    def _ports(self) -> list[Port]:
        return [Port("Bolt", self.bolt_port, "GRAPHREC_EMBEDDED_BOLT_PORT")]

    @abstractmethod
    def _prepare_launch(self, progress: Progress | None) -> None:
        """Everything the process needs before it starts (builds, configuration files)."""

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _start_failure(self, log_tail: list[str]) -> str | None:
        """A one-line reason for a process that exited during start-up, when the log names one."""
        for line in reversed(log_tail):
            if "Address already in use" in line:
                return f"a port is already in use ({line.strip()})"
        return None

    # -- files ----------------------------------------------------------------------------
    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def pid_file(self) -> Path:
        return self.root / "server.pid"

    @property
    def state_file(self) -> Path:
        return self.root / "server.json"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def _prepare_dirs(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise EmbeddedServerError(
                f"data dir {self.data_dir} is not usable: {exc.strerror or exc} "
                "(set GRAPHREC_DATA_DIR to a writable directory)"
            ) from exc

    def password(self, *, create: bool = False) -> str:
        """The server's password; generated (mode 0600) on first start when ``create``."""
        if not self.password_file.exists():
            if not create:
                raise EmbeddedServerError(
                    f"no password file at {self.password_file}: start the server with "
                    f"`graphrec db start --engine {self.engine}`"
                )
            password = secrets.token_urlsafe(24)  # 32 url-safe characters
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(password + "\n")
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EmbeddedServerError(f"cannot read {self.password_file}: {exc.strerror}") from exc

    def _read_state(self) -> dict[str, Any] | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not any(pid_runs(pid, marker) for marker in self.process_markers):
            return None
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            state = {}
        state["pid"] = pid
        return state

    # -- public API -----------------------------------------------------------------------
    def status(self) -> ServerStatus:
        """Where the server is (or would be) and whether its process runs."""
        state = self._read_state() or {}
        return ServerStatus(
            engine=self.engine,
            version=state.get("version") or self.version(),
            running=bool(state),
            pid=state.get("pid"),
            uri=f"bolt://{HOST}:{state.get('bolt_port', self.bolt_port)}",
            user=self.user,
            database=state.get("database", self.database),
            password_file=self.password_file,
            log_file=self.log_file,
            data_dir=self.data_dir,
        )

    def target(self) -> ConnectionTarget:
        """Connection details of the running server."""
        status = self.status()
        return ConnectionTarget(
            uri=status.uri,
            user=self.user,
            password=self.password(),
            database=status.database,
            embedded=True,
        )

    def start(self, progress: Progress | None = None) -> ServerStatus:
        """Start the server in the background, or report the one already running.

        Returns once a Bolt ``RETURN 1`` succeeds against the database.
        ``progress(message)`` hears about slow first-use steps (a build).

        Raises:
            PortInUseError: a port the server needs is taken by another process.
            EmbeddedServerError: another engine runs on this data dir, a prerequisite
                is missing, or the process died or did not answer in time.
        """
        self._prepare_dirs()
        current = self.status()
        if current.running:
            return ServerStatus(**{**asdict(current), "already_running": True})
        self._refuse_other_engines()
        for port in self._ports():
            if not _port_frees_up(port.number):
                raise PortInUseError(
                    f"{port.name} port {port.number} on {HOST} is already in use by another "
                    f"process; stop it or choose another port with {port.setting}"
                )
        self.password(create=True)
        self._prepare_launch(progress)
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                self._command(),
                cwd=self.root,  # engines write relative paths (ArcadeDB's ./log)
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this command and its terminal
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.pid_file.write_text(f"{process.pid}\n")
        state = {
            "engine": self.engine,
            "version": self.version(),
            "bolt_port": self.bolt_port,
            "database": self.database,
            **self._extra_state(),
        }
        self.state_file.write_text(json.dumps(state))
        try:
            self._wait_ready(process)
        except BaseException:
            self._terminate(process.pid)
            self._clear_pid()
            raise
        (self.data_dir / LAST_ENGINE_FILE).write_text(self.engine + "\n")
        return self.status()

    def _refuse_other_engines(self) -> None:
        for name, engine in ENGINES.items():
            if name == self.engine:
                continue
            other = engine(self.data_dir).status()
            if other.running:
                raise EmbeddedServerError(
                    f"the {name} engine already runs on data dir {self.data_dir} "
                    f"(pid {other.pid}, {other.uri}); stop it first with "
                    f"`graphrec db stop --engine {name}`, or use another GRAPHREC_DATA_DIR"
                )

    def _wait_ready(self, process: subprocess.Popen) -> None:
        target = self.target()
        deadline = time.monotonic() + self.start_timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = self._log_tail()
                reason = self._start_failure(tail)
                if reason and "port" in reason:
                    raise PortInUseError(f"embedded {self.engine} server could not start: {reason}")
                last = next((line for line in reversed(tail) if line.strip()), "(empty log)")
                raise EmbeddedServerError(
                    f"embedded {self.engine} server exited with status {process.returncode} "
                    f"during start-up: {reason or last.strip()} (log: {self.log_file})"
                )
            try:
                with GraphClient.open(target, connection_timeout=2.0) as graph:
                    graph.ping()
                return
            except GraphError as exc:
                last_error = str(exc)
            except Exception as exc:  # the database may still be opening
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.3)
        raise EmbeddedServerError(
            f"embedded {self.engine} server did not answer on {target.uri} within "
            f"{self.start_timeout:.0f}s ({last_error}); see {self.log_file}"
        )

    def _log_tail(self, lines: int = 40) -> list[str]:
        try:
            return self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return []

    def stop(self) -> bool:
        """Stop the running server cleanly. Returns False when none was running."""
        status = self.status()
        if not status.running or status.pid is None:
            self._clear_pid()
            return False
        self._terminate(status.pid)
        self._clear_pid()
        return True

    def kill(self) -> bool:
        """SIGKILL the server process, as a crash would (for recovery tests)."""
        status = self.status()
        if status.pid is None:
            return False
        terminate(status.pid, [(Signals.SIGKILL, 10.0)])
        return not pid_exists(status.pid)

    def _terminate(self, pid: int) -> None:
        first, wait = self.stop_signals[0]
        ended_by = terminate(pid, self.stop_signals)
        if ended_by is not None and ended_by != first:
            log.warning(
                "the %s server (pid %d) did not stop within %.0f s of %s; it stopped after %s",
                self.engine,
                pid,
                wait,
                first.name,
                ended_by.name,
            )

    def _clear_pid(self) -> None:
        for path in (self.pid_file, self.state_file):
            try:
                path.unlink(missing_ok=True)
            except NotADirectoryError:  # the data dir is a file: nothing was ever started
                pass

    def ensure_running(self, progress: Progress | None = None) -> ConnectionTarget:
        """Start the server unless it runs; return how to connect to it."""
        self.start(progress)
        return self.target()
