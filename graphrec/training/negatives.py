"""Negative sampling for BPR: one unseen item per training interaction."""

from __future__ import annotations

import torch
from torch import Tensor

from graphrec.data import UserItems


def sample_negatives(
    users: Tensor, positives: UserItems, generator: torch.Generator, max_rounds: int = 20
) -> Tensor:
    """One uniformly random item per user that is not among the user's ``positives``.

    Vectorised rejection sampling: draw for all users, redraw only the rejected
    ones. Users whose draws keep failing (they have seen almost every item)
    finally draw from their explicit complement.
    """
    num_items = positives.num_items
    negatives = torch.randint(num_items, users.shape, generator=generator)
    for _ in range(max_rounds):
        rejected = positives.contains(users, negatives).nonzero().view(-1)
        if rejected.numel() == 0:
            return negatives
        redraw = torch.randint(num_items, rejected.shape, generator=generator)
        negatives[rejected] = redraw
    for index in positives.contains(users, negatives).nonzero().view(-1).tolist():
        allowed = torch.ones(num_items, dtype=torch.bool)
        allowed[positives.items_of(int(users[index]))] = False
        choices = allowed.nonzero().view(-1)
        pick = torch.randint(choices.numel(), (1,), generator=generator)
        negatives[index] = choices[pick]
    return negatives
