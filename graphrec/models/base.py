"""The interface every recommender shares.

A :class:`Recommender` owns its training graph (given to ``__init__``, as PyG's
:class:`~torch_geometric.nn.models.Node2Vec` does), so ``forward()`` needs no
arguments: it propagates over that graph and returns :class:`Embeddings`. A
user's score for an item is the dot product of their final embeddings.

Training calls :meth:`Recommender.bpr_loss` once per batch (one propagation per
batch); evaluation and serving call :meth:`Recommender.get_embedding` once and
rank all items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self

import torch
import torch.nn.functional as F
from torch import Tensor

from graphrec.data import UserItems

if TYPE_CHECKING:
    from graphrec.data import RecData


class Embeddings(NamedTuple):
    """Final embeddings: users ``(U, D)``, items ``(I, D)``, concepts ``(C, D)`` or None."""

    user: Tensor
    item: Tensor
    concept: Tensor | None = None


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

    def extra_repr(self) -> str:
        return f"num_users={self.num_users}, num_items={self.num_items}"


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
