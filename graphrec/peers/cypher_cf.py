"""``cypher_cf``: the plain-Cypher item-to-item collaborative filtering of Neo4j's examples."""

from __future__ import annotations

import time
from typing import ClassVar

import torch

from graphrec.data import RecData
from graphrec.export import IdMap
from graphrec.graph.client import GraphClient, batched
from graphrec.peers.base import PeerResult
from graphrec.peers.scores import ScoreTable


class CypherCF:
    """Scores a user's candidates by how many paths user → item ← other user → candidate
    join them over training interactions (``cypher/peers/cypher_cf.cypher``); one query per
    batch of users, nothing written, no plugin needed.

    Args:
        limit: Candidates kept per user (default: 100).
        batch_size: Users per query (default: 50).
    """

    name: ClassVar[str] = "cypher_cf"
    plugins: ClassVar[tuple[str, ...]] = ()

    def __init__(self, limit: int = 100, batch_size: int = 50) -> None:
        self.limit = limit
        self.batch_size = batch_size

    def run(self, graph: GraphClient, data: RecData, id_map: IdMap, *, k: int = 20) -> PeerResult:
        start = time.perf_counter()
        wanted = (data.test_items.degree() > 0) | (data.val_items.degree() > 0)
        users = [id_map.users[u] for u in wanted.nonzero().view(-1).tolist()]
        rows_user, rows_item, rows_score = [], [], []
        limit = max(self.limit, k)
        for chunk in batched(users, self.batch_size):
            for row in graph.read("peers/cypher_cf", users=chunk, limit=limit):
                user = id_map.index("user", row["user_id"])
                for item, score in zip(row["items"], row["scores"], strict=True):
                    rows_user.append(user)
                    rows_item.append(id_map.index("item", item))
                    rows_score.append(float(score))
        table = ScoreTable(
            data.num_users,
            data.num_items,
            torch.tensor(rows_user, dtype=torch.long),
            torch.tensor(rows_item, dtype=torch.long),
            torch.tensor(rows_score),
        )
        seconds = time.perf_counter() - start
        return PeerResult(
            table, {"projection": 0.0, "compute": seconds, "write": 0.0, "total": seconds}
        )
