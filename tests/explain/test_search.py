"""Explanations as real Cypher paths in a small hand-made graph, ranked by embeddings."""

from __future__ import annotations

import neo4j
import numpy as np
import pytest

from graphrec.explain import PATH_KINDS, explain, find_paths, graph_degrees, rank_paths
from graphrec.explain.kg_search import (
    KGSearchLimits,
    KGSearchTimeout,
    kg_paths,
    neighbours_form,
)
from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    UserConceptRow,
    UserRow,
)

DAY = 86_400


@pytest.fixture
def small_world(graph: GraphClient) -> GraphClient:
    rows = [
        *(UserRow(u) for u in ("me", "fan1", "fan2", "fan3", "twin")),
        ItemRow("alien", "Alien (1979)"),
        ItemRow("heat", "Heat (1995)"),
        ItemRow("aliens", "Aliens (1986)"),
        ItemRow("lonely", "Nobody Watched This"),
        ConceptRow("tag:space horror", "tag", "space horror"),
        ConceptRow("entity:ridley scott", "entity", "Ridley Scott"),
        ConceptRow("entity:james cameron", "entity", "James Cameron"),
        ConceptRow("gender:female", "gender", "female"),
        ItemConceptRow("alien", "tag:space horror", "has_tag"),
        ItemConceptRow("aliens", "tag:space horror", "has_tag"),
        ItemConceptRow("alien", "entity:ridley scott", "directed_by"),
        ItemConceptRow("aliens", "entity:james cameron", "directed_by"),
        ConceptRelationRow("entity:ridley scott", "collaborated_with", "entity:james cameron"),
        UserConceptRow("me", "gender:female", "has_gender"),
        UserConceptRow("twin", "gender:female", "has_gender"),
        InteractionRow("me", "alien", "rating", 1.0, 5.0, 1000 * DAY),
        InteractionRow("me", "heat", "rating", 1.0, 4.0, 10 * DAY),
    ]
    for fan in ("fan1", "fan2", "fan3"):
        rows += [InteractionRow(fan, "alien", "view"), InteractionRow(fan, "aliens", "view")]
    rows.append(InteractionRow("twin", "aliens", "view"))
    ingest(graph, rows, progress=False)
    derive_co_engagement(graph, min_shared=3, top_k=5)
    return graph


VECTORS = {
    ("Item", "alien"): np.array([1.0, 0.1]),
    ("Item", "aliens"): np.array([0.9, 0.2]),
    ("Item", "heat"): np.array([0.0, 1.0]),
    ("User", "me"): np.array([0.8, 0.5]),
}


def lookup(label: str, node_id: str):  # noqa: ANN201
    return VECTORS.get((str(label), node_id))


def test_every_path_kind_is_found(small_world: GraphClient) -> None:
    search = find_paths(small_world, "me", "aliens")
    assert not search.partial
    paths = search.paths
    kinds = {p.kind for p in paths}
    assert kinds == {"co_engagement", "content", "collaborative", "knowledge_graph", "attribute"}
    content = next(p for p in paths if p.kind == "content")
    assert [n.id for n in content.nodes] == ["me", "alien", "tag:space horror", "aliens"]
    assert [r.type for r in content.relationships] == ["INTERACTED", "HAS_CONCEPT", "HAS_CONCEPT"]
    assert content.sentence == (
        "Because you rated *Alien (1979)*, which also has the tag *space horror*, like *Aliens (1986)*"
    )
    kg = next(p for p in paths if p.kind == "knowledge_graph")
    assert [n.id for n in kg.nodes] == [
        "me",
        "alien",
        "entity:ridley scott",
        "entity:james cameron",
        "aliens",
    ]
    assert [r.relation for r in kg.relationships] == [
        "rating",
        "directed_by",
        "collaborated_with",
        "directed_by",
    ]
    co = next(p for p in paths if p.kind == "co_engagement")
    assert "3 people" in co.sentence
    # Collaborative: the other users as a count; their ids only on request.
    [collab] = [p for p in paths if p.kind == "collaborative"]
    assert [n.id for n in collab.nodes] == ["me", "alien", "3 people", "aliens"]
    assert collab.sentence == (
        "3 people who interacted with *Alien (1979)* also interacted with *Aliens (1986)*"
    )
    public = collab.as_dict()
    assert public["people"] == 3 and public["user_ids"] is None
    assert "fan1" not in str(public)
    assert sorted(collab.as_dict(include_user_ids=True)["user_ids"]) == ["fan1", "fan2", "fan3"]
    attribute = next(p for p in paths if p.kind == "attribute")
    assert attribute.nodes[1].id == "gender:female" and attribute.details["others"] == 1
    # Every path ends at the recommended item and starts at the user.
    assert all(p.nodes[0].id == "me" and p.nodes[-1].id == "aliens" for p in paths)


