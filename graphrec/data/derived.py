"""Training inputs derived from interactions, computed from the training split only.

The graph holds ``CO_ENGAGED`` links derived from *all* interactions, test ones
included: right for serving and explanations, a leak for training. So
:meth:`~graphrec.data.RecData.from_hetero` drops the exported links and derives
them again here from the training pairs, with the same rule
(:func:`graphrec.ingest.co_engagement.co_engagement`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from graphrec.ingest.co_engagement import co_engagement

#: Relation name of derived item-item links in the knowledge graph (the export's edge type).
CO_ENGAGED_RELATION = "co_engaged"


@dataclass(frozen=True)
class CoEngagementRule:
    """Which item pairs are linked: at least ``min_shared`` users in common, each item's
    ``top_k`` strongest links (the defaults of ``graphrec ingest``)."""

    min_shared: int = 3
    top_k: int = 20

    def as_dict(self) -> dict[str, int]:
        return {"min_shared": self.min_shared, "top_k": self.top_k}


def co_engagement_edges(
    train: Tensor, num_users: int, num_items: int, rule: CoEngagementRule = CoEngagementRule()
) -> tuple[Tensor, Tensor]:
    """Directed ``(item, item)`` co-engagement pairs among the training pairs ``train``
    (shape ``(2, E)``), as a ``(2, P)`` tensor of item indices, and their cosine weights."""
    if train.size(1) == 0:
        return torch.empty(2, 0, dtype=torch.long), torch.empty(0)
    user, item = train.cpu().numpy()
    links = co_engagement(
        user.astype(np.int64),
        item.astype(np.int64),
        num_users=num_users,
        num_items=num_items,
        min_shared=rule.min_shared,
        top_k=rule.top_k,
    )
    pairs = torch.from_numpy(np.stack([links.source, links.target]).astype(np.int64))
    return pairs, torch.from_numpy(links.weight.astype(np.float32))
