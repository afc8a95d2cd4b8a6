"""KGAT: attentive embedding propagation over the collaborative knowledge graph."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Self

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Linear, ModuleList, Parameter
from torch_geometric.utils import softmax

from graphrec.data import RecData
from graphrec.models.base import Embeddings, Recommender
from graphrec.models.ckg import collaborative_triples, corrupt_tails, relation_matmul
from graphrec.models.propagation import SparsePattern


class KGAT(Recommender):
    r"""The Knowledge Graph Attention Network from the `"KGAT: Knowledge Graph
    Attention Network for Recommendation" <https://arxiv.org/abs/1905.07854>`_
    paper (Wang et al., KDD 2019).

    Nodes of the collaborative knowledge graph (CKG) are users, items and
    concepts (items are entities of the knowledge graph). Its triples
    :math:`(h, r, t)` are the training interactions
    :math:`(u, \text{interact}, i)`, the knowledge-graph edges, and the inverse
    of each. Every relation :math:`r` has an embedding
    :math:`\mathbf{e}_r \in \mathbb{R}^k` and a projection
    :math:`\mathbf{W}_r \in \mathbb{R}^{k \times d}`.

    **Knowledge-aware attention** weighs each triple by its head's softmax over
    all of the head's triples :math:`\mathcal{N}_h`, computed on the ego
    embeddings :math:`\mathbf{e}`:

    .. math::
        \pi(h, r, t) = (\mathbf{W}_r \mathbf{e}_t)^\top
        \tanh(\mathbf{W}_r \mathbf{e}_h + \mathbf{e}_r),
        \qquad
        \tilde{\pi}(h, r, t) = \frac{\exp \pi(h, r, t)}
        {\sum_{(h, r', t') \in \mathcal{N}_h} \exp \pi(h, r', t')} .

    **Propagation** with the bi-interaction aggregator, for layers
    :math:`l = 0 .. L-1` with :math:`\mathbf{e}^{(0)} = \mathbf{e}`:

    .. math::
        \mathbf{e}^{(l)}_{\mathcal{N}_h} = \sum_{(h, r, t) \in \mathcal{N}_h}
        \tilde{\pi}(h, r, t) \, \mathbf{e}^{(l)}_t,
        \qquad
        \mathbf{e}^{(l+1)}_h = \operatorname{LeakyReLU}\big(\mathbf{W}^{(l)}_1
        (\mathbf{e}^{(l)}_h + \mathbf{e}^{(l)}_{\mathcal{N}_h})\big)
        + \operatorname{LeakyReLU}\big(\mathbf{W}^{(l)}_2
        (\mathbf{e}^{(l)}_h \odot \mathbf{e}^{(l)}_{\mathcal{N}_h})\big),

    with message dropout on :math:`\mathbf{e}^{(l+1)}` while training. The
    final embedding concatenates the ego embedding with the :math:`L_2`-normalised
    layers, and the score is a dot product:

    .. math::
        \mathbf{e}^*_v = \mathbf{e}^{(0)}_v \,\|\,
        \frac{\mathbf{e}^{(1)}_v}{\|\mathbf{e}^{(1)}_v\|} \,\|\, \cdots \,\|\,
        \frac{\mathbf{e}^{(L)}_v}{\|\mathbf{e}^{(L)}_v\|},
        \qquad \hat{y}_{ui} = {\mathbf{e}^*_u}^\top \mathbf{e}^*_i .

    **TransR** on the CKG's triples, with a corrupted tail :math:`t'` (drawn
    uniformly from all nodes, redrawn while it forms a true triple):

    .. math::
        g(h, r, t) = \|\mathbf{W}_r \mathbf{e}_h + \mathbf{e}_r
        - \mathbf{W}_r \mathbf{e}_t\|_2^2,
        \qquad
        \mathcal{L}_\text{KG} = \frac{1}{B_\text{KG}} \sum
        -\ln \sigma\big(g(h, r, t') - g(h, r, t)\big) .

    **Training.** :meth:`bpr_loss` returns, per batch, the BPR loss plus
    :math:`\lambda_\text{KG} \mathcal{L}_\text{KG}` over a fresh sample of
    triples (drawn with replacement from torch's global random generator,
    which :func:`graphrec.training.train` seeds and checkpoints; in evaluation
    mode from a fixed seed, so the value is a function of the parameters), and
    the :math:`L_2` term :math:`\lambda` over the batch's ego embeddings and the
    TransR batch's projected embeddings and relation embeddings. As in the
    paper, the attention is refreshed once per epoch: training batches use
    :math:`\tilde{\pi}` computed from the parameters at the first batch after
    :meth:`train` (which the trainer calls at the start of every epoch), and
    again each time an epoch's worth of training interactions (``E``) has gone
    through :meth:`bpr_loss` since; evaluation mode computes it afresh on every
    forward pass. As in the authors' code, the attention is not differentiated
    through: :math:`\mathbf{W}_r` and :math:`\mathbf{e}_r` learn from
    :math:`\mathcal{L}_\text{KG}` alone.

    **Departures from the paper.** The paper alternates an epoch of
    :math:`\mathcal{L}_\text{CF}` updates with an epoch of
    :math:`\mathcal{L}_\text{KG}` updates; here one optimiser steps on the sum
    of both losses every batch (graphrec has one trainer). The :math:`L_2` term
    covers the ego embeddings of the batch (as in graphrec's other models),
    where the authors' code regularises the final embeddings. Embeddings start
    from Xavier initialisation, not from pre-trained MF embeddings. Knowledge-graph
    edge weights are not used (the paper has none).

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
        embedding_dim (int, optional): Ego embedding size :math:`d`. (default: :obj:`64`)
        num_layers (int, optional): Propagation layers :math:`L`. (default: :obj:`3`)
        hidden_dims (Sequence[int], optional): Output size of each layer;
            :obj:`None` halves the size at each layer, :math:`d, d/2, d/4, \ldots`
            (the paper's 64, 32, 16). (default: :obj:`None`)
        relation_dim (int, optional): Relation space size :math:`k`. (default: :obj:`64`)
        message_dropout (float, optional): Dropout on each layer's output while
            training. (default: :obj:`0.1`)
        kg_weight (float, optional): :math:`\lambda_\text{KG}`, the weight of
            :math:`\mathcal{L}_\text{KG}` in :meth:`bpr_loss`; 0 trains without
            it. (default: :obj:`1.0`)
        kg_batch_size (int, optional): Triples per :meth:`bpr_loss` call;
            :obj:`None` takes as many, relative to the CKG, as the BPR batch is
            of the training interactions, so an epoch draws about one pass over
            the CKG's triples, as the authors' code does. (default: :obj:`None`)

    Shapes:
        - **input:** ``edge_index`` :math:`(2, E)`, ``kg_edge_index``
          :math:`(2, E_{kg})`, ``kg_edge_type`` :math:`(E_{kg},)` at construction
        - **output:** :class:`Embeddings` with user :math:`(U, d')`, item
          :math:`(I, d')` and concept :math:`(C, d')`, where :math:`d' = d +
          \sum_l d_l`
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
        num_layers: int = 3,
        hidden_dims: Sequence[int] | None = None,
        relation_dim: int = 64,
        message_dropout: float = 0.1,
        kg_weight: float = 1.0,
        kg_batch_size: int | None = None,
    ) -> None:
        super().__init__(num_users, num_items)
        if kg_edge_index is None:
            kg_edge_index = torch.empty(2, 0, dtype=torch.long)
            kg_edge_type = torch.empty(0, dtype=torch.long)
        if kg_edge_type is None or kg_edge_type.numel() != kg_edge_index.size(1):
            raise ValueError("kg_edge_type must give one relation per kg_edge_index column")
        if num_kg_relations is None:
            num_kg_relations = int(kg_edge_type.max()) + 1 if kg_edge_type.numel() else 0
        if hidden_dims is None:
            hidden_dims = [max(1, embedding_dim // 2**layer) for layer in range(num_layers)]
        if len(hidden_dims) != num_layers:
            raise ValueError(f"hidden_dims {list(hidden_dims)} must give {num_layers} sizes")
        if kg_batch_size is not None and kg_batch_size < 1:
            raise ValueError(f"kg_batch_size must be positive, got {kg_batch_size}")
        self.num_concepts = num_concepts
        self.num_kg_relations = num_kg_relations
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.hidden_dims = [int(size) for size in hidden_dims]
        self.relation_dim = relation_dim
        self.message_dropout = message_dropout
        self.kg_weight = kg_weight
        self.kg_batch_size = kg_batch_size
        self.num_train = int(edge_index.size(1))
        self.num_nodes = num_users + num_items + num_concepts
        self.num_relations = 2 * (1 + num_kg_relations)

        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self.concept_embedding = Embedding(num_concepts, embedding_dim)
        self.relation_embedding = Embedding(self.num_relations, relation_dim)
        self.relation_transform = Parameter(
            torch.empty(self.num_relations, embedding_dim, relation_dim)
        )
        sizes = [embedding_dim, *self.hidden_dims]
        self.sum_transform = ModuleList(
            [Linear(sizes[layer], sizes[layer + 1]) for layer in range(num_layers)]
        )
        self.product_transform = ModuleList(
            [Linear(sizes[layer], sizes[layer + 1]) for layer in range(num_layers)]
        )
        self._build_graph(edge_index, kg_edge_index, kg_edge_type)
        # The attention used by training batches; refreshed once per epoch (see bpr_loss).
        self.register_buffer("epoch_attention", None, persistent=False)
        self._since_refresh = 0
        self.register_load_state_dict_post_hook(self._drop_attention)
        self.reset_parameters()

    def forward(self) -> Embeddings:
        x = self._ego()
        weight = self.epoch_attention
        if not self.training or weight is None:
            weight = self.adjacency_weights()
        layers = [x]
        for sum_transform, product_transform in zip(
            self.sum_transform, self.product_transform, strict=True
        ):
            neighbours = self.adjacency.weighted_sum(weight, x)
            x = F.leaky_relu(sum_transform(x + neighbours), negative_slope=0.2) + F.leaky_relu(
                product_transform(x * neighbours), negative_slope=0.2
            )
            x = F.dropout(x, p=self.message_dropout, training=self.training)
            layers.append(F.normalize(x, dim=-1))
        out = torch.cat(layers, dim=-1)
        user, item, concept = out.split([self.num_users, self.num_items, self.num_concepts])
        return Embeddings(user, item, concept)

    @torch.no_grad()
    def attention(self) -> Tensor:
        r""":math:`\tilde{\pi}(h, r, t)` of every triple, in the order of
        :attr:`triple_head`, :attr:`triple_relation`, :attr:`triple_tail`, shape :math:`(T,)`."""
        x = self._ego()
        projected = relation_matmul(
            x.index_select(0, self.pair_node), self.pair_relation, self.relation_transform
        )
        query = torch.tanh(projected + self.relation_embedding(self.pair_relation))
        score = self.attention_pattern.sampled_dot(query, projected)
        return softmax(score, self.triple_head, num_nodes=self.num_nodes)

    @torch.no_grad()
    def adjacency_weights(self) -> Tensor:
        """The attention summed per ``(head, tail)`` pair (relations between the same two
        nodes share one entry of :attr:`adjacency`)."""
        weight = self.attention()
        return weight.new_zeros(self.adjacency.nnz).index_add_(0, self.adjacency_entry, weight)

    def transr_loss(
        self, num_triples: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        r""":math:`\mathcal{L}_\text{KG}` over ``num_triples`` triples drawn uniformly with
        replacement, each with a corrupted tail, and the :math:`L_2` term of that batch,
        :math:`\frac{1}{2B_\text{KG}} \sum (\|\mathbf{W}_r \mathbf{e}_h\|^2 + \|\mathbf{e}_r\|^2
        + \|\mathbf{W}_r \mathbf{e}_t\|^2 + \|\mathbf{W}_r \mathbf{e}_{t'}\|^2)`.

        Args:
            num_triples (int): :math:`B_\text{KG}`.
            generator (torch.Generator, optional): A CPU generator to draw from;
                :obj:`None` uses torch's global one. (default: :obj:`None`)
        """
        device = self.triple_head.device
        # Sorted by relation (the order of the draws does not matter to a mean), so that
        # the projections run one relation after the other without reordering.
        draws = torch.randint(self.num_triples, (num_triples,), generator=generator)
        index = self.relation_order.index_select(0, draws.to(device).sort().values)
        head = self.triple_head.index_select(0, index)
        relation = self.triple_relation.index_select(0, index)
        tail = self.triple_tail.index_select(0, index)
        corrupted = corrupt_tails(
            self.triple_key, head, relation, self.num_nodes, self.num_relations, generator
        )
        nodes = torch.stack([head, tail, corrupted], dim=1).view(-1)
        rows = self._ego().index_select(0, nodes).view(num_triples, 3, -1)
        projected = relation_matmul(rows, relation, self.relation_transform)
        head_p, tail_p, corrupted_p = projected.unbind(dim=1)
        relation_e = self.relation_embedding(relation)
        positive = (head_p + relation_e - tail_p).pow(2).sum(dim=-1)
        negative = (head_p + relation_e - corrupted_p).pow(2).sum(dim=-1)
        loss = F.softplus(positive - negative).mean()  # -ln sigma(g(t') - g(t))
        squares = head_p.pow(2).sum() + relation_e.pow(2).sum()
        squares = squares + tail_p.pow(2).sum() + corrupted_p.pow(2).sum()
        return loss, squares / (2 * num_triples)

    def bpr_loss(
        self, users: Tensor, pos_items: Tensor, neg_items: Tensor, reg: float = 0.0
    ) -> tuple[Tensor, Tensor]:
        r"""The BPR loss of the batch plus :math:`\lambda_\text{KG} \mathcal{L}_\text{KG}`
        (:meth:`transr_loss`) and both :math:`L_2` terms; returns ``(loss, l2)``, with
        ``l2`` the two :math:`L_2` terms (see the class docstring)."""
        if self.training:
            self._refresh_attention(users.numel())
        loss, l2 = super().bpr_loss(users, pos_items, neg_items, reg)
        if not self.kg_weight or self.num_triples == 0:
            return loss, l2
        # Evaluation mode draws a fixed sample, so the loss depends on the parameters only.
        generator = None if self.training else torch.Generator().manual_seed(0)
        kg_loss, squares = self.transr_loss(self._kg_batch(users.numel()), generator)
        kg_l2 = reg * squares
        return loss + self.kg_weight * kg_loss + kg_l2, l2 + kg_l2

    @property
    def num_triples(self) -> int:
        return self.triple_head.numel()

    def _refresh_attention(self, batch_size: int) -> None:
        """Recompute :attr:`epoch_attention` at the first training batch after
        :meth:`train` and then once every ``num_train`` training interactions (an
        epoch's worth of batches)."""
        if self.epoch_attention is None or self._since_refresh >= self.num_train:
            self.epoch_attention = self.adjacency_weights()
            self._since_refresh = 0
        self._since_refresh += batch_size

    def train(self, mode: bool = True) -> Self:
        """Also marks the start of an epoch (:class:`~graphrec.training.Trainer` calls it
        before each): the next training batch recomputes the attention."""
        if mode:
            self._drop_attention()
        return super().train(mode)

    def _drop_attention(self, *_: Any) -> None:
        self.epoch_attention = None
        self._since_refresh = 0

    def _kg_batch(self, batch_size: int) -> int:
        if self.kg_batch_size is not None:
            return self.kg_batch_size
        return max(1, math.ceil(self.num_triples * batch_size / max(1, self.num_train)))

    def _ego(self) -> Tensor:
        return torch.cat(
            [self.user_embedding.weight, self.item_embedding.weight, self.concept_embedding.weight]
        )

    def _build_graph(self, edge_index: Tensor, kg_edge_index: Tensor, kg_edge_type: Tensor) -> None:
        """The CKG's triples and the sparse patterns of the attention and the propagation.

        Attention rows and columns are ``(node, relation)`` pairs, so each
        projection ``W_r e_v`` is computed once per pair, not once per triple;
        each triple is the entry ``((h, r), (t, r))``. The triples are kept in
        that pattern's entry order.
        """
        triples = collaborative_triples(
            self.num_users,
            self.num_items,
            self.num_concepts,
            edge_index,
            kg_edge_index,
            kg_edge_type,
            self.num_kg_relations,
        )
        num_nodes, count = self.num_nodes, triples.num_triples
        self.register_buffer("triple_key", triples.keys(), persistent=False)
        # Pairs sorted by relation, then node: one contiguous block per relation.
        head_pair = triples.relation * num_nodes + triples.head
        tail_pair = triples.relation * num_nodes + triples.tail
        pair_key, pair_index = torch.unique(torch.cat([head_pair, tail_pair]), return_inverse=True)
        num_pairs = pair_key.numel()
        row, col = pair_index[:count], pair_index[count:]
        order = torch.argsort(row * num_pairs + col)
        self.attention_pattern = SparsePattern(row, col, num_pairs, num_pairs)
        self.register_buffer("pair_node", pair_key % num_nodes, persistent=False)
        self.register_buffer("pair_relation", pair_key // num_nodes, persistent=False)
        head, tail = triples.head[order], triples.tail[order]
        self.register_buffer("triple_head", head, persistent=False)
        self.register_buffer("triple_relation", triples.relation[order], persistent=False)
        self.register_buffer("triple_tail", tail, persistent=False)
        relation_order = torch.argsort(triples.relation[order], stable=True)
        self.register_buffer("relation_order", relation_order, persistent=False)
        # Relations between the same two nodes add up in one entry of the propagation.
        adjacency_key, adjacency_entry = torch.unique(head * num_nodes + tail, return_inverse=True)
        self.adjacency = SparsePattern(
            adjacency_key // num_nodes, adjacency_key % num_nodes, num_nodes, num_nodes
        )
        self.register_buffer("adjacency_entry", adjacency_entry, persistent=False)

    def reset_parameters(self) -> None:
        self._drop_attention()
        # Xavier initialisation throughout, as in the authors' code.
        for embedding in (self.user_embedding, self.item_embedding, self.concept_embedding):
            if embedding.weight.numel():
                torch.nn.init.xavier_uniform_(embedding.weight)
        torch.nn.init.xavier_uniform_(self.relation_embedding.weight)
        with torch.no_grad():
            for code in range(self.num_relations):
                torch.nn.init.xavier_uniform_(self.relation_transform[code])
        for linear in [*self.sum_transform, *self.product_transform]:
            torch.nn.init.xavier_uniform_(linear.weight)
            torch.nn.init.zeros_(linear.bias)

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

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, num_concepts={self.num_concepts}, "
            f"num_relations={self.num_relations}, embedding_dim={self.embedding_dim}, "
            f"hidden_dims={self.hidden_dims}, relation_dim={self.relation_dim}"
        )
