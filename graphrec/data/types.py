"""The export's edge types as the data room names them, its error, and graph sizes."""

from __future__ import annotations

from dataclasses import dataclass

from torch_geometric.data import HeteroData

INTERACTED = ("user", "interacted", "item")
HAS_CONCEPT = ("item", "has_concept", "concept")
RELATED = ("concept", "related", "concept")
SUBCONCEPT_OF = ("concept", "subconcept_of", "concept")
CO_ENGAGED = ("item", "co_engaged", "item")


class DataError(ValueError):
    """The exported graph cannot be trained on; the message says what to change."""


@dataclass(frozen=True)
class GraphSize:
    """How big a training export will be, counted in the graph before it runs.

    Enough for a lower bound of the memory estimates
    (:func:`graphrec.training.memory.estimate_fullbatch_memory` and
    :func:`~graphrec.training.memory.estimate_minibatch_memory`), so a cap that
    cannot be met is refused before the export (``graphrec.export.graph_size``
    reads it). Counts are those of an unfiltered export.

    Args:
        users: Users with at least one interaction.
        items: Items.
        concepts: Concepts (genres, tags, KG entities...).
        kg_edges: ``HAS_CONCEPT``, ``SUBCONCEPT_OF``, ``RELATED`` and ``CO_ENGAGED``
            relationships: the relation-aware model's knowledge graph.
    """

    users: int
    items: int
    concepts: int
    kg_edges: int


def num_nodes(data: HeteroData, node_type: str) -> int:
    if node_type not in data.node_types:
        return 0
    return int(data[node_type].num_nodes or 0)
