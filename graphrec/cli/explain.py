"""``graphrec explain USER ITEM``: why an item suits a user, as paths through the graph."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from graphrec.cli._common import load_settings
from graphrec.explain import explain, model_vectors
from graphrec.graph.connect import connect


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)


def explain_command(
    user_id: Annotated[str, typer.Argument(help="The user's business id.")],
    item_id: Annotated[str, typer.Argument(help="The recommended item's business id.")],
    model: Annotated[
        str | None,
        typer.Option(help="Model whose embeddings rank the paths (default: newest active)."),
    ] = None,
    max_paths: Annotated[int, typer.Option(min=1, max=20, help="Explanations to show.")] = 3,
    max_hops: Annotated[
        int, typer.Option(min=1, max=4, help="RELATED hops in knowledge-graph paths.")
    ] = 3,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Seconds the path queries may take; past it, show what was found, flagged "
            "partial. (default: no limit)",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the structured paths as JSON.")
    ] = False,
) -> None:
    """Explain a recommendation with real paths in the graph, ranked by the model.

    Paths: collaborative (people who liked what you liked), content (shared
    concepts), knowledge graph (multi-hop through related entities),
    co-engagement, and user attributes.
    """
    with connect(load_settings()) as graph:
        try:
            model_id, vectors = model_vectors(graph, model)
        except LookupError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
        found = explain(
            graph,
            user_id,
            item_id,
            vectors,
            max_paths=max_paths,
            max_hops=max_hops,
            timeout=timeout,
        )
    paths = found.paths
    if as_json:
        body = {
            "model": model_id,
            "paths": [p.as_dict() for p in paths],
            "partial": found.partial,
            "timed_out": list(found.timed_out),
        }
        typer.echo(json.dumps(body, indent=2))
        return
    if found.partial:
        typer.secho(
            f"partial: the {', '.join(found.timed_out)} queries ran out of time",
            err=True,
            fg=typer.colors.YELLOW,
        )
    if not paths:
        typer.echo(f"no path in the graph connects user {user_id} to item {item_id}")
        raise typer.Exit(1)
    for rank, path in enumerate(paths, 1):
        typer.echo(f"{rank}. [{path.kind}, score {path.score:.3f}] {path.sentence}")
        typer.echo("   " + _render(path))


def _render(path) -> str:  # noqa: ANN001
    parts = [f"({path.nodes[0].label} {path.nodes[0].name or path.nodes[0].id})"]
    for rel, node in zip(path.relationships, path.nodes[1:], strict=True):
        parts.append(f"-[{rel.type}{' ' + rel.relation if rel.relation else ''}]-")
        parts.append(f"({node.label} {node.name or node.id})")
    return "".join(parts)
