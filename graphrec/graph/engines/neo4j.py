"""The Neo4j engine: Neo4j Community (``org.neo4j:neo4j`` from Maven Central) in a JVM of its own.

A small Java launcher (shipped in the package, built with Maven on first use,
see :mod:`graphrec.graph.engines.neo4j_build`) runs the embedded DBMS with Bolt
on 127.0.0.1 and no HTTP connector. Needs Java 17+ and Maven, and Maven
Central on the first build. Besides the shared files
(:mod:`graphrec.graph.engines.base`), ``<data_dir>/neo4j/`` holds::

    home/           the DBMS (data/databases, data/transactions, logs/debug.log)
    neo4j.conf      the settings of the last start (rewritten at each start)
    launcher/       the build cache, one folder per Neo4j version (unless
                    GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR says elsewhere)

The user is ``neo4j``; its password is the generated one, set by the launcher
before Bolt opens. SIGTERM stops the DBMS cleanly; after a crash, Neo4j
recovers every committed transaction from its log at the next start.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

from graphrec.graph.engines import neo4j_build
from graphrec.graph.engines.base import EmbeddedServer, Progress
from graphrec.graph.engines.processes import HOST
from graphrec.graph.errors import EmbeddedServerError

#: The Neo4j line graphrec runs embedded: 5.26 LTS runs on Java 17 and 21.
DEFAULT_VERSION = "5.26.30"
DEFAULT_HEAP = "1g"
DEFAULT_PAGE_CACHE = "128m"
_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9.\-]{2,62}$")
_SIZE = re.compile(r"^\d+[kmgKMG]?$")

#: JVM flags from Neo4j's own neo4j.conf defaults that matter embedded.
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)


class Neo4jServer(EmbeddedServer):
    """The embedded Neo4j Community server.

    Args:
        neo4j_version: the ``org.neo4j:neo4j`` version (default: :data:`DEFAULT_VERSION`).
        page_cache: ``server.memory.pagecache.size`` (default: ``"128m"``).
        tx_log_preallocate: ``db.tx_log.preallocate`` (default: False, small files).
        plugins: ``"apoc"``, ``"gds"`` (default: none).
        build_dir: the launcher build cache (default: ``<data_dir>/neo4j/launcher``).
        maven_settings: a Maven ``settings.xml`` for the build (mirrors, proxies).
    """

    engine = "neo4j"
    user = "neo4j"
    process_markers = (b"graphrec.launcher.Launcher",)
    stop_signals = ((signal.SIGTERM, 90.0), (signal.SIGKILL, 5.0))

    def __init__(
        self,
        data_dir: Path,
        *,
        neo4j_version: str = DEFAULT_VERSION,
        page_cache: str = DEFAULT_PAGE_CACHE,
        tx_log_preallocate: bool = False,
        plugins: tuple[str, ...] = (),
        build_dir: Path | None = None,
        maven_settings: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, **kwargs)
        for name, value in (("page cache", page_cache), ("heap", self.heap or DEFAULT_HEAP)):
            if not _SIZE.fullmatch(value):
                raise EmbeddedServerError(f"invalid {name} size {value!r} (e.g. 128m, 2g)")
        self.neo4j_version = neo4j_version
        self.page_cache = page_cache
        self.tx_log_preallocate = tx_log_preallocate
        self.plugins = neo4j_build.check_plugins(plugins)
        self.build_dir = Path(build_dir) if build_dir else self.root / "launcher"
        self.maven_settings = maven_settings
        self._launcher: neo4j_build.Launcher | None = None
        self._java: neo4j_build.Java | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Neo4jServer:
        return cls(
            settings.data_dir,
            bolt_port=settings.embedded_bolt_port,
            database=settings.neo4j_database,
            heap=settings.embedded_heap,
            start_timeout=settings.embedded_start_timeout,
            neo4j_version=settings.embedded_neo4j_version,
            page_cache=settings.embedded_page_cache,
            tx_log_preallocate=settings.embedded_tx_log_preallocate,
            plugins=tuple(settings.embedded_neo4j_plugins),
            build_dir=settings.embedded_neo4j_build_dir,
            maven_settings=settings.embedded_maven_settings,
        )

    @classmethod
    def check_database_name(cls, name: str) -> None:
        if not _DATABASE_NAME.fullmatch(name):
            raise EmbeddedServerError(
                f"invalid database name {name!r} for Neo4j (3-63 characters: lowercase "
                "letters, digits, dots and dashes, starting with a letter)"
            )

    def version(self) -> str:
        return self.neo4j_version

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def config_file(self) -> Path:
        return self.root / "neo4j.conf"

    def launcher(self, progress: Progress | None = None) -> neo4j_build.Launcher:
        """The built launcher (building it on first use)."""
        if self._launcher is None:
            self._java = neo4j_build.find_java()
            self._launcher = neo4j_build.launcher(
                self.build_dir,
                self.neo4j_version,
                self.plugins,
                java=self._java,
                maven_settings=self.maven_settings,
                progress=progress,
            )
        return self._launcher

    def _settings(self) -> dict[str, str]:
        address = f"{HOST}:{self.bolt_port}"
        settings = {
            "dbms.security.auth_enabled": "true",
            "server.default_listen_address": HOST,
            "server.bolt.listen_address": address,
            "server.bolt.advertised_address": address,
            "server.http.enabled": "false",
            "server.https.enabled": "false",
            "server.memory.pagecache.size": self.page_cache,
            "db.tx_log.preallocate": str(self.tx_log_preallocate).lower(),
            "dbms.usage_report.enabled": "false",
            "initial.dbms.default_database": self.database,
            # Bolt's two Netty event-loop groups each wait a quiet period (5 s by default) for
            # new tasks before they shut down, after every connection has been closed: 10 s of
            # every stop, spent waiting for nothing. Pending tasks still run first.
            "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
        }
        # Procedures are registered from the jars in this folder (their classes load from the
        # classpath); without plugins it is empty.
        settings["server.directories.plugins"] = str(self.launcher().plugins_dir)
        if self.plugins:
            # GDS and APOC need unrestricted access to the kernel.
            allowed = ",".join(f"{plugin}.*" for plugin in self.plugins)
            settings["dbms.security.procedures.unrestricted"] = allowed
        return settings

    def _prepare_launch(self, progress: Progress | None) -> None:
        self.launcher(progress)
        self.home.mkdir(parents=True, exist_ok=True)
        lines = ["# Written by graphrec at each `graphrec db start`; edits are overwritten."]
        lines += [f"{key}={value}" for key, value in self._settings().items()]
        self.config_file.write_text("\n".join(lines) + "\n")

    def _extra_state(self) -> dict[str, Any]:
        launcher = self.launcher()
        return {"plugins": launcher.plugin_jars(), "launcher": str(launcher.folder)}

    def _command(self) -> list[str]:
        launcher = self.launcher()
        assert self._java is not None
        return [
            str(self._java.executable),
            f"-Xmx{self.heap or DEFAULT_HEAP}",
            *_JVM_FLAGS,
            *launcher.jvm_archive_flags(self._java),
            "-cp",
            launcher.classpath,
            launcher.main_class,
            "--home",
            str(self.home),
            "--config",
            str(self.config_file),
            "--password-file",
            str(self.password_file),
            "--database",
            self.database,
        ]

    def _start_failure(self, log_tail: list[str]) -> str | None:
        reason = super()._start_failure(log_tail)
        if reason is not None:
            return reason
        debug = self.home / "logs" / "debug.log"
        try:
            recent = debug.read_text(errors="replace").splitlines()[-200:]
        except OSError:
            recent = []
        for line in reversed(recent + log_tail):
            if "Address already in use" in line or "BindException" in line:
                return f"Bolt port {self.bolt_port} is already in use"
        for line in reversed(log_tail):
            if "Exception" in line or "Error" in line:
                return line.strip()[:300]
        return None
