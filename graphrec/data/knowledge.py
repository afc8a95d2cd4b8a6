"""The item and concept edges of an export in one entity index space, for relation-aware models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphrec.data.types import (
    CO_ENGAGED,
    HAS_CONCEPT,
    RELATED,
    SUBCONCEPT_OF,
    DataError,
    num_nodes,
)


@dataclass(frozen=True)
class KnowledgeGraph:
    """Item and concept edges in one entity index space, for relation-aware models.

    Items keep their indices ``0 .. num_items - 1``; concept ``c`` becomes entity
    ``num_items + c`` (as in KGAT, items are entities of the knowledge graph).
    Each edge reads ``head --relation--> tail``.

    Attributes:
        num_items: Number of items.
        num_concepts: Number of concepts.
        edge_index: ``(head, tail)`` entity indices, shape ``(2, E)``.
        edge_type: Relation index per edge, shape ``(E,)``.
        relation_names: Name of each relation index.
        edge_weight: The edge's ``weight`` where the export has one (how often a tag
            was applied, a co-engagement cosine), else 1; shape ``(E,)``.
            :obj:`None` means 1 everywhere.
    """

    num_items: int
    num_concepts: int
    edge_index: Tensor
    edge_type: Tensor
    relation_names: list[str]
    edge_weight: Tensor | None = None

    def weights(self) -> Tensor:
        """:attr:`edge_weight`, or ones."""
        if self.edge_weight is None:
            return torch.ones(self.num_edges)
        return self.edge_weight

    @property
    def num_relations(self) -> int:
        return len(self.relation_names)

    @property
    def num_edges(self) -> int:
        return self.edge_type.numel()

    @classmethod
    def from_hetero(
        cls, data: HeteroData, *, skip: Sequence[tuple[str, str, str]] = ()
    ) -> KnowledgeGraph | None:
        """Collect ``has_concept``, ``related``, ``subconcept_of`` and ``co_engaged`` edges
        (except the edge types in ``skip``).

        Relation names come from ``data.relation_names`` where an edge type has a
        ``relation`` attribute, else from the edge type. Only relations that occur
        are kept. Returns :obj:`None` when none of these edge types has an edge.
        """
        num_items = num_nodes(data, "item")
        num_concepts = num_nodes(data, "concept")
        known = list(getattr(data, "relation_names", None) or [])
        vocabulary = list(known)  # plus edge-type names for edges without a relation
        heads, tails, types, weights = [], [], [], []
        for edge_type in (HAS_CONCEPT, RELATED, SUBCONCEPT_OF, CO_ENGAGED):
            if edge_type in skip:
                continue
            if edge_type not in data.edge_types or data[edge_type].num_edges == 0:
                continue
            store = data[edge_type]
            src, dst = store.edge_index.long()
            heads.append(src + (num_items if edge_type[0] == "concept" else 0))
            tails.append(dst + (num_items if edge_type[2] == "concept" else 0))
            has_weight = "weight" in store and store.weight.numel() == src.numel()
            weights.append(store.weight.float() if has_weight else torch.ones(src.numel()))
            if "relation" in store and known:
                relation = store.relation.long()
                if int(relation.min()) < 0 or int(relation.max()) >= len(known):
                    raise DataError(
                        f"{edge_type} relation indices must lie in [0, {len(known)}) "
                        f"(data.relation_names); found {int(relation.min())} .. "
                        f"{int(relation.max())}"
                    )
                types.append(relation)
            else:
                if edge_type[1] not in vocabulary:
                    vocabulary.append(edge_type[1])
                types.append(torch.full_like(src, vocabulary.index(edge_type[1])))
        if not heads:
            return None
        # Keep only the relations that occur, renumbered 0 .. R-1.
        used, edge_type_index = torch.unique(torch.cat(types), return_inverse=True)
        return cls(
            num_items=num_items,
            num_concepts=num_concepts,
            edge_index=torch.stack([torch.cat(heads), torch.cat(tails)]),
            edge_type=edge_type_index,
            relation_names=[vocabulary[index] for index in used.tolist()],
            edge_weight=torch.cat(weights),
        )


def add_item_links(
    kg: KnowledgeGraph | None,
    edge_index: Tensor,
    relation: str,
    *,
    num_items: int,
    num_concepts: int = 0,
    edge_weight: Tensor | None = None,
) -> KnowledgeGraph | None:
    """``kg`` (or an empty graph) plus item-item edges ``edge_index`` of one ``relation``
    (weights ``edge_weight``, default 1), such as co-engagement derived from the training
    interactions."""
    if edge_index.size(1) == 0:
        return kg
    if kg is None:
        kg = KnowledgeGraph(
            num_items, num_concepts, edge_index[:, :0].long(), edge_index.new_zeros(0), []
        )
    names = list(kg.relation_names)
    if relation not in names:
        names.append(relation)
    code = torch.full((edge_index.size(1),), names.index(relation), dtype=torch.long)
    return KnowledgeGraph(
        num_items=kg.num_items,
        num_concepts=kg.num_concepts,
        edge_index=torch.cat([kg.edge_index, edge_index.long()], dim=1),
        edge_type=torch.cat([kg.edge_type, code]),
        relation_names=names,
        edge_weight=torch.cat(
            [kg.weights(), torch.ones(code.numel()) if edge_weight is None else edge_weight.float()]
        ),
    )


def without_relation(kg: KnowledgeGraph | None, relation: str) -> KnowledgeGraph | None:
    """``kg`` without the edges of ``relation`` (:obj:`None` when nothing is left)."""
    if kg is None or relation not in kg.relation_names:
        return kg
    keep = kg.edge_type != kg.relation_names.index(relation)
    if not bool(keep.any()):
        return None
    used, edge_type = torch.unique(kg.edge_type[keep], return_inverse=True)
    return KnowledgeGraph(
        num_items=kg.num_items,
        num_concepts=kg.num_concepts,
        edge_index=kg.edge_index[:, keep],
        edge_type=edge_type,
        relation_names=[kg.relation_names[i] for i in used.tolist()],
        edge_weight=kg.weights()[keep],
    )
