"""Links derived from the interactions in the graph and written back: ``CO_ENGAGED``.

They serve explanations and serving. Training never reads them from the graph:
inputs derived from interactions are recomputed from the training split
(see :mod:`graphrec.data`), so that no test interaction reaches a model.
"""

from __future__ import annotations

from graphrec.graph.client import DEFAULT_BATCH_SIZE, GraphClient, batched
from graphrec.ingest.summary import Count
from graphrec.ingest.writer import create_then_refresh


def derive_co_engagement(
    graph: GraphClient,
    *,
    min_shared: int = 3,
    top_k: int = 20,
    batch_size: int = 2 * DEFAULT_BATCH_SIZE,
) -> Count:
    """Compute ``CO_ENGAGED`` links from the graph's interactions and write them (idempotent).

    Links an erasure marked ``stale`` (:mod:`graphrec.serving.erasure`) are deleted
    first; those that still qualify are then created again with fresh counts.
    See :mod:`graphrec.ingest.co_engagement` for the weight and why it is computed in Python.
    """
    import numpy as np

    from graphrec.graph.interactions import read_interactions
    from graphrec.ingest.co_engagement import co_engagement

    graph.write_rows("ingest/delete_stale_co_engaged")
    table = read_interactions(graph)
    count = Count()
    if len(table) == 0:
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
    for chunk in batched(rows, batch_size):
        count.rows += len(chunk)
        count.created += create_then_refresh(
            graph, "ingest/create_missing_co_engaged", "ingest/update_co_engaged", chunk
        )
    return count
