"""The interaction list read from an export, and users' items as CSR."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphrec.data.types import INTERACTED, DataError, num_nodes


@dataclass(frozen=True)
class Interactions:
    """The user-item interaction list, one row per distinct (user, item) pair.

    Attributes:
        num_users: Number of users (indices ``0 .. num_users - 1``).
        num_items: Number of items.
        user: User index per interaction, shape ``(E,)``.
        item: Item index per interaction, shape ``(E,)``.
        ts: Timestamp in seconds per interaction, 0 when unknown, shape ``(E,)``.
        stored_split: Split fixed by the source (0 unspecified, 1 train, 2 test).
    """

    num_users: int
    num_items: int
    user: Tensor
    item: Tensor
    ts: Tensor
    stored_split: Tensor

    def __len__(self) -> int:
        return self.user.numel()

    @classmethod
    def from_hetero(cls, data: HeteroData) -> Interactions:
        """Read ``("user", "interacted", "item")`` edges; repeated pairs keep the latest one.

        Raises:
            DataError: the graph has no users, no items or no interactions.
        """
        num_users = num_nodes(data, "user")
        num_items = num_nodes(data, "item")
        if num_users == 0 or num_items == 0:
            raise DataError(
                f"empty graph: {num_users} users and {num_items} items were exported; "
                "load a catalog and its interactions into the graph first"
            )
        if INTERACTED not in data.edge_types or data[INTERACTED].num_edges == 0:
            raise DataError(
                f"no interactions: the graph has {num_users} users and {num_items} items "
                "but no (:User)-[:INTERACTED]->(:Item) relationships; load an interaction log"
            )
        store = data[INTERACTED]
        user, item = store.edge_index.long()
        _check_range("user", user, num_users)
        _check_range("item", item, num_items)
        ts = store.ts.long() if "ts" in store else torch.zeros_like(user)
        stored = store.split.long() if "split" in store else torch.zeros_like(user)

        # Sort by (pair, time) and keep the last row of each pair: the latest interaction.
        key = user * num_items + item
        by_time = torch.sort(ts, stable=True).indices
        order = by_time[torch.sort(key[by_time], stable=True).indices]
        key_sorted = key[order]
        is_last = torch.ones_like(key_sorted, dtype=torch.bool)
        is_last[:-1] = key_sorted[1:] != key_sorted[:-1]
        keep = order[is_last]
        return cls(num_users, num_items, user[keep], item[keep], ts[keep], stored[keep])


@dataclass(frozen=True)
class UserItems:
    """Each user's items as CSR: the items of user ``u`` are
    ``indices[indptr[u]:indptr[u + 1]]``, sorted ascending.

    Used to mask seen items when ranking and to reject positives when sampling
    negatives, both without a Python loop over users.
    """

    indptr: Tensor
    indices: Tensor
    num_items: int

    @classmethod
    def from_edges(cls, edge_index: Tensor, num_users: int, num_items: int) -> UserItems:
        """Build from ``(user, item)`` pairs of shape ``(2, E)``; pairs must be distinct."""
        user, item = edge_index
        order = torch.argsort(user * num_items + item)
        count = torch.bincount(user, minlength=num_users)
        indptr = torch.zeros(num_users + 1, dtype=torch.long)
        indptr[1:] = torch.cumsum(count, 0)
        return cls(indptr=indptr, indices=item[order], num_items=num_items)

    @property
    def num_users(self) -> int:
        return self.indptr.numel() - 1

    def degree(self) -> Tensor:
        """Number of items per user."""
        return self.indptr[1:] - self.indptr[:-1]

    def items_of(self, user: int) -> Tensor:
        return self.indices[self.indptr[user] : self.indptr[user + 1]]

    def pairs(self, users: Tensor) -> tuple[Tensor, Tensor]:
        """All items of ``users``: returns ``(row, item)`` where ``row`` indexes ``users``."""
        users = users.cpu()
        count = self.degree()[users]
        row = torch.repeat_interleave(torch.arange(users.numel()), count)
        start = torch.repeat_interleave(self.indptr[users], count)
        offset = torch.arange(row.numel()) - torch.repeat_interleave(
            torch.cumsum(count, 0) - count, count
        )
        return row, self.indices[start + offset]

    def contains(self, users: Tensor, items: Tensor) -> Tensor:
        """Whether each ``(users[j], items[j])`` pair is present, as a bool tensor."""
        keys = self._sorted_keys.to(users.device)
        if keys.numel() == 0:
            return torch.zeros_like(users, dtype=torch.bool)
        query = users * self.num_items + items
        position = torch.searchsorted(keys, query).clamp(max=keys.numel() - 1)
        return keys[position] == query

    def union(self, other: UserItems) -> UserItems:
        """Items of each user in ``self`` or ``other`` (the two must be disjoint)."""
        row_a = torch.repeat_interleave(torch.arange(self.num_users), self.degree())
        row_b = torch.repeat_interleave(torch.arange(other.num_users), other.degree())
        edges = torch.stack([torch.cat([row_a, row_b]), torch.cat([self.indices, other.indices])])
        return UserItems.from_edges(edges, self.num_users, self.num_items)

    @cached_property
    def _sorted_keys(self) -> Tensor:
        row = torch.repeat_interleave(torch.arange(self.num_users), self.degree())
        return row * self.num_items + self.indices


def _check_range(name: str, index: Tensor, size: int) -> None:
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= size):
        raise DataError(
            f"interaction {name} indices must lie in [0, {size}); "
            f"found {int(index.min())} .. {int(index.max())}"
        )
