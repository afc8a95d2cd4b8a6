"""Build graphrec's Neo4j launcher with Maven, once per Neo4j version, into a cache.

The launcher's source and ``pom.xml`` ship inside the package
(``graphrec/graph/engines/neo4j_launcher/``). On first use Maven resolves
``org.neo4j:neo4j`` (and any plugins) from Maven Central, compiles the launcher
and copies every jar into the cache::

    <build_dir>/<key>/
        source/                     the pom and Java source it was built from
        graphrec-neo4j-launcher.jar the compiled launcher
        lib/                        every resolved jar (the runtime classpath)
        plugins/                    the plugins' own jars again (Neo4j's plugins directory:
                                    it registers procedures only from jars found there)
        manifest.json               what was built, written last
        classes.jsa                 a class-data-sharing archive (optional, see below)

``<key>`` names the Neo4j version, the plugins and a digest of the shipped
source, so an upgrade of either builds a new cache. A build runs in a
temporary folder that is renamed into place only after Maven succeeded and the
manifest is written, so an interrupted build is never used: the next start
builds again. A cache whose files no longer match its manifest is rebuilt too.

After a build, the launcher runs once in a throw-away store with
``-XX:ArchiveClassesAtExit`` (``--warmup``): the JVM archives the classes it
loaded, and later starts map them instead of loading ~200 jars again (about 40%
less CPU to start, measured on this 2-core machine). The archive is only an
accelerator: a missing or stale one (another JDK) is not used.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from graphrec.graph.errors import EmbeddedServerError

#: Plugins the launcher can load, as Maven profiles of the shipped pom.
PLUGINS = ("apoc", "gds")
NO_PREREQUISITES = "`--engine arcadedb` needs none of them"
_SOURCE_PACKAGE = "graphrec.graph.engines"
_SOURCE_FOLDER = "neo4j_launcher"
_MAIN_CLASS = "graphrec.launcher.Launcher"
_JAR = "graphrec-neo4j-launcher.jar"
_ARCHIVE = "classes.jsa"
_NETWORK = re.compile(
    r"(Could not transfer|Could not resolve|Unknown host|UnknownHostException|"
    r"Connection refused|Connect to \S+ failed|Network is unreachable|timed out|"
    r"Failed to read artifact descriptor|No route to host)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Java:
    executable: Path
    home: Path
    major: int


@dataclass(frozen=True)
class Launcher:
    """A complete build: how to run it."""

    folder: Path
    neo4j_version: str
    plugins: tuple[str, ...]
    jars: tuple[str, ...]

    @property
    def classpath(self) -> str:
        return os.pathsep.join([str(self.folder / _JAR), str(self.folder / "lib" / "*")])

    def jvm_archive_flags(self, java: Java) -> list[str]:
        """Flags that use the class archive, when it was made by this ``java``."""
        archive = self.folder / _ARCHIVE
        try:
            made_by = json.loads((self.folder / f"{_ARCHIVE}.json").read_text())
        except (OSError, ValueError):
            return []
        if not archive.is_file() or made_by != _java_identity(java):
            return []
        return [
            f"-XX:SharedArchiveFile={archive}",
            "-Xshare:auto",
            "-Xlog:cds=off",
            "-Xlog:cds+dynamic=off",
        ]

    @property
    def main_class(self) -> str:
        return _MAIN_CLASS

    @property
    def plugins_dir(self) -> Path:
        """Neo4j's ``server.directories.plugins``: the plugin jars it scans for procedures."""
        return self.folder / "plugins"

    def plugin_jars(self) -> dict[str, str]:
        """Loaded plugin -> the jar that provides it (version in its name)."""
        found = {}
        for plugin, prefix in (("apoc", "apoc-core-"), ("gds", "proc-")):
            if plugin in self.plugins:
                found[plugin] = next((jar for jar in self.jars if jar.startswith(prefix)), "?")
        return found


