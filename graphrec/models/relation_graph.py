r"""The knowledge-graph side of the relation-aware GNN: concept propagation and the items'
semantic readout, with relation-specific transforms and relation weights.

Relations are directed: a knowledge-graph relation :math:`k` becomes index
:math:`2k` for messages from an edge's tail to its head (concept to item for
``has_*`` links, object to subject for ``RELATED`` triples) and :math:`2k+1`
for the reverse direction (concept to concept only). At a receiving node
:math:`h`, the edges of one relation form a group; a group's message is the
weighted mean of its neighbours, and the groups are mixed by per-node softmax
weights over the relations present there:

.. math::
    \mathbf{m}_h = \sum_{r \in R(h)} a_{h,r} \sum_{t \in \mathcal{N}_r(h)}
    \hat{w}_{ht}\, (\mathbf{t}_r \odot \mathbf{x}_t),
    \qquad
    a_{h,r} = \frac{\exp \theta_r}{\sum_{r' \in R(h)} \exp \theta_{r'}},
    \qquad
    \hat{w}_{ht} = \frac{w_{ht}}{\sum_{t' \in \mathcal{N}_r(h)} w_{ht'}},

where :math:`\mathbf{t}_r` is relation :math:`r`'s diagonal transform
(initialised to ones), :math:`\theta_r` its logit (initialised to zero, so
every relation present counts alike) and :math:`w` the edge's weight from the
graph (how often a tag was applied; 1 where the graph has none). A dense
relation (a genre shared by thousands of items) and a sparse one (the item's
artist) each give one message, so the sparse one is not drowned.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.utils import softmax


class RelationEdges(NamedTuple):
    r"""Directed edges into one side (items or concepts), grouped by (receiver, relation).

    Attributes:
        source: Sending concept of each edge, shape ``(E,)``.
        target: Receiving node of each edge (an item or a concept index), ``(E,)``.
        relation: Directed relation index of each edge, ``(E,)``.
        group: Group index of each edge, ``(E,)``.
        share: The edge's share of its group, :math:`\hat{w}`, ``(E,)``.
        uniform_share: The same with every edge weighted alike, ``(E,)``.
        group_node: Receiving node of each group, ``(G,)``.
        group_relation: Relation of each group, ``(G,)``.
        num_targets: Nodes on the receiving side.
    """

    source: Tensor
    target: Tensor
    relation: Tensor
    group: Tensor
    share: Tensor
    uniform_share: Tensor
    group_node: Tensor
    group_relation: Tensor
    num_targets: int

    @classmethod
    def build(
        cls,
        source: Tensor,
        target: Tensor,
        relation: Tensor,
        weight: Tensor,
        *,
        num_targets: int,
        num_relations: int,
    ) -> RelationEdges:
        key = target * num_relations + relation
        group_key, group = torch.unique(key, return_inverse=True)
        weight = weight.float().clamp(min=0)
        total = torch.zeros(group_key.numel()).index_add_(0, group, weight)
        count = torch.bincount(group, minlength=group_key.numel()).float()
        share = torch.where(total[group] > 0, weight / total[group].clamp(min=1e-12), 0.0)
        return cls(
            source=source,
            target=target,
            relation=relation,
            group=group,
            share=share,
            uniform_share=1.0 / count[group],
            group_node=group_key // num_relations,
            group_relation=group_key % num_relations,
            num_targets=num_targets,
        )


def split_knowledge_graph(
    kg_edge_index: Tensor, kg_edge_type: Tensor, kg_edge_weight: Tensor, num_items: int
) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """Item-concept and concept-concept edges of a knowledge graph in entity indices.

    Returns ``(item_edges, concept_edges)``, each ``(source concept, target, relation,
    weight)``: every item-concept edge sends its concept to its item with relation
    :math:`2k`; every concept-concept edge sends its tail to its head (:math:`2k`) and
    its head to its tail (:math:`2k+1`). Item-item edges (co-engagement) are not part of
    this channel: the collaborative propagation already sees what co-engagement counts.
    """
    head, tail = kg_edge_index.long()
    kind = kg_edge_type.long()
    weight = kg_edge_weight.float()
    head_is_item, tail_is_item = head < num_items, tail < num_items
    # item --relation--> concept, in either orientation.
    forward = head_is_item & ~tail_is_item
    backward = ~head_is_item & tail_is_item
    items = torch.cat([head[forward], tail[backward]])
    concepts = torch.cat([tail[forward], head[backward]]) - num_items
    item_relation = 2 * torch.cat([kind[forward], kind[backward]])
    item_edges = (concepts, items, item_relation, torch.cat([weight[forward], weight[backward]]))
    both = ~head_is_item & ~tail_is_item
    h, t, k, w = head[both] - num_items, tail[both] - num_items, kind[both], weight[both]
    concept_edges = (
        torch.cat([t, h]),
        torch.cat([h, t]),
        torch.cat([2 * k, 2 * k + 1]),
        torch.cat([w, w]),
    )
    return item_edges, concept_edges


class RelationChannel(torch.nn.Module):
    r"""Concept embeddings propagated over the concept graph, and each item's semantic
    message from its concepts (the equations are in the module docstring).

    .. math::
        \mathbf{z}^{(0)} = \mathbf{E}_C, \quad
        \mathbf{z}^{(l+1)}_c = \mathbf{m}_c\big(\mathbf{z}^{(l)}\big), \quad
        \mathbf{z} = \frac{1}{L_{kg}+1} \sum_{l=0}^{L_{kg}} \mathbf{z}^{(l)},
        \qquad \mathbf{s}_i = \mathbf{m}_i(\mathbf{z}).

    Args:
        item_edges: ``(source concept, item, relation, weight)`` from
            :func:`split_knowledge_graph`.
        concept_edges: ``(source concept, target concept, relation, weight)``.
        num_items (int): Number of items :math:`I`.
        num_concepts (int): Number of concepts :math:`C`.
        num_relations (int): Directed relations (twice the KG relations).
        embedding_dim (int): Size :math:`D`.
        kg_layers (int, optional): Concept propagation layers :math:`L_{kg}`. (default: 1)
        relation_transform (bool, optional): Learn :math:`\mathbf{t}_r`; else ones. (default: True)
        relation_weights (bool, optional): Learn :math:`\theta_r`; else all relations present
            at a node count alike. (default: True)
        edge_weights (bool, optional): Use the graph's edge weights in :math:`\hat{w}`;
            else a plain mean. (default: True)
    """

    def __init__(
        self,
        item_edges: tuple[Tensor, ...],
        concept_edges: tuple[Tensor, ...],
        *,
        num_items: int,
        num_concepts: int,
        num_relations: int,
        embedding_dim: int,
        kg_layers: int = 1,
        relation_transform: bool = True,
        relation_weights: bool = True,
        edge_weights: bool = True,
    ) -> None:
        super().__init__()
        self.num_items = num_items
        self.num_concepts = num_concepts
        self.num_relations = max(1, num_relations)
        self.kg_layers = kg_layers
        self.relation_transform = relation_transform
        self.relation_weights = relation_weights
        self.edge_weights = edge_weights
        for side, edges, targets in (
            ("items", item_edges, num_items),
            ("concepts", concept_edges, num_concepts),
        ):
            built = RelationEdges.build(
                *edges, num_targets=targets, num_relations=self.num_relations
            )
            for name, value in built._asdict().items():
                if isinstance(value, Tensor):  # buffers: they move with the module
                    self.register_buffer(f"{side}_{name}", value, persistent=False)
        self.transform = torch.nn.Parameter(torch.ones(self.num_relations, embedding_dim))
        self.logit = torch.nn.Parameter(torch.zeros(self.num_relations))
        if not relation_transform:
            self.transform.requires_grad_(False)
        if not relation_weights:
            self.logit.requires_grad_(False)

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.transform.fill_(1.0)
            self.logit.zero_()

    def edges(self, side: str) -> RelationEdges:
        """The ``"items"`` or ``"concepts"`` side's edges (from the buffers)."""
        fields = {
            name: getattr(self, f"{side}_{name}")
            for name in RelationEdges._fields
            if name != "num_targets"
        }
        targets = self.num_items if side == "items" else self.num_concepts
        return RelationEdges(**fields, num_targets=targets)

    def message(self, edges: RelationEdges, x: Tensor) -> Tensor:
        """:math:`\\mathbf{m}_h` for every receiving node of ``edges``, from source rows ``x``."""
        out = x.new_zeros(edges.num_targets, x.size(1))
        if edges.source.numel() == 0:
            return out
        mix = softmax(
            self.logit[edges.group_relation], edges.group_node, num_nodes=edges.num_targets
        )
        share = edges.share if self.edge_weights else edges.uniform_share
        value = share * mix.index_select(0, edges.group)
        rows = x.index_select(0, edges.source)
        if self.relation_transform:
            rows = rows * self.transform.index_select(0, edges.relation)
        return out.index_add_(0, edges.target, rows * value.unsqueeze(-1))

    def propagate_concepts(self, concept_ego: Tensor) -> Tensor:
        """:math:`\\mathbf{z}`, the concepts' embeddings after :math:`L_{kg}` layers."""
        z = concept_ego
        out = z
        for _ in range(self.kg_layers):
            z = self.message(self.edges("concepts"), z)
            out = out + z
        return out / (self.kg_layers + 1)

    def item_messages(self, z: Tensor) -> Tensor:
        """:math:`\\mathbf{s}_i` for every item, shape ``(I, D)``."""
        return self.message(self.edges("items"), z)

    def new_item_message(
        self, z: Tensor, concepts: Tensor, relations: Tensor, weights: Tensor
    ) -> Tensor:
        """:math:`\\mathbf{s}` of an item the model has not seen, from its links alone:
        ``concepts`` (indices into ``z``), their KG ``relations`` (undirected indices
        :math:`k`) and ``weights``."""
        edges = RelationEdges.build(
            concepts.long(),
            torch.zeros_like(concepts, dtype=torch.long),
            2 * relations.long(),
            weights,
            num_targets=1,
            num_relations=self.num_relations,
        )
        edges = RelationEdges(*(v.to(z.device) if isinstance(v, Tensor) else v for v in edges))
        return self.message(edges, z)[0]

    def extra_repr(self) -> str:
        return (
            f"item_edges={self.items_source.numel()}, "
            f"concept_edges={self.concepts_source.numel()}, "
            f"relations={self.num_relations}, kg_layers={self.kg_layers}, "
            f"relation_transform={self.relation_transform}, "
            f"relation_weights={self.relation_weights}, edge_weights={self.edge_weights}"
        )
