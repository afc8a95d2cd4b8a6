r"""relgnn: LightGCN's collaborative propagation plus a relation-aware semantic channel."""

from __future__ import annotations

from typing import Any, Self

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding

from graphrec.data import RecData
from graphrec.models.base import Embeddings, Subgraph
from graphrec.models.lightgcn import LightGCN
from graphrec.models.relation_graph import RelationChannel, split_knowledge_graph


class RelationAwareGNN(LightGCN):
    r"""A relation-aware graph recommender over users, items and knowledge-graph concepts,
    in the spirit of `KGAT <https://arxiv.org/abs/1905.07854>`_ (relation-specific
    messages), `KGIN <https://arxiv.org/abs/2102.07057>`_ (relational transforms
    :math:`\mathbf{t}_r \odot \mathbf{x}`) and Netflix's
    `SemanticGNN <https://arxiv.org/abs/2312.04071>`_ (one message per relation, so that
    dense semantic relations do not drown sparse ones).

    The collaborative signal is LightGCN's, unchanged: users and items propagate over the
    symmetric normalised training graph and average their layers,

    .. math::
        \mathbf{E}^{(l+1)} = \hat{\mathbf{A}}\,\mathbf{E}^{(l)}, \qquad
        \mathbf{u}^{cf}, \mathbf{i}^{cf} = \frac{1}{L+1}\sum_{l=0}^{L} \mathbf{E}^{(l)} .

    Concepts (genres, tags, artists, KG entities...) have embeddings of their own,
    propagated over the concept graph (``RELATED`` and ``SUBCONCEPT_OF`` triples, both
    directions) to :math:`\mathbf{z}_c`, and every item gets a semantic message
    :math:`\mathbf{s}_i` from its concepts, one weighted mean per relation mixed by
    learned relation weights (:mod:`graphrec.models.relation_graph` has the equations).
    A learned gate :math:`\gamma` adds it to the item:

    .. math::
        \mathbf{u} = \mathbf{u}^{cf}, \qquad
        \mathbf{i} = \mathbf{i}^{cf} + \gamma\,\mathbf{s}_i, \qquad
        \hat{y}_{ui} = \mathbf{u}^\top \mathbf{i} .

    So the interaction relation is never diluted (users and items keep LightGCN's
    propagation), and an item with few interactions is still placed by its concepts,
    whose embeddings the other items sharing them train. The same readout embeds an
    item the model has never seen, from its links alone (:meth:`embed_new_item`):
    inductive cold start with no retraining. An optional knowledge-graph loss
    (``kg_loss_weight``) adds a DistMult-style BPR term on the graph's triples,
    :math:`-\ln\sigma(\langle \mathbf{e}_h \odot \mathbf{t}_r, \mathbf{e}_t\rangle -
    \langle \mathbf{e}_h \odot \mathbf{t}_r, \mathbf{e}_{t'}\rangle)`, on ego embeddings.
    Item-item co-engagement links are not used: LightGCN's two-hop propagation already
    sees the co-interactions they count.

    Mini-batches (:mod:`graphrec.training.minibatch`) sample the collaborative graph as
    for LightGCN; the semantic channel runs over the whole (small) concept graph on
    every step.

    Args:
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.
        edge_index (torch.Tensor): Training ``(user, item)`` pairs, shape :math:`(2, E)`.
        kg_edge_index (torch.Tensor, optional): ``(head, tail)`` knowledge-graph edges in
            entity indices (items ``0 .. I-1``, concept :math:`c` is :math:`I + c`),
            shape :math:`(2, E_{kg})`. (default: :obj:`None`)
        kg_edge_type (torch.Tensor, optional): Relation of each KG edge. (default: :obj:`None`)
        num_concepts (int, optional): Number of concepts :math:`C`. (default: :obj:`0`)
        num_kg_relations (int, optional): KG relations; :obj:`None` infers them. (default: :obj:`None`)
        kg_edge_weight (torch.Tensor, optional): Weight of each KG edge. (default: ones)
        relation_names (list of str, optional): Name of each KG relation, for
            :meth:`inductive_params`. (default: :obj:`None`)
        embedding_dim (int, optional): Embedding size :math:`D`. (default: :obj:`64`)
        num_layers (int, optional): Collaborative layers :math:`L`. (default: :obj:`3`)
        kg_layers (int, optional): Concept-graph layers :math:`L_{kg}`. (default: :obj:`1`)
        relation_transform (bool, optional): Learn :math:`\mathbf{t}_r`. (default: :obj:`True`)
        relation_weights (bool, optional): Learn the relation weights. (default: :obj:`True`)
        edge_weights (bool, optional): Weight edges by the graph's ``weight``. (default: :obj:`True`)
        kg_loss_weight (float, optional): Weight of the KG loss; 0 turns it off. (default: :obj:`0.0`)
        concept_embeddings (torch.Tensor, optional): Initial concept embeddings,
            shape :math:`(C, D)`, e.g. from TransE. (default: :obj:`None`)
        init_std (float, optional): Standard deviation of the normal initialisation.
            (default: :obj:`0.1`)

    Shapes:
        - **input:** ``edge_index`` :math:`(2, E)`, ``kg_edge_index`` :math:`(2, E_{kg})`
        - **output:** :class:`Embeddings` with user :math:`(U, D)`, item :math:`(I, D)`
          and concept :math:`(C, D)` (the propagated :math:`\mathbf{z}`)
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
        kg_edge_weight: Tensor | None = None,
        relation_names: list[str] | None = None,
        embedding_dim: int = 64,
        num_layers: int = 3,
        kg_layers: int = 1,
        relation_transform: bool = True,
        relation_weights: bool = True,
        edge_weights: bool = True,
        kg_loss_weight: float = 0.0,
        concept_embeddings: Tensor | None = None,
        init_std: float = 0.1,
    ) -> None:
        if kg_edge_index is None:
            kg_edge_index = torch.empty(2, 0, dtype=torch.long)
            kg_edge_type = torch.empty(0, dtype=torch.long)
        if kg_edge_type is None or kg_edge_type.numel() != kg_edge_index.size(1):
            raise ValueError("kg_edge_type must give one relation per kg_edge_index column")
        if kg_edge_weight is None:
            kg_edge_weight = torch.ones(kg_edge_index.size(1))
        if num_kg_relations is None:
            num_kg_relations = int(kg_edge_type.max()) + 1 if kg_edge_type.numel() else 0
        self.num_concepts = num_concepts
        self.num_kg_relations = num_kg_relations
        self.relation_names = list(relation_names or [])
        self.kg_layers = kg_layers
        self.kg_loss_weight = kg_loss_weight
        super().__init__(
            num_users, num_items, edge_index, embedding_dim, num_layers, init_std=init_std
        )
        self.concept_embedding = Embedding(num_concepts, embedding_dim)
        item_edges, concept_edges = split_knowledge_graph(
            kg_edge_index, kg_edge_type, kg_edge_weight, num_items
        )
        self.channel = RelationChannel(
            item_edges,
            concept_edges,
            num_items=num_items,
            num_concepts=num_concepts,
            num_relations=2 * num_kg_relations,
            embedding_dim=embedding_dim,
            kg_layers=kg_layers,
            relation_transform=relation_transform,
            relation_weights=relation_weights,
            edge_weights=edge_weights,
        )
        self.semantic_gate = torch.nn.Parameter(torch.ones(()))
        # The KG triples for the optional KG loss: (head entity, directed relation, tail).
        head, tail = kg_edge_index.long()
        self.register_buffer(
            "kg_triples", torch.stack([head, 2 * kg_edge_type.long(), tail]), persistent=False
        )
        self.register_buffer("concept_init", None, persistent=False)
        if concept_embeddings is not None:
            self.init_concept_embeddings(concept_embeddings)
        self.reset_parameters()

    # -- the forward pass -------------------------------------------------------------------
    def forward(self) -> Embeddings:
        collaborative = super().forward()
        return self._with_semantics(collaborative)

    def _with_semantics(self, collaborative: Embeddings) -> Embeddings:
        z = self.channel.propagate_concepts(self.concept_embedding.weight)
        item = collaborative.item + self.semantic_gate * self.channel.item_messages(z)
        return Embeddings(collaborative.user, item, z)

    def forward_sampled(self, subgraph: Subgraph, *, sparse: bool = False) -> tuple[Tensor, Tensor]:
        out, ego = super().forward_sampled(subgraph, sparse=sparse)
        seeds = subgraph.node[: subgraph.num_seeds]
        is_item = seeds >= self.num_users
        if bool(is_item.any()):
            z = self.channel.propagate_concepts(self.concept_embedding.weight)
            semantic = self.channel.item_messages(z)
            rows = (seeds[is_item] - self.num_users).long()
            out = out.clone()
            out[is_item] = out[is_item] + self.semantic_gate * semantic.index_select(0, rows)
        return out, ego

    @torch.no_grad()
    def inference(self, chunk_size: int = 65_536) -> Embeddings:
        return self._with_semantics(super().inference(chunk_size))

    # -- cold start ---------------------------------------------------------------------------
    @torch.no_grad()
    def embed_new_item(
        self, concepts: Tensor, relations: Tensor, weights: Tensor | None = None
    ) -> Tensor:
        """The embedding of an item without interactions, from its links alone:
        :math:`\\gamma\\,\\mathbf{s}` over ``concepts`` (concept indices) with their KG
        ``relations`` (relation indices) and ``weights`` (default: 1), no retraining."""
        z = self.channel.propagate_concepts(self.concept_embedding.weight)
        weights = torch.ones(concepts.numel()) if weights is None else weights
        return self.semantic_gate * self.channel.new_item_message(z, concepts, relations, weights)

    def inductive_params(self) -> dict[str, Any]:
        """What a server needs to embed a new item from written-back concept vectors
        (:math:`\\mathbf{z}`): the gate, and per item-concept relation name its logit and
        transform. JSON-safe."""
        channel = self.channel
        relations = {}
        for index, name in enumerate(self.relation_names):
            relations[name] = {
                "logit": float(channel.logit[2 * index].detach()),
                "transform": channel.transform[2 * index].detach().tolist(),
            }
        return {
            "gate": float(self.semantic_gate.detach()),
            "edge_weights": channel.edge_weights,
            "relations": relations,
        }

    # -- training ----------------------------------------------------------------------------
    def bpr_loss(
        self, users: Tensor, pos_items: Tensor, neg_items: Tensor, reg: float = 0.0
    ) -> tuple[Tensor, Tensor]:
        """LightGCN's BPR loss and :math:`L_2` term, plus ``kg_loss_weight`` times the KG loss
        on as many random KG triples as the batch has interactions (see the class docstring)."""
        loss, l2 = super().bpr_loss(users, pos_items, neg_items, reg=reg)
        if self.kg_loss_weight and self.kg_triples.size(1):
            loss = loss + self.kg_loss_weight * self._kg_loss(users.numel())
        return loss, l2

    def _kg_loss(self, size: int) -> Tensor:
        device = self.kg_triples.device
        pick = torch.randint(self.kg_triples.size(1), (size,), device=device)
        head, relation, tail = self.kg_triples[:, pick]
        corrupt = self.num_items + torch.randint(max(1, self.num_concepts), (size,), device=device)
        entities = torch.cat([self.item_embedding.weight, self.concept_embedding.weight])
        query = entities.index_select(0, head) * self.channel.transform.index_select(0, relation)
        positive = (query * entities.index_select(0, tail)).sum(-1)
        negative = (query * entities.index_select(0, corrupt)).sum(-1)
        return -F.logsigmoid(positive - negative).mean()

    def embedding_tables(self) -> list[Embedding]:
        # Users and items are sampled (sparse gradients); concepts train dense every step.
        return [self.user_embedding, self.item_embedding]

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if not hasattr(self, "channel"):  # LightGCN.__init__ resets before the channel exists
            return
        torch.nn.init.normal_(self.concept_embedding.weight, std=self.init_std)
        if self.concept_init is not None:
            with torch.no_grad():
                self.concept_embedding.weight.copy_(self.concept_init)
        self.channel.reset_parameters()
        with torch.no_grad():
            self.semantic_gate.fill_(1.0)

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
            kg_edge_weight=kg.weights(),
            relation_names=kg.relation_names,
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

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, num_concepts={self.num_concepts}, "
            f"num_kg_relations={self.num_kg_relations}, kg_layers={self.kg_layers}, "
            f"kg_loss_weight={self.kg_loss_weight}"
        )
