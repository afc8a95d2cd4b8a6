"""The interface every recommender shares.

A :class:`Recommender` owns its training graph (given to ``__init__``, as PyG's
:class:`~torch_geometric.nn.models.Node2Vec` does), so ``forward()`` needs no
arguments: it propagates over that graph and returns :class:`Embeddings`. A
user's score for an item is the dot product of their final embeddings.

Training calls :meth:`Recommender.bpr_loss` once per batch (one propagation per
batch); evaluation and serving call :meth:`Recommender.get_embedding` once and
rank all items.

Models with :attr:`Recommender.supports_minibatch` can also train on sampled
subgraphs (:mod:`graphrec.training.minibatch`): :meth:`Recommender.sampling_graph`
gives their graph to a neighbour sampler, :meth:`Recommender.forward_sampled`
propagates over a :class:`Subgraph` it returns, and
:meth:`Recommender.inference` computes the final embeddings layer by layer, in
chunks of nodes, so memory is bounded by a chunk rather than by the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self

import torch
import torch.nn.functional as F
from torch import Tensor

from graphrec.data import UserItems

if TYPE_CHECKING:
    from torch_geometric.data import Data

    from graphrec.data import RecData


class Embeddings(NamedTuple):
    """Final embeddings: users ``(U, D)``, items ``(I, D)``, concepts ``(C, D)`` or None."""

    user: Tensor
    item: Tensor
    concept: Tensor | None = None


class Subgraph(NamedTuple):
    """A subgraph sampled around seed nodes (see :mod:`graphrec.training.sampling`).

    Nodes live in the model's homogeneous node space (users ``0 .. U-1``, then
    items, then concepts; see :meth:`Recommender.sampling_graph`).

    Attributes:
        node: Global id of each local node, the seeds first, then the nodes
            each hop added, shape ``(n,)``.
        edge_index: Local ``(source, destination)`` of each sampled edge,
            grouped by hop; messages flow towards the seeds, shape ``(2, e)``.
        edge_type: Relation of each edge, or :obj:`None`, shape ``(e,)``.
        num_sampled_nodes: The number of seeds, then of new nodes per hop.
        num_sampled_edges: The number of edges per hop.
    """

    node: Tensor
    edge_index: Tensor
    edge_type: Tensor | None
    num_sampled_nodes: list[int]
    num_sampled_edges: list[int]

    @property
    def num_seeds(self) -> int:
        return int(self.num_sampled_nodes[0])

    @classmethod
    def from_batch(cls, batch: Data) -> Subgraph:
        """From a PyG loader's mini-batch (``n_id``, ``edge_index``, ``edge_type``, counts)."""
        return cls(
            node=batch.n_id,
            edge_index=batch.edge_index,
            edge_type=batch.edge_type if "edge_type" in batch else None,
            num_sampled_nodes=[int(n) for n in batch.num_sampled_nodes],
            num_sampled_edges=[int(n) for n in batch.num_sampled_edges],
        )

    def to(self, device: str | torch.device) -> Subgraph:
        edge_type = self.edge_type.to(device) if self.edge_type is not None else None
        return self._replace(
            node=self.node.to(device), edge_index=self.edge_index.to(device), edge_type=edge_type
        )


class Recommendations(NamedTuple):
    """Top-:math:`k` items per user, best first, with their scores; both ``(B, k)``."""

    items: Tensor
    scores: Tensor


