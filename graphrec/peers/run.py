"""Run a peer on a split: mark the held-out interactions, run, always clear the marks."""

from __future__ import annotations

import time

from graphrec.data import RecData
from graphrec.export import IdMap
from graphrec.graph.client import GraphClient
from graphrec.peers.base import PeerResult, get_peer
from graphrec.peers.holdout import held_out


def run_peer(
    graph: GraphClient, name: str, data: RecData, id_map: IdMap, *, k: int = 20, **options: object
) -> PeerResult:
    """Peer ``name``'s scores for ``data``'s split, computed over its training interactions
    only; the marking time is reported as ``seconds["holdout"]``."""
    peer = get_peer(name, **options)
    start = time.perf_counter()
    with held_out(graph, data, id_map):
        marked = time.perf_counter() - start
        result = peer.run(graph, data, id_map, k=k)
    result.seconds["holdout"] = marked
    return result
