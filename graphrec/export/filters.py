"""What part of the graph an export takes: :class:`ExportFilters`, and the k-core and
k-hop neighbourhood selections they imply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from graphrec.graph.client import GraphClient, batched


@dataclass(frozen=True)
class ExportFilters:
    """What part of the graph to export.

    Args:
        kinds: interaction kinds to keep, e.g. ``["rating"]`` (default: all).
        ts_from: keep interactions at or after this time, in seconds (default: open).
        ts_to: keep interactions before this time (default: open).
        min_user_degree: k-core: users need at least this many interactions (default: 1).
        min_item_degree: k-core: items need at least this many interactions; 0 keeps
            catalog items without interactions, for cold start (default: 0).
        relations: ``HAS_CONCEPT`` relations to keep, e.g. ``["has_genre"]`` (default: all).
        concept_kinds: concept kinds to keep, e.g. ``["genre", "tag"]`` (default: all).
        include_related: export ``RELATED`` KG edges between concepts (default: True).
        include_subconcepts: export ``SUBCONCEPT_OF`` edges (default: True).
        include_co_engaged: export ``CO_ENGAGED`` item links (default: True).
        seed_users: restrict to the k-hop neighbourhood of these users (default: none).
        seed_items: ... and/or of these items (default: none).
        hops: neighbourhood size in user-item hops, when seeds are given (default: 2).
    """

    kinds: Sequence[str] | None = None
    ts_from: int | None = None
    ts_to: int | None = None
    min_user_degree: int = 1
    min_item_degree: int = 0
    relations: Sequence[str] | None = None
    concept_kinds: Sequence[str] | None = None
    include_related: bool = True
    include_subconcepts: bool = True
    include_co_engaged: bool = True
    seed_users: Sequence[str] | None = None
    seed_items: Sequence[str] | None = None
    hops: int = 2

    def __post_init__(self) -> None:
        if self.min_user_degree < 0 or self.min_item_degree < 0:
            raise ValueError("min_user_degree and min_item_degree must be >= 0")
        if self.hops < 1:
            raise ValueError(f"hops must be at least 1, got {self.hops}")


def k_core(user: np.ndarray, item: np.ndarray, min_user: int, min_item: int) -> np.ndarray:
    """Mask of interactions kept by iterated k-core filtering.

    Repeatedly drops interactions of users with fewer than ``min_user`` and of
    items with fewer than ``min_item`` interactions until both hold everywhere.
    ``user`` and ``item`` are integer index arrays.
    """
    keep = np.ones(user.shape[0], dtype=bool)
    if min_user <= 1 and min_item <= 1:
        return keep
    while True:
        user_deg = np.bincount(user[keep], minlength=int(user.max(initial=-1)) + 1)
        item_deg = np.bincount(item[keep], minlength=int(item.max(initial=-1)) + 1)
        bad = keep & ((user_deg[user] < min_user) | (item_deg[item] < min_item))
        if not bad.any():
            return keep
        keep &= ~bad


def neighbourhood(
    graph: GraphClient,
    seed_users: Sequence[str],
    seed_items: Sequence[str],
    hops: int,
    *,
    page_size: int = 1_000,
) -> tuple[set[str], set[str]]:
    """Users and items within ``hops`` user-item hops of the seeds (a seed itself is hop 0)."""
    users, items = set(seed_users), set(seed_items)
    frontier_users, frontier_items = set(seed_users), set(seed_items)
    for _ in range(hops):
        new_items: set[str] = set()
        for chunk in batched(sorted(frontier_users), page_size):
            new_items.update(row["id"] for row in graph.read("export/items_of_users", ids=chunk))
        new_users: set[str] = set()
        for chunk in batched(sorted(frontier_items), page_size):
            new_users.update(row["id"] for row in graph.read("export/users_of_items", ids=chunk))
        frontier_items = new_items - items
        frontier_users = new_users - users
        items |= new_items
        users |= new_users
        if not frontier_items and not frontier_users:
            break
    return users, items


def interaction_params(filters: ExportFilters) -> dict[str, object]:
    """The ``$kinds``, ``$ts_from`` and ``$ts_to`` of the interaction statements."""
    return {
        "kinds": list(filters.kinds) if filters.kinds is not None else None,
        "ts_from": filters.ts_from,
        "ts_to": filters.ts_to,
    }
