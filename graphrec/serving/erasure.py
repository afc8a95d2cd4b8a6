"""Erasure in the graph: a user (GDPR-style "forget me") or an item, each in one transaction.

A user's erasure deletes their node with every relationship touching it
(``INTERACTED``, ``HAS_ATTRIBUTE``, ``RECOMMENDED``) and, with the node, their
embedding properties. ``CO_ENGAGED`` links are derived counts: the next
derivation (:func:`graphrec.ingest.derive_co_engagement`, run by every
``graphrec ingest``) recomputes them from the interactions left and deletes the
links it no longer produces, so afterwards no count includes the user. Until
then a link between two of their items holds a count, never a user id. (Marking
those links in the same transaction was tried and dropped: on a loaded 2-core
machine the pattern that finds them took 4.1 s for a user with 617
interactions, the deletion of a user with 463 took 0.8 s.)

An item's erasure deletes its node with its interactions, concept links,
co-engagement links and materialised recommendations (a deletion, not a
tombstone: re-ingesting the catalog brings it back).

Both statements match by id and delete, so running one again changes nothing.
The API's ``DELETE`` endpoints run the same statements and also drop the
user or item from the serving process's memory (:mod:`graphrec.api.state`).
"""

from __future__ import annotations

from graphrec.graph.client import GraphClient


def delete_user(graph: GraphClient, user_id: str) -> bool:
    """Erase ``user_id`` from the graph; whether it existed."""
    return bool(graph.write_rows("erasure/delete_user", id=user_id))


def delete_item(graph: GraphClient, item_id: str) -> bool:
    """Erase ``item_id`` from the graph; whether it existed."""
    return bool(graph.write_rows("erasure/delete_item", id=item_id))


def user_references(graph: GraphClient, user_id: str) -> tuple[int, int]:
    """``(nodes, relationships)`` in the graph that still name ``user_id`` (0, 0 when erased)."""
    row = graph.read("erasure/user_references", id=user_id)[0]
    return int(row["nodes"]), int(row["relationships"])
