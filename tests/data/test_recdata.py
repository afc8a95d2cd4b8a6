import pytest
import torch
from torch_geometric.data import HeteroData

from graphrec.data import (
    CO_ENGAGED,
    HAS_CONCEPT,
    INTERACTED,
    DataError,
    Interactions,
    KnowledgeGraph,
    RecData,
    UserItems,
    synthetic_hetero,
)
from graphrec.data.derived import co_engagement_edges


def _hetero(num_users: int, num_items: int, edges: list[tuple[int, int]], ts=None) -> HeteroData:
    data = HeteroData()
    data["user"].num_nodes = num_users
    data["item"].num_nodes = num_items
    data[INTERACTED].edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    if ts is not None:
        data[INTERACTED].ts = torch.tensor(ts)
    return data


def test_interactions_keep_the_latest_of_repeated_pairs():
    data = _hetero(2, 3, [(0, 1), (1, 2), (0, 1), (0, 0)], ts=[5, 1, 9, 2])
    interactions = Interactions.from_hetero(data)
    pairs = list(zip(interactions.user.tolist(), interactions.item.tolist(), strict=True))
    assert sorted(pairs) == [(0, 0), (0, 1), (1, 2)]
    ts = dict(zip(pairs, interactions.ts.tolist(), strict=True))
    assert ts[(0, 1)] == 9
    assert interactions.stored_split.tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (HeteroData(), "empty graph"),
        (_hetero(3, 0, []), "empty graph"),
        (_hetero(3, 4, []), "no interactions"),
        (_hetero(3, 4, [(0, 7)]), r"item indices must lie in \[0, 4\)"),
    ],
)
def test_unusable_graphs_get_actionable_errors(data, message):
    with pytest.raises(DataError, match=message):
        Interactions.from_hetero(data)


def test_knowledge_graph_puts_concepts_after_items_and_names_relations():
    data = synthetic_hetero(num_users=6, num_items=9, num_communities=3, num_tags=2)
    kg = KnowledgeGraph.from_hetero(data)
    assert kg is not None
    assert (kg.num_items, kg.num_concepts) == (9, 5)
    assert set(kg.relation_names) == {
        "has_genre",
        "has_tag",
        "related_to",
        "subconcept_of",
        "co_engaged",
    }
    has_genre = kg.edge_type == kg.relation_names.index("has_genre")
    # Item i has the genre of its community, concept (i % 3), entity 9 + i % 3.
    head, tail = kg.edge_index[:, has_genre]
    assert torch.equal(tail, 9 + head % 3)
    co_engaged = kg.edge_type == kg.relation_names.index("co_engaged")
    assert bool((kg.edge_index[:, co_engaged] < 9).all())  # item-item edges stay items


def test_knowledge_graph_is_none_without_kg_edges():
    assert KnowledgeGraph.from_hetero(_hetero(2, 2, [(0, 1)])) is None


def test_knowledge_graph_without_relation_names_uses_the_edge_type():
    data = _hetero(2, 3, [(0, 1)])
    data["concept"].num_nodes = 1
    data[HAS_CONCEPT].edge_index = torch.tensor([[0, 2], [0, 0]])
    data[CO_ENGAGED].edge_index = torch.empty(2, 0, dtype=torch.long)
    kg = KnowledgeGraph.from_hetero(data)
    assert kg.relation_names == ["has_concept"]
    assert kg.edge_index.tolist() == [[0, 2], [3, 3]]


def test_user_items_csr_lookups():
    edges = torch.tensor([[2, 0, 0, 2, 2], [1, 3, 0, 0, 4]])
    items = UserItems.from_edges(edges, num_users=4, num_items=5)
    assert items.degree().tolist() == [2, 0, 3, 0]
    assert items.items_of(2).tolist() == [0, 1, 4]
    row, item = items.pairs(torch.tensor([2, 1, 0]))
    assert row.tolist() == [0, 0, 0, 2, 2]
    assert item.tolist() == [0, 1, 4, 0, 3]
    found = items.contains(torch.tensor([0, 0, 2, 3, 1]), torch.tensor([3, 1, 4, 4, 0]))
    assert found.tolist() == [True, False, True, False, False]


