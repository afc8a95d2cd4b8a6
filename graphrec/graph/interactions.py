"""Interactions read out of the graph as parallel arrays of business ids (ingest's derived
links and the benchmarks use them; training data streams through :mod:`graphrec.export`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from graphrec.graph.client import GraphClient, batched

#: How ``INTERACTED.split`` (the source's own split, when it has one) is coded in arrays.
SPLIT_CODES = {"train": 1, "test": 2}


@dataclass
class InteractionTable:
    """Interactions as parallel arrays of business ids and values."""

    user_ids: np.ndarray  # object [E]
    item_ids: np.ndarray  # object [E]
    weight: np.ndarray  # float32 [E]
    ts: np.ndarray  # int64 [E]
    split: np.ndarray  # int8 [E], SPLIT_CODES

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])

    def select(self, mask: np.ndarray) -> InteractionTable:
        """The rows where ``mask`` is true."""
        return InteractionTable(
            self.user_ids[mask],
            self.item_ids[mask],
            self.weight[mask],
            self.ts[mask],
            self.split[mask],
        )


def user_ids(graph: GraphClient, page_size: int) -> list[str]:
    """Every user's business id, in id order."""
    return [
        row["id"]
        for page in graph.pages("export/user_ids_page", page_size=page_size)
        for row in page
    ]


def read_interactions(
    graph: GraphClient,
    *,
    kinds: Sequence[str] | None = None,
    ts_from: int | None = None,
    ts_to: int | None = None,
    users: Sequence[str] | None = None,
    page_size: int = 1_000,
    progress: bool = False,
) -> InteractionTable:
    """All interactions of ``kinds`` in ``[ts_from, ts_to)`` (of ``users`` only, when given).

    The rows are held as business ids (Python strings) until the end: fine for
    inspection, derived links and benchmarks of the read path; for training
    data, :func:`graphrec.export.export_graph` streams into index arrays.
    """
    if users is None:
        users = user_ids(graph, page_size * 10)
    user_col: list[str] = []
    items: list[str] = []
    weights: list[float] = []
    stamps: list[int] = []
    splits: list[str] = []
    params = {
        "kinds": list(kinds) if kinds is not None else None,
        "ts_from": ts_from,
        "ts_to": ts_to,
    }
    with tqdm(
        total=len(users), desc="read interactions", unit=" users", disable=not progress
    ) as bar:
        for chunk in batched(users, page_size):
            for row in graph.read("export/interactions_of_users", ids=chunk, **params):
                n = len(row["items"])
                user_col.extend([row["user_id"]] * n)
                items.extend(row["items"])
                weights.extend(row["weights"])
                stamps.extend(row["ts"])
                splits.extend(row["splits"])
            bar.update(len(chunk))
    split_codes = np.fromiter(
        (SPLIT_CODES.get(s, 0) for s in splits), dtype=np.int8, count=len(splits)
    )
    return InteractionTable(
        user_ids=np.asarray(user_col, dtype=object),
        item_ids=np.asarray(items, dtype=object),
        weight=np.asarray(weights, dtype=np.float32),
        ts=np.asarray([int(t) for t in stamps], dtype=np.int64),
        split=split_codes,
    )
