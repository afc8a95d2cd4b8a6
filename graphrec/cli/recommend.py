"""``graphrec recommend USER_ID`` and ``graphrec similar ITEM_ID``: the service's ranking,
from the command line.

Same code path as the API: :func:`graphrec.serving.load_index` reads the
active model versions, the catalog and the seen items, and
:mod:`graphrec.serving` ranks.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, NoReturn

import typer

from graphrec.cli._common import load_settings


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend_command)
    app.command("similar")(similar_command)


K_OPTION = typer.Option("--top-k", "--k", "-k", min=1, max=1000, help="How many items.")
MODEL_OPTION = typer.Option(
    "--model", "-m", help="Model name (default: lightgcn when trained, else the latest)."
)
JSON_OPTION = typer.Option("--json", help="Print JSON (the API's response shape).")


def recommend_command(
    user_id: Annotated[
        str | None, typer.Argument(help="The user's business id (or --all --write).")
    ] = None,
    k: Annotated[int, K_OPTION] = 10,
    model: Annotated[str | None, MODEL_OPTION] = None,
    concept: Annotated[
        str | None,
        typer.Option(help="Only items with this concept (or a subconcept), e.g. genre:comedy."),
    ] = None,
    diversity: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="MMR re-ranking, 0 (off) to 1.")
    ] = 0.0,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Keep items the user interacted with.")
    ] = False,
    with_explanations: Annotated[
        bool,
        typer.Option("--explain", help="Add the best explanation path (graph queries) per item."),
    ] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
    all_users: Annotated[
        bool, typer.Option("--all", help="Every user of the graph (needs --write).")
    ] = False,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write (:User)-[:RECOMMENDED {rank, score, model, version}]->(:Item) edges "
            "into the graph; the model version's edges replace the previous version's in one "
            "switch. Resumable.",
        ),
    ] = False,
    batch_users: Annotated[
        int, typer.Option(min=1, max=100_000, help="Users per write transaction (--write).")
    ] = 500,
) -> None:
    """Top-k items for a user, from the model versions written back into the graph.

    With --all --write: every user's top-k, written into the graph as RECOMMENDED edges.
    """
    from graphrec.explain import explain
    from graphrec.serving import Source, UnknownUserError, recommend, vector_lookup

    if all_users or write:
        if not (all_users and write) or user_id is not None:
            _fail(ValueError("--write goes with --all, and --all takes no USER_ID"))
        if concept is not None or diversity > 0 or include_seen or with_explanations:
            _fail(ValueError("--all --write takes only --k, --model and --batch-users"))
        _materialise(model, k, batch_users, as_json)
        return
    if user_id is None:
        _fail(ValueError("give a USER_ID, or --all --write"))
    graph, index = _open_index(model)
    options: dict[str, Any] = {
        "k": k,
        "model": model,
        "exclude_seen": not include_seen,
        "concept": concept,
        "diversity": diversity,
    }
    with graph:
        try:
            try:
                ranking = recommend(index.snapshot, index.state, user_id, **options)
            except UnknownUserError:
                rows = graph.read("api/user_exists", id=user_id)
                if not (rows and rows[0]["n"]):
                    raise
                ranking = recommend(
                    index.snapshot, index.state, user_id, known_user=True, **options
                )
        except LookupError as exc:
            _fail(exc)
        body = {
            "user_id": user_id,
            "model": {"name": ranking.model, "version": ranking.version},
            "source": ranking.source.value,
            "fallback": ranking.source is Source.POPULARITY,
            "items": [vars(item) for item in ranking.items],
            "explanations": None,
            "explanations_partial": False,  # no deadline here: every path query runs to the end
            "unexplained": [],  # no per-request cap here
            "offset": 0,
        }
        if with_explanations:
            snapshot = index.snapshot
            vectors = vector_lookup(snapshot.model(ranking.model), snapshot.catalog, index.state)
            best = {
                i.item_id: explain(graph, user_id, i.item_id, vectors, max_paths=1).paths
                for i in ranking.items
            }
            body["explanations"] = {
                item: (p[0].as_dict() if p else None) for item, p in best.items()
            }
    _print(body, as_json, f"{ranking.model} v{ranking.version}, {ranking.source.value}")


def _materialise(model: str | None, k: int, batch_users: int, as_json: bool) -> None:
    from graphrec.serving.materialise import MaterialiseConflictError, materialise

    graph, index = _open_index(model)
    with graph:
        try:
            result = materialise(graph, index, model=model, k=k, batch_users=batch_users)
        except MaterialiseConflictError as exc:
            _fail(exc)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    typer.echo(
        f"{result.model} v{result.version}: top-{result.k} for {result.users:,} users "
        f"({result.written:,} written, {result.skipped:,} already there), "
        f"{result.edges:,} RECOMMENDED edges, {result.removed:,} old edges removed, "
        f"{result.seconds:.1f} s, {result.users_per_second:,.0f} users/s"
    )


def similar_command(
    item_id: Annotated[str, typer.Argument(help="The item's business id.")],
    k: Annotated[int, K_OPTION] = 10,
    model: Annotated[str | None, MODEL_OPTION] = None,
    in_graph: Annotated[
        bool,
        typer.Option(
            "--in-graph",
            help="Ask the graph (Cypher vector.similarity.cosine over the stored embeddings) "
            "instead of the in-memory index.",
        ),
    ] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Items most similar to an item (cosine of the model's item embeddings)."""
    from graphrec.serving import similar_items, similar_items_in_graph

    graph, index = _open_index(model)
    with graph:
        try:
            ranking = similar_items(index.snapshot, item_id, k=k, model=model)
        except LookupError as exc:
            _fail(exc)
        items = [vars(item) for item in ranking.items]
        if in_graph:
            record = index.records[ranking.model]
            rows = similar_items_in_graph(graph, record, item_id, k)
            items = [
                {"item_id": r["id"], "title": r["title"], "score": r["score"], "rank": rank}
                for rank, r in enumerate(rows, 1)
            ]
    body = {
        "item_id": item_id,
        "model": {"name": ranking.model, "version": ranking.version},
        "items": items,
    }
    _print(
        body, as_json, f"{ranking.model} v{ranking.version}" + (", in graph" if in_graph else "")
    )


def _open_index(model: str | None) -> tuple[Any, Any]:
    from graphrec.graph.connect import connect
    from graphrec.serving import NoModelError, load_index

    graph = connect(load_settings())
    try:
        index = load_index(graph, models=[model] if model else None, progress=True)
    except NoModelError as exc:
        graph.close()
        _fail(exc)
    except BaseException:
        graph.close()
        raise
    return graph, index


def _fail(exc: BaseException) -> NoReturn:
    message = exc.args[0] if exc.args else str(exc)
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _print(body: dict[str, Any], as_json: bool, header: str) -> None:
    if as_json:
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    typer.echo(header, err=True)
    typer.echo(f"{'rank':>4}  {'item':<24} {'score':>9}  title")
    explanations = body.get("explanations") or {}
    for item in body["items"]:
        title = item["title"] or ""
        typer.echo(f"{item['rank']:>4}  {item['item_id']:<24} {item['score']:>9.4f}  {title}")
        if item["item_id"] in explanations:
            path = explanations[item["item_id"]]
            typer.echo(f"      why: {path['sentence'] if path else 'no path in the graph'}")
