"""``graphrec db``: manage the embedded server and run Cypher against the configured graph."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from graphrec.cli._common import load_settings
from graphrec.graph.client import GraphClient
from graphrec.graph.connect import resolve_target
from graphrec.graph.engines import ENGINE_NAMES, ServerStatus, embedded_server

db_app = typer.Typer(
    help="The graph database: start/stop the embedded server, check status, run Cypher.",
    no_args_is_help=True,
)

EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Embedded engine: arcadedb (needs nothing but pip) or neo4j (Neo4j Community; "
        "needs Java 17+ and Maven). Default: the one running on the data dir, else "
        "GRAPHREC_EMBEDDED_ENGINE (arcadedb).",
        show_default=False,
    ),
]


def _check_engine(engine: str | None) -> str | None:
    if engine is not None and engine not in ENGINE_NAMES:
        raise typer.BadParameter(
            f"{engine!r} is not one of {', '.join(ENGINE_NAMES)}", param_hint="--engine"
        )
    return engine


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _print_status(status: ServerStatus) -> None:
    typer.echo(f"engine:        {status.engine} {status.version or ''}".rstrip())
    typer.echo(f"uri:           {status.uri}")
    typer.echo(f"user:          {status.user}")
    typer.echo(f"database:      {status.database}")
    typer.echo(f"password file: {status.password_file}")
    typer.echo(f"data dir:      {status.data_dir}")
    typer.echo(f"log file:      {status.log_file}")
    if status.pid:
        typer.echo(f"pid:           {status.pid}")


PluginsOption = Annotated[
    str | None,
    typer.Option(
        "--plugins",
        help="Neo4j plugins to load, comma-separated: gds (OpenGDS, for the gds_* peers), "
        "apoc (APOC core). Built into the launcher on first use. neo4j engine only. "
        "Default: GRAPHREC_EMBEDDED_NEO4J_PLUGINS (none).",
        show_default=False,
    ),
]


def _check_plugins(plugins: str | None) -> list[str] | None:
    if plugins is None:
        return None
    from graphrec.graph.engines.neo4j_build import PLUGINS

    names = [name.strip() for name in plugins.split(",") if name.strip()]
    unknown = [name for name in names if name not in PLUGINS]
    if unknown:
        raise typer.BadParameter(
            f"unknown plugin {', '.join(map(repr, unknown))}; the neo4j engine can load "
            f"{', '.join(PLUGINS)}",
            param_hint="--plugins",
        )
    return names


@db_app.command()
def start(engine: EngineOption = None, plugins: PluginsOption = None) -> None:
    """Start the embedded server (Bolt on 127.0.0.1 only) in the background.

    Generates a password on first start (kept in a 0600 file under the data
    dir), creates the database, waits until Bolt answers, and prints the URI. If
    the server already runs, reports it instead of starting another. The neo4j
    engine builds its launcher with Maven on first use (cached per Neo4j version).
    Starting one engine while the other runs on the same data dir is refused.
    """
    settings = load_settings()
    engine = _check_engine(engine)  # None: the running engine, else GRAPHREC_EMBEDDED_ENGINE
    wanted = _check_plugins(plugins)
    if wanted is not None:
        settings = settings.model_copy(update={"embedded_neo4j_plugins": wanted})
    server = embedded_server(settings, engine)
    if wanted and server.engine != "neo4j":
        raise typer.BadParameter(
            f"plugins load into the neo4j engine only (this is {server.engine}): "
            "graphrec db start --engine neo4j --plugins " + ",".join(wanted),
            param_hint="--plugins",
        )
    status = server.start(progress=lambda message: typer.echo(message, err=True))
    if status.already_running:
        typer.echo(f"embedded {status.engine} server already running (pid {status.pid})")
        if wanted:
            _note_missing_plugins(server, wanted)
    else:
        typer.echo(f"embedded {status.engine} server started (pid {status.pid})")
    _print_status(status)
    if settings.neo4j_uri is not None:
        typer.secho(
            f"note: GRAPHREC_NEO4J_URI is set ({settings.neo4j_uri}); graphrec commands use that "
            "server, not this embedded one.",
            err=True,
            fg=typer.colors.YELLOW,
        )


def _note_missing_plugins(server: Any, wanted: list[str]) -> None:
    """The running server was started without some of ``wanted``: say how to load them."""
    from graphrec.graph.capabilities import probe

    with GraphClient.open(server.target()) as graph:
        loaded = probe(graph).plugins
    missing = [name for name in wanted if name not in loaded]
    if missing:
        typer.secho(
            f"note: the running server has no {', '.join(missing)}; plugins load at start: "
            f"graphrec db stop, then graphrec db start --engine neo4j --plugins {','.join(wanted)}",
            err=True,
            fg=typer.colors.YELLOW,
        )


@db_app.command()
def stop(engine: EngineOption = None) -> None:
    """Stop the embedded server cleanly (SIGTERM/SIGINT). Its data stays under the data dir."""
    server = embedded_server(load_settings(), _check_engine(engine))
    if server.stop():
        typer.echo(f"embedded {server.engine} server stopped")
    else:
        typer.echo(f"embedded {server.engine} server was not running")


@db_app.command()
def status(engine: EngineOption = None) -> None:
    """Show where the graph is: engine and version, URI, user, database, password file.

    Exit status 0 when the graph answers, 3 when it is not running or unreachable.
    """
    settings = load_settings()
    if settings.neo4j_uri is not None:
        target = resolve_target(settings)
        typer.echo(f"uri:           {target.uri} (GRAPHREC_NEO4J_URI)")
        typer.echo(f"user:          {target.user}")
        typer.echo(f"database:      {target.database}")
        with GraphClient.open(target) as graph:
            graph.ping()
        typer.echo("state:         reachable")
        return
    status = embedded_server(settings, _check_engine(engine)).status()
    _print_status(status)
    typer.echo(f"state:         {'running' if status.running else 'not running'}")
    if not status.running:
        raise typer.Exit(3)


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise typer.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--param")
    try:
        value = json.loads(raw)  # numbers, booleans, lists, quoted strings
    except json.JSONDecodeError:
        value = raw  # anything else is a plain string
    return key, value


@db_app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="One Cypher statement. Pass values with --param.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="NAME=VALUE, usable as $NAME. VALUE is parsed as JSON when it can be "
            '(42, true, [1,2], "text"), else taken as a string. Repeatable.',
        ),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Run as a write transaction (default: read).")
    ] = False,
) -> None:
    """Run one Cypher query against the configured graph and print rows as JSON lines.

    Example: graphrec db cypher 'MATCH (u:User {id: $id}) RETURN u.id AS id' -p id=42
    """
    params = dict(_parse_param(p) for p in (param or []))
    settings = load_settings()
    with GraphClient.open(resolve_target(settings)) as graph:
        if write:
            rows = graph.run_write_rows(query, params)
        else:
            rows = graph.run(query, params)
    for row in rows:
        typer.echo(json.dumps(row, default=str, ensure_ascii=False))
