"""The typed entity knowledge graph of the synthetic generator (``entity_kg=True``).

Four entity types, all ``(:Concept {kind: "entity"})`` named by type and
number (``"Artist 12"``, id ``"entity:artist 12"``), with typed relations:

========================= ============================= ==========================
edge                      relation                      drawn as
========================= ============================= ==========================
item -> artist            ``has_artist`` (HAS_CONCEPT)  the item's cluster's artists
                                                        split its items, so every
                                                        artist has at least one item
item -> producer          ``produced_by`` (HAS_CONCEPT) a producer of the item's
                                                        cluster with probability
                                                        ``affinity``, else any
item -> country           ``released_in`` (HAS_CONCEPT) the country of its artist
artist -> label           ``signed_to`` (RELATED)       a label of the artist's
                                                        community with probability
                                                        ``affinity``, else any
artist -> artist          ``collaborated_with``         with probability
                          (RELATED)                     ``collaboration``, a partner
                                                        inside the community with
                                                        probability ``affinity``
artist, label, producer   ``from_country`` /            Zipf over countries
-> country                ``based_in`` (RELATED)        (exponent ``country_exponent``)
========================= ============================= ==========================

Countries are few and Zipf-distributed, so the first ones are hubs: entities
with a degree of about a third of the catalog, which carry almost no taste
signal (they ignore communities). Artists carry the most: each user prefers
``artists_per_user`` artists (each from the user's community with probability
``affinity``), and :func:`artist_route` lets the interaction sampler draw a
share ``entity_affinity`` of a user's interactions as *an item of one of the
user's preferred artists, uniformly over that artist's items*, ignoring
popularity. An artist's items are a random slice of its cluster, so they mix
head and tail items: a tail item with few interactions shares its artist (and
producer) with popular items that the same users chose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from graphrec.schema import ConceptKind

from ._nodes import Seen
from .errors import LoaderError
from .rows import ConceptRelationRow, Row

__all__ = ["ArtistRoute", "EntityArrays", "EntityKG", "artist_route", "draw_entities"]

HAS_ARTIST = "has_artist"
PRODUCED_BY = "produced_by"
RELEASED_IN = "released_in"
SIGNED_TO = "signed_to"
COLLABORATED_WITH = "collaborated_with"
FROM_COUNTRY = "from_country"
BASED_IN = "based_in"


@dataclass(frozen=True)
class EntityKG:
    """Options of the synthetic entity KG; ``entity_kg=True`` means these defaults.

    Args:
        items_per_artist: Mean number of items per artist (default: 8).
        labels_per_community: Record labels owned by each community (default: 3).
        producers_per_community: Producers owned by each community (default: 4).
        countries: Number of countries (default: 12).
        country_exponent: Zipf exponent of the country draw; the larger, the
            bigger the hub countries (default: 1.2).
        artists_per_user: Artists each user prefers, drawn with replacement
            (default: 3).
        entity_affinity: Share of a user's interaction draws that go through a
            preferred artist (default: 0.5).
        collaboration: Probability that an artist gets a ``collaborated_with``
            edge (default: 0.3).
    """

    items_per_artist: int = 8
    labels_per_community: int = 3
    producers_per_community: int = 4
    countries: int = 12
    country_exponent: float = 1.2
    artists_per_user: int = 3
    entity_affinity: float = 0.5
    collaboration: float = 0.3

    def check(self, *, users: int, communities: int) -> None:
        """Raise :class:`LoaderError` for an option out of range.

        Besides each option's own range, the sizes they imply are bounded:
        labels and producers (``communities`` times the per-community count)
        at 1,000,000, preferred artists (``users * artists_per_user``) at
        100,000,000.
        """
        for name in (
            "items_per_artist",
            "labels_per_community",
            "producers_per_community",
            "countries",
            "artists_per_user",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**6:
                raise LoaderError(
                    f"synthetic: entity_kg.{name} must be an integer from 1 to 1000000, "
                    f"got {value!r}"
                )
        for name, high in (
            ("country_exponent", 10.0),
            ("entity_affinity", 1.0),
            ("collaboration", 1.0),
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or not 0.0 <= value <= high
            ):
                raise LoaderError(
                    f"synthetic: entity_kg.{name} must be a number within [0, {high:g}], "
                    f"got {value!r}"
                )
        for name in ("labels_per_community", "producers_per_community"):
            if communities * getattr(self, name) > 10**6:
                raise LoaderError(
                    f"synthetic: communities * entity_kg.{name} must be at most 1000000"
                )
        if users * self.artists_per_user > 10**8:
            raise LoaderError(
                "synthetic: users * entity_kg.artists_per_user must be at most 100000000"
            )


@dataclass(frozen=True)
class EntityArrays:
    """The entity KG's draws (indices into each entity type).

    Attributes:
        item_artist: Artist of each item, shape ``(items,)``.
        item_producer: Producer of each item, shape ``(items,)``.
        artist_community: Community of each artist, shape ``(artists,)``.
        artist_label: Label of each artist, shape ``(artists,)``.
        artist_country: Country of each artist, shape ``(artists,)``.
        label_country: Country of each label, shape ``(labels,)``.
        producer_country: Country of each producer, shape ``(producers,)``.
        collaborations: ``(a, b)`` artist pairs with ``a < b``, shape ``(m, 2)``.
        user_artists: Preferred artists of each user, shape ``(users, artists_per_user)``.
        countries: Number of countries.
    """

    item_artist: np.ndarray
    item_producer: np.ndarray
    artist_community: np.ndarray
    artist_label: np.ndarray
    artist_country: np.ndarray
    label_country: np.ndarray
    producer_country: np.ndarray
    collaborations: np.ndarray
    user_artists: np.ndarray
    countries: int

    @property
    def artists(self) -> int:
        return len(self.artist_community)


@dataclass(frozen=True)
class ArtistRoute:
    """What the interaction sampler needs to draw "an item of a preferred artist"."""

    user_artists: np.ndarray  # (users, k)
    by_artist: np.ndarray  # item indices sorted by artist
    start: np.ndarray  # first position of each artist in by_artist
    count: np.ndarray  # items per artist (>= 1)
    share: float

    def draw(self, rng: np.random.Generator, users: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """Replace a ``share`` of ``chosen`` items by an item of one of the user's artists."""
        n = len(users)
        via = rng.random(n) < self.share
        artist = self.user_artists[users, rng.integers(0, self.user_artists.shape[1], n)]
        offset = (rng.random(n) * self.count[artist]).astype(np.int64)
        return np.where(via, self.by_artist[self.start[artist] + offset], chosen)


