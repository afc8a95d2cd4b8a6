r"""Mini-batch training with neighbour sampling, for graphs whose full propagation
does not fit in memory.

:func:`train_minibatch` is :func:`graphrec.training.trainer.train` with sampled
subgraphs: each step takes ``batch_size`` training interactions, draws one
negative item per interaction (never one of the user's training items),
samples ``fan_outs[h]`` neighbours per node at hop ``h + 1`` around the users,
positives and negatives (PyG's :class:`~torch_geometric.loader.LinkNeighborLoader`
with :class:`~graphrec.training.sampling.TorchNeighborSampler`), propagates over that
subgraph only (:meth:`~graphrec.models.base.Recommender.forward_sampled`) and
takes an optimiser step on the BPR loss. Validation, the test metrics and a
later write-back compute the final embeddings layer by layer, in chunks of
nodes (:meth:`~graphrec.models.base.Recommender.inference`), never building
autograd state for the whole graph. Only :data:`MINIBATCH_MODELS` support it.

What stays proportional to the graph: the embedding tables and their
optimiser state (:math:`N \times D`, needed for write-back anyway), the
graph's index structures (:math:`O(E)` integers) and a few :math:`N \times D`
buffers of layer-wise inference. What no longer does: a step's activations
and gradients, bounded by the sampled subgraph. Dense Adam reads and
writes all :math:`4 N D` floats of the tables and their moments on every
step, which dominates small steps on a large graph; there the tables get
sparse gradients (the subgraph's rows) and :class:`torch.optim.SparseAdam`
("lazy" Adam: a row's moments move only when the row is in a batch), while
dense parameters (attention, relation embeddings) keep
:class:`torch.optim.Adam`. SparseAdam costs several passes over the rows it
updates, so it is slower when a batch's subgraph holds more than about a
quarter of the nodes (measured with PyTorch 2.13 on CPU: 12,000 rows of
64 floats cost 8 ms against 6 ms for dense Adam over 15,000 nodes, 22 ms
against 132 ms over 700,000; a 50,000-node subgraph of a 140,000-node graph
steps in 134 ms against 94 ms). The trainer therefore samples one probe
batch (with its own seeded generator) and uses SparseAdam when the graph
has at least :data:`SPARSE_RATIO` times as many nodes.

**Memory estimates** (:func:`estimate_minibatch_memory`,
:func:`estimate_fullbatch_memory`) add up, in bytes, with :math:`U, I, C`
users, items and concepts, :math:`N = U + I (+ C)`, :math:`D` the embedding
size, :math:`L` layers, :math:`E` training interactions, :math:`E_{all}` all
interactions, :math:`K = 2 E_{kg}` KG entries (relgnn) and
:math:`\vec{E} = 2E + K` directed edges:

- ``baseline``: the interpreter with PyTorch and PyG imported, plus fixed
  workspace (:data:`BASELINE_BYTES`).
- ``data``: the split, :math:`16 E_{all} + 24 E + 8 U`.
- ``graph``: the model's index structures, :math:`16 E + 4 (U + I)` for the
  normalised adjacency, plus :math:`56 K + 40 (U + I + K)` for relgnn's
  attention patterns; mini-batch adds the sampler's graph,
  :math:`18 \vec{E} + 16 E + 32 N` (edge list, loader seeds, pointers, scratch).
- ``parameters``: :math:`5P` with :math:`P = 4 N D`: weights, gradient, two
  Adam moments and the best epoch's copy (sparse gradients are smaller; the
  estimate does not count on them).
- ``step``, full batch: :math:`(f + aL) P + 24 K L`. While the user or the
  item table is smaller than :data:`MMAP_THRESHOLD_MAX` (32 MiB: glibc keeps
  freed blocks below it for reuse), :math:`f = 2` and :math:`a = 8`
  (LightGCN) or :math:`18` (relgnn). From there on freed blocks go back to
  the operating system and the peak is what is alive: :math:`f = 6, a = 0`
  for LightGCN (its propagation keeps no layer input for the backward pass)
  and :math:`f = 8, a = 9` for relgnn. Both calibrated against peak RSS
  (``bench/minibatch.py``, table in ``bench/RESULTS.md``).
- ``step``, mini-batch: the sampled subgraph is bounded by
  :math:`n_0 = \min(U, B) + \min(I, 2B)` seeds for a batch of :math:`B`
  (users, positives, negatives) and :math:`n_h \le n_{h-1} m_h` new nodes at
  hop :math:`h` (all capped at :math:`N`), :math:`m_h` the most neighbours any
  node keeps at fan-out :math:`k_h` (computed from the degrees, per relation
  for relgnn), with :math:`e_h = n_{h-1} m_h` edges. Layer :math:`l` reads
  hops :math:`0..L-l+1` and writes hops :math:`0..L-l`, so the step costs
  :math:`4D\,(6 \sum_h n_h + \sum_l (s\,n^{src}_l + d\,n^{dst}_l))
  + c \sum_l e_l` bytes, with :math:`(s, d, c) = (0, 3, 64)` for LightGCN and
  :math:`(2, 10, 200)` for relgnn. It is an upper bound: fan-outs rarely all
  reach distinct nodes of the largest degree.
- ``evaluation``: the final embeddings and the temporaries of computing
  them (:math:`4P` full batch; layer-wise :math:`3P`, or :math:`4P` plus a
  chunk's structures for relgnn), plus the score chunk of
  :func:`~graphrec.evaluation.evaluate`, :math:`6 \min(1024 I, 2^{25})`.

The total is baseline + data + graph + parameters + max(step, evaluation):
training steps and evaluation do not overlap.
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import LinkNeighborLoader
from tqdm.auto import tqdm

from graphrec.data import GraphSize, RecData, UserItems
from graphrec.evaluation import MAX_SCORES_PER_CHUNK
from graphrec.models.base import Recommender, Subgraph
from graphrec.models.registry import MODELS, model_name, resolve_model
from graphrec.training.sampling import TorchNeighborSampler
from graphrec.training.trainer import (
    CHECKPOINT,
    Trainer,
    TrainingDivergedError,
    TrainResult,
    build_model,
    check_data,
    diverged_message,
    finish_run,
    resolve_device,
    run_config,
    sample_negatives,
)

#: Registry names of the models that can train on sampled subgraphs.
MINIBATCH_MODELS: tuple[str, ...] = tuple(
    name for name, cls in MODELS.items() if cls.supports_minibatch
)

#: Nodes per chunk of layer-wise inference (validation, test, write-back).
INFERENCE_CHUNK_SIZE = 16_384

#: Sparse gradients and SparseAdam when the graph has this many times the nodes of a batch.
SPARSE_RATIO = 4

#: Resident memory of the interpreter with PyTorch, PyG and graphrec imported
#: (350 MiB measured on x86-64 Linux, PyTorch 2.13 CPU), plus kernel and
#: allocator workspace that does not scale with the graph.
BASELINE_BYTES = 384 * 2**20

_GB = 1e9

# A sampled step's tensors of D floats per subgraph node, per layer input and output
# row, and its bytes per edge of a layer (calibrated against peak RSS, see bench/minibatch.py).
_PER_NODE = 6  # ego rows, their gradient, the sparse gradient, optimiser temporaries
_PER_SOURCE = {"lightgcn": 0, "relgnn": 2}
_PER_DESTINATION = {"lightgcn": 3, "relgnn": 10}
_PER_EDGE = {"lightgcn": 64, "relgnn": 200}
# Full-batch step, in tables of N x D floats: fixed and per layer. When the user and item
# tables are both at least MMAP_THRESHOLD_MAX, each of their blocks is returned to the
# OS when freed and the peak is what is alive (LightGCN's CSR propagation keeps no layer
# input for the backward pass, so its peak does not grow with layers); below it, the
# allocator keeps freed blocks for reuse (calibrated against peak RSS, see bench/RESULTS.md).
_FULL_FIXED = {"lightgcn": 2, "relgnn": 2}
_FULL_PER_LAYER = {"lightgcn": 8, "relgnn": 18}
_FULL_FIXED_LARGE = {"lightgcn": 6, "relgnn": 8}
_FULL_PER_LAYER_LARGE = {"lightgcn": 0, "relgnn": 9}

#: glibc's largest ``M_MMAP_THRESHOLD`` on 64-bit systems: allocations at least this
#: big are always their own mapping, so freeing them lowers the resident set at once.
MMAP_THRESHOLD_MAX = 32 * 2**20


def check_fan_outs(fan_outs: Sequence[int] | str, num_layers: int) -> list[int]:
    """Validate fan-outs, one per layer (the first for the seeds' neighbours).

    Args:
        fan_outs: Integers or a comma-separated string (``"10,5"``); each is
            positive, or ``-1`` for all neighbours.
        num_layers: The model's propagation layers.

    Raises:
        ValueError: not integers, a count that differs from ``num_layers``, or
            a value that is neither positive nor ``-1``.
    """
    if isinstance(fan_outs, str):
        parts = [part.strip() for part in fan_outs.split(",")]
        try:
            values = [int(part) for part in parts]
        except ValueError:
            raise ValueError(
                f"--fan-out must be comma-separated integers such as 10,5; got {fan_outs!r}"
            ) from None
    else:
        values = list(fan_outs)
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
            raise ValueError(f"--fan-out values must be integers, got {values!r}")
    if len(values) != num_layers:
        raise ValueError(
            f"--fan-out has {len(values)} value{'s' if len(values) != 1 else ''} but the model "
            f"has {num_layers} layer{'s' if num_layers != 1 else ''}; give one fan-out per layer"
        )
    for position, value in enumerate(values, start=1):
        if value < 1 and value != -1:
            raise ValueError(
                f"--fan-out value {position} is {value}; fan-outs must be positive, "
                "or -1 for all neighbours"
            )
    return values


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
    """Peak memory of :func:`train_minibatch` (an upper bound on a step's subgraph).

    Computed from counts and degrees only: nothing is built or trained. From a
    :class:`~graphrec.data.GraphSize` (no interactions, no degrees yet) it is
    a lower bound: the interaction terms count zero and a sampled step only its
    seeds.
    """
    shape = _Shape.of(model, data, model_kwargs)
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
    sampler_graph = 18 * shape.num_directed_edges + 16 * counts.train + 32 * num_nodes
    inference = (4 if shape.name == "relgnn" else 3) * shape.table_bytes
    chunk = INFERENCE_CHUNK_SIZE * shape.embedding_dim * 4 * (16 if shape.name == "relgnn" else 1)
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
    """Peak memory of :func:`graphrec.training.trainer.train` (full-batch propagation every step),
    for LightGCN and relgnn. Computed from counts only; from a
    :class:`~graphrec.data.GraphSize`, a lower bound (no interaction terms)."""
    shape = _Shape.of(model, data, model_kwargs)
    counts = shape.counts
    smallest_table = 4 * shape.embedding_dim * min(counts.users, counts.items)
    if smallest_table >= MMAP_THRESHOLD_MAX:
        fixed, per_layer = _FULL_FIXED_LARGE[shape.name], _FULL_PER_LAYER_LARGE[shape.name]
    else:
        fixed, per_layer = _FULL_FIXED[shape.name], _FULL_PER_LAYER[shape.name]
    step = (fixed + per_layer * shape.num_layers) * shape.table_bytes
    step += 24 * shape.num_kg_entries * shape.num_layers
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


class UnseenItems:
    """Negative sampler for :class:`~graphrec.training.sampling.TorchNeighborSampler`: for each
    user (node id), an item (node id ``num_users + item``) not among their training items."""

    def __init__(self, train_items: UserItems, num_users: int) -> None:
        self.train_items = train_items
        self.num_users = num_users

    def __call__(self, users: Tensor, positives: Tensor, generator: torch.Generator) -> Tensor:
        return sample_negatives(users, self.train_items, generator) + self.num_users


class MiniBatchTrainer(Trainer):
    """A :class:`~graphrec.training.trainer.Trainer` whose epochs are sampled mini-batches.

    Validation (and :func:`~graphrec.evaluation.evaluate` on the model afterwards)
    uses layer-wise inference: the trainer sets the model's
    ``inference_chunk_size`` when it is unset.

    Args:
        model: A model with ``supports_minibatch``, already on ``device``.
        data: The split data the model was built on.
        fan_outs: Neighbours per node at each hop, one per layer; -1 keeps all.
        batch_size: Training interactions per step. (default: 2048)
        lr: Learning rate of both optimisers. (default: 1e-3)
        reg: :math:`L_2` weight on the batch's ego embeddings. (default: 1e-4)
        seed: Seeds shuffling, neighbour and negative sampling. (default: 0)
        k: Cut-off of the validation metrics. (default: 20)
        device: Where the model and batches live. (default: ``"cpu"``)
        num_workers: Data-loader processes that sample batches. (default: 0)
        sparse: Sparse gradients and :class:`~torch.optim.SparseAdam` for the
            embedding tables; else dense Adam on everything. :obj:`None`
            chooses by the size of a probe batch (see the module docstring).
            (default: None)
        progress: Show a progress bar over each epoch's batches. (default: False)
    """

    def __init__(
        self,
        model: Recommender,
        data: RecData,
        *,
        fan_outs: Sequence[int],
        batch_size: int = 2048,
        lr: float = 1e-3,
        reg: float = 1e-4,
        seed: int = 0,
        k: int = 20,
        device: str | torch.device = "cpu",
        num_workers: int = 0,
        sparse: bool | None = None,
        progress: bool = False,
    ) -> None:
        _check_supported(model)
        super().__init__(
            model, data, batch_size=batch_size, lr=lr, reg=reg, seed=seed, k=k, device=device
        )
        self.fan_outs = check_fan_outs(fan_outs, model.num_layers)
        self.progress = progress
        if model.inference_chunk_size is None:
            model.inference_chunk_size = INFERENCE_CHUNK_SIZE
        graph = model.sampling_graph()
        self.sampler = TorchNeighborSampler(
            graph,
            self.fan_outs,
            group_attr="edge_type" if "edge_type" in graph else None,
            is_sorted=True,
            generator=self.generator,
            negative_sampler=UnseenItems(data.train_items, data.num_users),
        )
        if sparse is None:
            sparse = graph.num_nodes >= SPARSE_RATIO * self._probe_batch_nodes(seed)
        self.sparse = sparse
        if sparse:
            self.optimizer = _SparseAndDenseAdam(model, lr, self.device)
        users, items = data.train
        self.loader = LinkNeighborLoader(
            graph,
            self.fan_outs,
            edge_label_index=torch.stack([users, items + data.num_users]),
            neg_sampling="triplet",
            neighbor_sampler=self.sampler,
            batch_size=batch_size,
            shuffle=True,
            num_workers=num_workers,
            generator=self.generator,
        )

    def _probe_batch_nodes(self, seed: int) -> int:
        """Nodes in the subgraph of one batch, sampled with a generator of its own."""
        probe = copy.copy(self.sampler)
        probe.generator = torch.Generator().manual_seed(seed)
        pick = torch.randint(self.data.train.size(1), (self.batch_size,), generator=probe.generator)
        users, items = self.data.train[:, pick]
        negatives = probe.negative_sampler(users, items, probe.generator)
        seeds = torch.cat([users, items + self.data.num_users, negatives]).unique()
        return probe._sample(seeds).node.numel()

    def run_epoch(self) -> dict[str, float]:
        """One pass over the training interactions in sampled batches, then validation."""
        epoch = self.epoch + 1
        start = time.perf_counter()
        self.model.train()
        total, batches = 0.0, 0
        bar = tqdm(
            self.loader, desc=f"epoch {epoch}", unit="batch", leave=False, disable=not self.progress
        )
        for batch in bar:
            loss = self.step(batch)
            if not math.isfinite(loss):
                raise TrainingDivergedError(
                    diverged_message(loss, epoch, batches, self.lr, self.reg)
                )
            total += loss
            batches += 1
        row = {"epoch": epoch, "loss": total / max(1, batches)}
        row["seconds"] = time.perf_counter() - start
        self.seconds += row["seconds"]
        self.epoch = epoch
        self._validate(row)
        self.history.append(row)
        return row

    def step(self, batch: Data) -> float:
        """One optimiser step on a loader batch; returns its loss (not stepped when not finite)."""
        subgraph = Subgraph.from_batch(batch).to(self.device)
        final, ego = self.model.forward_sampled(subgraph, sparse=self.sparse)
        users, positives, negatives = (
            index.to(self.device)
            for index in (batch.src_index, batch.dst_pos_index, batch.dst_neg_index)
        )
        user = final.index_select(0, users)
        diff = (user * final.index_select(0, positives)).sum(-1) - (
            user * final.index_select(0, negatives)
        ).sum(-1)
        loss = -F.logsigmoid(diff).mean()
        if self.reg:
            squares = sum(
                ego.index_select(0, i).pow(2).sum() for i in (users, positives, negatives)
            )
            loss = loss + self.reg * squares / (2 * users.numel())
        value = loss.item()
        if not math.isfinite(value):
            return value
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return value

    def load_state(
        self, state: dict[str, Any], config: dict[str, Any], source: str = "the checkpoint"
    ) -> None:
        """As :meth:`Trainer.load_state`, refusing also a checkpoint of other mini-batch
        settings (or of full-batch training)."""
        saved = state["config"].get("mini_batch")
        if saved != config.get("mini_batch"):
            raise ValueError(
                f"{source} holds a run with different mini-batch settings ({saved} instead of "
                f"{config.get('mini_batch')}); use another run directory, or do not resume"
            )
        super().load_state(state, config, source)


def train_minibatch(
    *,
    model: str | type[Recommender] | Recommender,
    data: RecData,
    fan_outs: Sequence[int] | str,
    model_kwargs: Mapping[str, Any] | None = None,
    epochs: int = 100,
    batch_size: int = 2048,
    lr: float = 1e-3,
    reg: float = 1e-4,
    seed: int = 0,
    device: str | torch.device = "auto",
    patience: int = 10,
    k: int = 20,
    run_dir: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    memory_cap_gb: float | None = None,
    num_workers: int = 0,
) -> TrainResult:
    """Train with BPR on sampled subgraphs, with early stopping on validation Recall@k.

    Same semantics as :func:`graphrec.training.trainer.train` (kept best weights, history,
    test metrics, checkpoints and resumption in ``run_dir``); every input is
    checked before any work starts. The returned model computes
    :meth:`~graphrec.models.base.Recommender.get_embedding` layer by layer
    (its ``inference_chunk_size`` is set), so evaluation and write-back stay
    bounded too.

    Args:
        model: ``"lightgcn"`` or ``"relgnn"`` (see :data:`MINIBATCH_MODELS`),
            a model class, or a model already built on ``data.train``.
        data: The split interactions (see :meth:`RecData.from_hetero`).
        fan_outs: Neighbours sampled per node at each hop, one value per layer
            (the first for the seeds), e.g. ``[10, 5]`` or ``"10,5"``; ``-1``
            keeps all. For relgnn the fan-out applies per relation.
        model_kwargs: Hyper-parameters for the model class. (default: none)
        epochs: Maximum passes over the training interactions. (default: 100)
        batch_size: Training interactions per step. (default: 2048)
        lr: Learning rate. (default: 1e-3)
        reg: :math:`L_2` weight on the batch's ego embeddings. (default: 1e-4)
        seed: Seeds initialisation, shuffling and sampling. (default: 0)
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``...
        patience: Stop after this many epochs without a better validation
            Recall@k; 0 disables early stopping. (default: 10)
        k: Cut-off of the early-stopping and reported metrics. (default: 20)
        run_dir: Directory for the checkpoint and the saved result. (default: None)
        resume: Continue from ``run_dir``'s checkpoint when there is one. (default: True)
        progress: Show progress bars and print a summary. (default: True)
        memory_cap_gb: Refuse to start when :func:`estimate_minibatch_memory`
            exceeds this many GB (:math:`10^9` bytes). (default: None, no cap)
        num_workers: Data-loader processes that sample batches. (default: 0)

    Raises:
        ValueError: a model without mini-batch support, bad fan-outs, an
            estimate above ``memory_cap_gb``, or a checkpoint from other settings.
        DataError: no training interactions, or no user has test items.
        TrainingDivergedError: the loss became NaN or infinite.
    """
    kwargs = dict(model_kwargs or {})
    name = model_name(model)
    shape = _Shape.of(model, data, kwargs)  # rejects models without mini-batch support
    fan_outs = check_fan_outs(fan_outs, shape.num_layers)
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if num_workers < 0:
        raise ValueError(f"num_workers must be 0 or more, got {num_workers}")
    target = torch.device(resolve_device(device))
    if memory_cap_gb is not None:
        check_memory(
            data,
            memory_cap_gb,
            model=model,
            model_kwargs=kwargs,
            fan_outs=fan_outs,
            batch_size=batch_size,
        )
    check_data(data)
    config = run_config(
        model=name,
        model_kwargs=kwargs,
        data=data,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        reg=reg,
        seed=seed,
        patience=patience,
        k=k,
        device=target,
    )
    torch.manual_seed(seed)
    net = build_model(model, data, kwargs).to(target)
    trainer = MiniBatchTrainer(
        net,
        data,
        fan_outs=fan_outs,
        batch_size=batch_size,
        lr=lr,
        reg=reg,
        seed=seed,
        k=k,
        device=target,
        num_workers=num_workers,
        progress=progress,
    )
    config["mini_batch"] = {"fan_outs": fan_outs, "sparse_embeddings": trainer.sparse}
    checkpoint = Path(run_dir) / CHECKPOINT if run_dir is not None else None
    if checkpoint is not None and resume and checkpoint.exists():
        trainer.load(checkpoint, config)
    trainer.fit(config, epochs=epochs, patience=patience, checkpoint=checkpoint, progress=progress)
    return finish_run(trainer.result(config), run_dir, progress)


class _SparseAndDenseAdam:
    """:class:`~torch.optim.SparseAdam` for the embedding tables (sparse gradients),
    fused :class:`~torch.optim.Adam` for the other parameters, as one optimiser."""

    def __init__(self, model: Recommender, lr: float, device: torch.device) -> None:
        tables = [table.weight for table in model.embedding_tables()]
        table_ids = {id(weight) for weight in tables}
        dense = [p for p in model.parameters() if id(p) not in table_ids]
        self.optimizers: dict[str, torch.optim.Optimizer] = {
            "sparse": torch.optim.SparseAdam(tables, lr=lr)
        }
        if dense:
            fused = device.type in ("cpu", "cuda")
            self.optimizers["dense"] = torch.optim.Adam(dense, lr=lr, fused=fused)

    def zero_grad(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.zero_grad()

    def step(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return {key: optimizer.state_dict() for key, optimizer in self.optimizers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state) != set(self.optimizers):
            raise ValueError("the checkpoint's optimiser state is not a mini-batch one")
        for key, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state[key])


@dataclass(frozen=True)
class _Shape:
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

    @classmethod
    def of(
        cls,
        model: str | type[Recommender] | Recommender,
        data: RecData | GraphSize,
        model_kwargs: Mapping[str, Any] | None,
    ) -> _Shape:
        model_class = type(model) if isinstance(model, Recommender) else resolve_model(model)
        _check_supported(model_class)
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
            graph_bytes += 56 * kg_entries + 40 * (interacting + kg_entries)
        return cls(
            name=name,
            num_layers=int(num_layers),
            embedding_dim=int(dim),
            num_nodes=num_nodes,
            num_directed_edges=2 * counts.train + kg_entries,
            num_kg_entries=kg_entries,
            graph_bytes=graph_bytes,
            counts=counts,
        )


def _check_supported(model: Recommender | type[Recommender]) -> None:
    if not model.supports_minibatch:
        name = model_name(model)
        raise ValueError(
            f"mini-batch training supports {' and '.join(MINIBATCH_MODELS)}, not {name!r}; "
            "train it without --mini-batch"
        )


def _most_neighbours_kept(data: RecData, shape: _Shape, fan_out: int) -> int:
    """The most neighbours any node keeps at this fan-out (per relation for relgnn)."""
    users, items = data.train
    num_interacting = data.num_users + data.num_items
    destination = torch.cat([items + data.num_users, users])
    degree = torch.bincount(destination, minlength=num_interacting)
    if shape.name != "relgnn" or data.kg is None:
        largest = int(degree.max()) if degree.numel() else 0
        return largest if fan_out < 0 else min(fan_out, largest)
    head, tail = data.kg.edge_index + data.num_users
    relation = data.kg.edge_type
    num_relations = 2 * (data.kg.num_relations + 1)
    key = torch.cat([tail * num_relations + 2 * relation, head * num_relations + 2 * relation + 1])
    group_key, group_size = torch.unique(key, return_counts=True)
    kept = torch.zeros(shape.num_nodes, dtype=torch.long)
    kept[: degree.numel()] = degree if fan_out < 0 else degree.clamp(max=fan_out)
    per_group = group_size if fan_out < 0 else group_size.clamp(max=fan_out)
    kept.index_add_(0, group_key // num_relations, per_group)
    return int(kept.max())


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
