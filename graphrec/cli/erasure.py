"""``graphrec users delete ID`` and ``graphrec items delete ID``: erasure in the graph.

The same statements as the API's ``DELETE /users/{id}`` and ``DELETE /items/{id}``
(:mod:`graphrec.serving.erasure`). Then the same change-feed entry as the API's
(:mod:`graphrec.feed`), so that every running ``graphrec serve`` on the graph drops the
user or item from its memory within one sync interval.
"""

from __future__ import annotations

from typing import Annotated

import typer

from graphrec.cli._common import announce, load_settings

users_app = typer.Typer(help="Users in the graph.", no_args_is_help=True)
items_app = typer.Typer(help="Items in the graph.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(items_app, name="items")


def _normalized(value: str, field: str) -> str:
    from graphrec.schema import InvalidIdError, normalize_id

    try:
        return normalize_id(value, field=field)
    except InvalidIdError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


@users_app.command("delete")
def delete_user_command(
    user_id: Annotated[str, typer.Argument(help="The user's business id.")],
) -> None:
    """Erase a user: node, interactions, attribute links, recommendations, embeddings.

    CO_ENGAGED counts are recomputed without them at the next derivation (every
    graphrec ingest ...). Exit status 1 for an unknown user.
    """
    from graphrec.feed import announce_user_erased
    from graphrec.graph.connect import connect
    from graphrec.serving.erasure import delete_user

    user_id = _normalized(user_id, "user_id")
    with connect(load_settings()) as graph:
        erased = delete_user(graph, user_id)
        if erased:
            announce(lambda: announce_user_erased(graph, user_id), "the erasure")
    if not erased:
        typer.secho(f"error: unknown user {user_id!r}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(f"erased user {user_id!r} (CO_ENGAGED counts are recomputed at the next derivation)")


@items_app.command("delete")
def delete_item_command(
    item_id: Annotated[str, typer.Argument(help="The item's business id.")],
) -> None:
    """Erase an item: node, interactions, concept, co-engagement and recommendation links.

    Exit status 1 for an unknown item.
    """
    from graphrec.feed import announce_item_deleted
    from graphrec.graph.connect import connect
    from graphrec.serving.erasure import delete_item

    item_id = _normalized(item_id, "item_id")
    with connect(load_settings()) as graph:
        existed = delete_item(graph, item_id)
        if existed:
            announce(lambda: announce_item_deleted(graph, item_id), "the erasure")
    if not existed:
        typer.secho(f"error: unknown item {item_id!r}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(f"erased item {item_id!r}")
