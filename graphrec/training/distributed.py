r"""Data-parallel BPR training over several processes: ``graphrec train --distributed N``.

:class:`~graphrec.training.strategies.Distributed` starts ``N`` processes on this
machine with :mod:`torch.distributed` (``gloo`` on CPU, ``nccl`` on CUDA, one GPU
per process) or joins those that ``torchrun`` started, on one machine or several
(:mod:`graphrec.training.launch`), trains one model replica in each with the
:class:`DistributedTrainer` of this module, and returns the same
:class:`~graphrec.training.result.TrainResult` as one process.

What is split and what is not
-----------------------------
Only the *training batches* are sharded. The models are full-graph: every step
propagates over the whole training graph, so every process holds the graph,
all embeddings and the optimiser state, runs the whole propagation forward and
backward, and all-reduces the gradient of every parameter. Processes split the
per-triplet work only (scoring, the loss and its gradient up to the final
embeddings), so the speed-up is small and shrinks as the graph grows relative
to the batch; on CPU, processes also share the cores that one process would
have used for its threads. Memory per process is that of single-process
training. Mini-batch (sampled-subgraph) training with DDP is not implemented.

The same training as one process
--------------------------------
With the same seed and batch size :math:`B`, each step uses exactly the
triplets of single-process training, and takes the same Adam step:

* every process draws the epoch's permutation and the negatives of each global
  batch with its own generator, seeded alike, so all processes see the same
  global batch of :math:`B` ``(user, positive, negative)`` triplets;
* process :math:`r` of :math:`N` keeps the contiguous shard
  :math:`b_r` of it (:func:`torch.tensor_split`: sizes differ by at most one,
  so :math:`B` need not be divisible by :math:`N`, and the last, shorter batch
  of an epoch is kept, as in one process);
* each process back-propagates its shard's mean BPR loss :math:`L_r` (the
  :math:`L_2` term is a batch mean too) weighted by :math:`w_r = N |b_r| / B`,
  and :class:`~torch.nn.parallel.DistributedDataParallel` averages the
  gradients, so every process applies

  .. math::
      \frac{1}{N} \sum_r \nabla \big(w_r L_r\big)
      = \nabla \sum_r \frac{|b_r|}{B} L_r = \nabla L_{\text{batch}},

  the gradient of the single-process loss;
* the global seed is set alike in every process, so dropout masks (NGCF) match
  those of one process too.

The results then differ from single-process training only by floating-point
summation order (below :math:`10^{-5}` after a few epochs in the tests).

Rank 0 validates after each epoch, keeps the best weights, writes the
checkpoint, evaluates on test and saves ``run_dir``; it broadcasts the
early-stopping count so that all processes stop after the same epoch. A run
can resume from a checkpoint written with another number of processes.

Several machines with torchrun
------------------------------
Run the same command on every machine; ``node0`` is one of them, and the others
reach it on port 29500::

    torchrun --nnodes 2 --nproc-per-node 1 \
        --rdzv-backend c10d --rdzv-endpoint node0:29500 --rdzv-id graphrec \
        -m graphrec train --distributed 2 --model lightgcn --batch-size 8192

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT`` in each process it starts; ``graphrec train`` sees them
(:func:`launched_by_torchrun`) and joins the group instead of starting
processes itself. ``--distributed`` must equal ``--nnodes``
times ``--nproc-per-node``, and ``--batch-size`` is the global batch, split
between all processes. One machine with several processes works the same way:
``torchrun --standalone --nproc-per-node 4 -m graphrec train --distributed 4``.

Every process reads the graph and makes the same seeded split, so every machine
needs the database settings. Rank 0, on whichever machine torchrun places it,
evaluates and writes the run directory and the embeddings; the other ranks only
train. Set ``GLOO_SOCKET_IFNAME`` (CPU) or ``NCCL_SOCKET_IFNAME`` (GPU) to the
interface that connects the machines when the default one does not.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from graphrec.data import RecData
from graphrec.models.base import Recommender
from graphrec.training.run import resolve_device
from graphrec.training.trainer import Trainer

BACKENDS = ("auto", "gloo", "nccl")

#: Environment variables of an ``env://`` launch (set by torchrun).
LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def launched_by_torchrun() -> bool:
    """Whether this process belongs to a group started by torchrun (``RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` are all set)."""
    return all(name in os.environ for name in LAUNCH_VARIABLES)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class DistributedTrainer(Trainer):
    """A :class:`~graphrec.training.trainer.Trainer` that is one of ``world_size`` data-parallel
    processes; the process group must be initialised.

    Every process draws the same global batches (:meth:`Trainer.batches`) and
    trains on its contiguous shard of each; gradients are averaged by
    :class:`~torch.nn.parallel.DistributedDataParallel`. Rank 0 validates and
    writes checkpoints; the early-stopping count is broadcast from it.

    Args:
        model: A trainable model on ``device``, initialised alike in every process
            (rank 0's weights are broadcast anyway).
        data: The split data, the same in every process.
        rank: This process's rank.
        world_size: Number of processes.
        **trainer_kwargs: ``batch_size``, ``lr``, ``reg``, ``seed``, ``k`` and
            ``device``, as for :class:`~graphrec.training.trainer.Trainer`, the same in every
            process.
    """

    def __init__(
        self,
        model: Recommender,
        data: RecData,
        *,
        rank: int,
        world_size: int,
        **trainer_kwargs: Any,
    ) -> None:
        super().__init__(model, data, **trainer_kwargs)
        self.rank = rank
        self.world_size = world_size
        # The forward must run through the DDP wrapper, or its gradient hooks never fire.
        # Buffers (the adjacency) never change, so they are not re-broadcast on each step;
        # static_graph also copes with models that leave a parameter unused.
        self.objective = DistributedDataParallel(
            _BPRObjective(model, self.reg),
            device_ids=[self.device.index] if self.device.type == "cuda" else None,
            forward_sync_buffers=False,
            static_graph=True,
        )

    def batch_loss(
        self, users: Tensor, pos_items: Tensor, neg_items: Tensor
    ) -> tuple[Tensor, float]:
        """This rank's shard loss, weighted so that DDP's gradient average is the
        gradient of the global batch's loss; and the global batch's loss."""
        size = users.numel()
        start, stop = shard_bounds(size, self.rank, self.world_size)
        weight = self.world_size * (stop - start) / size
        if stop == start:
            # A batch shorter than the world: this rank still runs the forward (DDP
            # needs every rank, and dropout must draw alike) on one triplet, weighted 0.
            start, stop = 0, 1
        shard = [part[start:stop].to(self.device) for part in (users, pos_items, neg_items)]
        loss = self.objective(*shard) * weight
        total = loss.detach().clone()
        dist.all_reduce(total)
        # Every rank checks the same number, so a divergence stops them all together.
        return loss, total.item() / self.world_size

    def close(self) -> None:
        """Drop the DDP wrapper; call before destroying the process group.

        DDP's reducer holds a reference to the process group. Were it the last one,
        the group's destructor would join gloo's worker threads while holding the GIL,
        which a worker may need to free a tensor: a deadlock (seen in about one run in
        fifteen). Dropped first, the group is freed by ``destroy_process_group``,
        which releases the GIL.
        """
        del self.objective
        gc.collect()  # the wrapper may sit in a reference cycle

    def _validate(self, row: dict[str, float]) -> None:
        if self.rank == 0:
            super()._validate(row)
        count = torch.tensor([self.bad_evaluations], device=self.device)
        dist.broadcast(count, src=0)
        self.bad_evaluations = int(count.item())

    def save(self, path: Path, config: dict[str, Any]) -> None:
        """Write a checkpoint from rank 0; the other ranks write nothing."""
        if self.rank == 0:
            super().save(path, config)

    def resume(self, checkpoint: Path | None, config: dict[str, Any]) -> None:
        """Continue from rank 0's ``checkpoint`` when it exists; the state is broadcast,
        so the other ranks need not see the file (another machine)."""
        box: list[Any] = [None]
        if self.rank == 0 and checkpoint is not None and checkpoint.exists():
            box[0] = torch.load(checkpoint, map_location="cpu", weights_only=False)
        dist.broadcast_object_list(box, src=0, device=self._collective_device())
        if box[0] is not None:
            self.load_state(box[0], config, source=str(checkpoint))

    def _collective_device(self) -> torch.device | None:
        return self.device if self.device.type == "cuda" else None


def shard_bounds(size: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[start, stop)`` of ``rank``'s contiguous shard of ``size`` items, as
    :func:`torch.tensor_split` cuts them (the first ``size % world_size`` shards are
    one longer)."""
    base, extra = divmod(size, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


class _BPRObjective(torch.nn.Module):
    """The model's BPR loss of a batch as a module, so that DDP wraps the forward."""

    def __init__(self, model: Recommender, reg: float) -> None:
        super().__init__()
        self.model = model
        self.reg = reg

    def forward(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        loss, _ = self.model.bpr_loss(users, pos_items, neg_items, reg=self.reg)
        return loss


def check_processes(
    world_size: int,
    *,
    backend: str = "auto",
    device: str | torch.device = "auto",
    batch_size: int | None = None,
    local_world_size: int | None = None,
    option: str = "--distributed",
) -> str:
    """Check a launch of ``world_size`` processes (``local_world_size`` of them on this
    machine) without data, so a command can refuse it before it reads anything.

    Returns the backend to use. Raises :class:`ValueError` naming ``option`` when
    there are more processes than CPUs (or GPUs on CUDA), the backend does not suit
    the device, or ``batch_size`` is smaller than ``world_size``.
    """
    device = resolve_device(device)
    local = world_size if local_world_size is None else local_world_size
    if world_size < 1:
        raise ValueError(f"--distributed needs at least 1 process, got {world_size}")
    if not dist.is_available():
        raise ValueError("this build of PyTorch has no torch.distributed support")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if device.type == "cuda":
        gpus = torch.cuda.device_count()
        if local > gpus:
            raise ValueError(
                f"{option} {local} asks for {local} processes, one per "
                f"GPU, but only {gpus} GPU{'s are' if gpus != 1 else ' is'} available"
            )
    else:
        cpus = available_cpus()
        if local > cpus:
            raise ValueError(
                f"{option} {local} asks for {local} processes but "
                f"only {cpus} CPU{'s are' if cpus != 1 else ' is'} available"
            )
    chosen = choose_backend(backend, device)
    if chosen == "nccl" and device.type != "cuda":
        raise ValueError("the nccl backend needs CUDA; train on device='cuda' or use gloo")
    if chosen == "nccl" and not dist.is_nccl_available():
        raise ValueError("this build of PyTorch has no nccl backend; use gloo")
    if batch_size is not None and batch_size < world_size:
        raise ValueError(
            f"--batch-size {batch_size} is smaller than the {world_size} processes: "
            "each process needs at least one training interaction per step"
        )
    return chosen


def choose_backend(backend: str, device: torch.device) -> str:
    """``backend``, with ``"auto"`` resolved: ``nccl`` on CUDA, ``gloo`` elsewhere."""
    if backend != "auto":
        return backend
    return "nccl" if device.type == "cuda" else "gloo"
