"""A synthetic catalog and interaction log with a learnable structure.

The generative story, all numpy and deterministic for a seed:

1. Items fall into ``communities`` clusters. Cluster ``k`` owns the top-level
   category ``"Category k"`` and its ``subcategories`` leaves
   (``"Category k > Subcategory k.j"``, ``SUBCONCEPT_OF`` the top level); each
   item sits in one leaf of its cluster (relation ``has_category``).
2. Each cluster owns ``tags_per_community`` tags. An item draws
   ``concepts_per_item`` distinct tags (relation ``has_tag``), each from its own
   cluster's tags with probability ``affinity``, else from the others.
3. Popularity is Zipf-like: the item of popularity rank ``r`` (0-based) has
   weight ``(r + 1) ** -popularity_exponent``.
4. Users belong to one latent taste community each and have a log-normal
   activity level. An interaction picks a user by activity, then, with
   probability ``affinity``, a popular item of the user's community, else a
   popular item of the whole catalog. Repeated (user, item) pairs are dropped
   and redrawn, so there are none.
5. Timestamps are uniform over ``days`` days from ``start``; the log comes out
   in time order.

Ground truth is kept as properties: items carry ``cluster`` and
``popularity_rank``, users carry ``community``.

Rows come out concepts (categories, hierarchy, tags), items with their
edges, users, then interactions (kind ``"interacted"``, weight 1.0).

:func:`synthetic_arrays` returns the same draws as numpy arrays instead of
rows, for benchmarks at sizes (millions of interactions) where rows and a
graph database are not the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphrec.schema import DEFAULT_INTERACTION_KIND, ConceptKind

from ._nodes import Seen
from .errors import LoaderError
from .rows import InteractionRow, ItemConceptRow, ItemRow, Row, UserRow

__all__ = ["SyntheticArrays", "generate_synthetic", "parse_synthetic", "synthetic_arrays"]

HAS_CATEGORY = "has_category"
HAS_TAG = "has_tag"

_CHUNK = 65_536  # rows converted from numpy to Python at a time
_MAX_ROUNDS = 40  # sampling rounds before giving up on a too-dense request


def generate_synthetic(
    *,
    users: int = 1_000,
    items: int = 2_000,
    interactions: int = 50_000,
    concepts_per_item: int = 3,
    communities: int = 8,
    subcategories: int = 4,
    tags_per_community: int = 12,
    affinity: float = 0.8,
    popularity_exponent: float = 1.0,
    start: int = 1_577_836_800,
    days: int = 365,
    seed: int = 0,
) -> Iterator[Row]:
    """Generate a synthetic dataset as a stream of rows.

    Args:
        users: Number of users (default: 1000).
        items: Number of items (default: 2000).
        interactions: Number of distinct (user, item) interactions; at most
            half of ``users * items`` (default: 50000).
        concepts_per_item: Tags per item, besides its category (default: 3).
        communities: Taste communities, one item cluster each (default: 8).
        subcategories: Leaf categories under each top-level category (default: 4).
        tags_per_community: Tags owned by each cluster (default: 12).
        affinity: Probability that an interaction (or a tag) stays inside the
            community's cluster (default: 0.8).
        popularity_exponent: Zipf exponent of item popularity (default: 1.0).
        start: First possible timestamp, Unix seconds (default: 2020-01-01).
        days: Length of the time window (default: 365).
        seed: Random seed; the same arguments give the same rows (default: 0).

    Raises:
        LoaderError: arguments out of range. Raised by this call.
    """
    arrays = synthetic_arrays(
        users=users,
        items=items,
        interactions=interactions,
        concepts_per_item=concepts_per_item,
        communities=communities,
        subcategories=subcategories,
        tags_per_community=tags_per_community,
        affinity=affinity,
        popularity_exponent=popularity_exponent,
        start=start,
        days=days,
        seed=seed,
    )
    return _emit(
        communities,
        subcategories,
        tags_per_community,
        arrays.item_cluster,
        arrays.item_leaf,
        arrays.item_tags,
        arrays.popularity_rank,
        arrays.user_community,
        (arrays.user, arrays.item, arrays.timestamp),
    )


@dataclass(frozen=True)
class SyntheticArrays:
    """The draws of :func:`generate_synthetic`, as numpy arrays.

    Attributes:
        user: User index of each interaction, in time order, shape ``(E,)``.
        item: Item index of each interaction, shape ``(E,)``.
        timestamp: Unix seconds of each interaction, non-decreasing, shape ``(E,)``.
        item_cluster: Cluster (community) of each item, shape ``(items,)``.
        item_leaf: Leaf category of each item within its cluster, shape ``(items,)``.
        item_tags: Tag indices of each item (tag ``k * tags_per_community + j``
            is tag ``j`` of cluster ``k``), shape ``(items, concepts_per_item)``.
        popularity_rank: Popularity rank of each item (0 most popular), shape ``(items,)``.
        user_community: Taste community of each user, shape ``(users,)``.
    """

    user: np.ndarray
    item: np.ndarray
    timestamp: np.ndarray
    item_cluster: np.ndarray
    item_leaf: np.ndarray
    item_tags: np.ndarray
    popularity_rank: np.ndarray
    user_community: np.ndarray


def synthetic_arrays(
    *,
    users: int = 1_000,
    items: int = 2_000,
    interactions: int = 50_000,
    concepts_per_item: int = 3,
    communities: int = 8,
    subcategories: int = 4,
    tags_per_community: int = 12,
    affinity: float = 0.8,
    popularity_exponent: float = 1.0,
    start: int = 1_577_836_800,
    days: int = 365,
    seed: int = 0,
) -> SyntheticArrays:
    """The synthetic dataset of :func:`generate_synthetic` (same arguments, same
    draws for the same seed) as arrays; vectorised, so it scales to millions of
    interactions.

    Raises:
        LoaderError: arguments out of range.
    """
    _check(
        users,
        items,
        interactions,
        concepts_per_item,
        communities,
        subcategories,
        tags_per_community,
        affinity,
        days,
    )
    rng = np.random.default_rng(seed)
    item_cluster = rng.integers(0, communities, items)
    item_leaf = rng.integers(0, subcategories, items)
    n_tags = communities * tags_per_community
    item_tags = _item_tags(
        rng, item_cluster, n_tags, tags_per_community, concepts_per_item, affinity
    )
    popularity_rank = rng.permutation(items)
    popularity = (popularity_rank + 1.0) ** -popularity_exponent
    user_community = rng.integers(0, communities, users)
    activity = rng.lognormal(0.0, 1.0, users)
    pairs = _sample_pairs(
        rng, interactions, communities, user_community, activity, item_cluster, popularity, affinity
    )
    timestamps = start + rng.integers(0, days * 86_400, len(pairs))
    order = np.argsort(timestamps, kind="stable")
    return SyntheticArrays(
        user=pairs[order] // items,
        item=pairs[order] % items,
        timestamp=timestamps[order],
        item_cluster=item_cluster,
        item_leaf=item_leaf,
        item_tags=item_tags,
        popularity_rank=popularity_rank,
        user_community=user_community,
    )


def parse_synthetic(path: Path | None = None, **options: Any) -> Iterator[Row]:
    """The ``synthetic`` format: ``path`` is ignored; ``options`` go to :func:`generate_synthetic`."""
    try:
        return generate_synthetic(**options)
    except TypeError as exc:
        raise LoaderError(f"synthetic: {exc}") from None


def _check(
    users: int,
    items: int,
    interactions: int,
    concepts_per_item: int,
    communities: int,
    subcategories: int,
    tags_per_community: int,
    affinity: float,
    days: int,
) -> None:
    positive = {
        "users": users,
        "items": items,
        "communities": communities,
        "subcategories": subcategories,
        "tags_per_community": tags_per_community,
        "days": days,
    }
    for name, value in positive.items():
        if not isinstance(value, int) or value < 1:
            raise LoaderError(f"synthetic: {name} must be a positive integer, got {value!r}")
    if not 0 <= interactions <= users * items // 2:
        raise LoaderError(
            f"synthetic: interactions must be between 0 and users*items/2 = "
            f"{users * items // 2}, got {interactions}"
        )
    if not 0 <= concepts_per_item <= communities * tags_per_community:
        raise LoaderError(
            f"synthetic: concepts_per_item must be between 0 and communities*tags_per_community"
            f" = {communities * tags_per_community}, got {concepts_per_item}"
        )
    if not 0.0 <= affinity <= 1.0:
        raise LoaderError(f"synthetic: affinity must be within [0, 1], got {affinity}")


def _item_tags(
    rng: np.random.Generator,
    item_cluster: np.ndarray,
    n_tags: int,
    per_cluster: int,
    k: int,
    affinity: float,
) -> np.ndarray:
    """``(items, k)`` distinct tag indices per item, biased to the item's cluster.

    Weighted sampling without replacement via the Gumbel top-k trick, in
    chunks so memory stays ``chunk * n_tags``.
    """
    items = len(item_cluster)
    out = np.empty((items, k), dtype=np.int64)
    if k == 0:
        return out
    communities = n_tags // per_cluster
    outside = (1.0 - affinity) / max(communities - 1, 1) if communities > 1 else 0.0
    inside = affinity if communities > 1 else 1.0
    tag_cluster = np.arange(n_tags) // per_cluster
    log_in, log_out = np.log(max(inside, 1e-12)), np.log(max(outside, 1e-12))
    chunk = max(1, 4_000_000 // n_tags)
    for lo in range(0, items, chunk):
        clusters = item_cluster[lo : lo + chunk]
        own = tag_cluster[None, :] == clusters[:, None]
        keys = np.where(own, log_in, log_out) + rng.gumbel(size=own.shape)
        out[lo : lo + chunk] = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    return out


def _sample_pairs(
    rng: np.random.Generator,
    target: int,
    communities: int,
    user_community: np.ndarray,
    activity: np.ndarray,
    item_cluster: np.ndarray,
    popularity: np.ndarray,
    affinity: float,
) -> np.ndarray:
    """``target`` distinct ``user * n_items + item`` keys, in generation order."""
    n_users, n_items = len(user_community), len(item_cluster)
    user_cdf = np.cumsum(activity / activity.sum())
    # Items sorted by cluster; one cumulative popularity serves both the
    # whole-catalog draw and the draw inside one cluster (a slice of it).
    by_cluster = np.argsort(item_cluster, kind="stable")
    cum = np.cumsum(popularity[by_cluster])
    bounds = np.searchsorted(item_cluster[by_cluster], np.arange(communities + 1))
    cum0 = np.concatenate(([0.0], cum))
    mass_before = cum0[bounds[:-1]]
    mass = cum0[bounds[1:]] - mass_before  # popularity mass per cluster; 0 when empty

    accepted: list[np.ndarray] = []  # new keys per round, in generation order
    taken = np.empty(0, dtype=np.int64)  # every accepted key, sorted
    for round_ in range(_MAX_ROUNDS):
        missing = target - len(taken)
        if missing <= 0:
            break
        n = int(missing * 1.25) + 64
        if round_ < _MAX_ROUNDS // 2:
            users = np.minimum(np.searchsorted(user_cdf, rng.random(n), side="right"), n_users - 1)
            cluster = user_community[users]
            inside = (rng.random(n) < affinity) & (mass[cluster] > 0)
            low = np.where(inside, mass_before[cluster], 0.0)
            span = np.where(inside, mass[cluster], cum[-1])
            pos = np.searchsorted(cum, low + rng.random(n) * span, side="right")
            chosen = by_cluster[np.minimum(pos, n_items - 1)]
        else:  # a dense request: finish with uniform draws so it terminates
            users = rng.integers(0, n_users, n)
            chosen = rng.integers(0, n_items, n)
        candidates = users.astype(np.int64) * n_items + chosen
        unique, first = np.unique(candidates, return_index=True)
        if len(taken):
            at = np.minimum(np.searchsorted(taken, unique), len(taken) - 1)
            first = first[taken[at] != unique]
        new = candidates[np.sort(first)][:missing]
        accepted.append(new)
        # Both parts are sorted runs, which the stable (merge) sort joins in linear time.
        taken = np.sort(np.concatenate((taken, np.sort(new))), kind="stable")
    if len(taken) < target:
        raise LoaderError(f"synthetic: could not draw {target} distinct interactions")
    return np.concatenate(accepted) if accepted else taken


def _emit(
    communities: int,
    subcategories: int,
    tags_per_community: int,
    item_cluster: np.ndarray,
    item_leaf: np.ndarray,
    item_tags: np.ndarray,
    popularity_rank: np.ndarray,
    user_community: np.ndarray,
    log: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> Iterator[Row]:
    seen = Seen()
    leaf_ids: list[list[str]] = []
    for k in range(communities):
        leaf_ids.append([])
        for j in range(subcategories):
            path = [f"Category {k}", f"Subcategory {k}.{j}"]
            leaf, rows = seen.concept_path(ConceptKind.CATEGORY, path)
            yield from rows
            leaf_ids[k].append(leaf)
    tag_ids = []
    for k in range(communities):
        for j in range(tags_per_community):
            cid, row = seen.concept(ConceptKind.TAG, f"tag {k}.{j}")
            assert row is not None
            yield row
            tag_ids.append(cid)

    item_ids = [f"i{i}" for i in range(len(item_cluster))]
    for i, (cluster, leaf, rank, tags) in enumerate(
        zip(
            item_cluster.tolist(),
            item_leaf.tolist(),
            popularity_rank.tolist(),
            item_tags.tolist(),
            strict=True,
        )
    ):
        item_id = item_ids[i]
        yield ItemRow(item_id, f"Item {i}", {"cluster": cluster, "popularity_rank": rank})
        yield ItemConceptRow(item_id, leaf_ids[cluster][leaf], HAS_CATEGORY)
        for tag in tags:
            yield ItemConceptRow(item_id, tag_ids[tag], HAS_TAG)

    user_ids = [f"u{u}" for u in range(len(user_community))]
    for u, community in enumerate(user_community.tolist()):
        yield UserRow(user_ids[u], {"community": community})

    users, items, timestamps = log
    kind = DEFAULT_INTERACTION_KIND
    for lo in range(0, len(users), _CHUNK):
        hi = lo + _CHUNK
        for u, i, ts in zip(
            users[lo:hi].tolist(), items[lo:hi].tolist(), timestamps[lo:hi].tolist(), strict=True
        ):
            yield InteractionRow(user_ids[u], item_ids[i], kind, 1.0, None, ts)
