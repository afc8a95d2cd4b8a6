"""The synthetic generator's entity KG (``entity_kg=True``): its invariants and its signal."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict

import numpy as np
import pytest

from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders import LoaderError, generate_synthetic, parse
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    UserRow,
)
from graphrec.loaders.synthetic import EntityKG, synthetic_arrays

SMALL = dict(users=300, items=600, interactions=12_000, communities=6, seed=3)
ITEM_ENTITY_RELATIONS = ("has_artist", "produced_by", "released_in")


@pytest.fixture(scope="module")
def rows():
    return list(generate_synthetic(**SMALL, entity_kg=True))


def entities_by_type(rows) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if isinstance(r, ConceptRow) and r.kind == "entity":
            kinds[r.name.split()[0].lower()].append(r.id)
    return kinds


def test_counts_and_contract(rows, contract):
    contract(rows)
    arrays = synthetic_arrays(**SMALL, entity_kg=True)
    sizes = np.bincount(arrays.item_cluster, minlength=6)
    artists = int(sum(-(-n // 8) for n in sizes))  # items_per_artist = 8 per cluster
    kinds = entities_by_type(rows)
    assert {k: len(v) for k, v in kinds.items()} == {
        "country": 12,
        "label": 6 * 3,
        "producer": 6 * 4,
        "artist": artists,
    }
    count = Counter(type(r).__name__ for r in rows)
    assert count["ItemRow"] == 600 and count["UserRow"] == 300
    assert count["InteractionRow"] == 12_000
    pairs = [(r.user_id, r.item_id) for r in rows if isinstance(r, InteractionRow)]
    assert len(set(pairs)) == len(pairs)


def test_deterministic_and_the_catalog_draws_are_shared_with_the_plain_generator():
    kwargs = dict(users=40, items=90, interactions=600, seed=7)
    first = list(generate_synthetic(**kwargs, entity_kg=True))
    assert first == list(generate_synthetic(**kwargs, entity_kg=True))
    assert first != list(generate_synthetic(**{**kwargs, "seed": 8}, entity_kg=True))
    # Same categories and tags per item as without the KG: the KG has its own random stream.
    plain = list(generate_synthetic(**kwargs))

    def content(stream):
        return [
            r
            for r in stream
            if isinstance(r, ItemConceptRow) and r.relation in ("has_category", "has_tag")
        ]

    assert content(first) == content(plain)


def test_every_item_is_linked_to_one_artist_producer_and_country(rows):
    per_item = defaultdict(Counter)
    for r in rows:
        if isinstance(r, ItemConceptRow) and r.relation in ITEM_ENTITY_RELATIONS:
            per_item[r.item_id][r.relation] += 1
    assert len(per_item) == 600
    assert all(c == dict.fromkeys(ITEM_ENTITY_RELATIONS, 1) for c in per_item.values())
    # Every artist has at least one item, and an item is released in its artist's country.
    artist_of = {
        r.item_id: r.concept_id
        for r in rows
        if isinstance(r, ItemConceptRow) and r.relation == "has_artist"
    }
    country_of_item = {
        r.item_id: r.concept_id
        for r in rows
        if isinstance(r, ItemConceptRow) and r.relation == "released_in"
    }
    country_of_artist = {
        r.head_id: r.tail_id
        for r in rows
        if isinstance(r, ConceptRelationRow) and r.relation == "from_country"
    }
    assert set(artist_of.values()) == set(entities_by_type(rows)["artist"])
    assert all(country_of_item[i] == country_of_artist[a] for i, a in artist_of.items())  # fmt: skip


def test_entity_entity_edges(rows):
    kinds = entities_by_type(rows)
    edges = defaultdict(list)
    for r in rows:
        if isinstance(r, ConceptRelationRow):
            edges[r.relation].append((r.head_id, r.tail_id))
    artists, labels = set(kinds["artist"]), set(kinds["label"])
    countries, producers = set(kinds["country"]), set(kinds["producer"])
    assert sorted(h for h, _ in edges["signed_to"]) == sorted(artists)
    assert {t for _, t in edges["signed_to"]} <= labels
    assert sorted(h for h, _ in edges["from_country"]) == sorted(artists)
    assert {t for _, t in edges["from_country"]} <= countries
    assert sorted(h for h, _ in edges["based_in"]) == sorted(labels | producers)
    assert {t for _, t in edges["based_in"]} <= countries
    collaborations = edges["collaborated_with"]
    assert len(collaborations) > 0.1 * len(artists)  # collaboration = 0.3 per artist
    assert all(h != t and h in artists and t in artists for h, t in collaborations)
    assert len(set(collaborations)) == len(collaborations)


def test_countries_are_hubs(rows):
    degree = Counter()
    for r in rows:
        if isinstance(r, ConceptRelationRow):
            degree[r.head_id] += 1
            degree[r.tail_id] += 1
        elif isinstance(r, ItemConceptRow):
            degree[r.concept_id] += 1
    kinds = entities_by_type(rows)
    entities = [e for ids in kinds.values() for e in ids]
    hub = max(kinds["country"], key=degree.__getitem__)
    median = np.median([degree[e] for e in entities])
    assert degree[hub] >= 0.25 * 600  # a third of the catalog, roughly
    assert degree[hub] >= 10 * median


def test_taste_lives_partly_in_the_artists():
    """Users' interactions, and most of all the tail items', follow their preferred artists."""

    def on_preferred_artist(entity_affinity: float) -> tuple[float, float]:
        arrays = synthetic_arrays(**SMALL, entity_kg=EntityKG(entity_affinity=entity_affinity))
        e = arrays.entities
        hit = (e.user_artists[arrays.user] == e.item_artist[arrays.item][:, None]).any(axis=1)
        tail = arrays.popularity_rank[arrays.item] >= 300
        return hit.mean(), hit[tail].mean()

    overall, tail = on_preferred_artist(0.5)  # the default
    chance_overall, chance_tail = on_preferred_artist(0.0)  # same preferences, never used
    assert overall > 2 * chance_overall and overall > 0.3
    assert tail > 3 * chance_tail and tail > 0.5


def test_tail_items_share_an_artist_with_popular_items(rows):
    per_item = Counter(r.item_id for r in rows if isinstance(r, InteractionRow))
    counts = {r.id: per_item.get(r.id, 0) for r in rows if isinstance(r, ItemRow)}
    artist_of = {
        r.item_id: r.concept_id
        for r in rows
        if isinstance(r, ItemConceptRow) and r.relation == "has_artist"
    }
    low, high = np.quantile(list(counts.values()), [0.2, 0.8])
    popular_artists = {artist_of[i] for i, n in counts.items() if n >= high}
    tail = [i for i, n in counts.items() if n <= low]
    assert len(tail) >= 60
    assert np.mean([artist_of[i] in popular_artists for i in tail]) > 0.5


def test_ground_truth_properties(rows):
    users = [r for r in rows if isinstance(r, UserRow)]
    assert all(len(u.properties["preferred_artists"]) == 3 for u in users)
    items = [r for r in rows if isinstance(r, ItemRow)]
    assert all(isinstance(i.properties["artist"], int) for i in items)


def test_registered_and_options_checked():
    rows = list(
        parse("synthetic", None, users=5, items=10, interactions=20, seed=1, entity_kg=True)
    )
    assert any(isinstance(r, ConceptRelationRow) for r in rows)
    with pytest.raises(LoaderError, match="entity_kg.countries must be an integer"):
        generate_synthetic(entity_kg=EntityKG(countries=0))
    with pytest.raises(LoaderError, match=r"entity_kg.entity_affinity must be a number within"):
        generate_synthetic(entity_kg=EntityKG(entity_affinity=float("nan")))
    with pytest.raises(LoaderError, match="entity_kg must be true, false or an EntityKG"):
        generate_synthetic(entity_kg="yes")


def test_cli_entity_kg_into_the_graph_is_idempotent(
    graph: GraphClient, graph_env: dict[str, str]
) -> None:
    args = ["ingest", "synthetic", "--entity-kg", "--users", "30", "--items", "40"]
    args += ["--interactions", "300", "--seed", "2", "--no-co-engagement"]
    command = [sys.executable, "-m", "graphrec", *args]
    result = subprocess.run(command, env=graph_env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    rels = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    expected = list(
        generate_synthetic(users=30, items=40, interactions=300, seed=2, entity_kg=True)
    )
    assert rels["RELATED"] == sum(isinstance(r, ConceptRelationRow) for r in expected)
    assert rels["HAS_CONCEPT"] == sum(isinstance(r, ItemConceptRow) for r in expected)
    kinds = graph.run("MATCH (c:Concept {kind: 'entity'}) RETURN count(c) AS n")
    assert kinds == [{"n": sum(isinstance(r, ConceptRow) and r.kind == "entity" for r in expected)}]

    again = ingest(graph, iter(expected), progress=False)
    assert all(c.created == 0 for c in again.nodes.values())
    assert all(c.created == 0 for c in again.relationships.values())
