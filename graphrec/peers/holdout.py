"""Hide a split's held-out interactions from in-database peers, and show them again.

The validation and test pairs of a :class:`~graphrec.data.RecData` are marked in the
graph (``INTERACTED.graphrec_holdout = true``, every edge of the pair); the peers'
Cypher and projections skip marked edges. :func:`held_out` marks them for the duration
of a ``with`` block and clears every mark when it ends, also when the block fails or is
interrupted. A re-run marks the same edges again (idempotent).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from graphrec.data import RecData
from graphrec.export import IdMap
from graphrec.graph.client import DEFAULT_BATCH_SIZE, GraphClient, batched


def held_out_pairs(data: RecData, id_map: IdMap) -> list[dict[str, str]]:
    """The validation and test pairs as business ids."""
    pairs = torch.cat([data.val, data.test], dim=1)
    return [{"user": id_map.users[u], "item": id_map.items[i]} for u, i in pairs.t().tolist()]


def mark(
    graph: GraphClient, rows: list[dict[str, str]], batch_size: int = DEFAULT_BATCH_SIZE
) -> None:
    for chunk in batched(rows, batch_size):
        graph.write("peers/mark_holdout", rows=chunk)


def clear(graph: GraphClient, batch_size: int = 50_000) -> int:
    """Remove every held-out mark, in bounded batches; returns how many were cleared."""
    total = 0
    while True:
        cleared = graph.write_rows("peers/clear_holdout", limit=batch_size)[0]["cleared"]
        total += cleared
        if cleared < batch_size:
            return total


@contextmanager
def held_out(graph: GraphClient, data: RecData, id_map: IdMap) -> Iterator[int]:
    """Mark ``data``'s held-out pairs while the block runs; yields how many pairs."""
    rows = held_out_pairs(data, id_map)
    try:
        mark(graph, rows)
        yield len(rows)
    finally:
        clear(graph)
