"""Erasure in the graph: a user (GDPR-style "forget me") or an item, each in one transaction.

A user's erasure deletes their node with every relationship touching it
(``INTERACTED``, ``HAS_ATTRIBUTE``, ``RECOMMENDED``) and, with the node, their
embedding properties. ``CO_ENGAGED`` links between two of their items were
counted with them: the same transaction marks those links ``stale``, and the
next derivation (:func:`graphrec.ingest.derive_co_engagement`) deletes every stale
link before it recomputes, so the links that still qualify come back with
counts that no longer include the user. Until then a stale link holds a
count, never a user id.

An item's erasure deletes its node with its interactions, concept links,
co-engagement links and materialised recommendations (a deletion, not a
tombstone: re-ingesting the catalog brings it back).

Both statements match by id and delete, so running one again changes nothing.
The API's ``DELETE`` endpoints run the same statements and also drop the
user or item from the serving process's memory (:mod:`graphrec.api.state`).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphrec.graph.client import GraphClient


@dataclass(frozen=True)
class UserErasure:
    """What erasing one user did in the graph."""

    user_id: str
    stale_links: int  # CO_ENGAGED links marked stale


def delete_user(graph: GraphClient, user_id: str) -> UserErasure | None:
    """Erase ``user_id`` from the graph; ``None`` when the graph has no such user."""
    rows = graph.write_rows("erasure/delete_user", id=user_id)
    if not rows:
        return None
    return UserErasure(user_id, int(rows[0]["stale_links"]))


def delete_item(graph: GraphClient, item_id: str) -> bool:
    """Erase ``item_id`` from the graph; whether it existed."""
    return bool(graph.write_rows("erasure/delete_item", id=item_id))


def user_references(graph: GraphClient, user_id: str) -> tuple[int, int]:
    """``(nodes, relationships)`` in the graph that still name ``user_id`` (0, 0 when erased)."""
    row = graph.read("erasure/user_references", id=user_id)[0]
    return int(row["nodes"]), int(row["relationships"])