def find_java(minimum: int = 17) -> Java:
    """The Java that runs Neo4j: ``$JAVA_HOME/bin/java``, else ``java`` on ``PATH``."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is None or not candidate.is_file():
        found = shutil.which("java")
        candidate = Path(found) if found else None
    if candidate is None:
        raise EmbeddedServerError(
            f"the neo4j engine needs Java {minimum} or later: no `java` on PATH and no "
            f"JAVA_HOME; install a JDK {minimum}+ or use {NO_PREREQUISITES}"
        )
    try:
        answer = subprocess.run(
            [str(candidate), "-version"], capture_output=True, text=True, timeout=60
        )
    except OSError as exc:
        raise EmbeddedServerError(f"cannot run {candidate}: {exc.strerror}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', answer.stderr + answer.stdout)
    major = 0
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8.0" style
            major = int(match.group(2))
    if major < minimum:
        raise EmbeddedServerError(
            f"the neo4j engine needs Java {minimum} or later, {candidate} is "
            f"{major or 'of unknown version'}; set JAVA_HOME to a JDK {minimum}+ "
            f"or use {NO_PREREQUISITES}"
        )
    real = candidate.resolve()
    return Java(executable=candidate, home=real.parent.parent, major=major)


def find_maven() -> Path:
    found = shutil.which("mvn")
    if found is None:
        raise EmbeddedServerError(
            "the neo4j engine builds its launcher with Maven on first use: no `mvn` on PATH; "
            f"install Maven 3.8+ or use {NO_PREREQUISITES}"
        )
    return Path(found)


def _source_files() -> dict[str, bytes]:
    """Relative path -> content of the shipped launcher source (pom + Java)."""
    root = resources.files(_SOURCE_PACKAGE).joinpath(_SOURCE_FOLDER)
    files: dict[str, bytes] = {}

    def walk(node, prefix: str) -> None:  # noqa: ANN001 - a Traversable
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, name + "/")
            elif child.name == "pom.xml" or child.name.endswith(".java"):
                files[name] = child.read_bytes()

    walk(root, "")
    if "pom.xml" not in files:
        raise EmbeddedServerError(f"graphrec's Neo4j launcher source is missing from {root}")
    return files


def cache_key(neo4j_version: str, plugins: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(_source_files().items()):
        digest.update(name.encode() + b"\0" + content + b"\0")
    suffix = "".join(f"+{plugin}" for plugin in plugins)
    return f"{neo4j_version}{suffix}-{digest.hexdigest()[:10]}"


def check_plugins(plugins: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    unknown = sorted(set(plugins) - set(PLUGINS))
    if unknown:
        raise EmbeddedServerError(
            f"unknown Neo4j plugin {', '.join(unknown)}: the neo4j engine can load "
            f"{', '.join(PLUGINS)}"
        )
    return tuple(sorted(set(plugins)))


def _complete(folder: Path) -> Launcher | None:
    """The build in ``folder`` when its manifest matches its files, else None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        jars = manifest["jars"]
        for name, size in jars.items():
            if (folder / "lib" / name).stat().st_size != size:
                return None
        if not (folder / _JAR).is_file():
            return None
        return Launcher(
            folder=folder,
            neo4j_version=manifest["neo4j_version"],
            plugins=tuple(manifest["plugins"]),
            jars=tuple(sorted(jars)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def launcher(
    build_dir: Path,
    neo4j_version: str,
    plugins: tuple[str, ...] = (),
    *,
    java: Java,
    maven_settings: Path | None = None,
    progress: Callable[[str], None] | None = None,
    archive: bool = True,
) -> Launcher:
    """The launcher for ``neo4j_version`` (+ ``plugins``), built first if the cache lacks it.

    ``archive``: after a build, make the class-data-sharing archive (default: True).
    """
    if not re.fullmatch(r"\d+\.\d+\.\d+", neo4j_version):
        raise EmbeddedServerError(
            f"invalid Neo4j version {neo4j_version!r} (expected e.g. 5.26.30)"
        )
    plugins = check_plugins(plugins)
    key = cache_key(neo4j_version, plugins)
    final = build_dir / key
    if (ready := _complete(final)) is not None:
        return ready
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time per cache
        if (ready := _complete(final)) is not None:  # built while we waited
            return ready
        for stale in build_dir.glob(f".build-{key}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # half-built or damaged: never used, rebuilt
            shutil.rmtree(final)
        maven = find_maven()
        if progress is not None:
            extra = f" with {', '.join(plugins)}" if plugins else ""
            progress(
                f"building the Neo4j {neo4j_version} launcher{extra} with Maven into {final} "
                "(first use only; downloads about 130 MB from Maven Central unless cached)"
            )
        work = build_dir / f".build-{key}-{os.getpid()}"
        _build(work, maven, java, neo4j_version, plugins, maven_settings)
        os.replace(work, final)
        ready = _complete(final)
        if ready is None:
            raise EmbeddedServerError(f"the Neo4j launcher build in {final} is incomplete")
        if archive:
            if progress is not None:
                progress("archiving the launcher's classes for faster starts (once per build)")
            _archive_classes(ready, java)
    return ready


def _java_identity(java: Java) -> dict[str, str | int]:
    return {"java": str(java.executable.resolve()), "major": java.major}


def _archive_classes(launcher: Launcher, java: Java) -> None:
    """Start and stop the launcher once in a scratch store, archiving the classes it loads.

    The archive records the jars' paths, so it is made in the build's final folder.
    Failing here costs speed only, never the build.
    """
    from graphrec.graph.engines.processes import HOST, free_port

    scratch = launcher.folder / ".warmup"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    (scratch / "password").write_text(secrets.token_urlsafe(24))
    port = free_port()
    (scratch / "neo4j.conf").write_text(
        "\n".join(
            [
                f"server.default_listen_address={HOST}",
                f"server.bolt.listen_address={HOST}:{port}",
                "server.http.enabled=false",
                "server.https.enabled=false",
                "server.memory.pagecache.size=16m",
                "db.tx_log.preallocate=false",
                "dbms.usage_report.enabled=false",
                f"server.directories.plugins={launcher.plugins_dir}",
            ]
        )
        + "\n"
    )
    partial = launcher.folder / f"{_ARCHIVE}.partial"
    command = [
        str(java.executable),
        "-Xmx512m",
        f"-XX:ArchiveClassesAtExit={partial}",
        "-Xlog:cds=off",
        "-Xlog:cds+dynamic=off",
        "-cp",
        launcher.classpath,
        launcher.main_class,
        "--home",
        str(scratch / "home"),
        "--config",
        str(scratch / "neo4j.conf"),
        "--password-file",
        str(scratch / "password"),
        "--warmup",
        "true",
    ]
    try:
        with open(scratch / "warmup.log", "wb") as log:
            result = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=600
            )
        if result.returncode == 0 and partial.is_file():
            os.replace(partial, launcher.folder / _ARCHIVE)
            (launcher.folder / f"{_ARCHIVE}.json").write_text(json.dumps(_java_identity(java)))
    except (OSError, subprocess.TimeoutExpired):
        pass
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _build(
    work: Path,
    maven: Path,
    java: Java,
    neo4j_version: str,
    plugins: tuple[str, ...],
    maven_settings: Path | None,
) -> None:
    source = work / "source"
    for name, content in _source_files().items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    command = [
        str(maven),
        "-B",
        "-f",
        str(source / "pom.xml"),
        f"-Dneo4j.version={neo4j_version}",
        f"-Dgraphrec.build.dir={work}",
        "-DskipTests",
        "package",
    ]
    if plugins:
        command.insert(2, "-P" + ",".join(plugins))
    if maven_settings is not None:
        command[2:2] = ["-s", str(maven_settings)]
    log = work / "build.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        result = subprocess.run(
            command,
            cwd=source,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "JAVA_HOME": str(java.home)},
        )
    if result.returncode != 0:
        raise EmbeddedServerError(_maven_failure(log, neo4j_version, plugins))
    jars = {jar.name: jar.stat().st_size for jar in sorted((work / "lib").glob("*.jar"))}
    (work / "plugins").mkdir(exist_ok=True)  # Maven leaves none when no plugin was asked for
    manifest = {
        "neo4j_version": neo4j_version,
        "plugins": list(plugins),
        "java": java.major,
        "seconds": round(time.monotonic() - started, 1),
        "jars": jars,
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _maven_failure(log: Path, neo4j_version: str, plugins: tuple[str, ...]) -> str:
    lines = log.read_text(errors="replace").splitlines()
    errors = [line.removeprefix("[ERROR] ").strip() for line in lines if "[ERROR]" in line]
    errors = [line for line in errors if line]
    network = next((line for line in errors if _NETWORK.search(line)), None)
    what = f"Neo4j {neo4j_version}" + "".join(f" + {plugin}" for plugin in plugins)
    if network is not None:
        return (
            f"cannot download {what} from Maven Central (first build of the neo4j engine): "
            f"{network[:300]}; check the network or your Maven mirror (log: {log}); "
            f"{NO_PREREQUISITES}"
        )
    first = errors[0][:300] if errors else "no error line"
    return f"the Maven build of the Neo4j launcher failed: {first} (log: {log})"
