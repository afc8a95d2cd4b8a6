"""`graphrec db ...` as a user runs it: real subprocesses, a real background server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graphrec.graph.embedded import free_port


def graphrec(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphrec", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    bolt = free_port()
    http = free_port()
    while http == bolt:
        http = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHREC_")}
    env.update(
        GRAPHREC_DATA_DIR=str(tmp_path / "data"),
        GRAPHREC_EMBEDDED_BOLT_PORT=str(bolt),
        GRAPHREC_EMBEDDED_HTTP_PORT=str(http),
    )
    yield env
    graphrec("db", "stop", env=env)


@pytest.mark.slow
def test_db_lifecycle_as_a_user(cli_env: dict[str, str], tmp_path: Path) -> None:
    started = graphrec("db", "start", env=cli_env)
    assert started.returncode == 0, started.stderr
    uri = re.search(r"uri:\s+(bolt://\S+)", started.stdout).group(1)
    assert uri == f"bolt://127.0.0.1:{cli_env['GRAPHREC_EMBEDDED_BOLT_PORT']}"
    password_file = Path(re.search(r"password file:\s+(\S+)", started.stdout).group(1))
    assert password_file.is_file()

    # The official driver from a separate Python process, against the printed URI.
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, neo4j\n"
            "d = neo4j.GraphDatabase.driver(sys.argv[1], auth=('root', open(sys.argv[2]).read().strip()))\n"
            "print(d.execute_query('RETURN 1 AS x', database_='neo4j').records[0]['x'])\n"
            "d.close()",
            uri,
            str(password_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "1"

    second = graphrec("db", "start", env=cli_env)
    assert second.returncode == 0
    assert "already running" in second.stdout

    status = graphrec("db", "status", env=cli_env)
    assert status.returncode == 0
    for expected in (
        uri,
        "user:          root",
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
    assert "stopped" in stopped.stdout
    after = graphrec("db", "status", env=cli_env)
    assert after.returncode == 3
    assert "not running" in after.stdout


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
    assert not (Path(graph_env["GRAPHREC_DATA_DIR"]) / "arcadedb" / "server.pid").exists()


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
