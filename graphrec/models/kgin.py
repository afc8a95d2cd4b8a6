"""KGIN: user intents over relations and relational-path-aware aggregation."""

from __future__ import annotations

from typing import Any, Literal, Self

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Parameter

from graphrec.data import RecData
from graphrec.models.base import Embeddings, Recommender
from graphrec.models.ckg import knowledge_triples
from graphrec.models.propagation import SparsePattern

Independence = Literal["distance", "cosine"]


class KGIN(Recommender):
    r"""The Knowledge Graph-based Intent Network from the `"Learning Intents
    behind Interactions with Knowledge Graph for Recommendation"
    <https://arxiv.org/abs/2102.07057>`_ paper (Wang et al., WWW 2021).

    Entities are items and concepts; the knowledge graph's relations
    :math:`\mathcal{R}` are read in both directions (each edge also gives its
    inverse), and each has an embedding :math:`\mathbf{e}_r`.

    **User intents** :math:`p \in \mathcal{P}` are attentive combinations of
    relation embeddings, with free weights :math:`w_{rp}`:

    .. math::
        \mathbf{e}_p = \sum_{r \in \mathcal{R}} \alpha(r, p) \, \mathbf{e}_r,
        \qquad
        \alpha(r, p) = \frac{\exp w_{rp}}{\sum_{r' \in \mathcal{R}} \exp w_{r'p}} .

    **Intent-aware user aggregation** over the user's training items
    :math:`\mathcal{N}_u`, and **relational-path-aware aggregation** of an
    entity over its knowledge-graph neighbours :math:`\mathcal{N}_i = \{(r,
    v)\}`, for layers :math:`l = 0 .. L-1`:

    .. math::
        \mathbf{e}^{(l+1)}_u = \frac{1}{|\mathcal{N}_u|} \sum_{i \in \mathcal{N}_u}
        \Big(\sum_{p \in \mathcal{P}} \beta^{(l)}(u, p) \, \mathbf{e}_p\Big)
        \odot \mathbf{e}^{(l)}_i,
        \qquad
        \beta^{(l)}(u, p) = \frac{\exp(\mathbf{e}_p^\top \mathbf{e}^{(l)}_u)}
        {\sum_{p'} \exp(\mathbf{e}_{p'}^\top \mathbf{e}^{(l)}_u)},

    .. math::
        \mathbf{e}^{(l+1)}_i = \frac{1}{|\mathcal{N}_i|} \sum_{(r, v) \in \mathcal{N}_i}
        \mathbf{e}_r \odot \mathbf{e}^{(l)}_v .

    Each layer's output gets message dropout (while training) and is
    :math:`L_2`-normalised before it feeds the next layer, as in the authors'
    code. The final embeddings sum the layers, and the score is a dot product:

    .. math::
        \mathbf{e}^*_v = \sum_{l=0}^{L} \mathbf{e}^{(l)}_v,
        \qquad \hat{y}_{ui} = {\mathbf{e}^*_u}^\top \mathbf{e}^*_i .

    **Independence of intents**, added to the BPR loss by :meth:`bpr_loss`
    with weight :math:`\lambda_1`: the distance correlation of every pair of
    intents (the default), or their squared cosine similarity,

    .. math::
        \mathcal{L}_\text{IND} = \sum_{p < p'} \operatorname{dCor}(\mathbf{e}_p,
        \mathbf{e}_{p'}),
        \qquad
        \operatorname{dCor}(\mathbf{a}, \mathbf{b}) = \frac{\operatorname{dCov}(\mathbf{a},
        \mathbf{b})}{\sqrt{\operatorname{dVar}(\mathbf{a}) \operatorname{dVar}(\mathbf{b})}},

    with the sample distance covariance over the :math:`d` coordinates
    (double-centred :math:`|a_j - a_k|`). **Node dropout** while training keeps
    each knowledge-graph edge with probability :math:`1 - \rho` (the mean runs
    over the kept edges) and each interaction with probability :math:`1 - \rho`
    (the kept terms of the mean scaled by :math:`1 / (1 - \rho)`), once per
    forward pass, as in the authors' code.

    **Departures.** The paper and this model use the intents
    :math:`\mathbf{e}_p` in :math:`\beta`, the update above without an extra
    term, and the independence of :math:`\mathbf{e}_p`; the authors' code
    scores :math:`\beta` with separate free intent vectors, adds
    :math:`\frac{1}{|\mathcal{N}_u|}\sum_i \mathbf{e}^{(l)}_i` to the user
    update, and measures independence on the weights :math:`w_{\cdot p}`. The
    :math:`L_2` term covers the batch's ego embeddings (as in graphrec's other
    models), where the authors' code regularises the final embeddings.
    Knowledge-graph edge weights are not used (the paper has none).

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
        embedding_dim (int, optional): Embedding size :math:`d`. (default: :obj:`64`)
        num_layers (int, optional): Propagation layers :math:`L`. (default: :obj:`3`)
        num_intents (int, optional): Intents :math:`|\mathcal{P}|`. (default: :obj:`4`)
        independence (str, optional): ``"distance"`` (distance correlation) or
            ``"cosine"`` (squared cosine similarity). (default: :obj:`"distance"`)
        independence_weight (float, optional): :math:`\lambda_1`. (default: :obj:`1e-4`)
        node_dropout (float, optional): :math:`\rho`. (default: :obj:`0.5`)
        message_dropout (float, optional): Dropout on each layer's output while
            training. (default: :obj:`0.1`)

    Shapes:
        - **input:** ``edge_index`` :math:`(2, E)`, ``kg_edge_index``
          :math:`(2, E_{kg})`, ``kg_edge_type`` :math:`(E_{kg},)` at construction
        - **output:** :class:`Embeddings` with user :math:`(U, d)`, item
          :math:`(I, d)` and concept :math:`(C, d)`
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
        num_intents: int = 4,
        independence: Independence = "distance",
        independence_weight: float = 1e-4,
        node_dropout: float = 0.5,
        message_dropout: float = 0.1,
    ) -> None:
        super().__init__(num_users, num_items)
        if kg_edge_index is None:
            kg_edge_index = torch.empty(2, 0, dtype=torch.long)
            kg_edge_type = torch.empty(0, dtype=torch.long)
        if kg_edge_type is None or kg_edge_type.numel() != kg_edge_index.size(1):
            raise ValueError("kg_edge_type must give one relation per kg_edge_index column")
        if num_kg_relations is None:
            num_kg_relations = int(kg_edge_type.max()) + 1 if kg_edge_type.numel() else 0
        if independence not in ("distance", "cosine"):
            raise ValueError(f"independence must be 'distance' or 'cosine', got {independence!r}")
        if not 0.0 <= node_dropout < 1.0:
            raise ValueError(f"node_dropout must lie in [0, 1), got {node_dropout}")
        if num_intents < 1:
            raise ValueError(f"num_intents must be positive, got {num_intents}")
        self.num_concepts = num_concepts
        self.num_kg_relations = num_kg_relations
        self.num_relations = 2 * num_kg_relations  # with inverses
        self.num_entities = num_items + num_concepts
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.num_intents = num_intents
        self.independence = independence
        self.independence_weight = independence_weight
        self.node_dropout = node_dropout
        self.message_dropout = message_dropout

        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self.concept_embedding = Embedding(num_concepts, embedding_dim)
        self.relation_embedding = Embedding(self.num_relations, embedding_dim)
        self.intent_weight = Parameter(torch.empty(num_intents, self.num_relations))
        self._build_graph(edge_index, kg_edge_index, kg_edge_type)
        self.reset_parameters()

    def forward(self) -> Embeddings:
        intents = self.intents()
        interaction_weight, kg_weight, kg_scale = self._edge_weights()
        user, entity = self.user_embedding.weight, self._entities()
        user_out, entity_out = user, entity
        for _ in range(self.num_layers):
            intent_attention = torch.softmax(user @ intents.t(), dim=-1)  # beta(u, p)
            items = entity[: self.num_items]
            user_next = (intent_attention @ intents) * self.interactions.weighted_sum(
                interaction_weight, items
            )
            entity_next = self._aggregate_kg(entity, kg_weight, kg_scale)
            user = self._finish_layer(user_next)
            entity = self._finish_layer(entity_next)
            user_out = user_out + user
            entity_out = entity_out + entity
        item, concept = entity_out.split([self.num_items, self.num_concepts])
        return Embeddings(user_out, item, concept)

    def intents(self) -> Tensor:
        r"""The intent embeddings :math:`\mathbf{e}_p`, shape :math:`(|\mathcal{P}|, d)`
        (zeros when there are no relations)."""
        alpha = torch.softmax(self.intent_weight, dim=-1)  # alpha(r, p), one row per intent
        return alpha @ self.relation_embedding.weight

    def independence_loss(self) -> Tensor:
        r""":math:`\mathcal{L}_\text{IND}` summed over the pairs of intents (0 with fewer
        than two intents or no relations)."""
        intents = self.intents()
        if self.num_intents < 2 or self.num_relations == 0:
            return intents.new_zeros(())
        if self.independence == "distance":
            similarity = distance_correlation(intents)
        else:
            unit = F.normalize(intents, dim=-1)
            similarity = (unit @ unit.t()).pow(2)
        first, second = torch.triu_indices(self.num_intents, self.num_intents, offset=1)
        return similarity[first, second].sum()

    def bpr_loss(
        self, users: Tensor, pos_items: Tensor, neg_items: Tensor, reg: float = 0.0
    ) -> tuple[Tensor, Tensor]:
        r"""The BPR loss of the batch, its :math:`L_2` term and
        :math:`\lambda_1 \mathcal{L}_\text{IND}`; returns ``(loss, l2)``."""
        loss, l2 = super().bpr_loss(users, pos_items, neg_items, reg)
        if self.independence_weight:
            loss = loss + self.independence_weight * self.independence_loss()
        return loss, l2

    def _finish_layer(self, x: Tensor) -> Tensor:
        return F.normalize(F.dropout(x, p=self.message_dropout, training=self.training), dim=-1)

    def _aggregate_kg(self, entity: Tensor, edge_weight: Tensor, scale: Tensor) -> Tensor:
        """Mean of ``e_r * e_v`` over each entity's (kept) edges: per (head, relation)
        group, the sum of its tails times the relation, then the groups of each head."""
        group_sum = self.kg_groups.weighted_sum(edge_weight, entity)
        message = group_sum * self.relation_embedding.weight.index_select(0, self.group_relation)
        return self.kg_heads.weighted_sum(scale.index_select(0, self.group_node), message)

    def _edge_weights(self) -> tuple[Tensor, Tensor, Tensor]:
        """Interaction weights, knowledge-graph edge weights and each entity's
        ``1 / kept degree``: fixed in evaluation, with node dropout while training."""
        if not self.training or self.node_dropout == 0:
            return self.interaction_mean, self.kg_ones, self.kg_inverse_degree
        keep = 1.0 - self.node_dropout
        device = self.interaction_mean.device
        kept = torch.rand(self.interaction_mean.numel(), device=device) < keep
        interaction = self.interaction_mean * kept / keep
        edge_weight = (torch.rand(self.kg_ones.numel(), device=device) < keep).float()
        degree = torch.zeros_like(self.kg_inverse_degree).index_add_(0, self.edge_head, edge_weight)
        return interaction, edge_weight, degree.reciprocal().nan_to_num(posinf=0.0)

    def _entities(self) -> Tensor:
        return torch.cat([self.item_embedding.weight, self.concept_embedding.weight])

    def _build_graph(self, edge_index: Tensor, kg_edge_index: Tensor, kg_edge_type: Tensor) -> None:
        """The user-item mean and the knowledge graph grouped by (head, relation)."""
        user, item = edge_index.long().cpu()
        self.interactions = SparsePattern(user, item, self.num_users, self.num_items)
        degree = torch.bincount(self.interactions.row, minlength=self.num_users).float()
        self.register_buffer(
            "interaction_mean", degree.reciprocal()[self.interactions.row], persistent=False
        )
        triples = knowledge_triples(
            kg_edge_index, kg_edge_type, self.num_kg_relations, self.num_entities
        )
        # Triples are sorted by head, relation, tail: groups are contiguous and keep that order.
        group_key, edge_group = torch.unique(
            triples.head * max(1, self.num_relations) + triples.relation, return_inverse=True
        )
        group_node = group_key // max(1, self.num_relations)
        self.kg_groups = SparsePattern(
            edge_group, triples.tail, group_key.numel(), self.num_entities
        )
        self.kg_heads = SparsePattern(
            group_node, torch.arange(group_key.numel()), self.num_entities, group_key.numel()
        )
        self.register_buffer("group_node", group_node, persistent=False)
        self.register_buffer(
            "group_relation", group_key % max(1, self.num_relations), persistent=False
        )
        self.register_buffer("edge_head", triples.head, persistent=False)
        self.register_buffer("kg_ones", torch.ones(triples.num_triples), persistent=False)
        kg_degree = torch.bincount(triples.head, minlength=self.num_entities).float()
        inverse_degree = kg_degree.reciprocal().nan_to_num(posinf=0.0)
        self.register_buffer("kg_inverse_degree", inverse_degree, persistent=False)

    def reset_parameters(self) -> None:
        # Xavier initialisation throughout, as in the authors' code.
        for parameter in (
            self.user_embedding.weight,
            self.item_embedding.weight,
            self.concept_embedding.weight,
            self.relation_embedding.weight,
            self.intent_weight,
        ):
            if parameter.numel():
                torch.nn.init.xavier_uniform_(parameter)

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
            f"num_layers={self.num_layers}, num_intents={self.num_intents}"
        )


def distance_correlation(x: Tensor, eps: float = 1e-8) -> Tensor:
    r"""Distance correlation between every pair of rows of ``x``, each row a sample of
    :math:`d` observations; shape :math:`(n, n)`.

    With :math:`a^{(p)}_{jk} = |x_{pj} - x_{pk}|` double-centred into
    :math:`A^{(p)}`, :math:`\operatorname{dCov}^2(p, q) = \frac{1}{d^2} \sum_{jk}
    A^{(p)}_{jk} A^{(q)}_{jk}` and :math:`\operatorname{dCor}(p, q) =
    \operatorname{dCov}(p, q) / \sqrt{\operatorname{dCov}(p, p)\operatorname{dCov}(q, q)}`;
    ``eps`` keeps the square roots differentiable at 0.
    """
    distance = (x.unsqueeze(2) - x.unsqueeze(1)).abs()  # (n, d, d)
    centred = (
        distance
        - distance.mean(dim=1, keepdim=True)
        - distance.mean(dim=2, keepdim=True)
        + distance.mean(dim=(1, 2), keepdim=True)
    )
    squared = torch.einsum("pjk,qjk->pq", centred, centred) / x.size(1) ** 2
    covariance = (squared.clamp(min=0) + eps).sqrt()
    variance = covariance.diagonal()
    return covariance / (variance.unsqueeze(1) * variance.unsqueeze(0)).sqrt()
