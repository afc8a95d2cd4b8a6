"""The pure-PyTorch neighbour sampler, checked against a brute-force reference."""

import math
from collections import Counter

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import LinkNeighborLoader

from graphrec.data import RecData, synthetic_hetero
from graphrec.models import RelationAwareGNN
from graphrec.training.minibatch import UnseenItems
from graphrec.training.sampling import TorchNeighborSampler


def random_graph(num_nodes: int = 40, num_edges: int = 300, num_groups: int = 3, seed: int = 0):
    """A random multigraph-free directed graph, edges sorted by (destination, group)."""
    generator = torch.Generator().manual_seed(seed)
    key = torch.randperm(num_nodes * num_nodes, generator=generator)[:num_edges]
    source, destination = key // num_nodes, key % num_nodes
    group = torch.randint(num_groups, (num_edges,), generator=generator)
    order = torch.sort(destination * num_groups + group, stable=True).indices
    return Data(
        edge_index=torch.stack([source[order], destination[order]]),
        edge_type=group[order],
        num_nodes=num_nodes,
    )


def in_edges(graph: Data, grouped: bool) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(destination, group) -> [(edge position, source), ...] in edge order."""
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}
    source, destination = graph.edge_index.tolist()
    groups = graph.edge_type.tolist() if grouped else [0] * len(source)
    for position, (src, dst, group) in enumerate(zip(source, destination, groups, strict=True)):
        edges.setdefault((dst, group), []).append((position, src))
    return edges


def brute_force(graph: Data, seeds: list[int], fan_outs: list[int], grouped: bool):
    """Breadth-first expansion keeping every in-neighbour: the sampler's output when no
    fan-out cuts a (node, group) segment."""
    edges = in_edges(graph, grouped)
    groups = sorted({group for _, group in edges})
    node: list[int] = []
    local: dict[int, int] = {}
    for seed in seeds:
        if seed not in local:
            local[seed] = len(node)
            node.append(seed)
    counts, edge_counts = [len(node)], []
    rows, cols, positions = [], [], []
    frontier = list(node)
    for _ in fan_outs:
        new = []
        count = 0
        for dst in frontier:
            for group in groups:
                for position, src in edges.get((dst, group), []):
                    if src not in local:
                        local[src] = len(node)
                        node.append(src)
                        new.append(src)
                    rows.append(local[src])
                    cols.append(local[dst])
                    positions.append(position)
                    count += 1
        frontier = new
        counts.append(len(new))
        edge_counts.append(count)
    return node, rows, cols, positions, counts, edge_counts


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("fan_outs", [[-1, -1], [1000, 1000], [-1]])
def test_keeping_every_neighbour_matches_brute_force(grouped, fan_outs):
    graph = random_graph()
    seeds = [5, 0, 17, 5, 33]
    sampler = TorchNeighborSampler(
        graph, fan_outs, group_attr="edge_type" if grouped else None, is_sorted=True
    )
    out = sampler._sample(torch.tensor(seeds))
    node, rows, cols, positions, counts, edge_counts = brute_force(graph, seeds, fan_outs, grouped)
    assert out.node.tolist() == node
    assert out.row.tolist() == rows
    assert out.col.tolist() == cols
    assert out.edge.tolist() == positions
    assert out.num_sampled_nodes == counts
    assert out.num_sampled_edges == edge_counts


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("fan_outs", [[2, 1], [3, 4, 2], [-1, 2]])
def test_sampled_subgraph_structure(grouped, fan_outs):
    graph = random_graph(num_nodes=60, num_edges=900, seed=1)
    edges = in_edges(graph, grouped)
    sampler = TorchNeighborSampler(
        graph,
        fan_outs,
        group_attr="edge_type" if grouped else None,
        is_sorted=True,
        generator=torch.Generator().manual_seed(0),
    )
    seeds = [3, 40, 7]
    out = sampler._sample(torch.tensor(seeds))
    node, row, col, edge = out.node.tolist(), out.row.tolist(), out.col.tolist(), out.edge.tolist()
    assert node[:3] == seeds
    assert len(set(node)) == len(node) == sum(out.num_sampled_nodes)
    assert len(row) == len(col) == len(edge) == sum(out.num_sampled_edges)
    assert col == sorted(col)
    source, destination = graph.edge_index.tolist()
    groups = graph.edge_type.tolist()
    for r, c, position in zip(row, col, edge, strict=True):  # every edge is a real one
        assert (source[position], destination[position]) == (node[r], node[c])

    hop_start = [0]
    for count in out.num_sampled_nodes:
        hop_start.append(hop_start[-1] + count)
    edge_start = 0
    for hop, (fan_out, num_edges) in enumerate(
        zip(fan_outs, out.num_sampled_edges, strict=True), 1
    ):
        hop_edges = range(edge_start, edge_start + num_edges)
        edge_start += num_edges
        # Edges of hop h lead into the nodes hop h - 1 added, every one of them expanded.
        sampled: dict[tuple[int, int], list[int]] = {}
        for j in hop_edges:
            assert hop_start[hop - 1] <= col[j] < hop_start[hop]
            key = (node[col[j]], groups[edge[j]] if grouped else 0)
            sampled.setdefault(key, []).append(edge[j])
        for local_dst in range(hop_start[hop - 1], hop_start[hop]):
            for (dst, group), candidates in edges.items():
                if dst != node[local_dst]:
                    continue
                picked = sampled.get((dst, group), [])
                expected = len(candidates) if fan_out < 0 else min(fan_out, len(candidates))
                assert len(picked) == len(set(picked)) == expected
                assert set(picked) <= {position for position, _ in candidates}
        # The hop's new nodes are its sources not seen before, in order of appearance.
        seen = set(node[: hop_start[hop]])
        new = []
        for j in hop_edges:
            if node[row[j]] not in seen:
                seen.add(node[row[j]])
                new.append(node[row[j]])
        assert node[hop_start[hop] : hop_start[hop + 1]] == new


@pytest.mark.parametrize("degree", [5, 10])  # sort keys (degree <= 2k), redraws (degree > 2k)
def test_subsets_are_uniform(degree):
    """2,000 stars, each centre drawing 3 of its `degree` leaves: every leaf and every
    3-subset about equally often."""
    stars, k = 2000, 3
    centre = torch.arange(stars)
    leaf = stars + torch.arange(stars * degree)
    graph = Data(
        edge_index=torch.stack([leaf, centre.repeat_interleave(degree)]),
        num_nodes=stars * (degree + 1),
    )
    sampler = TorchNeighborSampler(
        graph, [k], is_sorted=True, generator=torch.Generator().manual_seed(0)
    )
    out = sampler._sample(centre)
    offset = out.edge.view(stars, k) - (centre * degree).view(-1, 1)
    assert bool((offset.sort(dim=1).values.diff(dim=1) > 0).all())  # distinct
    per_leaf = torch.bincount(offset.view(-1), minlength=degree).float()
    expected = stars * k / degree
    spread = math.sqrt(expected * (1 - k / degree))
    assert bool(((per_leaf - expected).abs() < 5 * spread).all()), per_leaf
    subsets = Counter(tuple(row) for row in offset.sort(dim=1).values.tolist())
    num_subsets = math.comb(degree, k)
    assert len(subsets) == num_subsets
    cell = stars / num_subsets
    chi2 = sum((count - cell) ** 2 / cell for count in subsets.values())
    # Mean num_subsets - 1, sd about sqrt(2 (num_subsets - 1)): 6 sd is a loose bound.
    assert chi2 < num_subsets - 1 + 6 * math.sqrt(2 * (num_subsets - 1))


def test_sampling_with_replacement_draws_exactly_k():
    graph = random_graph(num_nodes=30, num_edges=200, seed=2)
    sampler = TorchNeighborSampler(graph, [4], replace=True, is_sorted=True)
    out = sampler._sample(torch.arange(30))
    destination = graph.edge_index[1]
    has_neighbours = torch.bincount(destination, minlength=30) > 0
    per_node = torch.bincount(out.col, minlength=30)
    assert torch.equal(per_node, has_neighbours.long() * 4)
    assert torch.equal(destination[out.edge], out.node[out.col])


def test_unsorted_graphs_are_sorted_and_edge_ids_map_back():
    graph = random_graph(seed=3)
    shuffle = torch.randperm(graph.num_edges, generator=torch.Generator().manual_seed(0))
    shuffled = Data(
        edge_index=graph.edge_index[:, shuffle], edge_type=graph.edge_type[shuffle], num_nodes=40
    )
    for group_attr in (None, "edge_type"):
        sampler = TorchNeighborSampler(shuffled, [3, 2], group_attr=group_attr)
        out = sampler._sample(torch.tensor([1, 2]))
        edge_id = sampler.edge_permutation[out.edge]
        assert torch.equal(shuffled.edge_index[0, edge_id], out.node[out.row])
        assert torch.equal(shuffled.edge_index[1, edge_id], out.node[out.col])


def test_sampler_leaves_no_state_between_calls():
    graph = random_graph()
    sampler = TorchNeighborSampler(graph, [-1], is_sorted=True)
    first = sampler._sample(torch.tensor([4, 9]))
    sampler._sample(torch.tensor([0, 1, 2, 3]))
    again = sampler._sample(torch.tensor([4, 9]))
    assert torch.equal(first.node, again.node) and torch.equal(first.row, again.row)
    assert bool((sampler._local == -1).all())


def test_bad_settings_are_refused():
    graph = random_graph()
    with pytest.raises(ValueError, match="not an edge attribute"):
        TorchNeighborSampler(graph, [2], group_attr="relation")
    with pytest.raises(ValueError, match="directional"):
        TorchNeighborSampler(graph, [2], subgraph_type="induced")
    backwards = Data(edge_index=graph.edge_index.flip(1), num_nodes=graph.num_nodes)
    with pytest.raises(ValueError, match="not sorted by destination"):
        TorchNeighborSampler(backwards, [2], is_sorted=True)
    shuffled_groups = Data(
        edge_index=graph.edge_index, edge_type=graph.edge_type.flip(0), num_nodes=graph.num_nodes
    )
    with pytest.raises(ValueError, match="not sorted by 'edge_type'"):
        TorchNeighborSampler(shuffled_groups, [2], group_attr="edge_type", is_sorted=True)
    sampler = TorchNeighborSampler(graph, [2], is_sorted=True)
    sampler.disjoint = True
    with pytest.raises(NotImplementedError, match="non-disjoint"):
        sampler._sample(torch.tensor([0]))


def test_link_loader_batches_with_unseen_item_negatives():
    data = RecData.from_hetero(synthetic_hetero(num_users=40, num_items=25, seed=0))
    model = RelationAwareGNN.from_data(data, embedding_dim=4, num_layers=2)
    graph = model.sampling_graph()
    # A relation per direction (constant per destination, so the graph stays sorted).
    graph.edge_type = (graph.edge_index[1] < data.num_users).long()
    sampler = TorchNeighborSampler(
        graph,
        [3, 2],
        group_attr="edge_type",
        is_sorted=True,
        generator=torch.Generator().manual_seed(0),
        negative_sampler=UnseenItems(data.train_items, data.num_users),
    )
    users, items = data.train
    loader = LinkNeighborLoader(
        graph,
        [3, 2],
        edge_label_index=torch.stack([users, items + data.num_users]),
        neg_sampling="triplet",
        neighbor_sampler=sampler,
        batch_size=16,
        shuffle=True,
    )
    batches = 0
    for batch in loader:
        batches += 1
        seeds = batch.n_id[: batch.num_sampled_nodes[0]]
        user = seeds[batch.src_index]
        positive = seeds[batch.dst_pos_index] - data.num_users
        negative = seeds[batch.dst_neg_index] - data.num_users
        assert bool((user < data.num_users).all())
        assert bool(data.train_items.contains(user, positive).all())
        assert bool((negative >= 0).all()) and bool((negative < data.num_items).all())
        assert not bool(data.train_items.contains(user, negative).any())
        assert torch.equal(batch.edge_type, graph.edge_type[batch.e_id])
        assert torch.equal(batch.n_id[batch.edge_index[0]], graph.edge_index[0, batch.e_id])
    assert batches == math.ceil(data.train.size(1) / 16)
