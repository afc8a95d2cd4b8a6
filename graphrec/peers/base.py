"""What a peer is, and the registry of peers by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from graphrec.data import RecData
    from graphrec.export import IdMap
    from graphrec.graph.client import GraphClient
    from graphrec.peers.scores import ScoreTable


class UnknownPeerError(ValueError):
    """A peer name that is not registered."""


class MissingPluginError(RuntimeError):
    """The server lacks a plugin a peer needs; the message says how to get it."""


@dataclass
class PeerResult:
    """A peer's scores and where its time went (seconds: ``projection``, ``compute``,
    ``write``, and ``total``)."""

    scores: ScoreTable
    seconds: dict[str, float] = field(default_factory=dict)


class Peer(Protocol):
    """An in-database recommender: run over the graph with the held-out edges marked."""

    name: ClassVar[str]
    #: Plugins the server must have (``"gds"``); none for plain Cypher.
    plugins: ClassVar[tuple[str, ...]]

    def run(self, graph: GraphClient, data: RecData, id_map: IdMap, *, k: int) -> PeerResult:
        """Scores for every user with held-out items (at least ``k`` items each where the
        peer has them)."""
        ...


def _registry() -> dict[str, type]:
    from graphrec.peers.cypher_cf import CypherCF

    peers: dict[str, type] = {CypherCF.name: CypherCF}
    try:
        from graphrec.peers.gds import GDS_PEERS
    except ImportError:  # pragma: no cover - the module ships with the package
        return peers
    peers.update({peer.name: peer for peer in GDS_PEERS})
    return peers


#: Peer names (lazily filled by :func:`get_peer`).
PEERS: tuple[str, ...] = ("cypher_cf", "gds_node_similarity", "gds_fastrp_knn")


def is_peer(name: str) -> bool:
    return name in PEERS


def get_peer(name: str, **options: object) -> Peer:
    """The peer registered as ``name``, built with ``options``."""
    registry = _registry()
    if name not in registry:
        raise UnknownPeerError(f"unknown peer {name!r}; known peers: {', '.join(PEERS)}")
    return registry[name](**options)
