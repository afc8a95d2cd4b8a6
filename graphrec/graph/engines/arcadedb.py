"""The ArcadeDB engine: ``arcadedb-embedded`` (Apache-2.0, bundles its own Java runtime) with
its Neo4j Bolt plugin, in a background Python process.

It installs from PyPI with graphrec and needs nothing else, so it is the default.
Besides the shared files (see :mod:`graphrec.graph.engines.base`), ``server/`` under
``<data_dir>/arcadedb/`` is ArcadeDB's root (databases/, config/, log/). Its HTTP port
stays bound to 127.0.0.1 and is used by nothing in graphrec but the server itself.
Stopping sends SIGINT, which the process turns into a clean ArcadeDB shutdown.
"""

from __future__ import annotations

import re
import signal
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from graphrec.graph.engines.base import EmbeddedServer, Port
from graphrec.graph.errors import EmbeddedServerError

_DATABASE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


class ArcadeDBServer(EmbeddedServer):
    """The embedded ArcadeDB server. ``http_port``: ArcadeDB's HTTP port (default: 2480)."""

    engine = "arcadedb"
    user = "root"
    process_markers = (b"graphrec.graph.engines.arcadedb_process",)
    stop_signals = ((signal.SIGINT, 60.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0))

    def __init__(self, data_dir: Path, *, http_port: int = 2480, **kwargs: Any) -> None:
        super().__init__(data_dir, **kwargs)
        self.http_port = http_port

    @classmethod
    def from_settings(cls, settings: Any) -> ArcadeDBServer:
        return cls(
            settings.data_dir,
            bolt_port=settings.embedded_bolt_port,
            http_port=settings.embedded_http_port,
            database=settings.neo4j_database,
            heap=settings.embedded_heap,
            start_timeout=settings.embedded_start_timeout,
        )

    @classmethod
    def check_database_name(cls, name: str) -> None:
        if not _DATABASE_NAME.fullmatch(name):
            raise EmbeddedServerError(
                f"invalid database name {name!r} for ArcadeDB (a letter, then letters, digits, _)"
            )

    def version(self) -> str:
        try:
            return metadata.version("arcadedb-embedded")
        except metadata.PackageNotFoundError:
            return "unknown"

    @property
    def server_root(self) -> Path:
        return self.root / "server"

    def _ports(self) -> list[Port]:
        return [*super()._ports(), Port("HTTP", self.http_port, "GRAPHREC_EMBEDDED_HTTP_PORT")]

    def _prepare_launch(self, progress: Any) -> None:
        self.server_root.mkdir(parents=True, exist_ok=True)

    def _extra_state(self) -> dict[str, Any]:
        return {"http_port": self.http_port}

    def _command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "graphrec.graph.engines.arcadedb_process",
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
        return command
