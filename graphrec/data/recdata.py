"""Adapters from the exported :class:`~torch_geometric.data.HeteroData` to training data.

The export turns a subgraph into a ``HeteroData`` (see ``graphrec.export``).
Models, training and evaluation never see that object directly; they take a
:class:`RecData`: the user-item interactions split into train / validation /
test, each user's seen items as CSR for masking and negative sampling, and the
item-concept knowledge graph for relation-aware models. Nothing here touches
the database.

:func:`synthetic_hetero` builds a small ``HeteroData`` with planted communities,
in the export's format, for tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphrec.data import split as splits

INTERACTED = ("user", "interacted", "item")
HAS_CONCEPT = ("item", "has_concept", "concept")
RELATED = ("concept", "related", "concept")
SUBCONCEPT_OF = ("concept", "subconcept_of", "concept")
CO_ENGAGED = ("item", "co_engaged", "item")

SPLIT_METHODS = ("random", "temporal", "stored")


class DataError(ValueError):
    """The exported graph cannot be trained on; the message says what to change."""


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
        num_users = _num_nodes(data, "user")
        num_items = _num_nodes(data, "item")
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
class KnowledgeGraph:
    """Item and concept edges in one entity index space, for relation-aware models.

    Items keep their indices ``0 .. num_items - 1``; concept ``c`` becomes entity
    ``num_items + c`` (as in KGAT, items are entities of the knowledge graph).
    Each edge reads ``head --relation--> tail``.

    Attributes:
        num_items: Number of items.
        num_concepts: Number of concepts.
        edge_index: ``(head, tail)`` entity indices, shape ``(2, E)``.
        edge_type: Relation index per edge, shape ``(E,)``.
        relation_names: Name of each relation index.
    """

    num_items: int
    num_concepts: int
    edge_index: Tensor
    edge_type: Tensor
    relation_names: list[str]

    @property
    def num_relations(self) -> int:
        return len(self.relation_names)

    @property
    def num_edges(self) -> int:
        return self.edge_type.numel()

    @classmethod
    def from_hetero(cls, data: HeteroData) -> KnowledgeGraph | None:
        """Collect ``has_concept``, ``related``, ``subconcept_of`` and ``co_engaged`` edges.

        Relation names come from ``data.relation_names`` where an edge type has a
        ``relation`` attribute, else from the edge type. Only relations that occur
        are kept. Returns :obj:`None` when none of these edge types has an edge.
        """
        num_items = _num_nodes(data, "item")
        num_concepts = _num_nodes(data, "concept")
        known = list(getattr(data, "relation_names", None) or [])
        vocabulary = list(known)  # plus edge-type names for edges without a relation
        heads, tails, types = [], [], []
        for edge_type in (HAS_CONCEPT, RELATED, SUBCONCEPT_OF, CO_ENGAGED):
            if edge_type not in data.edge_types or data[edge_type].num_edges == 0:
                continue
            store = data[edge_type]
            src, dst = store.edge_index.long()
            heads.append(src + (num_items if edge_type[0] == "concept" else 0))
            tails.append(dst + (num_items if edge_type[2] == "concept" else 0))
            if "relation" in store and known:
                relation = store.relation.long()
                if int(relation.min()) < 0 or int(relation.max()) >= len(known):
                    raise DataError(
                        f"{edge_type} relation indices must lie in [0, {len(known)}) "
                        f"(data.relation_names); found {int(relation.min())} .. "
                        f"{int(relation.max())}"
                    )
                types.append(relation)
            else:
                if edge_type[1] not in vocabulary:
                    vocabulary.append(edge_type[1])
                types.append(torch.full_like(src, vocabulary.index(edge_type[1])))
        if not heads:
            return None
        # Keep only the relations that occur, renumbered 0 .. R-1.
        used, edge_type_index = torch.unique(torch.cat(types), return_inverse=True)
        return cls(
            num_items=num_items,
            num_concepts=num_concepts,
            edge_index=torch.stack([torch.cat(heads), torch.cat(tails)]),
            edge_type=edge_type_index,
            relation_names=[vocabulary[index] for index in used.tolist()],
        )


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


@dataclass(frozen=True)
class GraphSize:
    """How big a training export will be, counted in the graph before it runs.

    Enough for a lower bound of the memory estimates
    (:func:`graphrec.training.minibatch.estimate_fullbatch_memory` and
    :func:`~graphrec.training.minibatch.estimate_minibatch_memory`), so a cap that
    cannot be met is refused before the export (``graphrec.export.graph_size``
    reads it). Counts are those of an unfiltered export.

    Args:
        users: Users with at least one interaction.
        items: Items.
        concepts: Concepts (genres, tags, KG entities...).
        kg_edges: ``HAS_CONCEPT``, ``SUBCONCEPT_OF``, ``RELATED`` and ``CO_ENGAGED``
            relationships: the relation-aware model's knowledge graph.
    """

    users: int
    items: int
    concepts: int
    kg_edges: int


@dataclass
class RecData:
    """Interactions split for training and evaluation, plus the knowledge graph.

    Attributes:
        num_users: Number of users.
        num_items: Number of items.
        train: Training ``(user, item)`` pairs, shape ``(2, E_train)``. The only
            interactions models may see.
        val: Validation pairs (early stopping), shape ``(2, E_val)``.
        test: Test pairs, shape ``(2, E_test)``.
        kg: Item and concept edges, or :obj:`None` when the graph has none.
        split_config: How the split was made, so a run can be reproduced.
    """

    num_users: int
    num_items: int
    train: Tensor
    val: Tensor
    test: Tensor
    kg: KnowledgeGraph | None = None
    split_config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_hetero(
        cls,
        data: HeteroData,
        *,
        split: str = "random",
        test_ratio: float = 0.2,
        val_ratio: float = 0.1,
        last_n: int = 1,
        cutoff: int | None = None,
        min_interactions: int = 3,
        seed: int = 0,
    ) -> RecData:
        """Split the exported interactions and collect the knowledge graph.

        Args:
            data (HeteroData): The export's graph.
            split (str, optional): ``"random"``, ``"temporal"`` or ``"stored"``;
                see :mod:`graphrec.data.split`. (default: :obj:`"random"`)
            test_ratio (float, optional): Random split's test share per user.
                (default: :obj:`0.2`)
            val_ratio (float, optional): Validation share per user (random and
                stored splits). (default: :obj:`0.1`)
            last_n (int, optional): Temporal split's test interactions per user.
                (default: :obj:`1`)
            cutoff (int, optional): Temporal split's global cut-off timestamp.
                (default: :obj:`None`)
            min_interactions (int, optional): Users with fewer interactions stay
                wholly in train. (default: :obj:`3`)
            seed (int, optional): Seed of the random shuffles. (default: :obj:`0`)

        Raises:
            DataError: no interactions, or the split leaves no test interactions.
        """
        interactions = Interactions.from_hetero(data)
        if split == "random":
            parts = splits.random_split(
                interactions.user,
                test_ratio=test_ratio,
                val_ratio=val_ratio,
                min_interactions=min_interactions,
                seed=seed,
            )
        elif split == "temporal":
            parts = splits.temporal_split(
                interactions.user,
                interactions.ts,
                last_n=last_n,
                cutoff=cutoff,
                val_last_n=1 if val_ratio > 0 else 0,
                min_interactions=min_interactions,
            )
        elif split == "stored":
            parts = splits.stored_split(
                interactions.user,
                interactions.stored_split,
                val_ratio=val_ratio,
                min_interactions=min_interactions,
                seed=seed,
            )
        else:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_METHODS)}")
        config = {
            "split": split,
            "test_ratio": test_ratio,
            "val_ratio": val_ratio,
            "last_n": last_n,
            "cutoff": cutoff,
            "min_interactions": min_interactions,
            "seed": seed,
        }
        rec = cls.from_split(interactions, parts, KnowledgeGraph.from_hetero(data), config)
        if rec.test.size(1) == 0:
            raise DataError(
                f"the {split} split left no user with test interactions "
                f"({interactions.num_users} users, {len(interactions)} interactions); "
                + _no_test_advice(split, min_interactions, test_ratio, cutoff)
            )
        return rec

    @classmethod
    def from_split(
        cls,
        interactions: Interactions,
        parts: splits.Split,
        kg: KnowledgeGraph | None = None,
        split_config: dict[str, Any] | None = None,
    ) -> RecData:
        """Assemble from an interaction list and a :class:`~graphrec.data.split.Split` of it."""
        pairs = torch.stack([interactions.user, interactions.item])
        return cls(
            num_users=interactions.num_users,
            num_items=interactions.num_items,
            train=pairs[:, parts.train],
            val=pairs[:, parts.val],
            test=pairs[:, parts.test],
            kg=kg,
            split_config=dict(split_config or {}),
        )

    @cached_property
    def train_items(self) -> UserItems:
        """Each user's training items (masked when ranking, rejected as negatives)."""
        return UserItems.from_edges(self.train, self.num_users, self.num_items)

    @cached_property
    def val_items(self) -> UserItems:
        return UserItems.from_edges(self.val, self.num_users, self.num_items)

    @cached_property
    def test_items(self) -> UserItems:
        return UserItems.from_edges(self.test, self.num_users, self.num_items)

    @cached_property
    def item_popularity(self) -> Tensor:
        """Number of training interactions per item, shape ``(num_items,)``."""
        return torch.bincount(self.train[1], minlength=self.num_items)

    def target_items(self, split: str) -> UserItems:
        """The held-out items of ``split`` (``"val"`` or ``"test"``)."""
        if split == "val":
            return self.val_items
        if split == "test":
            return self.test_items
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")

    def seen_items(self, split: str) -> UserItems:
        """Items to mask when ranking for ``split``: train, plus validation for test."""
        if split == "val":
            return self.train_items
        return self.train_items.union(self.val_items)

    def summary(self) -> str:
        users_with_test = int((self.test_items.degree() > 0).sum())
        kg = "no knowledge graph"
        if self.kg is not None:
            kg = (
                f"{self.kg.num_concepts} concepts, {self.kg.num_edges} KG edges "
                f"over {self.kg.num_relations} relations"
            )
        return (
            f"{self.num_users} users, {self.num_items} items; interactions "
            f"train {self.train.size(1)} / val {self.val.size(1)} / test {self.test.size(1)} "
            f"({users_with_test} users with test items); {kg}"
        )


