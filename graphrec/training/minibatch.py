r"""Mini-batch training with neighbour sampling, for graphs whose full propagation
does not fit in memory.

Training with :class:`~graphrec.training.strategies.MiniBatch` uses the
:class:`MiniBatchTrainer` of this module, a :class:`~graphrec.training.trainer.Trainer`
whose epochs are sampled subgraphs: each step takes ``batch_size`` training interactions, draws one
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

Memory estimates for both modes are in :mod:`graphrec.training.memory`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import LinkNeighborLoader
from tqdm.auto import tqdm

from graphrec.data import RecData, UserItems
from graphrec.models.base import Recommender, Subgraph
from graphrec.models.registry import MODELS, model_name
from graphrec.training.negatives import sample_negatives
from graphrec.training.run import TrainingDivergedError, diverged_message
from graphrec.training.sampling import TorchNeighborSampler
from graphrec.training.trainer import Trainer

#: Registry names of the models that can train on sampled subgraphs.
MINIBATCH_MODELS: tuple[str, ...] = tuple(
    name for name, cls in MODELS.items() if cls.supports_minibatch
)

#: Nodes per chunk of layer-wise inference (validation, test, write-back).
INFERENCE_CHUNK_SIZE = 16_384

#: Sparse gradients and SparseAdam when the graph has this many times the nodes of a batch.
SPARSE_RATIO = 4


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
        check_supported(model)
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


def check_supported(model: Recommender | type[Recommender]) -> None:
    if not model.supports_minibatch:
        name = model_name(model)
        raise ValueError(
            f"mini-batch training supports {' and '.join(MINIBATCH_MODELS)}, not {name!r}; "
            "train it without --mini-batch"
        )
