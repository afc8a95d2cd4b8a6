"""``graphrec export``: stream the training subgraph from the graph into a folder on disk.

The option types for the export filters are module-level aliases (``KindOption``
...), so that other commands can offer the same filters with the same help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graphrec.cli._common import load_settings

KindOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        metavar="KIND",
        help="Interaction kind to keep (repeat for several; default: all).",
    ),
]
TsFromOption = Annotated[
    int | None,
    typer.Option("--ts-from", help="Keep interactions at or after this time (epoch seconds)."),
]
TsToOption = Annotated[
    int | None, typer.Option("--ts-to", help="Keep interactions before this time (epoch seconds).")
]
MinUserDegreeOption = Annotated[
    int,
    typer.Option(
        "--min-user-degree", min=0, help="k-core: users need at least this many interactions."
    ),
]
MinItemDegreeOption = Annotated[
    int,
    typer.Option(
        "--min-item-degree",
        min=0,
        help="k-core: items need at least this many interactions; 0 keeps catalog items "
        "without any (for cold start).",
    ),
]
RelationOption = Annotated[
    list[str] | None,
    typer.Option(
        "--relation",
        metavar="RELATION",
        help="HAS_CONCEPT relation to keep, e.g. has_genre (repeat for several; default: all).",
    ),
]
ConceptKindOption = Annotated[
    list[str] | None,
    typer.Option(
        "--concept-kind",
        metavar="KIND",
        help="Concept kind to keep, e.g. genre (repeat for several; default: all).",
    ),
]
RelatedOption = Annotated[
    bool, typer.Option("--related/--no-related", help="Export RELATED (KG) concept edges.")
]
SubconceptsOption = Annotated[
    bool,
    typer.Option("--subconcepts/--no-subconcepts", help="Export SUBCONCEPT_OF hierarchy edges."),
]
CoEngagedOption = Annotated[
    bool, typer.Option("--co-engaged/--no-co-engaged", help="Export CO_ENGAGED item links.")
]
SeedUserOption = Annotated[
    list[str] | None,
    typer.Option(
        "--seed-user",
        metavar="USER",
        help="Export only the neighbourhood of this user (repeat for several).",
    ),
]
SeedItemOption = Annotated[
    list[str] | None,
    typer.Option(
        "--seed-item",
        metavar="ITEM",
        help="... and/or of this item (repeat for several).",
    ),
]
HopsOption = Annotated[
    int, typer.Option(min=1, help="Neighbourhood size in user-item hops, with seeds.")
]


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


def export_command(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="FOLDER",
            help="Folder to write. It must be new, empty, or hold an earlier export "
            "(which is replaced once the new one is complete).",
            show_default=False,
        ),
    ],
    page_size: Annotated[
        int,
        typer.Option(
            "--page-size", min=1, help="Users, items or concepts per query (their edges with them)."
        ),
    ] = 1_000,
    kind: KindOption = None,
    ts_from: TsFromOption = None,
    ts_to: TsToOption = None,
    min_user_degree: MinUserDegreeOption = 1,
    min_item_degree: MinItemDegreeOption = 0,
    relation: RelationOption = None,
    concept_kind: ConceptKindOption = None,
    related: RelatedOption = True,
    subconcepts: SubconceptsOption = True,
    co_engaged: CoEngagedOption = True,
    seed_user: SeedUserOption = None,
    seed_item: SeedItemOption = None,
    hops: HopsOption = 2,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Export users, items, concepts and their edges from the graph to FOLDER.

    The export streams: each page of the graph goes straight to raw tensor files
    (with a manifest.json and the id map in ids.json), so memory holds the ids
    but never the edges. Python reads the folder back with
    graphrec.export.load_export, which memory-maps it as PyTorch Geometric
    HeteroData.

    Examples:

      graphrec export ./export

      graphrec export ./ratings --kind rating --min-user-degree 5 --no-co-engaged
    """
    from graphrec.export import ExportError, ExportFilters, export_to_disk, read_manifest
    from graphrec.graph.connect import connect

    try:
        filters = ExportFilters(
            kinds=kind or None,
            ts_from=ts_from,
            ts_to=ts_to,
            min_user_degree=min_user_degree,
            min_item_degree=min_item_degree,
            relations=relation or None,
            concept_kinds=concept_kind or None,
            include_related=related,
            include_subconcepts=subconcepts,
            include_co_engaged=co_engaged,
            seed_users=seed_user or None,
            seed_items=seed_item or None,
            hops=hops,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = load_settings()
    try:
        with connect(settings) as graph:
            written = export_to_disk(graph, folder, filters, page_size=page_size, progress=progress)
        counts = read_manifest(written)["counts"]
    except ExportError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    width = max(len(name) for name in counts)
    typer.echo(f"exported to {written}")
    for name, count in counts.items():
        typer.echo(f"  {name:<{width}}  {count:>12,}")
