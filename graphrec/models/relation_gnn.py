"""A relation-aware attention GNN over users, items and concepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Self

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Linear, ModuleList
from torch_geometric.data import Data
from torch_geometric.utils import softmax

from graphrec.data import RecData
from graphrec.models.base import Embeddings, Recommender, Subgraph, gather_rows
from graphrec.models.propagation import (
    NormalizedAdjacency,
    SparsePattern,
    layer_sizes,
    sampled_weights,
)


class RelationGraph(NamedTuple):
    """The index structures of one layer, over the whole graph or a subgraph.

    Destinations (the nodes the layer computes) are rows; sources are rows of
    the layer's input. Over the whole graph both are all nodes; over a sampled
    subgraph or a chunk of nodes they are local.

    Attributes:
        interaction: Maps the input to the interaction message of each node in
            ``interacting`` (a normalised sum over its users or items).
        interacting: Destinations with interactions, sorted.
        interaction_relation: 0 for items (messages from users), 1 for users.
        group_node: The destination of each (node, KG relation) group.
        group_relation: The relation of each group.
        kg: Groups x sources: the KG edges, one attention softmax per row.
        relations: Destinations x messages (interaction ones, then groups).
    """

    interaction: Callable[[Tensor], Tensor]
    interacting: Tensor
    interaction_relation: Tensor
    group_node: Tensor
    group_relation: Tensor
    kg: SparsePattern
    relations: SparsePattern


class RelationAwareGNN(Recommender):
    r"""A relation-aware graph attention recommender over the knowledge graph,
    in the spirit of `KGAT <https://arxiv.org/abs/1905.07854>`_ and Netflix's
    `SemanticGNN <https://arxiv.org/abs/2312.04071>`_.

    Nodes are users, items and concepts. Relations are "interacted" (training
    interactions only) and every knowledge-graph relation (``has_genre``,
    ``co_engaged``, ...), each in both directions. Each node first gets one
    message per relation, then weighs the relations against each other, so a
    relation's weight does not grow with its number of edges: dense semantic
    relations (thousands of items share a genre) do not drown sparse, strong
    ones (co-engagement), and the many interaction edges do not drown either.

    **Interactions** are propagated as in LightGCN, with one sparse product
    over the symmetric normalised user-item graph:

    .. math::
        \mathbf{m}^{(l)}_{h,\text{ui}} = \sum_{t \in \mathcal{N}_{\text{ui}}(h)}
        \frac{\mathbf{e}^{(l)}_t}{\sqrt{|\mathcal{N}_{\text{ui}}(h)|\,|\mathcal{N}_{\text{ui}}(t)|}} .

    **Within a knowledge-graph relation** :math:`r`, node :math:`h` attends
    over its neighbours :math:`\mathcal{N}_r(h)` with the KGAT score

    .. math::
        \pi^{(l)}(h, r, t) = \big(\mathbf{W}^{(l)} \mathbf{e}^{(l)}_t\big)^\top
        \mathbf{q}^{(l)}_{h,r},
        \quad
        \mathbf{q}^{(l)}_{h,r} = \tanh\big(\mathbf{W}^{(l)} \mathbf{e}^{(l)}_h + \mathbf{e}_r\big),
        \quad
        \mathbf{m}^{(l)}_{h,r} = \sum_{t \in \mathcal{N}_r(h)}
        \operatorname{softmax}_{t}\big(\pi^{(l)}(h, r, t)\big) \, \mathbf{e}^{(l)}_t .

    **Across relations** (interactions included), the same form scores each
    relation's message, and the layer adds the result to the node (a residual
    connection):

    .. math::
        \beta^{(l)}_{h,r} = \operatorname{softmax}_{r}\Big(
        \big(\mathbf{W}^{(l)} \mathbf{m}^{(l)}_{h,r}\big)^\top \mathbf{q}^{(l)}_{h,r}\Big),
        \qquad
        \mathbf{e}^{(l+1)}_h = \mathbf{e}^{(l)}_h
        + \operatorname{dropout}\Big(\sum_r \beta^{(l)}_{h,r} \, \mathbf{m}^{(l)}_{h,r}\Big).

    Like LightGCN, the propagation itself is linear (the transform
    :math:`\mathbf{W}^{(l)}` only scores attention), and the final embedding is
    the mean of the layers, :math:`\mathbf{e}_v = \frac{1}{L+1} \sum_{l=0}^{L}
    \mathbf{e}^{(l)}_v`, with :math:`\hat{y}_{ui} = \mathbf{e}_u^\top \mathbf{e}_i`.
    Concept embeddings :math:`\mathbf{e}^{(0)}_c` may start from knowledge-graph
    embeddings (e.g. TransE), see :meth:`init_concept_embeddings`.

    **Mini-batches** (:mod:`graphrec.training.minibatch`): users, items and concepts
    form one node space (:meth:`sampling_graph`) whose edges carry their
    relation as ``edge_type``; the sampler's fan-out applies per (node,
    relation), so a sampled node keeps every relation it has. On a sampled
    subgraph, :meth:`forward_sampled` runs the same layer with structures
    built for the batch: the interaction message is rescaled as in
    :class:`~graphrec.models.LightGCN` (global degrees, times
    :math:`d_h / s_h`), an unbiased estimate; the KG attention softmax runs
    over the sampled neighbours of a group, a self-normalised estimate that is
    exact when the fan-out covers the group. :meth:`inference` computes the
    exact layers a chunk of nodes at a time.

    Args:
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.
        edge_index (torch.Tensor): Training ``(user, item)`` pairs, shape :math:`(2, E)`.
        kg_edge_index (torch.Tensor, optional): ``(head, tail)`` knowledge-graph
            edges in entity indices (items ``0 .. I-1``, concept :math:`c` is
            :math:`I + c`), shape :math:`(2, E_{kg})`. (default: :obj:`None`)
        kg_edge_type (torch.Tensor, optional): Relation index of each
            knowledge-graph edge, shape :math:`(E_{kg},)`. (default: :obj:`None`)
        num_concepts (int, optional): Number of concepts :math:`C`. (default: :obj:`0`)
        num_kg_relations (int, optional): Number of knowledge-graph relations;
            :obj:`None` infers it from ``kg_edge_type``. (default: :obj:`None`)
        embedding_dim (int, optional): Embedding size :math:`D`. (default: :obj:`64`)
        num_layers (int, optional): Propagation layers :math:`L`. (default: :obj:`2`)
        message_dropout (float, optional): Dropout on each layer's aggregated
            message while training. (default: :obj:`0.0`)
        concept_embeddings (torch.Tensor, optional): Initial concept embeddings,
            shape :math:`(C, D)`. (default: :obj:`None`)
        init_std (float, optional): Standard deviation of the normal
            initialisation of the embeddings. (default: :obj:`0.1`)

    Shapes:
        - **input:** ``edge_index`` :math:`(2, E)`, ``kg_edge_index``
          :math:`(2, E_{kg})`, ``kg_edge_type`` :math:`(E_{kg},)` at construction
        - **output:** :class:`Embeddings` with user :math:`(U, D)`, item
          :math:`(I, D)` and concept :math:`(C, D)`
    """

    supports_minibatch = True

    def __init__(
        self,
        num_users: int,
        num_items: int,
        edge_index: Tensor,
        kg_edge_index: Tensor | None = None,
        kg_edge_type: Tensor | None = None,
        num_concepts: int = 0,
        num_kg_relations: int | None = None,
        embedding_dim: int = 64,
        num_layers: int = 2,
        message_dropout: float = 0.0,
        concept_embeddings: Tensor | None = None,
        init_std: float = 0.1,
    ) -> None:
        super().__init__(num_users, num_items)
        if kg_edge_index is None:
            kg_edge_index = torch.empty(2, 0, dtype=torch.long)
            kg_edge_type = torch.empty(0, dtype=torch.long)
        if kg_edge_type is None or kg_edge_type.numel() != kg_edge_index.size(1):
            raise ValueError("kg_edge_type must give one relation per kg_edge_index column")
        if num_kg_relations is None:
            num_kg_relations = int(kg_edge_type.max()) + 1 if kg_edge_type.numel() else 0
        self.num_concepts = num_concepts
        self.num_kg_relations = num_kg_relations
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.message_dropout = message_dropout
        self.init_std = init_std
        # "interacted" and every KG relation, each also in the reverse direction.
        self.num_relations = 2 * (1 + num_kg_relations)

        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self.concept_embedding = Embedding(num_concepts, embedding_dim)
        self.relation_embedding = Embedding(self.num_relations, embedding_dim)
        self.attention = ModuleList(
            [Linear(embedding_dim, embedding_dim, bias=False) for _ in range(num_layers)]
        )
        self.propagate = NormalizedAdjacency(edge_index, num_users, num_items)
        self._build_graph(edge_index, kg_edge_index, kg_edge_type)
        self.register_buffer("concept_init", None, persistent=False)
        if concept_embeddings is not None:
            self.init_concept_embeddings(concept_embeddings)
        self.reset_parameters()

    def forward(self) -> Embeddings:
        x = torch.cat(
            [self.user_embedding.weight, self.item_embedding.weight, self.concept_embedding.weight]
        )
        graph = self._full_graph()
        out = x
        for attention in self.attention:
            x = self._layer(attention, x, graph, slice(None))
            out = out + x
        out = out / (self.num_layers + 1)
        user, item, concept = out.split([self.num_users, self.num_items, self.num_concepts])
        return Embeddings(user, item, concept)

    def _layer(
        self,
        attention: Linear,
        x: Tensor,
        graph: RelationGraph,
        rows: slice,
        wx: Tensor | None = None,
    ) -> Tensor:
        """One layer: the new values of the destinations ``x[rows]``, from sources ``x``."""
        wx = attention(x) if wx is None else wx
        x_dst, wx_dst = x[rows], wx[rows]
        kg, relations = graph.kg, graph.relations
        # Interactions: one sparse product; a message for every user and item that has one.
        interaction_message = graph.interaction(x)
        interaction_query = torch.tanh(
            wx_dst.index_select(0, graph.interacting)
            + self.relation_embedding(graph.interaction_relation)
        )
        # Knowledge-graph relations: attention within each (node, relation) group.
        kg_query = torch.tanh(
            wx_dst.index_select(0, graph.group_node) + self.relation_embedding(graph.group_relation)
        )
        edge_weight = softmax(kg.sampled_dot(kg_query, wx), kg.row, num_nodes=kg.shape[0])
        kg_message = kg.weighted_sum(edge_weight, x)
        # Across relations: one weight per (node, relation) message.
        message = torch.cat([interaction_message, kg_message])
        query = torch.cat([interaction_query, kg_query])
        score = (attention(message) * query).sum(dim=-1).index_select(0, relations.col)
        relation_weight = softmax(score, relations.row, num_nodes=relations.shape[0])
        update = relations.weighted_sum(relation_weight, message)
        return x_dst + F.dropout(update, p=self.message_dropout, training=self.training)

    def _full_graph(self) -> RelationGraph:
        num_interacting = self.num_users + self.num_items

        def interaction(x: Tensor) -> Tensor:
            return self.propagate(x[:num_interacting]).index_select(0, self.interacting_nodes)

        return RelationGraph(
            interaction=interaction,
            interacting=self.interacting_nodes,
            interaction_relation=self.interaction_relation,
            group_node=self.group_node,
            group_relation=self.group_relation,
            kg=self.kg_attention,
            relations=self.relation_attention,
        )

    def _local_graph(
        self,
        destination: Tensor,
        source: Tensor,
        relation: Tensor,
        destination_node: Tensor,
        source_node: Tensor | None,
        num_sources: int,
    ) -> RelationGraph:
        """The structures of a layer over some edges, in local indices.

        Args:
            destination: Local destination of each edge, below ``destination_node.numel()``.
            source: Local source of each edge, below ``num_sources``.
            relation: Relation of each edge (0 and 1: interactions).
            destination_node: Global id of each destination.
            source_node: Global id of each source; :obj:`None` when local ids are global.
            num_sources: Rows of the layer's input.
        """
        num_destinations = destination_node.numel()
        is_interaction = relation < 2
        # Interactions, with LightGCN's weights rescaled for the neighbours sampled.
        interacting, interaction_row = torch.unique(
            destination[is_interaction], return_inverse=True
        )
        adjacency = SparsePattern(
            interaction_row, source[is_interaction], interacting.numel(), num_sources
        )
        degree = self.propagate.degree()
        row_node = destination_node.index_select(0, interacting.index_select(0, adjacency.row))
        col_node = adjacency.col if source_node is None else source_node[adjacency.col]
        weight = sampled_weights(
            adjacency, degree.index_select(0, row_node), degree.index_select(0, col_node)
        )

        def interaction(x: Tensor) -> Tensor:
            return adjacency.weighted_sum(weight, x)

        # Knowledge-graph edges, grouped by (destination, relation).
        is_kg = ~is_interaction
        group_key, edge_group = torch.unique(
            destination[is_kg] * self.num_relations + relation[is_kg], return_inverse=True
        )
        group_node = group_key // self.num_relations
        kg = SparsePattern(edge_group, source[is_kg], group_key.numel(), num_sources)
        message_node = torch.cat([interacting, group_node])
        relations = SparsePattern(
            message_node,
            torch.arange(message_node.numel(), device=message_node.device),
            num_destinations,
            message_node.numel(),
        )
        return RelationGraph(
            interaction=interaction,
            interacting=interacting,
            interaction_relation=(
                destination_node.index_select(0, interacting) < self.num_users
            ).long(),
            group_node=group_node,
            group_relation=group_key % self.num_relations,
            kg=kg,
            relations=relations,
        )

    @torch.no_grad()
    def get_embedding(self) -> Embeddings:
        if self.inference_chunk_size:
            return self.inference(self.inference_chunk_size)
        return super().get_embedding()

    def embedding_tables(self) -> list[Embedding]:
        return [self.user_embedding, self.item_embedding, self.concept_embedding]

    def sampling_graph(self) -> Data:
        """Users, items, then concepts; ``edge_type`` holds each edge's relation
        (see :meth:`_build_graph`); edges sorted by destination, then relation."""
        num_nodes = self.num_users + self.num_items + self.num_concepts
        num_interacting = self.num_users + self.num_items
        crow = self.propagate.crow.long().cpu()
        interaction_dst = torch.repeat_interleave(
            torch.arange(num_interacting), crow[1:] - crow[:-1]
        )
        group = self.kg_attention.row.cpu()
        destination = torch.cat([interaction_dst, self.group_node.cpu()[group]])
        source = torch.cat([self.propagate.col.long().cpu(), self.kg_attention.col.cpu()])
        relation = torch.cat(
            [(interaction_dst < self.num_users).long(), self.group_relation.cpu()[group]]
        )
        order = torch.sort(destination * self.num_relations + relation, stable=True).indices
        small = torch.int16 if self.num_relations < 2**15 else torch.long
        return Data(
            edge_index=torch.stack([source[order], destination[order]]),
            edge_type=relation[order].to(small),
            num_nodes=num_nodes,
        )

    def forward_sampled(self, subgraph: Subgraph, *, sparse: bool = False) -> tuple[Tensor, Tensor]:
        if subgraph.edge_type is None:
            raise ValueError("the relation-aware GNN needs the sampled edges' edge_type")
        x = gather_rows(self.embedding_tables(), subgraph.node, sparse=sparse)
        num_seeds = subgraph.num_seeds
        ego = x[:num_seeds]
        out = ego
        source, destination = subgraph.edge_index
        relation = subgraph.edge_type.long()
        sizes = layer_sizes(subgraph.num_sampled_nodes, subgraph.num_sampled_edges, self.num_layers)
        for attention, (num_dst, num_src, num_edges) in zip(self.attention, sizes, strict=True):
            graph = self._local_graph(
                destination[:num_edges],
                source[:num_edges],
                relation[:num_edges],
                subgraph.node[:num_dst],
                subgraph.node[:num_src],
                num_src,
            )
            x = self._layer(attention, x[:num_src], graph, slice(0, num_dst))
            out = out + x[:num_seeds]
        return out / (self.num_layers + 1), ego

    @torch.no_grad()
    def inference(self, chunk_size: int = 65_536) -> Embeddings:
        was_training = self.training
        self.eval()  # no message dropout
        try:
            return self._inference(chunk_size)
        finally:
            self.train(was_training)

    def _inference(self, chunk_size: int) -> Embeddings:
        x = torch.cat(
            [self.user_embedding.weight, self.item_embedding.weight, self.concept_embedding.weight]
        )
        out = x.clone()
        num_nodes = x.size(0)
        for attention in self.attention:
            wx = attention(x)
            after = torch.empty_like(x)
            for start in range(0, num_nodes, chunk_size):
                stop = min(start + chunk_size, num_nodes)
                graph = self._local_graph(
                    *self._in_edges(start, stop),
                    torch.arange(start, stop, device=x.device),
                    None,
                    num_nodes,
                )
                after[start:stop] = self._layer(attention, x, graph, slice(start, stop), wx=wx)
            out.add_(after)
            x = after
        out.div_(self.num_layers + 1)
        user, item, concept = out.split([self.num_users, self.num_items, self.num_concepts])
        return Embeddings(user, item, concept)

    def _in_edges(self, start: int, stop: int) -> tuple[Tensor, Tensor, Tensor]:
        """``(destination - start, source, relation)`` of every edge into nodes
        ``start .. stop - 1``, read from the whole-graph structures."""
        num_interacting = self.num_users + self.num_items
        crow = self.propagate.crow
        last = min(stop, num_interacting)
        if start < last:
            first_edge, last_edge = int(crow[start]), int(crow[last])
            per_node = (crow[start + 1 : last + 1] - crow[start:last]).long()
            interaction_dst = torch.repeat_interleave(
                torch.arange(start, last, device=crow.device), per_node
            )
            interaction_src = self.propagate.col[first_edge:last_edge].long()
        else:
            interaction_dst = interaction_src = crow.new_zeros(0, dtype=torch.long)
        # Groups are sorted by node, so a range of nodes is a range of groups and of KG edges.
        kg = self.kg_attention
        first_group, last_group = torch.searchsorted(
            self.group_node, torch.tensor([start, stop], device=crow.device)
        ).tolist()
        first_edge, last_edge = int(kg.crow[first_group]), int(kg.crow[last_group])
        group = kg.row[first_edge:last_edge]
        destination = torch.cat([interaction_dst, self.group_node.index_select(0, group)])
        source = torch.cat([interaction_src, kg.col[first_edge:last_edge]])
        relation = torch.cat(
            [(interaction_dst < self.num_users).long(), self.group_relation.index_select(0, group)]
        )
        return destination - start, source, relation

    def reset_parameters(self) -> None:
        for embedding in (self.user_embedding, self.item_embedding, self.concept_embedding):
            torch.nn.init.normal_(embedding.weight, std=self.init_std)
        if self.concept_init is not None:
            with torch.no_grad():
                self.concept_embedding.weight.copy_(self.concept_init)
        torch.nn.init.normal_(self.relation_embedding.weight, std=self.init_std)
        for attention in self.attention:
            torch.nn.init.xavier_uniform_(attention.weight)

    @classmethod
    def from_data(cls, data: RecData, **kwargs: Any) -> Self:
        kg = data.kg
        if kg is None:
            return cls(data.num_users, data.num_items, data.train, **kwargs)
        return cls(
            data.num_users,
            data.num_items,
            data.train,
            kg_edge_index=kg.edge_index,
            kg_edge_type=kg.edge_type,
            num_concepts=kg.num_concepts,
            num_kg_relations=kg.num_relations,
            **kwargs,
        )

    def init_concept_embeddings(self, vectors: Tensor) -> None:
        """Start concept embeddings from given vectors (e.g. TransE), also on reset.

        Args:
            vectors (torch.Tensor): One row per concept, shape :math:`(C, D)`.
        """
        expected = (self.num_concepts, self.embedding_dim)
        if tuple(vectors.shape) != expected:
            raise ValueError(
                f"concept embeddings must have shape {expected} (concepts, embedding_dim), "
                f"got {tuple(vectors.shape)}; train the KG embeddings with the same dimension"
            )
        weight = self.concept_embedding.weight
        self.concept_init = vectors.detach().to(device=weight.device, dtype=weight.dtype).clone()
        with torch.no_grad():
            weight.copy_(self.concept_init)

    def _build_graph(self, edge_index: Tensor, kg_edge_index: Tensor, kg_edge_type: Tensor) -> None:
        """Index structures over all nodes: users, then items, then concepts.

        Relation 0 carries users' messages to an item, 1 items' messages to a
        user; KG relation ``k`` becomes ``2 + 2k`` (head to tail) and
        ``3 + 2k`` (tail to head). KG edges are grouped by (receiving node,
        relation): one attention softmax and one message per group.
        """
        num_nodes = self.num_users + self.num_items + self.num_concepts
        user, item = edge_index.long().cpu()
        degree = torch.bincount(
            torch.cat([user, item + self.num_users]), minlength=self.num_users + self.num_items
        )
        interacting_nodes = (degree > 0).nonzero().view(-1)
        self.register_buffer("interacting_nodes", interacting_nodes, persistent=False)
        relation = (interacting_nodes < self.num_users).long()
        self.register_buffer("interaction_relation", relation, persistent=False)

        head, tail = kg_edge_index.long().cpu() + self.num_users
        kg_relation = kg_edge_type.long().cpu()
        src = torch.cat([head, tail])
        dst = torch.cat([tail, head])
        relation = torch.cat([2 + 2 * kg_relation, 3 + 2 * kg_relation])
        group_key, edge_group = torch.unique(
            dst * self.num_relations + relation, return_inverse=True
        )
        group_node = group_key // self.num_relations
        self.register_buffer("group_node", group_node, persistent=False)
        self.register_buffer("group_relation", group_key % self.num_relations, persistent=False)
        self.kg_attention = SparsePattern(edge_group, src, group_key.numel(), num_nodes)

        # Relation messages (interactions first, then KG groups) summed into their nodes.
        message_node = torch.cat([interacting_nodes, group_node])
        message_index = torch.arange(message_node.numel())
        self.relation_attention = SparsePattern(
            message_node, message_index, num_nodes, message_node.numel()
        )

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, num_concepts={self.num_concepts}, "
            f"num_relations={self.num_relations}, embedding_dim={self.embedding_dim}, "
            f"num_layers={self.num_layers}"
        )