def test_hop_limit(small_world: GraphClient) -> None:
    assert any(
        p.kind == "knowledge_graph"
        for p in find_paths(small_world, "me", "aliens", max_hops=1).paths
    )
    with pytest.raises(ValueError, match="max_hops"):
        find_paths(small_world, "me", "aliens", max_hops=0)


def test_ranking_follows_the_model(small_world: GraphClient) -> None:
    ranked = rank_paths(
        find_paths(small_world, "me", "aliens").paths, lookup, user_id="me", item_id="aliens"
    )
    assert ranked[0].kind == "co_engagement"  # similar anchor, tightest path
    # The anchor's term of the item's score: dot product over the root of its degree (1 here).
    assert ranked[0].score == pytest.approx(
        float(VECTORS["Item", "alien"] @ VECTORS["Item", "aliens"]), rel=1e-6
    )
    anchored = [p.score for p in ranked if p.anchor_id is not None]
    assert anchored == sorted(anchored, reverse=True)
    assert ranked[-1].kind == "attribute"  # no anchor item: after every anchored path
    # A popular anchor accounts for less of the user's score (LightGCN's 1/sqrt(degree)).
    degrees = graph_degrees(small_world, ["alien", "heat", "nowhere"])
    assert (degrees("alien"), degrees("heat"), degrees("nowhere")) == (4.0, 1.0, 1.0)
    weighted = rank_paths(
        find_paths(small_world, "me", "aliens").paths,
        lookup,
        user_id="me",
        item_id="aliens",
        degree=degrees,
    )
    assert weighted[0].score == pytest.approx(ranked[0].score / 2, rel=1e-6)
    # Flip the model: now "heat" is the item's neighbour, but "me" never reached aliens through heat,
    # so explanations still only use real paths.
    flipped = dict(VECTORS)
    flipped["Item", "aliens"] = np.array([0.0, 1.0])
    reranked = rank_paths(
        find_paths(small_world, "me", "aliens").paths,
        lambda label, i: flipped.get((str(label), i)),
        user_id="me",
        item_id="aliens",
    )
    assert reranked[0].score < ranked[0].score
    assert {n.id for p in reranked for n in p.nodes} <= {
        "me",
        "alien",
        "aliens",
        "3 people",
        "1 users",
        "tag:space horror",
        "entity:ridley scott",
        "entity:james cameron",
        "gender:female",
    }


def test_explain_prefers_distinct_anchors_and_serialises(small_world: GraphClient) -> None:
    best = explain(small_world, "me", "aliens", lookup, max_paths=3).paths
    assert len(best) == 3
    assert best[0].kind == "co_engagement"
    as_json = best[0].as_dict()
    assert as_json["nodes"][0] == {"id": "me", "label": "User", "name": None}
    assert as_json["sentence"].startswith("Because you rated *Alien (1979)*")


def test_a_real_but_weak_path_is_still_a_path(small_world: GraphClient) -> None:
    # fan1 -> alien <- me -> heat: collaborative, although the model sees no similarity.
    [path] = explain(small_world, "fan1", "heat", lookup, max_paths=1).paths
    assert path.kind == "collaborative" and 0 < path.score < 0.1


