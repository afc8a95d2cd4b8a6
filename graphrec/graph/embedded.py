"""The embedded graph server: ArcadeDB with its Neo4j Bolt plugin, as a background process.

No Neo4j server can be installed on every machine, but ``arcadedb-embedded``
(Apache-2.0, bundles its own Java runtime) installs from PyPI and speaks Bolt, so
the official ``neo4j`` driver and the same Cypher work against it.

Layout under ``<data_dir>/arcadedb/``::

    server/         ArcadeDB's root (databases/, config/, log/)
    password        the generated root password (mode 0600)
    server.pid      pid of the background process while it runs
    server.json     ports and database of the running server
    server.log      the process's output

The server binds 127.0.0.1 only. Stopping sends SIGINT, which the server
process turns into a clean ArcadeDB shutdown.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.errors import EmbeddedServerError, GraphError, PortInUseError

HOST = "127.0.0.1"
ROOT_USER = "root"
_DATABASE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    uri: str
    http_url: str
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


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` runs and is an embedded-server process (not a recycled pid)."""
    if not _pid_exists(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # guard against a recycled pid
        try:
            return b"graphrec.graph.server_process" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def port_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on ``host:port`` and we could bind it.

    ``SO_REUSEADDR`` as the server itself uses it: a port whose old connections
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


class EmbeddedServer:
    """Manage one embedded server rooted at ``data_dir``.

    Args:
        data_dir: graphrec's data directory; the server lives in ``data_dir/arcadedb``.
        bolt_port: Bolt port to start on (default: 7687). A running server keeps its own.
        http_port: ArcadeDB's HTTP port (default: 2480), used for database admin.
        database: the database graphrec uses (default: ``"neo4j"``).
        heap: JVM heap size such as ``"2g"`` (default: arcadedb-embedded's).
        start_timeout: seconds to wait for Bolt to answer (default: 90).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        bolt_port: int = 7687,
        http_port: int = 2480,
        database: str = "neo4j",
        heap: str | None = None,
        start_timeout: float = 90.0,
    ) -> None:
        if not _DATABASE_NAME.fullmatch(database):
            raise EmbeddedServerError(f"invalid database name {database!r}")
        self.data_dir = Path(data_dir).expanduser()
        self.root = self.data_dir / "arcadedb"
        self.bolt_port = bolt_port
        self.http_port = http_port
        self.database = database
        self.heap = heap
        self.start_timeout = start_timeout

    @classmethod
    def from_settings(cls, settings) -> EmbeddedServer:  # noqa: ANN001 - avoid importing config here
        return cls(
            settings.data_dir,
            bolt_port=settings.embedded_bolt_port,
            http_port=settings.embedded_http_port,
            database=settings.neo4j_database,
            heap=settings.embedded_heap,
            start_timeout=settings.embedded_start_timeout,
        )

    # -- files ----------------------------------------------------------------------------
    @property
    def server_root(self) -> Path:
        return self.root / "server"

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
            self.server_root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise EmbeddedServerError(
                f"data dir {self.data_dir} is not usable: {exc.strerror or exc} "
                "(set GRAPHREC_DATA_DIR to a writable directory)"
            ) from exc

    def _password(self, *, create: bool) -> str:
        if not self.password_file.exists():
            if not create:
                raise EmbeddedServerError(
                    f"no password file at {self.password_file}: start the server with `graphrec db start`"
                )
            # ArcadeDB wants at least 8 characters; 32 url-safe characters is plenty.
            password = secrets.token_urlsafe(24)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(password + "\n")
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EmbeddedServerError(f"cannot read {self.password_file}: {exc.strerror}") from exc

    def _read_state(self) -> dict | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _pid_alive(pid):
            return None
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            state = {}
        state["pid"] = pid
        return state

    # -- public API -----------------------------------------------------------------------------
    def status(self) -> ServerStatus:
        """Where the server is (or would be) and whether its process runs."""
        state = self._read_state()
        bolt = (state or {}).get("bolt_port", self.bolt_port)
        http = (state or {}).get("http_port", self.http_port)
        return ServerStatus(
            running=state is not None,
            pid=(state or {}).get("pid"),
            uri=f"bolt://{HOST}:{bolt}",
            http_url=f"http://{HOST}:{http}",
            user=ROOT_USER,
            database=(state or {}).get("database", self.database),
            password_file=self.password_file,
            log_file=self.log_file,
            data_dir=self.data_dir,
        )

    def target(self) -> ConnectionTarget:
        """Connection details of the running server."""
        status = self.status()
        return ConnectionTarget(
            uri=status.uri,
            user=ROOT_USER,
            password=self._password(create=False),
            database=status.database,
            embedded=True,
        )

    def start(self) -> ServerStatus:
        """Start the server in the background, or report the one already running.

        Returns once a Bolt ``RETURN 1`` succeeds against the database.

        Raises:
            PortInUseError: the Bolt or HTTP port is taken by another process.
            EmbeddedServerError: the process died or did not answer in time.
        """
        self._prepare_dirs()
        current = self.status()
        if current.running:
            return ServerStatus(**{**asdict(current), "already_running": True})
        for name, port in (("Bolt", self.bolt_port), ("HTTP", self.http_port)):
            if not port_free(port):
                setting = (
                    "GRAPHREC_EMBEDDED_BOLT_PORT"
                    if name == "Bolt"
                    else "GRAPHREC_EMBEDDED_HTTP_PORT"
                )
                raise PortInUseError(
                    f"{name} port {port} on {HOST} is already in use by another process; "
                    f"stop it or choose another port with {setting}"
                )
        self._password(create=True)
        command = [
            sys.executable,
            "-m",
            "graphrec.graph.server_process",
            "--root",
            str(self.server_root),
            "--password-file",
            str(self.password_file),
            "--bolt-port",
            str(self.bolt_port),
            "--http-port",
            str(self.http_port),
            "--database",
            self.database,
        ]
        if self.heap:
            command += ["--heap", self.heap]
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=self.root,  # ArcadeDB writes ./log relative to the working directory
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this command and its terminal
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.pid_file.write_text(f"{process.pid}\n")
        self.state_file.write_text(
            json.dumps(
                {
                    "bolt_port": self.bolt_port,
                    "http_port": self.http_port,
                    "database": self.database,
                }
            )
        )
        try:
            self._wait_ready(process)
        except BaseException:
            self._terminate(process.pid, timeout=15)
            self._clear_pid()
            raise
        return self.status()

    def _wait_ready(self, process: subprocess.Popen) -> None:
        target = self.target()
        deadline = time.monotonic() + self.start_timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EmbeddedServerError(
                    f"embedded server exited with status {process.returncode} during start-up; "
                    f"last lines of {self.log_file}:\n{self._log_tail()}"
                )
            try:
                with GraphClient.open(target, connection_timeout=2.0) as graph:
                    graph.ping()
                return
            except GraphError as exc:
                last_error = str(exc)
            except Exception as exc:  # the database may still be opening
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
        raise EmbeddedServerError(
            f"embedded server did not answer on {target.uri} within {self.start_timeout:.0f}s "
            f"({last_error}); see {self.log_file}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the running server cleanly. Returns False when none was running."""
        status = self.status()
        if not status.running or status.pid is None:
            self._clear_pid()
            return False
        self._terminate(status.pid, timeout=timeout)
        self._clear_pid()
        return True

    def _terminate(self, pid: int, *, timeout: float) -> None:
        # SIGINT reaches the Python side, which stops ArcadeDB cleanly; SIGTERM goes
        # to the JVM's shutdown hooks; SIGKILL is the last resort.
        for signum, wait in (
            (signal.SIGINT, timeout),
            (signal.SIGTERM, 10.0),
            (signal.SIGKILL, 5.0),
        ):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not _pid_exists(pid):
                    return
                time.sleep(0.2)

    def _clear_pid(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)

    def ensure_running(self) -> ConnectionTarget:
        """Start the server unless it runs; return how to connect to it."""
        self.start()
        return self.target()

    # -- database admin over ArcadeDB's HTTP API (engine-specific, embedded only) ---------------
    def _server_command(self, command: str) -> None:
        status = self.status()
        if not status.running:
            raise EmbeddedServerError("embedded server is not running")
        response = httpx.post(
            f"{status.http_url}/api/v1/server",
            json={"command": command},
            auth=(ROOT_USER, self._password(create=False)),
            timeout=60.0,
        )
        if response.status_code != 200:
            raise EmbeddedServerError(
                f"{command!r} failed: HTTP {response.status_code} {response.text[:200]}"
            )

    def create_database(self, name: str) -> None:
        """Create an empty database ``name`` (used by tests for isolation)."""
        if not _DATABASE_NAME.fullmatch(name):
            raise EmbeddedServerError(f"invalid database name {name!r}")
        self._server_command(f"create database {name}")

    def drop_database(self, name: str) -> None:
        if not _DATABASE_NAME.fullmatch(name):
            raise EmbeddedServerError(f"invalid database name {name!r}")
        self._server_command(f"drop database {name}")


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still "exists" until reaped.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return not Path("/proc").is_dir()  # no procfs (macOS): trust os.kill