def draw_entities(
    options: EntityKG,
    seed: int,
    item_cluster: np.ndarray,
    user_community: np.ndarray,
    communities: int,
    affinity: float,
) -> EntityArrays:
    """Draw the entity KG for a catalog, from its own random stream (``(seed, 1)``)."""
    rng = np.random.default_rng((seed, 1))
    n_items = len(item_cluster)

    # Artists split each cluster's items (in random order) into near-equal runs.
    sizes = np.bincount(item_cluster, minlength=communities)
    per_cluster = np.where(sizes > 0, -(-sizes // options.items_per_artist), 0)
    first_artist = np.concatenate(([0], np.cumsum(per_cluster)))
    order = np.lexsort((rng.random(n_items), item_cluster))
    first_item = np.concatenate(([0], np.cumsum(sizes)))
    clusters = item_cluster[order]
    position = np.arange(n_items) - first_item[clusters]
    item_artist = np.empty(n_items, dtype=np.int64)
    item_artist[order] = (
        first_artist[clusters] + position * per_cluster[clusters] // sizes[clusters]
    )
    artist_community = np.repeat(np.arange(communities), per_cluster)
    artists = len(artist_community)

    labels = communities * options.labels_per_community
    artist_label = _in_community(
        rng, artist_community, options.labels_per_community, labels, affinity
    )
    producers = communities * options.producers_per_community
    item_producer = _in_community(
        rng, item_cluster, options.producers_per_community, producers, affinity
    )
    weights = (np.arange(options.countries) + 1.0) ** -options.country_exponent
    weights /= weights.sum()
    artist_country = rng.choice(options.countries, size=artists, p=weights)
    label_country = rng.choice(options.countries, size=labels, p=weights)
    producer_country = rng.choice(options.countries, size=producers, p=weights)

    collaborations = _collaborations(rng, artist_community, first_artist, options, affinity)
    user_artists = _preferred_artists(
        rng, user_community, first_artist, artists, options.artists_per_user, affinity
    )
    return EntityArrays(
        item_artist=item_artist,
        item_producer=item_producer,
        artist_community=artist_community,
        artist_label=artist_label,
        artist_country=artist_country,
        label_country=label_country,
        producer_country=producer_country,
        collaborations=collaborations,
        user_artists=user_artists,
        countries=options.countries,
    )


def artist_route(entities: EntityArrays, share: float) -> ArtistRoute:
    """The sampler's view of the item -> artist assignment."""
    by_artist = np.argsort(entities.item_artist, kind="stable")
    count = np.bincount(entities.item_artist, minlength=entities.artists)
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    return ArtistRoute(entities.user_artists, by_artist, start, count, share)


def _in_community(
    rng: np.random.Generator, community: np.ndarray, per: int, total: int, affinity: float
) -> np.ndarray:
    """For each row, one of its community's ``per`` entities w.p. ``affinity``, else any."""
    n = len(community)
    own = community * per + rng.integers(0, per, n)
    anywhere = rng.integers(0, total, n)
    return np.where(rng.random(n) < affinity, own, anywhere)


def _collaborations(
    rng: np.random.Generator,
    artist_community: np.ndarray,
    first_artist: np.ndarray,
    options: EntityKG,
    affinity: float,
) -> np.ndarray:
    artists = len(artist_community)
    has = np.flatnonzero(rng.random(artists) < options.collaboration)
    community = artist_community[has]
    span = first_artist[community + 1] - first_artist[community]
    inside = first_artist[community] + (rng.random(len(has)) * span).astype(np.int64)
    partner = np.where(rng.random(len(has)) < affinity, inside, rng.integers(0, artists, len(has)))
    pairs = np.stack((np.minimum(has, partner), np.maximum(has, partner)), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def _preferred_artists(
    rng: np.random.Generator,
    user_community: np.ndarray,
    first_artist: np.ndarray,
    artists: int,
    k: int,
    affinity: float,
) -> np.ndarray:
    users = len(user_community)
    community = np.repeat(user_community, k).reshape(users, k)
    low, span = first_artist[community], first_artist[community + 1] - first_artist[community]
    inside = low + (rng.random((users, k)) * span).astype(np.int64)
    anywhere = rng.integers(0, artists, (users, k))
    # A community without items has no artists: its users pick from all artists.
    own = (rng.random((users, k)) < affinity) & (span > 0)
    return np.where(own, inside, anywhere)


def entity_rows(seen: Seen, entities: EntityArrays) -> tuple[dict[str, list[str]], list[Row]]:
    """Concept rows for every entity and the entity-entity edges.

    Returns the concept ids per type (``"artist"``, ``"label"``, ``"producer"``,
    ``"country"``) and the rows: every :class:`ConceptRow` first, then every
    :class:`ConceptRelationRow`.
    """
    sizes = {
        "country": entities.countries,
        "label": len(entities.label_country),
        "producer": len(entities.producer_country),
        "artist": entities.artists,
    }
    ids: dict[str, list[str]] = {}
    rows: list[Row] = []
    for kind, size in sizes.items():
        ids[kind] = []
        for index in range(size):
            cid, row = seen.concept(ConceptKind.ENTITY, f"{kind.capitalize()} {index}")
            assert row is not None
            rows.append(row)
            ids[kind].append(cid)
    artist, label, producer, country = ids["artist"], ids["label"], ids["producer"], ids["country"]
    rows += _edges(artist, SIGNED_TO, label, entities.artist_label)
    rows += _edges(artist, FROM_COUNTRY, country, entities.artist_country)
    rows += _edges(label, BASED_IN, country, entities.label_country)
    rows += _edges(producer, BASED_IN, country, entities.producer_country)
    rows += [
        ConceptRelationRow(artist[a], COLLABORATED_WITH, artist[b])
        for a, b in entities.collaborations.tolist()
    ]
    return ids, rows


def _edges(heads: list[str], relation: str, tails: list[str], tail_of: np.ndarray) -> Iterator[Row]:
    for head, tail in zip(heads, tail_of.tolist(), strict=True):
        yield ConceptRelationRow(head, relation, tails[tail])
