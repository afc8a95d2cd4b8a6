from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from graphrec.loaders import LoaderError, generate_synthetic, parse
from graphrec.loaders.rows import (
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    SubconceptRow,
    UserRow,
)

SMALL = dict(users=300, items=600, interactions=12_000, communities=6, seed=3)


@pytest.fixture(scope="module")
def rows():
    return list(generate_synthetic(**SMALL))


def test_counts_and_contract(rows, contract):
    contract(rows)
    count = Counter(type(r).__name__ for r in rows)
    assert count["UserRow"] == 300 and count["ItemRow"] == 600
    assert count["InteractionRow"] == 12_000
    assert count["Reject"] == 0
    pairs = [(r.user_id, r.item_id) for r in rows if isinstance(r, InteractionRow)]
    assert len(set(pairs)) == len(pairs), "duplicate (user, item) pairs"


def test_deterministic_for_a_seed():
    kwargs = dict(users=50, items=80, interactions=900, seed=11)
    first = list(generate_synthetic(**kwargs))
    assert first == list(generate_synthetic(**kwargs))
    assert first != list(generate_synthetic(**{**kwargs, "seed": 12}))


def test_timestamps_are_ordered_and_in_the_window(rows):
    ts = np.array([r.ts for r in rows if isinstance(r, InteractionRow)])
    assert (np.diff(ts) >= 0).all()
    assert ts.min() >= 1_577_836_800 and ts.max() < 1_577_836_800 + 365 * 86_400


def test_category_hierarchy_and_item_concepts(rows):
    concepts = {r.id: r for r in rows if isinstance(r, ConceptRow)}
    parents = {r.child_id: r.parent_id for r in rows if isinstance(r, SubconceptRow)}
    leaves = [c for c in concepts.values() if c.kind == "category" and c.id in parents]
    assert len(leaves) == 6 * 4  # communities * subcategories
    assert all(concepts[parents[leaf.id]].kind == "category" for leaf in leaves)
    per_item = defaultdict(Counter)
    for r in rows:
        if isinstance(r, ItemConceptRow):
            per_item[r.item_id][r.relation] += 1
    assert len(per_item) == 600
    assert all(c == {"has_category": 1, "has_tag": 3} for c in per_item.values())
    tag_edges = [(r.item_id, r.concept_id) for r in rows if isinstance(r, ItemConceptRow)]
    assert len(set(tag_edges)) == len(tag_edges), "an item got the same tag twice"


def test_users_concentrate_on_their_community_far_above_chance(rows):
    """The latent structure is learnable: users' items share their community's categories."""
    community = {r.id: r.properties["community"] for r in rows if isinstance(r, UserRow)}
    cluster = {r.id: r.properties["cluster"] for r in rows if isinstance(r, ItemRow)}
    log = [
        (community[r.user_id], cluster[r.item_id]) for r in rows if isinstance(r, InteractionRow)
    ]
    user_side = Counter(u for u, _ in log)
    item_side = Counter(i for _, i in log)
    n = len(log)
    chance = sum(user_side[c] / n * item_side[c] / n for c in user_side)
    observed = sum(u == i for u, i in log) / n
    assert chance < 0.3
    assert observed > 0.6 and observed > 3 * chance

    # The same signal through the graph alone: the top-level category of the leaf
    # each item links to, without looking at any ground-truth property.
    parents = {r.child_id: r.parent_id for r in rows if isinstance(r, SubconceptRow)}
    top = {
        r.item_id: parents[r.concept_id]
        for r in rows
        if isinstance(r, ItemConceptRow) and r.relation == "has_category"
    }
    by_user = defaultdict(Counter)
    for r in rows:
        if isinstance(r, InteractionRow):
            by_user[r.user_id][top[r.item_id]] += 1
    concentration = np.mean([max(c.values()) / sum(c.values()) for c in by_user.values()])
    assert concentration > 0.6  # six top categories: about 0.17 + noise without structure


def test_popularity_is_heavy_tailed(rows):
    per_item = Counter(r.item_id for r in rows if isinstance(r, InteractionRow))
    counts = np.sort(np.array([per_item.get(f"i{i}", 0) for i in range(600)]))[::-1]
    top_decile = counts[:60].sum() / counts.sum()
    assert top_decile > 0.3  # 10% of the items, uniform popularity would give about 0.1
    ranks = {r.id: r.properties["popularity_rank"] for r in rows if isinstance(r, ItemRow)}
    head = np.mean([per_item[i] for i, rank in ranks.items() if rank < 20])
    tail = np.mean([per_item[i] for i, rank in ranks.items() if rank >= 300])
    assert head > 5 * tail


def test_dense_request_still_has_distinct_pairs():
    rows = list(generate_synthetic(users=10, items=20, interactions=100, seed=0))
    pairs = {(r.user_id, r.item_id) for r in rows if isinstance(r, InteractionRow)}
    assert len(pairs) == 100


def test_registered_as_a_format():
    rows = list(parse("synthetic", None, users=5, items=10, interactions=20, seed=1))
    assert sum(isinstance(r, InteractionRow) for r in rows) == 20
    with pytest.raises(LoaderError, match="unexpected keyword argument 'colour'"):
        parse("synthetic", None, colour="red")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(users=0), "users must be a positive integer"),
        (dict(users=4, items=4, interactions=9), r"between 0 and users\*items/2 = 8"),
        (dict(concepts_per_item=1000), "concepts_per_item must be between"),
        (dict(affinity=1.5), "affinity must be within"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(LoaderError, match=message):
        generate_synthetic(**kwargs)
