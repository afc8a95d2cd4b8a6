"""A relation-aware attention GNN over users, items and concepts."""

from __future__ import annotations

from typing import Any, Self

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Linear, ModuleList
from torch_geometric.utils import softmax

from graphrec.data import RecData
from graphrec.models.base import Embeddings, Recommender
from graphrec.models.propagation import NormalizedAdjacency, SparsePattern


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
        kg, relations = self.kg_attention, self.relation_attention
        num_interacting = self.num_users + self.num_items
        out = x
        for attention in self.attention:
            wx = attention(x)
            # Interactions: one sparse product; a message for every user and item that has one.
            interaction_message = self.propagate(x[:num_interacting]).index_select(
                0, self.interacting_nodes
            )
            interaction_query = torch.tanh(
                wx.index_select(0, self.interacting_nodes)
                + self.relation_embedding(self.interaction_relation)
            )
            # Knowledge-graph relations: attention within each (node, relation) group.
            kg_query = torch.tanh(
                wx.index_select(0, self.group_node) + self.relation_embedding(self.group_relation)
            )
            edge_weight = softmax(kg.sampled_dot(kg_query, wx), kg.row, num_nodes=kg.shape[0])
            kg_message = kg.weighted_sum(edge_weight, x)
            # Across relations: one weight per (node, relation) message.
            message = torch.cat([interaction_message, kg_message])
            query = torch.cat([interaction_query, kg_query])
            score = (attention(message) * query).sum(dim=-1).index_select(0, relations.col)
            relation_weight = softmax(score, relations.row, num_nodes=relations.shape[0])
            update = relations.weighted_sum(relation_weight, message)
            x = x + F.dropout(update, p=self.message_dropout, training=self.training)
            out = out + x
        out = out / (self.num_layers + 1)
        user, item, concept = out.split([self.num_users, self.num_items, self.num_concepts])
        return Embeddings(user, item, concept)

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
