"""In-database recommenders as peers of graphrec's models: what a Neo4j user can run without
Python (plain Cypher collaborative filtering, GDS), evaluated on graphrec's own split.

A peer runs against the graph with the split's held-out interactions marked
(:mod:`~graphrec.peers.holdout`), so it sees the training split only, and returns a
:class:`~graphrec.peers.scores.ScoreTable` that the usual full-ranking evaluation ranks.
"""

from graphrec.peers.base import (
    PEERS,
    MissingPluginError,
    Peer,
    PeerResult,
    UnknownPeerError,
    get_peer,
    is_peer,
)

__all__ = [
    "PEERS",
    "MissingPluginError",
    "Peer",
    "PeerResult",
    "UnknownPeerError",
    "get_peer",
    "is_peer",
]
