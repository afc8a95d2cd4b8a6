"""graphrec.serving: ranking primitives and the in-memory index, on tiny hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from graphrec.serving import (
    MAX_K,
    Catalog,
    InteractionState,
    ModelVectors,
    NoEmbeddingError,
    Snapshot,
    Source,
    UnknownConceptError,
    UnknownItemError,
    UnknownModelError,
    UnknownUserError,
    fold_in,
    mmr,
    recommend,
    similar_items,
    top_k,
)
from graphrec.serving.index import recorded_fold_in
from graphrec.writeback import ModelRecord

ITEMS = ["a", "b", "c", "d", "e"]
#: a, b: rock; c, d: jazz; e: no concept. "genre:music" is the parent of both genres.
CONCEPTS = {"a": ["genre:rock"], "b": ["genre:rock"], "c": ["genre:jazz"], "d": ["genre:jazz"]}
ITEM_VECTORS = np.array(
    [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.5, 0.5]], dtype=np.float32
)


def make_catalog() -> Catalog:
    return Catalog.build(
        ITEMS,
        [f"Title {i}" for i in ITEMS],
        [CONCEPTS.get(i, []) for i in ITEMS],
        ["genre:music", "genre:rock", "genre:jazz"],
        [("genre:rock", "genre:music"), ("genre:jazz", "genre:music")],
    )


def make_snapshot(
    trained_items: list[str] | None = None, trained_at: float = 100.0, fold_in: str = "items"
) -> Snapshot:
    catalog = make_catalog()
    names = trained_items if trained_items is not None else ITEMS
    rows = [ITEMS.index(i) for i in names]
    model = ModelVectors.build(
        name="lightgcn",
        version=2,
        trained_at=trained_at,
        catalog=catalog,
        item_ids=names,
        item_vectors=ITEM_VECTORS[rows],
        user_ids=["rocker", "jazzer"],
        user_vectors=np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32),
        fold_in=fold_in,
    )
    return Snapshot(catalog, {"lightgcn": model}, "lightgcn")


def make_state(seen: dict[str, list[str]] | None = None) -> InteractionState:
    seen = seen if seen is not None else {"rocker": ["a"], "jazzer": ["c"]}
    positions = {
        u: np.array([ITEMS.index(i) for i in items], dtype=np.int64) for u, items in seen.items()
    }
    popularity = np.zeros(len(ITEMS))
    for items in positions.values():
        popularity[items] += 1
    return InteractionState(positions, popularity)


def ids(ranking) -> list[str]:  # noqa: ANN001
    return [i.item_id for i in ranking.items]


# -- primitives -------------------------------------------------------------------------------------
def test_top_k_orders_by_score_then_index_and_skips_masked() -> None:
    scores = np.array([0.5, 0.9, 0.5, -np.inf, 0.9, 0.1])
    assert top_k(scores, 3).tolist() == [1, 4, 0]
    assert top_k(scores, 10).tolist() == [1, 4, 0, 2, 5]
    assert top_k(np.full(4, -np.inf), 2).tolist() == []
    assert top_k(np.zeros(0), 3).tolist() == []


@pytest.mark.parametrize("seed", range(5))
def test_top_k_agrees_with_a_full_sort(seed: int) -> None:
    scores = np.random.default_rng(seed).integers(0, 5, size=50).astype(float)
    expected = sorted(range(50), key=lambda i: (-scores[i], i))[:7]
    assert top_k(scores, 7).tolist() == expected


def test_mmr_without_diversity_is_the_relevance_order() -> None:
    relevance = np.array([0.9, 0.8, 0.1])
    unit = np.eye(3)
    assert mmr(relevance, unit, 3, 0.0).tolist() == [0, 1, 2]


def test_mmr_trades_relevance_for_novelty() -> None:
    relevance = np.array([1.0, 0.95, 0.5])
    unit = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # 0 and 1 are duplicates
    assert mmr(relevance, unit, 2, 0.0).tolist() == [0, 1]
    assert mmr(relevance, unit, 2, 0.7).tolist() == [0, 2]


def test_fold_in_is_lightgcns_normalised_aggregate() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    degrees = np.array([4.0, 1.0])
    expected = (vectors[0] / 2 + vectors[1] / 1) / np.sqrt(2)
    np.testing.assert_allclose(fold_in(vectors, degrees), expected, rtol=1e-6)
    np.testing.assert_allclose(fold_in(vectors, np.zeros(2)), vectors.sum(0) / np.sqrt(2))
    with pytest.raises(ValueError):
        fold_in(np.zeros((0, 2)), np.zeros(0))


# -- catalog and model vectors ---------------------------------------------------------------------
def test_concept_members_include_subconcepts() -> None:
    catalog = make_catalog()
    assert catalog.members("genre:rock").tolist() == [0, 1]
    assert catalog.members("genre:music").tolist() == [0, 1, 2, 3]
    with pytest.raises(UnknownConceptError):
        catalog.members("genre:polka")


def test_catalog_with_item_extends_the_concept_buckets() -> None:
    catalog = make_catalog()
    catalog.members("genre:rock")  # build the cache, then grow
    grown, new = catalog.with_item("f", "Title f", ["genre:rock", "tag:loud"])
    assert new == ("tag:loud",)
    fresh = Catalog.build(
        grown.item_ids,
        grown.titles,
        [[grown.concept_ids[c] for c in cs] for cs in grown.item_concepts],
        grown.concept_ids,
        [("genre:rock", "genre:music"), ("genre:jazz", "genre:music")],
    )
    for concept in grown.concept_ids:
        assert grown.members(concept).tolist() == fresh.members(concept).tolist()
    assert grown.members("genre:music").tolist() == [0, 1, 2, 3, 5]
    assert catalog.num_items == 5  # the original is untouched
    with pytest.raises(ValueError):
        grown.with_item("f", None, [])


def test_untrained_items_are_cold_started_from_their_concepts() -> None:
    model = make_snapshot(trained_items=["a", "c", "e"]).model()
    # b (rock) gets the rock centroid = a's vector; d (jazz) gets c's.
    np.testing.assert_allclose(model.item_vectors[1], ITEM_VECTORS[0])
    np.testing.assert_allclose(model.item_vectors[3], ITEM_VECTORS[2])
    assert model.item_valid.tolist() == [True] * 5
    assert model.item_trained.tolist() == [True, False, True, False, True]
    # An item with no concept and no trained vector stays invalid.
    model = make_snapshot(trained_items=["a", "b", "c", "d"]).model()
    assert model.item_valid.tolist() == [True, True, True, True, False]
    assert model.key == "lightgcn@2" and model.dim == 2


def test_model_vectors_are_read_only() -> None:
    model = make_snapshot().model()
    with pytest.raises(ValueError):
        model.item_vectors[0, 0] = 5.0


# -- recommendations --------------------------------------------------------------------------------
def test_recommend_uses_the_trained_vector_and_leaves_out_seen_items() -> None:
    ranking = recommend(make_snapshot(), make_state(), "rocker", k=3)
    assert ranking.source is Source.MODEL and (ranking.model, ranking.version) == ("lightgcn", 2)
    assert ids(ranking) == ["b", "e", "d"]
    assert [i.rank for i in ranking.items] == [1, 2, 3]
    assert ranking.items[0].score == pytest.approx(0.9) and ranking.items[0].title == "Title b"
    with_seen = recommend(make_snapshot(), make_state(), "rocker", k=2, exclude_seen=False)
    assert ids(with_seen) == ["a", "b"]


def test_concept_filter_and_unknowns() -> None:
    snapshot, state = make_snapshot(), make_state()
    assert ids(recommend(snapshot, state, "rocker", concept="genre:jazz")) == ["d", "c"]
    assert ids(recommend(snapshot, state, "rocker", concept="genre:music", k=10)) == [
        "b",
        "d",
        "c",
    ]
    with pytest.raises(UnknownConceptError):
        recommend(snapshot, state, "rocker", concept="genre:polka")
    with pytest.raises(UnknownModelError, match="loaded: lightgcn"):
        recommend(snapshot, state, "rocker", model="mf")
    with pytest.raises(UnknownUserError):
        recommend(snapshot, state, "stranger")
    for k in (0, MAX_K + 1):
        with pytest.raises(ValueError):
            recommend(snapshot, state, "rocker", k=k)
    with pytest.raises(ValueError):
        recommend(snapshot, state, "rocker", diversity=1.5)


def test_interactions_after_training_fold_the_user_in() -> None:
    snapshot, state = make_snapshot(trained_at=100.0), make_state()
    state.add("rocker", [ITEMS.index("c"), ITEMS.index("d")], at=50.0)  # before training
    assert recommend(snapshot, state, "rocker").source is Source.MODEL
    state.add("rocker", [ITEMS.index("d")], at=200.0)  # after: fold-in from a, c, d
    ranking = recommend(snapshot, state, "rocker", k=5)
    assert ranking.source is Source.FOLD_IN
    assert ids(ranking) == ["e", "b"]  # the rest is seen
    # A new user with interactions is folded in; one known without any gets popularity.
    state.add("newbie", [ITEMS.index("c")], at=300.0)
    assert ids(recommend(snapshot, state, "newbie", k=1)) == ["d"]
    lonely = recommend(snapshot, state, "lonely", k=2, known_user=True)
    assert lonely.source is Source.POPULARITY
    assert ids(lonely) == ["c", "a"]  # c: 3 users; a, d: 1 (ties by position)


def test_the_change_rule_adds_what_new_items_change_to_the_trained_vector() -> None:
    snapshot, state = make_snapshot(trained_at=100.0, fold_in="change"), make_state()
    model = snapshot.model("lightgcn")
    a, c, d, e = (ITEMS.index(i) for i in "acde")
    state.add("rocker", [c], at=50.0)  # before training: part of what the model saw
    state.add("rocker", [a], at=150.0)  # after, but already seen: nothing changes
    ranking = recommend(snapshot, state, "rocker", k=5)
    assert ranking.source is Source.MODEL
    state.add("rocker", [d, e], at=200.0)
    ranking = recommend(snapshot, state, "rocker", k=5)
    assert ranking.source is Source.FOLD_IN and ids(ranking) == ["b"]  # the rest is seen
    pop = state.popularity
    before, after = np.array([a, c]), np.array([a, c, d, e])
    want = (
        model.user_vectors[0]
        + fold_in(ITEM_VECTORS[after], pop[after])
        - fold_in(ITEM_VECTORS[before], pop[before])
    )
    assert ranking.items[0].score == pytest.approx(float(ITEM_VECTORS[1] @ want), rel=1e-5)
    # The items rule replaces the trained vector instead; users without one are folded in
    # the same way under both rules.
    items_rule = make_snapshot(trained_at=100.0)
    replaced = recommend(items_rule, state, "rocker", k=1).items[0].score
    assert replaced == pytest.approx(
        float(ITEM_VECTORS[1] @ fold_in(ITEM_VECTORS[after], pop[after])), rel=1e-5
    )
    state.add("newbie", [c], at=300.0)
    assert (
        recommend(snapshot, state, "newbie", k=2).items
        == recommend(items_rule, state, "newbie", k=2).items
    )
    with pytest.raises(ValueError, match="fold_in"):
        make_snapshot(fold_in="replace")


def test_posted_items_survive_a_reload_and_follow_their_items() -> None:
    state = make_state()
    state.add("rocker", [ITEMS.index("c")], at=150.0)
    state.add("rocker", [ITEMS.index("a")], at=160.0)  # already seen: not posted
    state.add("rocker", [ITEMS.index("e")], at=170.0)
    assert state.posted_since("rocker", 100.0).tolist() == [2, 4]
    assert state.posted_since("rocker", 160.0).tolist() == [4]
    # A reload's state holds the posted items among the seen ones; carry_over keeps them
    # apart, at their positions in the new catalog (here "c" moved to 0, "e" is gone).
    reloaded = make_state({"rocker": ["a", "c", "e"]})
    reloaded.carry_over(state, np.array([1, 2, 0, 3, -1]))
    assert reloaded.posted_since("rocker", 100.0).tolist() == [0]
    assert reloaded.interacted_at("rocker") == 170.0
    # Posts from before the oldest served version's training are not carried.
    pruned = make_state({"rocker": ["a", "c", "e"]})
    pruned.carry_over(state, since=160.0)
    assert pruned.posted_since("rocker", 0.0).tolist() == [4]
    # Removing an item shifts later positions down; erasing the user forgets them.
    shifted = state.without_item(ITEMS.index("b"))
    assert shifted.posted_since("rocker", 100.0).tolist() == [1, 3]
    assert state.remove_user("rocker") and state.posted_since("rocker", 0.0).size == 0


def test_diversity_changes_the_ranking() -> None:
    snapshot, state = make_snapshot(), make_state({"rocker": []})
    plain = recommend(snapshot, state, "rocker", k=3)
    diverse = recommend(snapshot, state, "rocker", k=3, diversity=0.8)
    assert ids(plain) == ["a", "b", "e"]
    assert ids(diverse)[0] == "a" and ids(diverse) != ids(plain)
    assert diverse.items[1].score == pytest.approx(
        float(ITEM_VECTORS[ITEMS.index(ids(diverse)[1]), 0])
    )


def test_interaction_state_is_idempotent() -> None:
    state = make_state()
    state.add("rocker", [0, 1, 1], at=1.0)
    state.add("rocker", [1], at=0.5)
    assert sorted(state.seen("rocker").tolist()) == [0, 1]
    assert state.popularity.tolist() == [1, 1, 1, 0, 0]
    assert state.interacted_at("rocker") == 1.0 and state.num_users == 2
    state.grow(7)
    assert state.popularity.shape == (7,)
    newer = make_state()
    newer.carry_over(state)
    assert newer.interacted_at("rocker") == 1.0


# -- similar items and new items --------------------------------------------------------------------
def test_similar_items_by_cosine() -> None:
    snapshot = make_snapshot()
    ranking = similar_items(snapshot, "a", k=2)
    assert ids(ranking) == ["b", "e"]
    assert ranking.items[0].score == pytest.approx(0.9 / np.hypot(0.9, 0.1), rel=1e-5)
    with pytest.raises(UnknownItemError):
        similar_items(snapshot, "zzz")
    with pytest.raises(NoEmbeddingError):
        similar_items(make_snapshot(trained_items=["a", "b", "c", "d"]), "e")


def test_snapshot_with_item_is_recommendable_and_similar() -> None:
    snapshot, state = make_snapshot(), make_state()
    grown, vectors = snapshot.with_item("f", "Title f", ["genre:jazz", "tag:new"])
    np.testing.assert_allclose(vectors["lightgcn"], (ITEM_VECTORS[2] + ITEM_VECTORS[3]) / 2)
    state.grow(grown.catalog.num_items)
    assert "f" in ids(recommend(grown, state, "jazzer", k=10))
    assert ids(similar_items(grown, "c", k=1)) == ["f"]
    assert ids(recommend(grown, state, "jazzer", concept="tag:new")) == ["f"]
    assert snapshot.catalog.num_items == 5  # in-flight readers keep the old snapshot
    orphan, vectors = snapshot.with_item("g", None, ["tag:unknown"])
    assert vectors["lightgcn"] is None and not orphan.model().item_valid[-1]


def test_a_versions_fold_in_rule_comes_from_its_params(caplog: pytest.LogCaptureFixture) -> None:
    def record(params: dict) -> ModelRecord:
        return ModelRecord("lightgcn", 3, "emb_lightgcn_v3", 2, "2026-12-03T00:00:00", params)

    assert recorded_fold_in(record({"fold_in": "change"})) == "change"
    assert recorded_fold_in(record({})) == "items"  # written before the rule was recorded
    assert recorded_fold_in(record({"fold_in": "later"})) == "items"
    assert "lightgcn@3: unknown fold_in rule 'later'" in caplog.text
