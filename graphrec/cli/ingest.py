"""``graphrec ingest`` and ``graphrec datasets``: catalogs into the graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from graphrec.cli._common import announce, load_settings
from graphrec.feed import announce_reload
from graphrec.graph.connect import connect
from graphrec.ingest import IngestSummary, derive_co_engagement, ingest
from graphrec.loaders import FORMATS, parse
from graphrec.loaders.download import DATASETS, download_dataset

datasets_app = typer.Typer(
    help="Public datasets: download, verify and ingest.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.add_typer(datasets_app, name="datasets")


def _run_ingest(
    fmt: str,
    path: Path | None,
    options: dict,
    *,
    batch_size: int,
    strict: bool,
    keep_duplicates: bool,
    co_engagement: bool,
    co_min_users: int,
    co_top_k: int,
    show_rejects: int,
    summary_json: Path | None,
) -> IngestSummary:
    rows = parse(fmt, path, **options)  # a missing file or bad mapping fails here, before any write
    settings = load_settings()
    with connect(settings) as graph:
        summary = ingest(
            graph,
            rows,
            batch_size=batch_size,
            strict=strict,
            keep_duplicates=keep_duplicates,
            description=f"ingest {fmt}",
        )
        if co_engagement:
            typer.echo("deriving CO_ENGAGED links from the graph's interactions ...", err=True)
            summary.relationships["CO_ENGAGED"] = derive_co_engagement(
                graph, min_shared=co_min_users, top_k=co_top_k, batch_size=batch_size
            )
        if summary.rows_read:  # even rows that created nothing may have changed properties
            announce(lambda: announce_reload(graph), "the ingest")
    for reject in summary.rejects[:show_rejects]:
        typer.secho(f"rejected: {reject}", err=True, fg=typer.colors.YELLOW)
    if summary.rejected > show_rejects:
        typer.secho(f"... and {summary.rejected - show_rejects:,} more rejected rows", err=True)
    typer.echo(summary.format_table())
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.as_dict(), indent=2))
    return summary


def ingest_command(
    fmt: Annotated[
        str,
        typer.Argument(
            metavar="FORMAT", help=f"Source format: {', '.join(FORMATS)}.", show_default=False
        ),
    ],
    path: Annotated[
        Path | None,
        typer.Argument(help="Folder (or mapping file) to read. Not used by 'synthetic'."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="csv/jsonl: the mapping file (default: PATH/mapping.toml)."),
    ] = None,
    users: Annotated[int, typer.Option(help="synthetic: number of users.")] = 1_000,
    items: Annotated[int, typer.Option(help="synthetic: number of items.")] = 2_000,
    interactions: Annotated[int, typer.Option(help="synthetic: number of interactions.")] = 50_000,
    seed: Annotated[int, typer.Option(help="synthetic: random seed.")] = 0,
    entity_kg: Annotated[
        bool,
        typer.Option(
            "--entity-kg",
            help="synthetic: add a typed entity KG (artists, producers, labels, hub countries) "
            "that carries part of the users' taste.",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per write transaction.")] = 10_000,
    strict: Annotated[
        bool, typer.Option(help="Abort before writing anything if any row is bad.")
    ] = False,
    keep_duplicates: Annotated[
        bool,
        typer.Option(help="One INTERACTED edge per log row (default: one per user, item, kind)."),
    ] = False,
    co_engagement: Annotated[
        bool, typer.Option(help="Derive CO_ENGAGED item-item links afterwards.")
    ] = True,
    co_min_users: Annotated[
        int, typer.Option(min=1, help="Users two items must share to be CO_ENGAGED.")
    ] = 3,
    co_top_k: Annotated[int, typer.Option(min=1, help="CO_ENGAGED links kept per item.")] = 20,
    show_rejects: Annotated[int, typer.Option(min=0, help="Rejected rows to print.")] = 20,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the summary as JSON to this file.")
    ] = None,
) -> None:
    """Load a catalog and interaction log into the graph, idempotently.

    Bad rows are reported as FILE:LINE: REASON and skipped (or, with --strict,
    nothing is written). Re-running leaves the same counts. Ends with a summary
    of nodes and relationships per label and type. Running API processes on the
    graph reload through their change feed afterwards (no POST /admin/reload).

    Examples:

      graphrec ingest movielens ./ml-latest-small

      graphrec ingest synthetic --users 20000 --items 10000 --interactions 1000000

      graphrec ingest synthetic --entity-kg

      graphrec ingest csv ./shop --mapping ./shop/mapping.toml
    """
    if entity_kg and fmt != "synthetic":
        raise typer.BadParameter("only the synthetic format takes it", param_hint="--entity-kg")
    options: dict = {}
    if fmt == "synthetic":
        options = {"users": users, "items": items, "interactions": interactions, "seed": seed}
        if entity_kg:
            options["entity_kg"] = True
    elif fmt in ("csv", "jsonl") and mapping is not None:
        options = {"mapping": mapping}
    if fmt != "synthetic" and path is None:
        raise typer.BadParameter(f"{fmt} needs a PATH", param_hint="PATH")
    _run_ingest(
        fmt,
        path,
        options,
        batch_size=batch_size,
        strict=strict,
        keep_duplicates=keep_duplicates,
        co_engagement=co_engagement,
        co_min_users=co_min_users,
        co_top_k=co_top_k,
        show_rejects=show_rejects,
        summary_json=summary_json,
    )


@datasets_app.command("download")
def download_command(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(DATASETS)}.")],
    ingest_after: Annotated[
        bool, typer.Option("--ingest/--no-ingest", help="Ingest the dataset once downloaded.")
    ] = True,
    url: Annotated[
        str | None, typer.Option(help="Download from this URL instead (a mirror); needs --sha256.")
    ] = None,
    sha256: Annotated[str | None, typer.Option(help="Expected SHA-256 of the archive.")] = None,
) -> None:
    """Download a public dataset into the cache dir, verify its SHA-256, unpack, then ingest it."""
    settings = load_settings()
    folder = download_dataset(name, settings.data_dir / "datasets", url=url, sha256=sha256)
    typer.echo(f"dataset ready: {folder}")
    if ingest_after:
        _run_ingest(
            "movielens",
            folder,
            {},
            batch_size=10_000,
            strict=False,
            keep_duplicates=False,
            co_engagement=True,
            co_min_users=3,
            co_top_k=20,
            show_rejects=20,
            summary_json=None,
        )
