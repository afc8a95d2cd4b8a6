"""`graphrec db ...` as a user runs it: real subprocesses, a real background server.

The server tests run on the session's engine (``GRAPHREC_TEST_ENGINE``), so on both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graphrec.graph.embedded import ENGINE_NAMES, free_port


def graphrec(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphrec", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _free_ports(count: int) -> list[str]:
    ports: list[str] = []
    while len(ports) < count:
        if (port := str(free_port())) not in ports:
            ports.append(port)
    return ports


@pytest.fixture
def cli_env(tmp_path: Path, neo4j_build_dir: Path) -> dict[str, str]:
    bolt, http = _free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHREC_")}
    env.update(
        GRAPHREC_DATA_DIR=str(tmp_path / "data"),
        GRAPHREC_EMBEDDED_BOLT_PORT=bolt,
        GRAPHREC_EMBEDDED_HTTP_PORT=http,
        GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR=str(neo4j_build_dir),
        GRAPHREC_EMBEDDED_HEAP="768m",
        GRAPHREC_EMBEDDED_START_TIMEOUT="300",
    )
    yield env
    graphrec("db", "stop", env=env)


#: Run by the official driver in a process of its own: what the server says it is.
COMPONENTS = (
    "import sys, neo4j\n"
    "d = neo4j.GraphDatabase.driver(sys.argv[1], auth=(sys.argv[2], open(sys.argv[3]).read().strip()))\n"
    "r = d.execute_query('CALL dbms.components() YIELD name, versions, edition "
    "RETURN name, versions[0] AS version, edition', database_='neo4j').records[0]\n"
    "print(r['name'], r['version'], r['edition'])\n"
    "d.close()"
)


@pytest.mark.slow
@pytest.mark.graph
def test_db_lifecycle_as_a_user(cli_env: dict[str, str], test_engine: str) -> None:
    started = graphrec("db", "start", "--engine", test_engine, env=cli_env, timeout=900)
    assert started.returncode == 0, started.stderr
    assert f"embedded {test_engine} server started" in started.stdout
    uri = re.search(r"uri:\s+(bolt://\S+)", started.stdout).group(1)
    assert uri == f"bolt://127.0.0.1:{cli_env['GRAPHREC_EMBEDDED_BOLT_PORT']}"
    user = re.search(r"user:\s+(\S+)", started.stdout).group(1)
    assert user == {"neo4j": "neo4j", "arcadedb": "root"}[test_engine]
    password_file = Path(re.search(r"password file:\s+(\S+)", started.stdout).group(1))
    assert password_file.is_file()

    # The official driver from a separate Python process, against the printed URI.
    check = subprocess.run(
        [sys.executable, "-c", COMPONENTS, uri, user, str(password_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    *name, version, edition = check.stdout.split()
    assert " ".join(name) == "Neo4j Kernel" and version.startswith("5.")
    if test_engine == "neo4j":  # the real thing, not an emulation
        assert version.startswith("5.26.") and edition == "community"

    second = graphrec("db", "start", env=cli_env)  # no --engine: the one that runs
    assert second.returncode == 0
    assert f"embedded {test_engine} server already running" in second.stdout

    [other] = [name for name in ENGINE_NAMES if name != test_engine]
    refused = graphrec("db", "start", "--engine", other, env=cli_env)
    assert refused.returncode == 1
    assert f"the {test_engine} engine already runs on data dir" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr

    status = graphrec("db", "status", env=cli_env)
    assert status.returncode == 0
    assert re.search(rf"engine:\s+{test_engine} \d+\.\d+", status.stdout), status.stdout
    for expected in (
        uri,
        f"user:          {user}",
        "database:      neo4j",
        str(password_file),
        "running",
    ):
        assert expected in status.stdout

    wrote = graphrec(
        "db",
        "cypher",
        "--write",
        "MERGE (u:User {id: $id}) RETURN u.id AS id",
        "-p",
        'id="u\'1"',
        env=cli_env,
    )
    assert wrote.returncode == 0, wrote.stderr
    assert [json.loads(line) for line in wrote.stdout.splitlines()] == [{"id": "u'1"}]

    read = graphrec(
        "db",
        "cypher",
        "RETURN $n + 1 AS n, $s AS s",
        "-p",
        "n=41",
        "-p",
        "s=plain text",
        env=cli_env,
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == {"n": 42, "s": "plain text"}

    stopped = graphrec("db", "stop", env=cli_env)
    assert stopped.returncode == 0
    assert f"embedded {test_engine} server stopped" in stopped.stdout
    after = graphrec("db", "status", env=cli_env)
    assert after.returncode == 3
    assert "not running" in after.stdout
    assert f"engine:        {test_engine}" in after.stdout  # the engine that last ran here

    # Started again without --engine: the same engine, and the data survived the stop.
    again = graphrec("db", "start", env=cli_env, timeout=900)
    assert again.returncode == 0, again.stderr
    assert f"embedded {test_engine} server started" in again.stdout
    kept = graphrec("db", "cypher", "MATCH (u:User) RETURN u.id AS id", env=cli_env)
    assert [json.loads(line) for line in kept.stdout.splitlines()] == [{"id": "u'1"}]


def test_unreachable_uri_is_one_line_error(cli_env: dict[str, str]) -> None:
    env = {
        **cli_env,
        "GRAPHREC_NEO4J_URI": f"bolt://127.0.0.1:{free_port()}",
        "GRAPHREC_NEO4J_PASSWORD": "x",
    }
    result = graphrec("db", "cypher", "RETURN 1", env=env, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: bolt://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_password_is_one_line_error(graph_env: dict[str, str]) -> None:
    env = {**graph_env, "GRAPHREC_NEO4J_PASSWORD": "wrong-password"}
    result = graphrec("db", "cypher", "RETURN 1", env=env, timeout=120)
    assert result.returncode == 1
    assert "authentication failed" in result.stderr
    assert graph_env["GRAPHREC_NEO4J_URI"] in result.stderr
    assert "Traceback" not in result.stderr


def test_configured_uri_is_used_instead_of_embedded(graph_env: dict[str, str]) -> None:
    result = graphrec("db", "cypher", "RETURN 7 AS seven", env=graph_env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"seven": 7}
    # Nothing embedded was started under this data dir.
    for engine in ENGINE_NAMES:
        assert not (Path(graph_env["GRAPHREC_DATA_DIR"]) / engine / "server.pid").exists()


@pytest.mark.graph
def test_port_conflict_is_one_line(cli_env: dict[str, str], test_engine: str) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", int(cli_env["GRAPHREC_EMBEDDED_BOLT_PORT"])))
        blocker.listen()
        result = graphrec("db", "start", "--engine", test_engine, env=cli_env, timeout=900)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert (
        f"port {cli_env['GRAPHREC_EMBEDDED_BOLT_PORT']} on 127.0.0.1 is already in use" in lines[0]
    )


def test_unknown_engine_is_reported(cli_env: dict[str, str]) -> None:
    result = graphrec("db", "start", "--engine", "mysql", env=cli_env)
    assert result.returncode == 2
    assert "arcadedb, neo4j" in result.stderr and "Traceback" not in result.stderr
    bad_env = graphrec("db", "status", env={**cli_env, "GRAPHREC_EMBEDDED_ENGINE": "mysql"})
    assert bad_env.returncode == 2 and "GRAPHREC_EMBEDDED_ENGINE" in bad_env.stderr


def test_plugin_mistakes_are_one_line(cli_env: dict[str, str]) -> None:
    unknown = graphrec("db", "start", "--engine", "neo4j", "--plugins", "gds,graphx", env=cli_env)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "'graphx'" in unknown.stderr and "apoc, gds" in unknown.stderr
    wrong_engine = graphrec("db", "start", "--engine", "arcadedb", "--plugins", "gds", env=cli_env)
    assert wrong_engine.returncode == 2 and "Traceback" not in wrong_engine.stderr
    assert "--engine neo4j --plugins gds" in " ".join(wrong_engine.stderr.split())


def test_bad_settings_are_reported(cli_env: dict[str, str]) -> None:
    result = graphrec("db", "status", env={**cli_env, "GRAPHREC_NEO4J_URI": "http://nope"})
    assert result.returncode == 2
    assert "GRAPHREC_NEO4J_URI" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_param_is_reported(cli_env: dict[str, str]) -> None:
    result = graphrec("db", "cypher", "RETURN 1", "-p", "no-equals-sign", env=cli_env)
    assert result.returncode == 2
    assert "NAME=VALUE" in result.stderr


def test_help_explains_itself() -> None:
    result = graphrec("--help", env=dict(os.environ))
    assert result.returncode == 0
    assert "db" in result.stdout
    db_help = graphrec("db", "--help", env=dict(os.environ))
    for command in ("start", "stop", "status", "cypher"):
        assert command in db_help.stdout
