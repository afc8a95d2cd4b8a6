"""Most-popular: recommends the items with the most training interactions to everyone."""

from __future__ import annotations

import torch
from torch import Tensor

from graphrec.models.base import Embeddings, Recommender


class MostPopular(Recommender):
    r"""The most-popular baseline: an item's score is its number of training
    interactions, the same for every user,

    .. math::
        \hat{y}_{ui} = |\{ v : (v, i) \in \mathcal{E}_{\text{train}} \}| .

    It fits by counting, so the trainer does not optimise it
    (:attr:`trainable` is :obj:`False`). It is written as a one-dimensional
    factorisation (every user's embedding is :math:`1`, an item's is its count)
    so that it ranks and evaluates like any other model.

    Args:
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.
        edge_index (torch.Tensor): Training ``(user, item)`` pairs, shape :math:`(2, E)`.

    Shapes:
        - **output:** :class:`Embeddings` with user :math:`(U, 1)`, item :math:`(I, 1)`
    """

    trainable = False

    def __init__(self, num_users: int, num_items: int, edge_index: Tensor) -> None:
        super().__init__(num_users, num_items)
        self.register_buffer("edge_index", edge_index.long().cpu(), persistent=False)
        self.register_buffer("popularity", torch.zeros(num_items))
        self.reset_parameters()

    def forward(self) -> Embeddings:
        user = self.popularity.new_ones(self.num_users, 1)
        return Embeddings(user, self.popularity.view(-1, 1))

    def reset_parameters(self) -> None:
        counts = torch.bincount(self.edge_index[1], minlength=self.num_items)
        self.popularity.copy_(counts.to(self.popularity))

    def ego_l2(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        return self.popularity.new_zeros(())
