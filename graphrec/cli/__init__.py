"""The ``graphrec`` command line.

Each command group lives in its own module with a ``register(app)`` function.
Names reserved for the pipeline: ``ingest``, ``export``, ``train``, ``kge``, ``evaluate``,
``runs``, ``models``, ``recommend``, ``similar``, ``explain``, ``serve``, ``users``,
``items`` and ``demo``.
"""

from __future__ import annotations

import sys

import typer

from graphrec.cli import (
    db,
    demo,
    erasure,
    evaluate,
    explain,
    export,
    ingest,
    kge,
    recommend,
    runs,
    serve,
    train,
)
from graphrec.graph.errors import GraphError
from graphrec.ingest import IngestError
from graphrec.loaders import LoaderError

app = typer.Typer(
    name="graphrec",
    help="A graph-database-backed recommendation engine: Neo4j knowledge graph in, "
    "GNN recommendations and explanations out.\n\n"
    "Without GRAPHREC_NEO4J_URI, commands that need the graph start (or reuse) the "
    "embedded ArcadeDB server under GRAPHREC_DATA_DIR.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db.register(app)
ingest.register(app)
export.register(app)
train.register(app)
runs.register(app)
evaluate.register(app)
kge.register(app)
explain.register(app)
recommend.register(app)
serve.register(app)
erasure.register(app)
demo.register(app)


def main() -> None:
    """Console entry point: user-facing errors become one line on stderr and exit status 1."""
    try:
        app()
    except (GraphError, IngestError, LoaderError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)
