"""The Neo4j engine's prerequisites and its launcher build cache, as a user meets them.

A missing Java, a missing Maven and an unreachable Maven Central each get one
line naming what is missing and that ``--engine arcadedb`` needs none of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphrec.graph.embedded import free_port
from graphrec.graph.engines import neo4j_build
from graphrec.graph.engines.neo4j import DEFAULT_VERSION

JAVA = shutil.which("java")
MAVEN = shutil.which("mvn")
needs_java_and_maven = pytest.mark.skipif(
    JAVA is None or MAVEN is None, reason="needs Java and Maven on PATH"
)


def _db_start(tmp_path: Path, path: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPHREC_", "JAVA_HOME"))}
    env.update(
        PATH=path,
        GRAPHREC_DATA_DIR=str(tmp_path / "data"),
        GRAPHREC_EMBEDDED_BOLT_PORT=str(free_port()),
        GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR=str(tmp_path / "build"),  # empty: a build is due
        **extra,
    )
    return subprocess.run(
        [sys.executable, "-m", "graphrec", "db", "start", "--engine", "neo4j"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "`--engine arcadedb` needs none of them" in errors[0]
    return errors[0]


def test_missing_java_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    line = _one_error_line(_db_start(tmp_path, str(empty)))
    assert "needs Java 17 or later" in line and "JAVA_HOME" in line


@needs_java_and_maven
def test_missing_maven_is_one_line(tmp_path: Path) -> None:
    only_java = tmp_path / "bin"
    only_java.mkdir()
    (only_java / "java").symlink_to(Path(JAVA).resolve())
    line = _one_error_line(_db_start(tmp_path, str(only_java)))
    assert "no `mvn` on PATH" in line and "Maven" in line


@needs_java_and_maven
def test_unreachable_maven_central_is_one_line(tmp_path: Path) -> None:
    # A mirror that refuses connections stands for Maven Central out of reach; the
    # empty local repository makes Maven download everything.
    settings = tmp_path / "settings.xml"
    settings.write_text(
        "<settings><localRepository>"
        f"{tmp_path / 'm2'}"
        "</localRepository><mirrors><mirror><id>down</id><mirrorOf>*</mirrorOf>"
        f"<url>http://127.0.0.1:{free_port()}/maven2</url>"
        "</mirror></mirrors></settings>"
    )
    result = _db_start(tmp_path, os.environ["PATH"], GRAPHREC_EMBEDDED_MAVEN_SETTINGS=str(settings))
    line = _one_error_line(result)
    assert f"cannot download Neo4j {DEFAULT_VERSION} from Maven Central" in line
    # Nothing half-built is left where the next start would look.
    assert not [p for p in (tmp_path / "build").iterdir() if not p.name.startswith(".")]


@needs_java_and_maven
@pytest.mark.slow
@pytest.mark.graph
@pytest.mark.engine_only("neo4j", reason="builds the Neo4j launcher with Maven")
def test_an_interrupted_build_is_rebuilt_not_used(tmp_path: Path) -> None:
    java = neo4j_build.find_java()
    key = neo4j_build.cache_key(DEFAULT_VERSION, ())
    build_dir = tmp_path / "build"
    # What an interrupted build leaves: a work folder, and (worse) a final folder
    # without its manifest, as if the rename had happened and the manifest not.
    (build_dir / f".build-{key}-4242" / "lib").mkdir(parents=True)
    (build_dir / key / "lib").mkdir(parents=True)
    (build_dir / key / "lib" / "half.jar").write_bytes(b"PK")
    messages: list[str] = []
    launcher = neo4j_build.launcher(
        build_dir, DEFAULT_VERSION, java=java, progress=messages.append, archive=False
    )
    assert any("building the Neo4j" in message for message in messages)
    assert launcher.folder == build_dir / key
    assert not (build_dir / key / "lib" / "half.jar").exists()
    assert not list(build_dir.glob(".build-*"))
    manifest = json.loads((build_dir / key / "manifest.json").read_text())
    assert manifest["neo4j_version"] == DEFAULT_VERSION
    assert f"neo4j-{DEFAULT_VERSION}.jar" in manifest["jars"]

    # A jar that no longer matches the manifest makes the cache count as half-built.
    again = neo4j_build.launcher(build_dir, DEFAULT_VERSION, java=java, archive=False)
    assert again == launcher  # complete: used as it is
    victim = build_dir / key / "lib" / f"neo4j-{DEFAULT_VERSION}.jar"
    victim.write_bytes(victim.read_bytes()[:100])
    assert neo4j_build._complete(build_dir / key) is None


def test_unknown_plugin_and_bad_version_are_refused(tmp_path: Path) -> None:
    from graphrec.graph.errors import EmbeddedServerError

    with pytest.raises(EmbeddedServerError, match="unknown Neo4j plugin bloom"):
        neo4j_build.check_plugins(("bloom",))
    java = neo4j_build.Java(Path("/nonexistent/java"), Path("/nonexistent"), 17)
    with pytest.raises(EmbeddedServerError, match="invalid Neo4j version"):
        neo4j_build.launcher(tmp_path, "5.26; rm -rf /", java=java)