def test_no_path_means_no_explanation(small_world: GraphClient) -> None:
    assert explain(small_world, "me", "lonely", lookup).paths == []
    assert explain(small_world, "nobody", "aliens", lookup).paths == []


def test_a_query_past_the_deadline_is_left_out_and_flagged(small_world: GraphClient) -> None:
    # A Bolt round trip takes far longer than a microsecond: every query misses the deadline.
    late = explain(small_world, "me", "aliens", lookup, timeout=1e-6)
    assert late.partial and set(late.timed_out) == set(PATH_KINDS)
    assert late.paths == []
    # With time to spare, the same search is complete.
    complete = explain(small_world, "me", "aliens", lookup, max_paths=20, timeout=30.0)
    assert not complete.partial and complete.timed_out == ()
    assert {p.kind for p in complete.paths} == set(PATH_KINDS)
    with pytest.raises(ValueError, match="timeout"):
        find_paths(small_world, "me", "aliens", timeout=0)


def test_knowledge_graph_search_goes_around_hubs(graph: GraphClient) -> None:
    # me -> seen -> entity:a -RELATED- entity:hub -RELATED- entity:b <- target, and a longer
    # way round the hub: entity:a - entity:x - entity:y - entity:b. The hub links to 30 more
    # entities; with max_degree 10 it is never expanded through, so the search finds the
    # three-hop path; without the cap it finds the two-hop path through the hub.
    rows = [
        UserRow("me"),
        ItemRow("seen", "Seen"),
        ItemRow("target", "Target"),
        *(ConceptRow(f"entity:{n}", "entity", n) for n in ("a", "b", "x", "y", "hub")),
        ItemConceptRow("seen", "entity:a", "about"),
        ItemConceptRow("target", "entity:b", "about"),
        ConceptRelationRow("entity:a", "near", "entity:hub"),
        ConceptRelationRow("entity:hub", "near", "entity:b"),
        ConceptRelationRow("entity:a", "near", "entity:x"),
        ConceptRelationRow("entity:x", "near", "entity:y"),
        ConceptRelationRow("entity:y", "near", "entity:b"),
        InteractionRow("me", "seen", "view"),
    ]
    for n in range(30):
        rows += [
            ConceptRow(f"entity:leaf{n}", "entity", f"leaf {n}"),
            ConceptRelationRow("entity:hub", "near", f"entity:leaf{n}"),
        ]
    ingest(graph, rows, progress=False)

    def kg(**limits: int) -> list[list[str]]:
        search = find_paths(
            graph, "me", "target", kinds=("knowledge_graph",), kg_limits=KGSearchLimits(**limits)
        )
        return [[n.id for n in p.nodes] for p in search.paths]

    assert kg(max_degree=10) == [
        ["me", "seen", "entity:a", "entity:x", "entity:y", "entity:b", "target"]
    ]
    assert kg(max_degree=100) == [["me", "seen", "entity:a", "entity:hub", "entity:b", "target"]]
    # A frontier of one concept per step keeps only entity:hub (the first by id) out of
    # entity:b; with the hub not expanded, nothing is left to search.
    assert kg(max_degree=10, max_frontier=1) == []
    # Past the hop limit nothing is found.
    assert (
        find_paths(
            graph,
            "me",
            "target",
            kinds=("knowledge_graph",),
            max_hops=2,
            kg_limits=KGSearchLimits(max_degree=10),
        ).paths
        == []
    )


