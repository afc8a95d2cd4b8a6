"""Neighbour sampling for mini-batch training, in plain PyTorch.

PyG's :class:`~torch_geometric.loader.LinkNeighborLoader` batches seed edges,
samples negatives and cuts the sampled subgraph out of the graph, but the
sampling itself runs in ``pyg-lib`` or ``torch-sparse``, compiled libraries
that are not always installable. :class:`TorchNeighborSampler` is a
:class:`~torch_geometric.sampler.NeighborSampler` whose sampling step is
vectorised PyTorch, so the loader works without them::

    sampler = TorchNeighborSampler(graph, [10, 5])
    loader = LinkNeighborLoader(graph, [10, 5], neighbor_sampler=sampler, ...)

It returns what ``pyg-lib`` returns (a
:class:`~torch_geometric.sampler.SamplerOutput`): ``node`` holds the global
ids of the sampled nodes, the seeds first and then the nodes each hop added,
in order of first appearance; ``row`` and ``col`` are the local source and
destination of each sampled edge (messages flow ``row -> col``, towards the
seeds), grouped by hop and sorted by ``col``; ``edge`` is each edge's position
in the sampler's CSC layout (the loader maps it to an edge id with
:attr:`edge_permutation`); ``num_sampled_nodes`` counts the seeds and then
the nodes added per hop, ``num_sampled_edges`` the edges per hop.

Two additions serve recommendation:

- ``group_attr`` makes the fan-out apply per (node, group) instead of per
  node, with an edge attribute as the group (the relation type). A popular
  item with thousands of users and two genres then keeps its genres in
  every sample, instead of losing them to the interactions.
- ``negative_sampler`` replaces PyG's uniform "triplet" negatives (which may
  be any node, and may be a positive) with a function of the batch, e.g.
  "an item the user has not interacted with".

Without replacement (the default), a node with :math:`d` neighbours and
fan-out :math:`k < d` keeps a uniformly random :math:`k`-subset, so each
neighbour is kept with probability :math:`k / d`; scaling the sampled sum by
:math:`d / k` gives an unbiased estimate of the full sum. Subsets are drawn
with random sort keys when :math:`d \\le 2k` and by drawing :math:`k`
positions and redrawing repeats otherwise; both treat all neighbours alike,
so both give every :math:`k`-subset the same probability.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.sampler import (
    EdgeSamplerInput,
    NegativeSampling,
    NeighborSampler,
    SamplerOutput,
)
from torch_geometric.sampler.base import SubgraphType

#: ``negative_sampler(src, dst, generator)``: one negative destination per ``(src, dst)`` pair.
NegativeSampler = Callable[[Tensor, Tensor, torch.Generator], Tensor]

#: Segments with at most this many times the fan-out are sampled with sort keys.
_KEYS_UP_TO = 2


class TorchNeighborSampler(NeighborSampler):
    r"""A homogeneous neighbour sampler in plain PyTorch, for PyG's loaders.

    With ``pyg-lib`` or ``torch-sparse`` installed and no ``group_attr``, the
    sampling step is theirs (see :class:`~torch_geometric.sampler.NeighborSampler`);
    otherwise it is the vectorised implementation here, which supports
    homogeneous, non-temporal, non-disjoint, unweighted sampling.

    Args:
        data (Data): The graph; ``edge_index[0]`` sends messages to ``edge_index[1]``.
        num_neighbors (list of int): Fan-out per hop, the first for the seeds'
            neighbours; ``-1`` keeps all neighbours.
        group_attr (str, optional): An integer edge attribute; the fan-out then
            applies to each (destination, group) pair. (default: :obj:`None`)
        replace (bool, optional): Sample with replacement; exactly
            :math:`k` draws per node (or group), repeats kept. (default: :obj:`False`)
        subgraph_type (str, optional): ``"directional"`` or ``"bidirectional"``.
            (default: :obj:`"directional"`)
        is_sorted (bool, optional): ``edge_index`` is already sorted by
            destination (and by ``group_attr`` within a destination), so no
            copy is sorted. (default: :obj:`False`)
        generator (torch.Generator, optional): Random source of neighbour and
            negative sampling; each data-loader worker reseeds its copy.
            (default: a new generator seeded from PyTorch's global one)
        negative_sampler (callable, optional): Draws the negatives of
            ``neg_sampling="triplet"``, see :data:`NegativeSampler`.
            (default: :obj:`None`, PyG's uniform draw over all nodes)
    """

    def __init__(
        self,
        data: Data,
        num_neighbors: Sequence[int],
        *,
        group_attr: str | None = None,
        replace: bool = False,
        subgraph_type: str = "directional",
        is_sorted: bool = False,
        generator: torch.Generator | None = None,
        negative_sampler: NegativeSampler | None = None,
    ) -> None:
        if not isinstance(data, Data):
            raise TypeError(f"TorchNeighborSampler samples a homogeneous Data, got {type(data)}")
        if SubgraphType(subgraph_type) == SubgraphType.induced:
            raise ValueError("TorchNeighborSampler samples 'directional' or 'bidirectional'")
        groups: Tensor | None = None
        order: Tensor | None = None
        if is_sorted:
            _check_sorted(data, group_attr)
        if group_attr is not None:
            if group_attr not in data or not data.is_edge_attr(group_attr):
                raise ValueError(f"group_attr {group_attr!r} is not an edge attribute of the graph")
            groups = data[group_attr].long()
            if not is_sorted:
                # Sort by (destination, group) here, so the CSC built below keeps this order.
                key = data.edge_index[1].long() * (int(groups.max()) + 1) + groups
                order = torch.sort(key, stable=True).indices
                data = Data(edge_index=data.edge_index[:, order], num_nodes=data.num_nodes)
                groups = groups[order]
                is_sorted = True
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*without a 'pyg-lib' installation")
            super().__init__(
                data,
                num_neighbors=list(num_neighbors),
                subgraph_type=subgraph_type,
                replace=replace,
                is_sorted=is_sorted,
            )
        if order is not None:
            self.perm = order
        self.group_attr = group_attr
        self.generator = generator or torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))
        self.negative_sampler = negative_sampler
        self._reseeded_for: int | None = None
        self._local: Tensor | None = None  # global id -> local id during a call, else -1
        self._segment_ptr, self._node_segment_ptr = self._segments(groups)

    @property
    def uses_torch(self) -> bool:
        """Whether sampling runs here rather than in ``pyg-lib`` / ``torch-sparse``."""
        compiled = torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE
        return self.group_attr is not None or not compiled

    def sample_from_edges(
        self, inputs: EdgeSamplerInput, neg_sampling: NegativeSampling | None = None
    ) -> SamplerOutput:
        """As PyG's, but "triplet" negatives come from ``negative_sampler`` when one is set.

        The output's ``metadata`` is PyG's triplet metadata: ``(input_id,
        src_index, dst_pos_index, dst_neg_index, None)``, indices into ``node``.
        """
        if self.negative_sampler is None or neg_sampling is None or not neg_sampling.is_triplet():
            return super().sample_from_edges(inputs, neg_sampling)
        if inputs.input_type is not None or inputs.time is not None:
            raise ValueError("negative_sampler supports homogeneous, non-temporal seed edges")
        self._reseed_in_worker()
        src, dst = inputs.row, inputs.col
        num_pos = src.numel()
        amount = int(neg_sampling.amount)
        dst_neg = self.negative_sampler(
            src.repeat_interleave(amount), dst.repeat_interleave(amount), self.generator
        )
        seed, inverse = torch.cat([src, dst, dst_neg]).unique(return_inverse=True)
        out = self._sample(seed)
        dst_neg_index = inverse[2 * num_pos :].view(num_pos, amount).squeeze(-1)
        out.metadata = (
            inputs.input_id,
            inverse[:num_pos],
            inverse[num_pos : 2 * num_pos],
            dst_neg_index,
            None,
        )
        if self.subgraph_type == SubgraphType.bidirectional:
            out = out.to_bidirectional(keep_orig_edges=self.keep_orig_edges)
        return out

    def _sample(
        self, seed: Tensor | dict, seed_time: Tensor | dict | None = None, **kwargs
    ) -> SamplerOutput:
        if not self.uses_torch:
            return super()._sample(seed, seed_time, **kwargs)
        if isinstance(seed, dict) or seed_time is not None or self.disjoint:
            raise NotImplementedError(
                "TorchNeighborSampler samples homogeneous, non-temporal, non-disjoint "
                "subgraphs; install pyg-lib for the other kinds"
            )
        self._reseed_in_worker()
        if self._local is None:
            self._local = torch.full((self.num_nodes,), -1, dtype=torch.long)
        nodes = [_first_occurrences(seed.long())]
        try:
            return self._sample_hops(nodes)
        finally:
            for part in nodes:  # leave the scratch map clean for the next call
                self._local[part] = -1

    def _sample_hops(self, nodes: list[Tensor]) -> SamplerOutput:
        """Expand ``nodes[0]`` (the seeds) hop by hop; appends each hop's new nodes to ``nodes``."""
        local = self._local
        assert local is not None
        num_nodes = nodes[0].numel()
        local[nodes[0]] = torch.arange(num_nodes)
        rows, cols, edges = [], [], []
        num_sampled_edges = []
        frontier, frontier_start = nodes[0], 0
        for fan_out in self.num_neighbors.values:
            position, owner = self._pick(frontier, fan_out)
            source = self.row[position]
            is_new = local[source] < 0
            new = _first_occurrences(source[is_new])
            local[new] = torch.arange(num_nodes, num_nodes + new.numel())
            rows.append(local[source])
            cols.append(owner + frontier_start)
            edges.append(position)
            num_sampled_edges.append(position.numel())
            nodes.append(new)
            frontier, frontier_start = new, num_nodes
            num_nodes += new.numel()
        return SamplerOutput(
            node=torch.cat(nodes),
            row=torch.cat(rows) if rows else torch.empty(0, dtype=torch.long),
            col=torch.cat(cols) if cols else torch.empty(0, dtype=torch.long),
            edge=torch.cat(edges) if edges else torch.empty(0, dtype=torch.long),
            batch=None,
            num_sampled_nodes=[part.numel() for part in nodes],
            num_sampled_edges=num_sampled_edges,
        )

    def _pick(self, frontier: Tensor, fan_out: int) -> tuple[Tensor, Tensor]:
        """Sampled CSC positions of ``frontier``'s in-edges, with the frontier index
        each belongs to; sorted by frontier index."""
        if self._node_segment_ptr is None:  # one segment per node
            segment, owner = frontier, torch.arange(frontier.numel())
        else:
            first = self._node_segment_ptr[frontier]
            count = self._node_segment_ptr[frontier + 1] - first
            segment = _ranges(first, count)
            owner = torch.repeat_interleave(torch.arange(frontier.numel()), count)
        start = self._segment_ptr[segment]
        degree = self._segment_ptr[segment + 1] - start
        if fan_out < 0:
            keep = degree
        elif self.replace:
            keep = torch.where(degree > 0, fan_out, 0)
        else:
            keep = degree.clamp(max=fan_out)
        if fan_out < 0:
            return _ranges(start, degree), torch.repeat_interleave(owner, keep)
        offset = torch.cumsum(keep, 0) - keep
        position = torch.empty(int(keep.sum()), dtype=torch.long)
        if self.replace:
            full = (degree > 0).nonzero().view(-1)
            draws = _below(degree[full, None].expand(-1, fan_out), self.generator)
            slots = offset[full, None] + torch.arange(fan_out)
            position[slots.reshape(-1)] = (start[full, None] + draws).reshape(-1)
            return position, torch.repeat_interleave(owner, keep)

        everything = (degree <= fan_out).nonzero().view(-1)
        position[_ranges(offset[everything], degree[everything])] = _ranges(
            start[everything], degree[everything]
        )
        by_keys = ((degree > fan_out) & (degree <= _KEYS_UP_TO * fan_out)).nonzero().view(-1)
        if by_keys.numel():
            chosen = _subset_by_keys(degree[by_keys], fan_out, self.generator)
            slots = offset[by_keys, None] + torch.arange(fan_out)
            position[slots.reshape(-1)] = (start[by_keys, None] + chosen).reshape(-1)
        by_draws = (degree > _KEYS_UP_TO * fan_out).nonzero().view(-1)
        if by_draws.numel():
            chosen = _subset_by_redraws(degree[by_draws], fan_out, self.generator)
            slots = offset[by_draws, None] + torch.arange(fan_out)
            position[slots.reshape(-1)] = (start[by_draws, None] + chosen).reshape(-1)
        return position, torch.repeat_interleave(owner, keep)

    def _segments(self, groups: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """CSC pointers of the (destination, group) segments, and each node's first
        segment; without groups, a node is one segment (the CSC column pointers)."""
        colptr = self.colptr.long()
        if groups is None:
            return colptr, None
        degree = colptr[1:] - colptr[:-1]
        destination = torch.repeat_interleave(torch.arange(self.num_nodes), degree)
        starts = torch.ones(destination.numel(), dtype=torch.bool)
        starts[1:] = (destination[1:] != destination[:-1]) | (groups[1:] != groups[:-1])
        segment_start = starts.nonzero().view(-1)
        segment_ptr = torch.cat([segment_start, torch.tensor([destination.numel()])])
        per_node = torch.bincount(destination[segment_start], minlength=self.num_nodes)
        node_segment_ptr = torch.zeros(self.num_nodes + 1, dtype=torch.long)
        node_segment_ptr[1:] = torch.cumsum(per_node, 0)
        return segment_ptr, node_segment_ptr

    def _reseed_in_worker(self) -> None:
        """Data-loader workers start with copies of one generator; give each its own stream."""
        info = torch.utils.data.get_worker_info()
        if info is not None and self._reseeded_for != info.seed:
            self.generator = torch.Generator().manual_seed(info.seed)
            self._reseeded_for = info.seed

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_local"] = None  # scratch space, rebuilt on first use
        return state


def _check_sorted(data: Data, group_attr: str | None) -> None:
    """``is_sorted`` is a promise; a broken one would silently sample wrong neighbours."""
    destination = data.edge_index[1]
    step = destination[1:] - destination[:-1]
    if bool((step < 0).any()):
        raise ValueError("is_sorted=True, but edge_index is not sorted by destination")
    if group_attr is not None and group_attr in data:
        group = data[group_attr]
        if bool(((step == 0) & (group[1:] < group[:-1])).any()):
            raise ValueError(
                f"is_sorted=True, but edges into a node are not sorted by {group_attr!r}"
            )


def _first_occurrences(index: Tensor) -> Tensor:
    """The distinct values of ``index`` in order of first appearance."""
    if index.numel() == 0:
        return index
    unique, inverse = torch.unique(index, return_inverse=True)
    first = torch.full((unique.numel(),), index.numel(), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(index.numel()), reduce="amin")
    return unique[torch.argsort(first)]


def _ranges(start: Tensor, count: Tensor) -> Tensor:
    """``cat([arange(s, s + c) for s, c in zip(start, count)])``, without a loop."""
    total = int(count.sum()) if count.numel() else 0
    before = torch.cumsum(count, 0) - count
    return torch.repeat_interleave(start - before, count, output_size=total) + torch.arange(total)


def _below(bound: Tensor, generator: torch.Generator) -> Tensor:
    """Uniform integers in ``[0, bound)``, elementwise (float64 keeps the bias negligible)."""
    draw = torch.rand(bound.shape, generator=generator, dtype=torch.float64) * bound
    return torch.minimum(draw.long(), bound - 1)


def _subset_by_keys(degree: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """``(n, k)`` distinct offsets below each ``degree`` (all above ``k``): the ``k``
    smallest of one random key per neighbour. Costs the sum of ``degree``."""
    segment = torch.repeat_interleave(torch.arange(degree.numel()), degree)
    key = torch.rand(segment.numel(), generator=generator)
    order = torch.argsort(key)
    order = order[torch.argsort(segment[order], stable=True)]  # by segment, then by key
    start = torch.cumsum(degree, 0) - degree
    rank = torch.arange(segment.numel()) - torch.repeat_interleave(start, degree)
    offset = order - start[segment[order]]
    return offset[rank < k].view(-1, k)


def _subset_by_redraws(degree: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """``(n, k)`` distinct offsets below each ``degree`` (all above ``2k``): draw ``k``,
    redraw the repeats until none is left. Costs about ``n * k``."""
    bound = degree[:, None].expand(-1, k)
    draws = _below(bound, generator)
    rows = torch.arange(degree.numel())
    while rows.numel():
        values, order = draws[rows].sort(dim=1)
        repeated = torch.zeros_like(values, dtype=torch.bool)
        repeated[:, 1:] = values[:, 1:] == values[:, :-1]
        has_repeat = repeated.any(dim=1)
        rows, repeated, order = rows[has_repeat], repeated[has_repeat], order[has_repeat]
        if rows.numel() == 0:
            break
        repeat = torch.zeros_like(repeated).scatter_(1, order, repeated)
        redraw = draws[rows]
        redraw[repeat] = _below(bound[rows][repeat], generator)
        draws[rows] = redraw
    return draws
