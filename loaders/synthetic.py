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

With ``entity_kg=True`` (or an :class:`EntityKG` of options) the catalog also
gets a typed knowledge graph of artists, producers, labels and countries
(concept kind ``entity``; :mod:`graphrec.loaders._entity_kg` has the table of
relations), and the taste signal lives partly in it:

6. Each cluster's items are split among its artists (about
   ``items_per_artist`` each, every artist with at least one item); an artist
   is signed to a label and a producer works on an item, both of the same
   community with probability ``affinity``; artists collaborate, mostly
   inside their community. Artists, labels and producers come from a few
   Zipf-distributed countries, so the first countries are hub entities linked
   to a large share of the catalog, with no taste signal of their own.
7. Each user prefers ``artists_per_user`` artists, from their own community
   with probability ``affinity``. In step 4 a share ``entity_affinity`` of the
   draws becomes "a preferred artist, then one of its items uniformly",
   ignoring popularity. An artist's items mix head and tail items, so a tail
   item with few interactions shares its artist with popular items chosen by
   the same users, and is reachable from them through the KG
   (item -> artist <- item) even when its own interactions are too few.

Ground truth is kept as properties: items carry ``cluster`` and
``popularity_rank`` (and ``artist`` with the KG), users carry ``community``
(and ``preferred_artists``, a list of artist indices).

Rows come out concepts (categories, hierarchy, tags, then the entities and
their ``RELATED`` edges), items with their edges, users, then interactions
(kind ``"interacted"``, weight 1.0).

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

from ._entity_kg import (
    HAS_ARTIST,
    PRODUCED_BY,
    RELEASED_IN,
    EntityArrays,
    EntityKG,
    artist_route,
    draw_entities,
    entity_rows,
)
from ._nodes import Seen
from ._synthetic_checks import check_options
from ._synthetic_draws import draw_item_tags, sample_pairs
from .errors import LoaderError
from .rows import InteractionRow, ItemConceptRow, ItemRow, Row, UserRow

__all__ = [
    "EntityKG",
    "SyntheticArrays",
    "generate_synthetic",
    "parse_synthetic",
    "synthetic_arrays",
]

HAS_CATEGORY = "has_category"
HAS_TAG = "has_tag"

