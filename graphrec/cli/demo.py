"""``graphrec demo``: nothing to recommendations with explanations, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graphrec.cli._common import load_settings


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    dataset: Annotated[
        Path | None,
        typer.Option(
            help="A MovieLens folder (e.g. ../shared/data/ml-latest-small). Default: a synthetic catalog.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    users: Annotated[int, typer.Option(min=10, help="Synthetic catalog: users.")] = 3_000,
    items: Annotated[int, typer.Option(min=10, help="Synthetic catalog: items.")] = 2_000,
    interactions: Annotated[
        int, typer.Option(min=100, help="Synthetic catalog: interactions.")
    ] = 120_000,
    epochs: Annotated[
        int, typer.Option(min=1, help="Most epochs per model (early stopping may end sooner).")
    ] = 40,
    dim: Annotated[int, typer.Option(min=2, help="Embedding size.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed for the catalog, the split and training.")] = 0,
    out_dir: Annotated[Path, typer.Option(help="Where plots and tables go.")] = Path("demo-output"),
    serve: Annotated[
        bool,
        typer.Option(
            help="Finish by serving the REST API on 127.0.0.1 until Ctrl-C "
            "(--no-serve: stop after the plots)."
        ),
    ] = True,
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="API port (default: GRAPHREC_API_PORT, 8000, or any free port when taken).",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Embedded engine when GRAPHREC_NEO4J_URI is unset: arcadedb (needs nothing but "
            "pip) or neo4j (Neo4j Community; Java 17+ and Maven). Default: "
            "GRAPHREC_EMBEDDED_ENGINE (arcadedb)."
        ),
    ] = None,
) -> None:
    """Run the whole loop offline and show the result.

    Starts (or reuses) the embedded graph unless GRAPHREC_NEO4J_URI is set;
    ingests a catalog; trains LightGCN and the relation-aware GNN (plus MF-BPR
    and most-popular as baselines) on one split; writes the embeddings back into
    the graph; prints the evaluation table and three users' top-5 with an
    explanation path each; saves training curves and a metric comparison as PNG;
    then serves the REST API (URL and OpenAPI docs printed) until Ctrl-C.
    Re-running is safe: ingestion is idempotent and each run writes a new model version.
    """
    from graphrec.demo import DemoOptions, run_demo  # torch and PyG: only when the demo runs

    options = DemoOptions(
        dataset=dataset,
        users=users,
        items=items,
        interactions=interactions,
        epochs=epochs,
        dim=dim,
        seed=seed,
        out_dir=out_dir,
        serve=serve,
        port=port,
    )
    settings = load_settings()
    if engine is not None:
        if engine not in ("arcadedb", "neo4j"):
            raise typer.BadParameter(
                f"{engine!r}: choose arcadedb or neo4j", param_hint="'--engine'"
            )
        settings = settings.model_copy(update={"embedded_engine": engine})
    run_demo(settings, options)
