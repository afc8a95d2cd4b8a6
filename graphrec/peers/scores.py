"""A peer's answer as a model the evaluator can rank: sparse scores per user."""

from __future__ import annotations

import torch
from torch import Tensor

from graphrec.models.base import Embeddings, Recommender


class ScoreTable(Recommender):
    """Scores of some (user, item) pairs; every other item scores ``-inf`` (never ranked above
    a scored one). The full-ranking protocol masks training items as for any model.

    Args:
        num_users (int): Users :math:`U`.
        num_items (int): Items :math:`I`.
        users (torch.Tensor): User index of each score, shape :math:`(S,)`.
        items (torch.Tensor): Item index of each score, :math:`(S,)`.
        scores (torch.Tensor): The scores, :math:`(S,)`.
    """

    trainable = False

    def __init__(
        self, num_users: int, num_items: int, users: Tensor, items: Tensor, scores: Tensor
    ) -> None:
        super().__init__(num_users, num_items)
        order = torch.argsort(users * num_items + items)
        users, items, scores = users[order], items[order], scores[order].float()
        indptr = torch.zeros(num_users + 1, dtype=torch.long)
        indptr[1:] = torch.cumsum(torch.bincount(users, minlength=num_users), 0)
        self.register_buffer("indptr", indptr)
        self.register_buffer("items", items.long())
        self.register_buffer("scores", scores)

    def forward(self) -> Embeddings:
        # No embeddings: score_all reads the table. The empty tensors keep the interface.
        empty = self.scores.new_zeros(0, 0)
        return Embeddings(empty, empty)

    def score_all(self, emb: Embeddings, users: Tensor) -> Tensor:
        out = torch.full((users.numel(), self.num_items), -torch.inf, device=self.scores.device)
        users = users.to(self.indptr.device)
        counts = self.indptr[users + 1] - self.indptr[users]
        row = torch.repeat_interleave(torch.arange(users.numel()), counts)
        start = torch.repeat_interleave(self.indptr[users], counts)
        offset = torch.arange(row.numel()) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        entry = start + offset
        out[row, self.items[entry]] = self.scores[entry]
        return out

    def reset_parameters(self) -> None:
        """Nothing to reset: the table is the peer's answer."""

    @property
    def num_scored(self) -> int:
        return int(self.scores.numel())
