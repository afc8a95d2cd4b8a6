"""Adapters from the exported :class:`~torch_geometric.data.HeteroData` to training data.

The export turns a subgraph into a ``HeteroData`` (see ``graphrec.export``).
Models, training and evaluation never see that object directly; they take a
:class:`RecData`: the user-item interactions split into train / validation /
test, each user's seen items as CSR for masking and negative sampling, and the
item-concept knowledge graph for relation-aware models. Nothing here touches
the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphrec.data import split as splits
from graphrec.data.derived import CO_ENGAGED_RELATION, CoEngagementRule, co_engagement_edges
from graphrec.data.interactions import Interactions, UserItems
from graphrec.data.knowledge import KnowledgeGraph, add_item_links, without_relation
from graphrec.data.types import CO_ENGAGED, DataError, num_nodes

SPLIT_METHODS = ("random", "temporal", "stored")


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
        co_engagement: CoEngagementRule | None = CoEngagementRule(),
    ) -> RecData:
        """Split the exported interactions and collect the knowledge graph.

        Inputs derived from interactions come from the training split only: the
        export's ``co_engaged`` links (derived in the graph from all interactions,
        test ones included) are dropped, and, when the export has that edge type,
        derived again from the training pairs with ``co_engagement``'s rule
        (:mod:`graphrec.data.derived`).

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
            co_engagement (CoEngagementRule, optional): The rule for the derived
                item-item links; :obj:`None` leaves them out.
                (default: ``CoEngagementRule()``, as ``graphrec ingest``)

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
        derive = co_engagement is not None and CO_ENGAGED in data.edge_types
        config = {
            "split": split,
            "test_ratio": test_ratio,
            "val_ratio": val_ratio,
            "last_n": last_n,
            "cutoff": cutoff,
            "min_interactions": min_interactions,
            "seed": seed,
            "co_engagement": co_engagement.as_dict() if derive else None,
        }
        kg = KnowledgeGraph.from_hetero(data, skip=[CO_ENGAGED])
        rec = cls.from_split(interactions, parts, kg, config)
        if derive:
            rec.kg = with_co_engagement(rec, co_engagement, num_concepts=num_nodes(data, "concept"))
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

    def for_refit(self) -> RecData:
        """Every interaction (train, validation and test) as training, nothing held out: the
        data a model is refit on for serving once its epochs were chosen on validation.
        Derived inputs (co-engagement) are derived again from all of them."""
        empty = self.train[:, :0]
        rec = RecData(
            num_users=self.num_users,
            num_items=self.num_items,
            train=torch.cat([self.train, self.val, self.test], dim=1),
            val=empty,
            test=empty,
            kg=without_relation(self.kg, CO_ENGAGED_RELATION),
            split_config={**self.split_config, "refit": True},
        )
        rule = self.split_config.get("co_engagement")
        if rule is not None:
            concepts = self.kg.num_concepts if self.kg is not None else 0
            rec.kg = with_co_engagement(rec, CoEngagementRule(**rule), num_concepts=concepts)
        return rec

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


def with_co_engagement(
    rec: RecData, rule: CoEngagementRule, *, num_concepts: int
) -> KnowledgeGraph | None:
    """``rec``'s knowledge graph plus co-engagement links among its training pairs only."""
    links, weight = co_engagement_edges(rec.train, rec.num_users, rec.num_items, rule)
    return add_item_links(
        rec.kg,
        links,
        CO_ENGAGED_RELATION,
        num_items=rec.num_items,
        num_concepts=num_concepts,
        edge_weight=weight,
    )