def synthetic_hetero(
    *,
    num_users: int = 60,
    num_items: int = 40,
    num_communities: int = 3,
    interactions_per_user: int = 8,
    noise: float = 0.1,
    num_tags: int = 6,
    stored_test_ratio: float = 0.0,
    seed: int = 0,
) -> HeteroData:
    """A ``HeteroData`` in the export's format with planted communities.

    User ``u`` and item ``i`` belong to community ``u % num_communities`` and
    ``i % num_communities``. Each user picks ``interactions_per_user`` distinct
    items, from their own community with probability about ``1 - noise``;
    within a community, item popularity follows a Zipf law, so there are head
    and long-tail items. Each community has a genre concept (items link to it
    with ``has_genre``); tags are random (``has_tag``), each tag is a
    ``subconcept_of`` a genre, neighbouring genres are ``related_to`` each
    other, and items of one community are ``co_engaged``.

    Args:
        num_users (int, optional): Users. (default: :obj:`60`)
        num_items (int, optional): Items. (default: :obj:`40`)
        num_communities (int, optional): Planted communities. (default: :obj:`3`)
        interactions_per_user (int, optional): Distinct items per user. (default: :obj:`8`)
        noise (float, optional): Share of interactions outside the user's
            community. (default: :obj:`0.1`)
        num_tags (int, optional): Tag concepts. (default: :obj:`6`)
        stored_test_ratio (float, optional): If positive, about this share of
            interactions gets ``split = 2`` (test) and the rest ``split = 1``.
            (default: :obj:`0.0`)
        seed (int, optional): Random seed. (default: :obj:`0`)
    """
    if interactions_per_user > num_items:
        raise ValueError("interactions_per_user cannot exceed num_items")
    generator = torch.Generator().manual_seed(seed)
    user_comm = torch.arange(num_users) % num_communities
    item_comm = torch.arange(num_items) % num_communities
    rank_in_comm = torch.arange(num_items) // num_communities
    popularity = (rank_in_comm + 1.0).pow(-0.8)
    same = user_comm.view(-1, 1) == item_comm.view(1, -1)
    outside = noise / max(1e-9, 1 - noise) / max(1, num_communities - 1)
    weight = popularity.view(1, -1) * torch.where(same, 1.0, outside)
    items = torch.multinomial(weight, interactions_per_user, generator=generator)
    user = torch.arange(num_users).repeat_interleave(interactions_per_user)
    item = items.reshape(-1)
    ts = 1_000_000 + torch.randint(0, 10_000_000, (user.numel(),), generator=generator)

    data = HeteroData()
    data["user"].num_nodes = num_users
    data["item"].num_nodes = num_items
    num_genres = num_communities
    data["concept"].num_nodes = num_genres + num_tags
    data["concept"].kind = torch.tensor([0] * num_genres + [1] * num_tags)
    data.concept_kinds = ["genre", "tag"]
    data.relation_names = ["has_genre", "has_tag", "related_to"]

    store = data[INTERACTED]
    store.edge_index = torch.stack([user, item])
    store.weight = torch.ones(user.numel())
    store.ts = ts
    store.split = torch.zeros_like(user)
    if stored_test_ratio > 0:
        is_test = torch.rand(user.numel(), generator=generator) < stored_test_ratio
        store.split = 1 + is_test.long()

    tag_of_item = torch.randint(0, num_tags, (num_items,), generator=generator)
    data[HAS_CONCEPT].edge_index = torch.stack(
        [torch.arange(num_items).repeat(2), torch.cat([item_comm, num_genres + tag_of_item])]
    )
    data[HAS_CONCEPT].relation = torch.tensor([0] * num_items + [1] * num_items)
    data[HAS_CONCEPT].weight = torch.ones(2 * num_items)

    genre = torch.arange(num_genres)
    data[RELATED].edge_index = torch.stack([genre, (genre + 1) % num_genres])
    data[RELATED].relation = torch.full((num_genres,), 2)
    tag = torch.arange(num_tags)
    data[SUBCONCEPT_OF].edge_index = torch.stack([num_genres + tag, tag % num_genres])

    # Consecutive items of a community (i and i + num_communities) are co-engaged.
    first = torch.arange(max(0, num_items - num_communities))
    data[CO_ENGAGED].edge_index = torch.stack([first, first + num_communities])
    data[CO_ENGAGED].weight = torch.ones(first.numel())
    return data


def _num_nodes(data: HeteroData, node_type: str) -> int:
    if node_type not in data.node_types:
        return 0
    return int(data[node_type].num_nodes or 0)


def _check_range(name: str, index: Tensor, size: int) -> None:
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= size):
        raise DataError(
            f"interaction {name} indices must lie in [0, {size}); "
            f"found {int(index.min())} .. {int(index.max())}"
        )


def _no_test_advice(
    split: str, min_interactions: int, test_ratio: float, cutoff: int | None
) -> str:
    if split == "temporal" and cutoff is not None:
        return f"no interaction is at or after cutoff={cutoff}; choose an earlier cutoff"
    if split == "stored":
        return "no interaction is stored as test; use split='random' or 'temporal'"
    advice = f"every user has fewer than min_interactions={min_interactions} interactions"
    if split == "random":
        advice += f" (or test_ratio={test_ratio} is 0)"
    return advice + "; lower min_interactions or load more interactions"
