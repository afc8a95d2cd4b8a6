"""How a run's epochs are computed, passed to :func:`graphrec.training.train` as ``strategy``.

- :class:`FullBatch` (default): every step propagates over the whole training graph.
- :class:`MiniBatch`: every step propagates over a sampled subgraph around its batch
  (:mod:`graphrec.training.minibatch`), for graphs whose propagation does not fit in memory.
- :class:`Distributed`: data-parallel processes, each training on its shard of every
  global batch (:mod:`graphrec.training.distributed`), started here or by torchrun.

A strategy checks its options before any work (:meth:`Strategy.check`), makes the
:class:`~graphrec.training.trainer.Trainer` (:meth:`Strategy.trainer`), and names the
settings a checkpoint must share to be resumed (:meth:`Strategy.settings`); the loop
itself is :func:`graphrec.training.api.train_here`, the same for all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from graphrec.models.registry import model_name
from graphrec.training.run import resolve_device
from graphrec.training.spec import RunSpec
from graphrec.training.trainer import Trainer

if TYPE_CHECKING:
    from graphrec.models.base import Recommender
    from graphrec.training.result import TrainResult


class Strategy(ABC):
    """One way to compute a run's epochs."""

    #: What the run's config calls it.
    name: str = ""

    def check(self, spec: RunSpec) -> None:  # noqa: B027 - optional hook
        """Refuse options that cannot work, before any work starts (default: nothing)."""

    @abstractmethod
    def trainer(self, model: Recommender, spec: RunSpec, device: torch.device) -> Trainer:
        """The trainer of ``model`` (built on ``spec.data``, on ``device``)."""

    def settings(self, trainer: Trainer) -> dict[str, Any]:
        """Settings added to the run's config; a checkpoint must share them to be resumed."""
        return {}

    def release(self, trainer: Trainer) -> None:  # noqa: B027 - optional hook
        """Free what ``trainer`` holds beyond the run (default: nothing)."""

    def execute(self, spec: RunSpec) -> TrainResult | None:
        """Train ``spec`` (its checks done): by default in this process."""
        from graphrec.training.api import train_here

        return train_here(spec, self)


@dataclass(frozen=True)
class FullBatch(Strategy):
    """Propagation over the whole training graph at every step (the default).

    With ``memory_cap_gb`` in :func:`~graphrec.training.train`, the full-batch memory
    estimate of :func:`graphrec.training.memory.estimate_fullbatch_memory` is checked
    first (lightgcn and relgnn only).
    """

    name = "full_batch"

    def check(self, spec: RunSpec) -> None:
        if spec.memory_cap_gb is None:
            return
        from graphrec.training.memory import check_memory
        from graphrec.training.minibatch import MINIBATCH_MODELS

        name = model_name(spec.model)
        if name not in MINIBATCH_MODELS:
            raise ValueError(
                f"--memory-cap can estimate {', '.join(MINIBATCH_MODELS)}, not {name!r}"
            )
        check_memory(spec.data, spec.memory_cap_gb, model=spec.model, model_kwargs=spec.kwargs)

    def trainer(self, model: Recommender, spec: RunSpec, device: torch.device) -> Trainer:
        return Trainer(model, spec.data, **spec.trainer_kwargs(device))


@dataclass(frozen=True)
class MiniBatch(Strategy):
    """Sampled subgraphs (PyG's ``LinkNeighborLoader``), for lightgcn and relgnn.

    Args:
        fan_outs: Neighbours sampled per node at each hop, one value per layer
            (the first for the seeds), e.g. ``[10, 5]`` or ``"10,5"``; ``-1``
            keeps all. For relgnn the fan-out applies per relation.
        num_workers: Data-loader processes that sample batches. (default: 0)
        sparse: Sparse gradients and SparseAdam for the embedding tables;
            :obj:`None` chooses by the size of a probe batch. (default: None)
    """

    fan_outs: Sequence[int] | str
    num_workers: int = 0
    sparse: bool | None = None
    name = "mini_batch"

    def check(self, spec: RunSpec) -> None:
        from graphrec.training.memory import check_memory, model_shape
        from graphrec.training.minibatch import check_fan_outs

        shape = model_shape(spec.model, spec.data, spec.kwargs)  # refuses unsupported models
        fan_outs = check_fan_outs(self.fan_outs, shape.num_layers)
        if spec.batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {spec.batch_size}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be 0 or more, got {self.num_workers}")
        resolve_device(spec.device)
        if spec.memory_cap_gb is not None:
            check_memory(
                spec.data,
                spec.memory_cap_gb,
                model=spec.model,
                model_kwargs=spec.kwargs,
                fan_outs=fan_outs,
                batch_size=spec.batch_size,
            )

    def trainer(self, model: Recommender, spec: RunSpec, device: torch.device) -> Trainer:
        from graphrec.training.minibatch import MiniBatchTrainer

        return MiniBatchTrainer(
            model,
            spec.data,
            fan_outs=self.fan_outs,
            num_workers=self.num_workers,
            sparse=self.sparse,
            progress=spec.progress,
            **spec.trainer_kwargs(device),
        )

    def settings(self, trainer: Trainer) -> dict[str, Any]:
        return {"mini_batch": {"fan_outs": trainer.fan_outs, "sparse_embeddings": trainer.sparse}}


@dataclass(frozen=True)
class Distributed(Strategy):
    """Data-parallel full-batch training in ``world_size`` processes (see
    :mod:`graphrec.training.distributed` for what is split and why it matches one process).

    Args:
        world_size: Number of processes; at most the CPUs available on CPU, or the
            visible GPUs on CUDA (process ``r`` uses ``cuda:r``). With ``launch="env"``,
            :obj:`None` accepts whatever torchrun started.
        backend: ``"auto"`` (``nccl`` on CUDA, ``gloo`` on CPU), ``"gloo"`` or ``"nccl"``.
        launch: ``"spawn"`` starts the processes from here; ``"env"`` joins a group that
            torchrun (or another ``env://`` launcher) started, reading ``RANK``,
            ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``; ``"auto"`` is ``"env"``
            when those are set, else ``"spawn"``. (default: ``"auto"``)

    A model given as an instance is trained in copies and receives the best
    weights at the end. Baselines that are not trained (``most_popular``) run in
    this process (with ``"env"``, on rank 0).
    """

    world_size: int | None = None
    backend: str = "auto"
    launch: str = "auto"
    name = "distributed"

    def check(self, spec: RunSpec) -> None:
        from graphrec.training.launch import check_launch

        check_launch(self, spec)
        FullBatch().check(spec)  # each process holds what one full-batch process does

    def execute(self, spec: RunSpec) -> TrainResult | None:
        from graphrec.training.launch import run

        return run(self, spec)

    def trainer(self, model: Recommender, spec: RunSpec, device: torch.device) -> Trainer:
        """This process's trainer; the process group (started by :meth:`execute`) says
        which rank it is."""
        import torch.distributed as dist

        from graphrec.training.distributed import DistributedTrainer

        return DistributedTrainer(
            model,
            spec.data,
            rank=dist.get_rank(),
            world_size=dist.get_world_size(),
            **spec.trainer_kwargs(device),
        )

    def settings(self, trainer: Trainer) -> dict[str, Any]:
        import torch.distributed as dist

        return {"distributed": {"world_size": dist.get_world_size(), "backend": dist.get_backend()}}

    def release(self, trainer: Trainer) -> None:
        """Drop the trainer's DDP wrapper before the process group is destroyed."""
        trainer.close()