def test_both_neighbour_forms_give_the_same_rows(graph: GraphClient) -> None:
    """The breadth-first step's two forms tell the same hubs and return the same neighbours;
    the degree-first form runs where the engine reads degrees (Neo4j), the other elsewhere."""
    rows = [*(ConceptRow(f"entity:{n}", "entity", n) for n in ("a", "b", "hub"))]
    rows += [ConceptRelationRow("entity:a", "near", "entity:b")]
    rows += [ConceptRelationRow("entity:a", "near", "entity:hub")]
    for n in range(12):
        rows += [
            ConceptRow(f"entity:leaf{n}", "entity", f"leaf {n}"),
            ConceptRelationRow("entity:hub", "near", f"entity:leaf{n}"),
        ]
    ingest(graph, rows, progress=False)
    forms = ["explain/kg_neighbours"]
    if probe(graph).degree_count:
        forms.append("explain/kg_neighbours_degree_first")
    assert neighbours_form(graph) == forms[-1]
    params = {"ids": ["entity:a", "entity:b", "entity:hub", "entity:none"], "fanout": 5}

    def step(form: str, max_degree: int) -> dict[str, list[str]]:
        answer = graph.read(form, max_degree=max_degree, **params)
        return {r["id"]: sorted(n["id"] for n in r["neighbours"]) for r in answer}

    for form in forms:
        # The hub has 13 neighbours: over a cap of 10 it is left out; a fanout of 5 keeps 5.
        assert step(form, 10) == {
            "entity:a": ["entity:b", "entity:hub"],
            "entity:b": ["entity:a"],
        }
        assert sorted(step(form, 13)) == ["entity:a", "entity:b", "entity:hub"]
        assert len(step(form, 13)["entity:hub"]) == 5


def test_knowledge_graph_search_reports_a_missed_deadline(small_world: GraphClient) -> None:
    # A deadline that has passed before the first step: the kind is reported as timed out,
    # not answered with a partial path.
    with pytest.raises(KGSearchTimeout):
        kg_paths(small_world, "me", "aliens", deadline=0.0)
    search = find_paths(small_world, "me", "aliens", kinds=("knowledge_graph",), timeout=1e-9)
    assert search.timed_out == ("knowledge_graph",) and search.paths == []


def test_both_collaborative_forms_give_the_same_rows(small_world: GraphClient) -> None:
    """explain/collaborative_one_pattern (Neo4j's form) answers as explain/collaborative does;
    bench/collaborative_forms.py checks the same on ml-latest-small."""
    for user, item in (("me", "aliens"), ("twin", "alien"), ("fan1", "heat"), ("me", "lonely")):
        params = {"user": user, "item": item, "limit": 5, "max_ids": 5}
        collected = small_world.read("explain/collaborative", **params)
        one_pattern = small_world.read("explain/collaborative_one_pattern", **params)
        assert [(r["anchor_id"], r["people"], sorted(r["other_ids"])) for r in one_pattern] == [
            (r["anchor_id"], r["people"], sorted(r["other_ids"])) for r in collected
        ]
    rows = small_world.read(
        "explain/collaborative_one_pattern", user="me", item="aliens", limit=5, max_ids=5
    )
    assert [(r["anchor_id"], r["people"]) for r in rows] == [("alien", 3)]  # fan1-3, not twin


def test_kinds_without_a_connection_are_late_and_none_at_all_is_an_error(
    small_world: GraphClient,
) -> None:
    # A client with one pooled connection, held here by an open transaction: no kind's query
    # can get one within the acquisition timeout. With no kind answering, the search raises
    # (the API answers 503) instead of passing off an unreachable graph as "no paths".
    starved = GraphClient.open(
        small_world.target, max_connection_pool_size=1, connection_acquisition_timeout=1.0
    )
    try:
        probe(starved)  # what the engine can do, found (and kept) while the pool is free
        with starved.driver.session(database=small_world.target.database) as session:
            transaction = session.begin_transaction()
            transaction.run("RETURN 1").consume()
            with pytest.raises(neo4j.exceptions.ConnectionAcquisitionTimeoutError):
                find_paths(starved, "me", "aliens", timeout=30.0)
            transaction.rollback()
        # The connection back in the pool, the kinds share it: each one either answers in turn
        # or, when its wait for the connection ran out, is flagged late; the search never fails.
        search = find_paths(starved, "me", "aliens", timeout=30.0)
        answered = {p.kind for p in search.paths}
        assert answered and not answered & set(search.timed_out)
        assert answered | set(search.timed_out) == set(PATH_KINDS)
    finally:
        starved.close()
