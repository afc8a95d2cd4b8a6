"""Links derived from the interactions in the graph and written back: ``CO_ENGAGED``.

They serve explanations and serving. Training never reads them from the graph:
inputs derived from interactions are recomputed from the training split
(see :mod:`graphrec.data`), so that no test interaction reaches a model.
"""

from __future__ import annotations

from graphrec.graph.client import DEFAULT_BATCH_SIZE, GraphClient, batched
from graphrec.ingest.summary import Count
from graphrec.ingest.writer import create_then_refresh

#: Items per query when reading the existing links.
CHUNK = 1_000


def derive_co_engagement(
    graph: GraphClient,
    *,
    min_shared: int = 3,
    top_k: int = 20,
    batch_size: int = 2 * DEFAULT_BATCH_SIZE,
) -> Count:
    """Compute ``CO_ENGAGED`` links from the graph's interactions and write them (idempotent).

    Existing links the computation no longer produces (an erased user's counts, or
    interactions that changed) are deleted, so the graph's links are exactly the
    computed ones; ``Count.removed`` says how many.
    See :mod:`graphrec.ingest.co_engagement` for the weight and why it is computed in Python.
    """
    import numpy as np

    from graphrec.graph.capabilities import probe
    from graphrec.graph.interactions import read_interactions
    from graphrec.ingest.co_engagement import co_engagement

    table = read_interactions(graph)
    count = Count()
    if len(table) == 0:
        count.removed = _remove_missing(graph, set(), batch_size)
        return count
    users, user_index = np.unique(table.user_ids, return_inverse=True)
    items, item_index = np.unique(table.item_ids, return_inverse=True)
    links = co_engagement(
        user_index,
        item_index,
        num_users=len(users),
        num_items=len(items),
        min_shared=min_shared,
        top_k=top_k,
    )
    rows = [
        {"source_id": items[s], "target_id": items[t], "weight": float(w), "shared": int(n)}
        for s, t, w, n in zip(links.source, links.target, links.weight, links.shared, strict=True)
    ]
    merge = "ingest/merge_co_engaged" if probe(graph).merge_relationships else None
    for chunk in batched(rows, batch_size):
        count.rows += len(chunk)
        count.created += create_then_refresh(
            graph,
            "ingest/create_missing_co_engaged",
            "ingest/update_co_engaged",
            chunk,
            merge=merge,
        )
    count.removed = _remove_missing(
        graph, {(row["source_id"], row["target_id"]) for row in rows}, batch_size
    )
    return count


def _remove_missing(graph: GraphClient, keep: set[tuple[str, str]], batch_size: int) -> int:
    """Delete the ``CO_ENGAGED`` links not in ``keep``; how many."""
    stale = []
    for page in graph.pages("export/item_ids_page", page_size=CHUNK):
        ids = [row["id"] for row in page]
        for row in graph.read("export/co_engaged_of_items", ids=ids):
            stale.extend(
                {"source_id": row["source_id"], "target_id": target}
                for target in row["targets"]
                if (row["source_id"], target) not in keep
            )
    for chunk in batched(stale, batch_size):
        graph.write("ingest/delete_co_engaged", rows=chunk)
    return len(stale)