_CHUNK = 65_536  # rows converted from numpy to Python at a time


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
    entity_kg: bool | EntityKG = False,
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
        entity_kg: Add the typed entity KG (steps 6 and 7 of the module
            docstring); ``True`` for the defaults of :class:`EntityKG`, or an
            :class:`EntityKG` (default: ``False``).

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
        entity_kg=entity_kg,
    )
    return _emit(communities, subcategories, tags_per_community, arrays)


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
        entities: The entity KG's draws with ``entity_kg``, else ``None``.
    """

    user: np.ndarray
    item: np.ndarray
    timestamp: np.ndarray
    item_cluster: np.ndarray
    item_leaf: np.ndarray
    item_tags: np.ndarray
    popularity_rank: np.ndarray
    user_community: np.ndarray
    entities: EntityArrays | None = None


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
    entity_kg: bool | EntityKG = False,
) -> SyntheticArrays:
    """The synthetic dataset of :func:`generate_synthetic` (same arguments, same
    draws for the same seed) as arrays; vectorised, so it scales to millions of
    interactions.

    Raises:
        LoaderError: arguments out of range.
    """
    check_options(
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
    options = _entity_options(entity_kg, users=users, communities=communities)
    rng = np.random.default_rng(seed)
    item_cluster = rng.integers(0, communities, items)
    item_leaf = rng.integers(0, subcategories, items)
    n_tags = communities * tags_per_community
    tags = draw_item_tags(
        rng, item_cluster, n_tags, tags_per_community, concepts_per_item, affinity
    )
    popularity_rank = rng.permutation(items)
    popularity = (popularity_rank + 1.0) ** -popularity_exponent
    user_community = rng.integers(0, communities, users)
    activity = rng.lognormal(0.0, 1.0, users)
    entities = route = None
    if options is not None:
        entities = draw_entities(options, seed, item_cluster, user_community, communities, affinity)
        route = artist_route(entities, options.entity_affinity)
    pairs = sample_pairs(
        rng,
        interactions,
        communities,
        user_community,
        activity,
        item_cluster,
        popularity,
        affinity,
        route,
    )
    timestamps = start + rng.integers(0, days * 86_400, len(pairs))
    order = np.argsort(timestamps, kind="stable")
    return SyntheticArrays(
        user=pairs[order] // items,
        item=pairs[order] % items,
        timestamp=timestamps[order],
        item_cluster=item_cluster,
        item_leaf=item_leaf,
        item_tags=tags,
        popularity_rank=popularity_rank,
        user_community=user_community,
        entities=entities,
    )


def _entity_options(entity_kg: bool | EntityKG, *, users: int, communities: int) -> EntityKG | None:
    if not isinstance(entity_kg, (bool, EntityKG)):
        raise LoaderError(
            f"synthetic: entity_kg must be true, false or an EntityKG, got {entity_kg!r}"
        )
    options = EntityKG() if entity_kg is True else entity_kg or None
    if options is not None:
        options.check(users=users, communities=communities)
    return options


def parse_synthetic(path: Path | None = None, **options: Any) -> Iterator[Row]:
    """The ``synthetic`` format: ``path`` is ignored; ``options`` go to :func:`generate_synthetic`."""
    try:
        return generate_synthetic(**options)
    except TypeError as exc:
        raise LoaderError(f"synthetic: {exc}") from None


def _emit(
    communities: int,
    subcategories: int,
    tags_per_community: int,
    arrays: SyntheticArrays,
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
    entities = arrays.entities
    entity_ids: dict[str, list[str]] = {}
    if entities is not None:
        entity_ids, rows = entity_rows(seen, entities)
        yield from rows

    item_ids = [f"i{i}" for i in range(len(arrays.item_cluster))]
    columns = [
        arrays.item_cluster.tolist(),
        arrays.item_leaf.tolist(),
        arrays.popularity_rank.tolist(),
        arrays.item_tags.tolist(),
    ]
    for i, (cluster, leaf, rank, tags) in enumerate(zip(*columns, strict=True)):
        item_id = item_ids[i]
        properties = {"cluster": cluster, "popularity_rank": rank}
        if entities is not None:
            properties["artist"] = int(entities.item_artist[i])
        yield ItemRow(item_id, f"Item {i}", properties)
        yield ItemConceptRow(item_id, leaf_ids[cluster][leaf], HAS_CATEGORY)
        for tag in tags:
            yield ItemConceptRow(item_id, tag_ids[tag], HAS_TAG)
        if entities is not None:
            yield from _item_entity_rows(item_id, i, entities, entity_ids)

    user_ids = [f"u{u}" for u in range(len(arrays.user_community))]
    for u, community in enumerate(arrays.user_community.tolist()):
        properties: dict[str, Any] = {"community": community}
        if entities is not None:
            properties["preferred_artists"] = entities.user_artists[u].tolist()
        yield UserRow(user_ids[u], properties)

    kind = DEFAULT_INTERACTION_KIND
    users, items, timestamps = arrays.user, arrays.item, arrays.timestamp
    for lo in range(0, len(users), _CHUNK):
        hi = lo + _CHUNK
        for u, i, ts in zip(
            users[lo:hi].tolist(), items[lo:hi].tolist(), timestamps[lo:hi].tolist(), strict=True
        ):
            yield InteractionRow(user_ids[u], item_ids[i], kind, 1.0, None, ts)


def _item_entity_rows(
    item_id: str, index: int, entities: EntityArrays, ids: dict[str, list[str]]
) -> list[Row]:
    artist = int(entities.item_artist[index])
    country = int(entities.artist_country[artist])
    return [
        ItemConceptRow(item_id, ids["artist"][artist], HAS_ARTIST),
        ItemConceptRow(item_id, ids["producer"][int(entities.item_producer[index])], PRODUCED_BY),
        ItemConceptRow(item_id, ids["country"][country], RELEASED_IN),
    ]