class Recommender(torch.nn.Module):
    """Base class: users and items with embeddings scored by dot product.

    Subclasses set ``user_embedding`` and ``item_embedding``
    (:class:`torch.nn.Embedding`, the "ego" embeddings regularised by BPR) and
    implement :meth:`forward` and :meth:`reset_parameters`.

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
    """

    #: False for baselines fitted by counting, which the trainer does not optimise.
    trainable: ClassVar[bool] = True
    #: Whether the model implements :meth:`sampling_graph`, :meth:`forward_sampled`
    #: and :meth:`inference`, for mini-batch training.
    supports_minibatch: ClassVar[bool] = False
    #: When set, models that support mini-batches compute :meth:`get_embedding`
    #: with :meth:`inference` in chunks of this many nodes (bounded memory).
    inference_chunk_size: int | None = None

    def __init__(self, num_users: int, num_items: int) -> None:
        super().__init__()
        if num_users <= 0 or num_items <= 0:
            raise ValueError(f"need users and items, got {num_users} users, {num_items} items")
        self.num_users = num_users
        self.num_items = num_items

    @classmethod
    def from_data(cls, data: RecData, **kwargs: Any) -> Self:
        """Build the model for ``data``'s users, items and training interactions."""
        return cls(data.num_users, data.num_items, data.train, **kwargs)

    def forward(self) -> Embeddings:
        """Propagate over the training graph; returns the final embeddings."""
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Re-initialise all learnable parameters."""
        raise NotImplementedError

    @torch.no_grad()
    def get_embedding(self) -> Embeddings:
        """Final embeddings in inference mode (no dropout, no gradient)."""
        was_training = self.training
        self.eval()
        try:
            return self()
        finally:
            self.train(was_training)

    def score(self, emb: Embeddings, users: Tensor, items: Tensor) -> Tensor:
        """Scores of the pairs ``(users[j], items[j])``, shape ``(B,)``."""
        # index_select rather than emb.user[users]: its backward is a fast index_add.
        user = emb.user.index_select(0, users)
        return (user * emb.item.index_select(0, items)).sum(dim=-1)

    def score_all(self, emb: Embeddings, users: Tensor) -> Tensor:
        """Scores of ``users`` for every item, shape ``(B, num_items)``."""
        return emb.user.index_select(0, users) @ emb.item.t()

    def bpr_loss(
        self, users: Tensor, pos_items: Tensor, neg_items: Tensor, reg: float = 0.0
    ) -> tuple[Tensor, Tensor]:
        r"""Bayesian Personalised Ranking loss of a batch, and its :math:`L_2` term.

        .. math::
            \mathcal{L} = -\frac{1}{B} \sum_{(u,i,j)} \ln \sigma(\hat{y}_{ui} - \hat{y}_{uj})
            + \frac{\lambda}{2B} \sum_{(u,i,j)} \big(\|\mathbf{e}^{(0)}_u\|^2
            + \|\mathbf{e}^{(0)}_i\|^2 + \|\mathbf{e}^{(0)}_j\|^2\big)

        The regulariser covers only the batch's ego embeddings, as in LightGCN.

        Args:
            users (torch.Tensor): Users, shape :math:`(B,)`.
            pos_items (torch.Tensor): An item each user interacted with, :math:`(B,)`.
            neg_items (torch.Tensor): An item each user did not, :math:`(B,)`.
            reg (float, optional): :math:`\lambda`. (default: :obj:`0.0`)

        Returns:
            ``(loss, l2)``: the total loss to minimise and the :math:`L_2` part of it.
        """
        emb = self()
        diff = self.score(emb, users, pos_items) - self.score(emb, users, neg_items)
        ranking = -F.logsigmoid(diff).mean()
        l2 = reg * self.ego_l2(users, pos_items, neg_items) if reg else ranking.new_zeros(())
        return ranking + l2, l2

    def ego_l2(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        r""":math:`\frac{1}{2B}\sum (\|\mathbf{e}^{(0)}_u\|^2 + \|\mathbf{e}^{(0)}_i\|^2
        + \|\mathbf{e}^{(0)}_j\|^2)` over the batch: the :math:`L_2` term of :meth:`bpr_loss`."""
        squares = (
            self.user_embedding(users).pow(2).sum()
            + self.item_embedding(pos_items).pow(2).sum()
            + self.item_embedding(neg_items).pow(2).sum()
        )
        return squares / (2 * users.numel())

    @torch.no_grad()
    def recommend(
        self,
        users: Tensor,
        k: int = 20,
        exclude: UserItems | Sequence[Sequence[int] | Tensor] | None = None,
    ) -> Recommendations:
        """Top-``k`` items for each of ``users``, never returning excluded items.

        Args:
            users (torch.Tensor): User indices, shape :math:`(B,)`.
            k (int, optional): Items per user. (default: :obj:`20`)
            exclude (UserItems or list, optional): Items not to recommend: a
                :class:`~graphrec.data.UserItems` CSR indexed by user, or one
                list of item indices per entry of ``users``. (default: :obj:`None`)
        """
        emb = self.get_embedding()
        users = users.to(emb.user.device)
        scores = self.score_all(emb, users)
        if exclude is not None:
            row, item = _exclusion_pairs(users, exclude)
            scores[row.to(scores.device), item.to(scores.device)] = -torch.inf
        top = scores.topk(min(k, self.num_items), dim=-1)
        return Recommendations(items=top.indices, scores=top.values)

    def embedding_tables(self) -> list[torch.nn.Embedding]:
        """The node embedding tables, in node-space order (users, items, ...);
        :meth:`forward_sampled` gathers its rows from these."""
        return [self.user_embedding, self.item_embedding]

    def sampling_graph(self) -> Data:
        """The model's graph for a neighbour sampler: one homogeneous node space
        (users, items, then any other nodes), ``edge_index[0]`` sending to
        ``edge_index[1]``, sorted by destination and then by ``edge_type`` when
        there is one."""
        raise NotImplementedError(f"{type(self).__name__} does not support mini-batch training")

    def forward_sampled(self, subgraph: Subgraph, *, sparse: bool = False) -> tuple[Tensor, Tensor]:
        """Propagate over a sampled subgraph; returns the seeds' final and ego
        embeddings, both ``(num_seeds, D)``.

        Args:
            subgraph (Subgraph): Sampled from :meth:`sampling_graph`, with as
                many hops as the model has layers.
            sparse (bool, optional): Gather the ego embeddings so that the
                tables get sparse gradients (rows of the subgraph only), for
                :class:`torch.optim.SparseAdam`. (default: :obj:`False`)
        """
        raise NotImplementedError(f"{type(self).__name__} does not support mini-batch training")

    @torch.no_grad()
    def inference(self, chunk_size: int = 65_536) -> Embeddings:
        """Final embeddings computed layer by layer, ``chunk_size`` nodes at a time.
        Models without layers return :meth:`get_embedding`."""
        return self.get_embedding()

    def extra_repr(self) -> str:
        return f"num_users={self.num_users}, num_items={self.num_items}"


def gather_rows(tables: Sequence[torch.nn.Embedding], node: Tensor, sparse: bool = False) -> Tensor:
    """Rows ``node`` of the tables stacked one after the other (users, items, ...),
    without concatenating the tables; with ``sparse``, each table's gradient is a
    sparse tensor over the gathered rows."""
    if len(tables) == 1:
        return F.embedding(node, tables[0].weight, sparse=sparse)
    sizes = torch.tensor([table.num_embeddings for table in tables], device=node.device)
    ends = torch.cumsum(sizes, 0)
    which = torch.bucketize(node, ends, right=True)
    parts, positions = [], []
    for index, table in enumerate(tables):
        position = (which == index).nonzero().view(-1)
        if position.numel() == 0:
            continue
        local = node.index_select(0, position) - (ends[index] - sizes[index])
        parts.append(F.embedding(local, table.weight, sparse=sparse))
        positions.append(position)
    if not parts:
        return tables[0].weight.new_zeros(0, tables[0].embedding_dim)
    rows = torch.cat(parts)
    return rows.index_select(0, torch.argsort(torch.cat(positions)))


def _exclusion_pairs(
    users: Tensor, exclude: UserItems | Sequence[Sequence[int] | Tensor]
) -> tuple[Tensor, Tensor]:
    if isinstance(exclude, UserItems):
        return exclude.pairs(users)
    if len(exclude) != users.numel():
        raise ValueError(f"exclude has {len(exclude)} lists for {users.numel()} users")
    lists = [torch.as_tensor(items, dtype=torch.long).view(-1) for items in exclude]
    row = torch.repeat_interleave(
        torch.arange(len(lists)), torch.tensor([t.numel() for t in lists])
    )
    item = torch.cat(lists) if lists else torch.empty(0, dtype=torch.long)
    return row, item