def test_user_items_union():
    a = UserItems.from_edges(torch.tensor([[0, 1], [2, 0]]), num_users=2, num_items=3)
    b = UserItems.from_edges(torch.tensor([[0], [1]]), num_users=2, num_items=3)
    union = a.union(b)
    assert union.items_of(0).tolist() == [1, 2]
    assert union.items_of(1).tolist() == [0]


def test_synthetic_graph_has_planted_communities_and_a_long_tail():
    data = synthetic_hetero(num_users=90, num_items=60, num_communities=3, noise=0.1, seed=1)
    user, item = data[INTERACTED].edge_index
    assert data[INTERACTED].ts.shape == user.shape
    in_community = (user % 3 == item % 3).float().mean()
    assert in_community > 0.8
    popularity = torch.bincount(item, minlength=60).sort(descending=True).values
    assert popularity[:6].sum() > 3 * popularity[-6:].sum()
    assert data.relation_names == ["has_genre", "has_tag", "related_to"]


def test_rec_data_summary_and_seen_items():
    data = RecData.from_hetero(synthetic_hetero(num_users=20, interactions_per_user=10))
    assert "20 users" in data.summary()
    seen = data.seen_items("test")
    assert seen.indices.numel() == data.train.size(1) + data.val.size(1)
    assert torch.equal(data.item_popularity, torch.bincount(data.train[1], minlength=40))
    with pytest.raises(ValueError, match="unknown split"):
        RecData.from_hetero(synthetic_hetero(), split="nope")


def test_knowledge_graph_checks_relation_indices():
    data = synthetic_hetero(num_users=6, num_items=9)
    data[HAS_CONCEPT].relation[0] = 7  # only 3 relation names
    with pytest.raises(DataError, match=r"relation indices must lie in \[0, 3\)"):
        KnowledgeGraph.from_hetero(data)


def _planted_test_only_pair(test_edges_of_item_1: bool) -> HeteroData:
    """Six users who all interacted with items 0, 2 and 3 (training) and item 1. Item 1's
    interactions are test ones when ``test_edges_of_item_1``: then only held-out data
    links items 0 and 1, and the graph's own CO_ENGAGED link 0 -> 1 says so."""
    edges, split = [], []
    for user in range(6):
        for item in (0, 1, 2, 3):
            edges.append((user, item))
            split.append(2 if item == 1 and test_edges_of_item_1 else 1)
    data = _hetero(6, 5, edges)
    data[INTERACTED].split = torch.tensor(split)
    data[CO_ENGAGED].edge_index = torch.tensor([[0, 1], [1, 0]])  # derived from everything
    data[CO_ENGAGED].weight = torch.ones(2)
    return data


def _co_engaged_pairs(rec: RecData) -> set[tuple[int, int]]:
    kg = rec.kg
    code = kg.relation_names.index("co_engaged")
    return {tuple(pair) for pair in kg.edge_index[:, kg.edge_type == code].t().tolist()}


def test_co_engagement_for_training_comes_from_the_training_split_only():
    rec = RecData.from_hetero(
        _planted_test_only_pair(True), split="stored", val_ratio=0.0, min_interactions=1
    )
    assert rec.test.size(1) == 6 and set(rec.test[1].tolist()) == {1}
    pairs = _co_engaged_pairs(rec)
    assert (0, 2) in pairs and (2, 3) in pairs  # six shared training users link them
    assert not any(1 in pair for pair in pairs)  # the graph's test-derived link is gone
    assert rec.split_config["co_engagement"] == {"min_shared": 3, "top_k": 20}
    # Derived from all the interactions, the same rule does link item 1: the leak was real.
    everything = torch.stack(
        [
            rec.train.new_tensor([u for u in range(6) for _ in range(4)]),
            rec.train.new_tensor([0, 1, 2, 3] * 6),
        ]
    )
    leaked, _ = co_engagement_edges(everything, num_users=6, num_items=5)
    assert (0, 1) in {tuple(pair) for pair in leaked.t().tolist()}


def test_co_engagement_can_be_left_out():
    rec = RecData.from_hetero(
        _planted_test_only_pair(True),
        split="stored",
        val_ratio=0.0,
        min_interactions=1,
        co_engagement=None,
    )
    assert rec.kg is None
    assert rec.split_config["co_engagement"] is None
