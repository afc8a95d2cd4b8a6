"""``graphrec db``: manage the embedded server and run Cypher against the configured graph."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from graphrec.cli._common import load_settings
from graphrec.graph.client import GraphClient
from graphrec.graph.connect import resolve_target
from graphrec.graph.embedded import EmbeddedServer

db_app = typer.Typer(
    help="The graph database: start/stop the embedded server, check status, run Cypher.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _print_status(status, *, external_uri: str | None = None) -> None:  # noqa: ANN001
    typer.echo(f"uri:           {status.uri}")
    typer.echo(f"user:          {status.user}")
    typer.echo(f"database:      {status.database}")
    typer.echo(f"password file: {status.password_file}")
    typer.echo(f"data dir:      {status.data_dir}")
    typer.echo(f"log file:      {status.log_file}")
    if status.pid:
        typer.echo(f"pid:           {status.pid}")


@db_app.command()
def start() -> None:
    """Start the embedded ArcadeDB server (Bolt on 127.0.0.1) in the background.

    Generates a root password on first start (kept in a 0600 file under the data
    dir), creates the database, waits until Bolt answers, and prints the URI. If
    the server already runs, reports it instead of starting another.
    """
    settings = load_settings()
    server = EmbeddedServer.from_settings(settings)
    status = server.start()
    if status.already_running:
        typer.echo(f"embedded server already running (pid {status.pid})")
    else:
        typer.echo(f"embedded server started (pid {status.pid})")
    _print_status(status)
    if settings.neo4j_uri is not None:
        typer.secho(
            f"note: GRAPHREC_NEO4J_URI is set ({settings.neo4j_uri}); graphrec commands use that "
            "server, not this embedded one.",
            err=True,
            fg=typer.colors.YELLOW,
        )


@db_app.command()
def stop() -> None:
    """Stop the embedded server cleanly. Its data stays under the data dir."""
    server = EmbeddedServer.from_settings(load_settings())
    if server.stop():
        typer.echo("embedded server stopped")
    else:
        typer.echo("embedded server was not running")


@db_app.command()
def status() -> None:
    """Show where the graph is: URI, user, database, password file.

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
    status = EmbeddedServer.from_settings(settings).status()
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
