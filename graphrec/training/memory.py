r"""Memory estimates of training, and the ``--memory-cap`` check.

The estimates (:func:`estimate_minibatch_memory`,
:func:`estimate_fullbatch_memory`) add up, in bytes, with :math:`U, I, C`
users, items and concepts, :math:`N = U + I (+ C)`, :math:`D` the embedding
size, :math:`L` layers, :math:`E` training interactions, :math:`E_{all}` all
interactions, :math:`K = 2 E_{kg}` KG entries (relgnn) and
:math:`\vec{E} = 2E` directed user-item edges (the graph both models sample):

- ``baseline``: the interpreter with PyTorch and PyG imported, plus fixed
  workspace (:data:`BASELINE_BYTES`).
- ``data``: the split, :math:`16 E_{all} + 24 E + 8 U`.
- ``graph``: the model's index structures, :math:`16 E + 4 (U + I)` for the
  normalised adjacency, plus :math:`40 K` for relgnn's semantic channel;
  mini-batch adds the sampler's graph, :math:`18 \vec{E} + 16 E + 32 N` (edge
  list, loader seeds, pointers, scratch).
- ``parameters``: :math:`5P` with :math:`P = 4 N D`: weights, gradient, two
  Adam moments and the best epoch's copy (sparse gradients are smaller; the
  estimate does not count on them).
- ``step``, full batch: :math:`(f + aL) P` plus, for relgnn, :math:`24 D K`
  for its semantic channel. While the user or the item table is smaller than
  :data:`MMAP_THRESHOLD_MAX` (32 MiB: glibc keeps freed blocks below it for
  reuse), :math:`f = 2` and :math:`a = 8`. From there on freed blocks go back
  to the operating system and the peak is what is alive: :math:`f = 6, a = 0`
  (LightGCN's propagation keeps no layer input for the backward pass).
  Calibrated for LightGCN against peak RSS (``bench/minibatch.py``, table in
  ``bench/RESULTS.md``); relgnn's collaborative part is LightGCN's, and its
  channel term is derived from the tensors it allocates, not calibrated.
- ``step``, mini-batch: the sampled subgraph is bounded by
  :math:`n_0 = \min(U, B) + \min(I, 2B)` seeds for a batch of :math:`B`
  (users, positives, negatives) and :math:`n_h \le n_{h-1} m_h` new nodes at
  hop :math:`h` (all capped at :math:`N`), :math:`m_h` the most neighbours any
  node keeps at fan-out :math:`k_h` (computed from the degrees), with
  :math:`e_h = n_{h-1} m_h` edges. Layer :math:`l` reads hops
  :math:`0..L-l+1` and writes hops :math:`0..L-l`, so the step costs
  :math:`4D\,(6 \sum_h n_h + 3 \sum_l n^{dst}_l) + 64 \sum_l e_l` bytes, plus
  relgnn's channel term (the concept graph is not sampled). It is an upper
  bound: fan-outs rarely all reach distinct nodes of the largest degree.
- ``evaluation``: the final embeddings and the temporaries of computing
  them (:math:`4P` full batch; layer-wise :math:`3P` plus a chunk, and the
  channel term for relgnn), plus the score chunk of
  :func:`~graphrec.evaluation.evaluate`, :math:`6 \min(1024 I, 2^{25})`.

The total is baseline + data + graph + parameters + max(step, evaluation):
training steps and evaluation do not overlap.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from graphrec.data import GraphSize, RecData
from graphrec.evaluation import MAX_SCORES_PER_CHUNK
from graphrec.models.base import Recommender
from graphrec.models.registry import model_name, resolve_model
from graphrec.training.minibatch import INFERENCE_CHUNK_SIZE, check_fan_outs, check_supported

#: Resident memory of the interpreter with PyTorch, PyG and graphrec imported
#: (350 MiB measured on x86-64 Linux, PyTorch 2.13 CPU), plus kernel and
#: allocator workspace that does not scale with the graph.
BASELINE_BYTES = 384 * 2**20

_GB = 1e9

# A sampled step's tensors of D floats per subgraph node, per layer input and output
# row, and its bytes per edge of a layer (calibrated against peak RSS, see bench/minibatch.py).
_PER_NODE = 6  # ego rows, their gradient, the sparse gradient, optimiser temporaries
_PER_SOURCE = {"lightgcn": 0, "relgnn": 0}
_PER_DESTINATION = {"lightgcn": 3, "relgnn": 3}
_PER_EDGE = {"lightgcn": 64, "relgnn": 64}
# Full-batch step, in tables of N x D floats: fixed and per layer. When the user and item
# tables are both at least MMAP_THRESHOLD_MAX, each of their blocks is returned to the
# OS when freed and the peak is what is alive (LightGCN's CSR propagation keeps no layer
# input for the backward pass, so its peak does not grow with layers); below it, the
# allocator keeps freed blocks for reuse (calibrated against peak RSS, see bench/RESULTS.md).
_FULL_FIXED = {"lightgcn": 2, "relgnn": 2}
_FULL_PER_LAYER = {"lightgcn": 8, "relgnn": 8}
_FULL_FIXED_LARGE = {"lightgcn": 6, "relgnn": 6}
_FULL_PER_LAYER_LARGE = {"lightgcn": 0, "relgnn": 0}
# relgnn's semantic channel (graphrec.models.relation_graph): per directed KG edge entry,
# its index, relation, group, share and uniform-share buffers; per message pass, the
# gathered rows, their scaled copy and their gradient (D floats each). Not calibrated:
# derived from the tensors the channel allocates.
_KG_ENTRY_BYTES = 40
_KG_ROWS_PER_PASS = 3

#: glibc's largest ``M_MMAP_THRESHOLD`` on 64-bit systems: allocations at least this
#: big are always their own mapping, so freeing them lowers the resident set at once.
MMAP_THRESHOLD_MAX = 32 * 2**20


@dataclass(frozen=True)
class MemoryEstimate:
    """An estimate of peak resident memory, in bytes, by part (see the module docstring)."""

    baseline: int
    data: int
    graph: int
    parameters: int
    step: int
    evaluation: int
    #: Computed from a :class:`~graphrec.data.GraphSize` before the export: the
    #: estimate after the export will be at least this.
    lower_bound: bool = False

    @property
    def total(self) -> int:
        fixed = self.baseline + self.data + self.graph + self.parameters
        return fixed + max(self.step, self.evaluation)

    @property
    def total_gb(self) -> float:
        return self.total / _GB

    def describe(self) -> str:
        parts = ("baseline", "data", "graph", "parameters", "step", "evaluation")
        shown = ", ".join(f"{part} {getattr(self, part) / _GB:.2f}" for part in parts)
        amount = "at least " if self.lower_bound else "~"
        return f"{amount}{self.total_gb:.2f} GB ({shown} GB)"


def estimate_minibatch_memory(
    data: RecData | GraphSize,
    *,
    model: str | type[Recommender] | Recommender,
    fan_outs: Sequence[int],
    batch_size: int = 2048,
    model_kwargs: Mapping[str, Any] | None = None,
) -> MemoryEstimate:
    """Peak memory of mini-batch training (:class:`~graphrec.training.strategies.MiniBatch`) (an upper bound on a step's subgraph).

    Computed from counts and degrees only: nothing is built or trained. From a
    :class:`~graphrec.data.GraphSize` (no interactions, no degrees yet) it is
    a lower bound: the interaction terms count zero and a sampled step only its
    seeds.
    """
    shape = ModelShape.of(model, data, model_kwargs)
    counts = shape.counts
    num_layers = shape.num_layers
    fan_outs = check_fan_outs(fan_outs, num_layers)
    num_nodes = shape.num_nodes
    nodes = [min(counts.users, batch_size) + min(counts.items, 2 * batch_size)]
    edges = []
    for fan_out in fan_outs:
        kept = _most_neighbours_kept(data, shape, fan_out) if isinstance(data, RecData) else 0
        edges.append(min(nodes[-1] * kept, shape.num_directed_edges))
        nodes.append(max(0, min(nodes[-1] * kept, num_nodes - sum(nodes))))
    rows = _PER_NODE * sum(nodes)
    edge_layers = 0
    for layer in range(1, num_layers + 1):  # outputs for hops 0 .. L - l, inputs one hop more
        rows += _PER_SOURCE[shape.name] * sum(nodes[: num_layers - layer + 2])
        rows += _PER_DESTINATION[shape.name] * sum(nodes[: num_layers - layer + 1])
        edge_layers += sum(edges[: num_layers - layer + 1])
    step = 4 * shape.embedding_dim * rows + _PER_EDGE[shape.name] * edge_layers
    step += shape.kg_step_bytes
    sampler_graph = 18 * shape.num_directed_edges + 16 * counts.train + 32 * num_nodes
    inference = 3 * shape.table_bytes + shape.kg_step_bytes
    chunk = INFERENCE_CHUNK_SIZE * shape.embedding_dim * 4
    return MemoryEstimate(
        baseline=BASELINE_BYTES,
        data=counts.data_bytes,
        graph=shape.graph_bytes + sampler_graph,
        parameters=5 * shape.table_bytes,
        step=step,
        evaluation=inference + chunk + counts.score_bytes,
        lower_bound=counts.lower_bound,
    )


def estimate_fullbatch_memory(
    data: RecData | GraphSize,
    *,
    model: str | type[Recommender] | Recommender,
    model_kwargs: Mapping[str, Any] | None = None,
) -> MemoryEstimate:
    """Peak memory of full-batch training (:class:`~graphrec.training.strategies.FullBatch`: full propagation every step),
    for LightGCN and relgnn. Computed from counts only; from a
    :class:`~graphrec.data.GraphSize`, a lower bound (no interaction terms)."""
    shape = ModelShape.of(model, data, model_kwargs)
    counts = shape.counts
    smallest_table = 4 * shape.embedding_dim * min(counts.users, counts.items)
    if smallest_table >= MMAP_THRESHOLD_MAX:
        fixed, per_layer = _FULL_FIXED_LARGE[shape.name], _FULL_PER_LAYER_LARGE[shape.name]
    else:
        fixed, per_layer = _FULL_FIXED[shape.name], _FULL_PER_LAYER[shape.name]
    step = (fixed + per_layer * shape.num_layers) * shape.table_bytes
    step += shape.kg_step_bytes
    return MemoryEstimate(
        baseline=BASELINE_BYTES,
        data=counts.data_bytes,
        graph=shape.graph_bytes,
        parameters=5 * shape.table_bytes,
        step=step,
        evaluation=4 * shape.table_bytes + counts.score_bytes,
        lower_bound=counts.lower_bound,
    )


def check_memory_cap(
    estimate: MemoryEstimate, memory_cap_gb: float, *, what: str, advice: str
) -> None:
    """Raise a :class:`ValueError` that says what to change when ``estimate`` exceeds the cap.

    Args:
        estimate: From :func:`estimate_minibatch_memory` or :func:`estimate_fullbatch_memory`.
        memory_cap_gb: The cap in GB (:math:`10^9` bytes).
        what: What needs the memory, e.g. ``"full-batch training"``.
        advice: What to do instead, e.g. ``"use --mini-batch"``.
    """
    if not memory_cap_gb > 0:
        raise ValueError(f"--memory-cap must be a positive number of GB, got {memory_cap_gb}")
    if estimate.total <= memory_cap_gb * _GB:
        return
    fixed = estimate.baseline + estimate.data + estimate.graph + estimate.parameters
    if estimate.baseline > memory_cap_gb * _GB:
        advice = (
            f"the process needs ~{estimate.baseline / _GB:.2f} GB with PyTorch loaded, "
            "before any data; raise the cap"
        )
    elif fixed > memory_cap_gb * _GB:
        advice = (
            "the embedding tables, their optimiser state and the graph alone exceed it; "
            "lower embedding_dim or raise the cap"
        )
    raise ValueError(
        f"{what} would need {estimate.describe()}, more than the memory cap of "
        f"{memory_cap_gb:g} GB; {advice}"
    )


def check_memory(
    data: RecData | GraphSize,
    memory_cap_gb: float,
    *,
    model: str | type[Recommender] | Recommender,
    model_kwargs: Mapping[str, Any] | None = None,
    fan_outs: Sequence[int] | None = None,
    batch_size: int = 2048,
) -> MemoryEstimate:
    """Estimate full-batch (``fan_outs=None``) or mini-batch training and apply
    :func:`check_memory_cap`, with the advice that fits the mode.

    With a :class:`~graphrec.data.GraphSize` this is the check before the
    export (a lower bound, so it refuses only what the later check would).
    Returns the estimate when it fits.
    """
    if fan_outs is None:
        estimate = estimate_fullbatch_memory(data, model=model, model_kwargs=model_kwargs)
        what, advice = (
            "full-batch training",
            "train with --mini-batch (memory bounded by the batch)",
        )
    else:
        estimate = estimate_minibatch_memory(
            data, model=model, model_kwargs=model_kwargs, fan_outs=fan_outs, batch_size=batch_size
        )
        what = f"mini-batch training (batch {batch_size}, fan-outs {list(fan_outs)})"
        advice = "lower --batch-size or the --fan-out values"
    check_memory_cap(estimate, memory_cap_gb, what=what, advice=advice)
    return estimate


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimates and checks need of a model, without building it."""

    name: str
    num_layers: int
    embedding_dim: int
    num_nodes: int
    num_directed_edges: int
    num_kg_entries: int
    graph_bytes: int
    counts: _Counts

    @property
    def table_bytes(self) -> int:
        return 4 * self.num_nodes * self.embedding_dim

    @property
    def kg_step_bytes(self) -> int:
        """relgnn's semantic channel in a step: its passes over the KG entries (the
        concept layers and the items' readout; counted as two)."""
        return 2 * _KG_ROWS_PER_PASS * 4 * self.embedding_dim * self.num_kg_entries

    @classmethod
    def of(
        cls,
        model: str | type[Recommender] | Recommender,
        data: RecData | GraphSize,
        model_kwargs: Mapping[str, Any] | None,
    ) -> ModelShape:
        model_class = type(model) if isinstance(model, Recommender) else resolve_model(model)
        check_supported(model_class)
        name = model_name(model)
        kwargs = dict(model_kwargs or {})
        if isinstance(model, Recommender):
            num_layers, dim = model.num_layers, model.embedding_dim
        else:
            defaults = inspect.signature(model_class.__init__).parameters
            num_layers = kwargs.get("num_layers", defaults["num_layers"].default)
            dim = kwargs.get("embedding_dim", defaults["embedding_dim"].default)
        counts = _Counts.of(data)
        interacting = counts.users + counts.items
        graph_bytes = 16 * counts.train + 4 * interacting
        num_nodes, kg_entries = interacting, 0
        if name == "relgnn" and (counts.concepts or counts.kg_edges):
            num_nodes += counts.concepts
            kg_entries = 2 * counts.kg_edges
            graph_bytes += _KG_ENTRY_BYTES * kg_entries
        return cls(
            name=name,
            num_layers=int(num_layers),
            embedding_dim=int(dim),
            num_nodes=num_nodes,
            num_directed_edges=2 * counts.train,
            num_kg_entries=kg_entries,
            graph_bytes=graph_bytes,
            counts=counts,
        )


def _most_neighbours_kept(data: RecData, shape: ModelShape, fan_out: int) -> int:
    """The most neighbours any node keeps at this fan-out in the user-item graph (both
    models sample only it; relgnn's concept graph is not sampled)."""
    users, items = data.train
    num_interacting = data.num_users + data.num_items
    destination = torch.cat([items + data.num_users, users])
    degree = torch.bincount(destination, minlength=num_interacting)
    largest = int(degree.max()) if degree.numel() else 0
    return largest if fan_out < 0 else min(fan_out, largest)


@dataclass(frozen=True)
class _Counts:
    """The sizes the estimates use, from split data or (as a lower bound) from the graph."""

    users: int
    items: int
    concepts: int
    kg_edges: int
    train: int  # training interactions
    interactions: int  # all split interactions
    lower_bound: bool

    @classmethod
    def of(cls, data: RecData | GraphSize) -> _Counts:
        if isinstance(data, GraphSize):
            # Before the split, the interactions that survive it (and de-duplication) are
            # unknown: count none, so the estimate stays below the one after the export.
            return cls(data.users, data.items, data.concepts, data.kg_edges, 0, 0, True)
        kg = data.kg
        return cls(
            users=data.num_users,
            items=data.num_items,
            concepts=kg.num_concepts if kg is not None else 0,
            kg_edges=kg.num_edges if kg is not None else 0,
            train=data.train.size(1),
            interactions=data.train.size(1) + data.val.size(1) + data.test.size(1),
            lower_bound=False,
        )

    @property
    def data_bytes(self) -> int:
        return 16 * self.interactions + 24 * self.train + 8 * self.users

    @property
    def score_bytes(self) -> int:
        return 6 * min(1024 * self.items, MAX_SCORES_PER_CHUNK)


def model_shape(
    model: str | type[Recommender] | Recommender,
    data: RecData | GraphSize,
    model_kwargs: Mapping[str, Any] | None = None,
) -> ModelShape:
    """What the estimates need of ``model`` on ``data``, without building it; refuses a
    model that cannot train on sampled subgraphs."""
    return ModelShape.of(model, data, model_kwargs)
