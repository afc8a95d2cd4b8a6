"""Matrix factorisation trained with BPR: the non-graph baseline."""

from __future__ import annotations

from typing import Any, Self

import torch
from torch import Tensor
from torch.nn import Embedding

from graphrec.data import RecData
from graphrec.models.base import Embeddings, Recommender


class MF(Recommender):
    r"""Matrix factorisation from the `"BPR: Bayesian Personalized Ranking from
    Implicit Feedback" <https://arxiv.org/abs/1205.2618>`_ paper.

    Each user and item has a free embedding; the score is their dot product:

    .. math::
        \hat{y}_{ui} = \mathbf{e}_u^\top \mathbf{e}_i

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
        edge_index (torch.Tensor, optional): Training ``(user, item)`` pairs.
            Not used: MF ignores the graph; accepted so that every model is
            built the same way. (default: :obj:`None`)
        embedding_dim (int, optional): Embedding size :math:`D`. (default: :obj:`64`)
        init_std (float, optional): Standard deviation of the normal
            initialisation. (default: :obj:`0.1`)

    Shapes:
        - **output:** :class:`Embeddings` with user :math:`(U, D)`, item :math:`(I, D)`
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        edge_index: Tensor | None = None,
        embedding_dim: int = 64,
        init_std: float = 0.1,
    ) -> None:
        super().__init__(num_users, num_items)
        self.embedding_dim = embedding_dim
        self.init_std = init_std
        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self.reset_parameters()

    def forward(self) -> Embeddings:
        return Embeddings(self.user_embedding.weight, self.item_embedding.weight)

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.user_embedding.weight, std=self.init_std)
        torch.nn.init.normal_(self.item_embedding.weight, std=self.init_std)

    @classmethod
    def from_data(cls, data: RecData, **kwargs: Any) -> Self:
        return cls(data.num_users, data.num_items, **kwargs)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, embedding_dim={self.embedding_dim}"
