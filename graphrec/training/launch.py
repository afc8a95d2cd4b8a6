"""Starting the processes of a :class:`~graphrec.training.strategies.Distributed` run, or
joining those torchrun started, and bringing rank 0's result back to the caller.

Each process initialises the process group and runs
:func:`graphrec.training.api.train_here` with the strategy: the same loop as one
process, with the :class:`~graphrec.training.distributed.DistributedTrainer`.
"""

from __future__ import annotations

import os
import pickle
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphrec.models.base import Recommender
from graphrec.models.registry import resolve_model
from graphrec.training.distributed import (
    LAUNCH_VARIABLES,
    available_cpus,
    check_processes,
    choose_backend,
    launched_by_torchrun,
)
from graphrec.training.result import TrainResult
from graphrec.training.run import build_model, resolve_device
from graphrec.training.spec import RunSpec

if TYPE_CHECKING:
    from graphrec.training.strategies import Distributed

_RESULT_FILE = "result.pt"


def launch_mode(strategy: Distributed) -> str:
    """``"spawn"`` or ``"env"``: the strategy's ``launch``, ``"auto"`` resolved."""
    if strategy.launch not in ("auto", "spawn", "env"):
        raise ValueError(f"unknown launch {strategy.launch!r}; choose auto, spawn or env")
    if strategy.launch == "auto":
        return "env" if launched_by_torchrun() else "spawn"
    return strategy.launch


def check_launch(strategy: Distributed, spec: RunSpec) -> None:
    """Refuse a launch that cannot work, before any process starts."""
    device = resolve_device(spec.device)
    if launch_mode(strategy) == "spawn":
        if launched_by_torchrun():
            raise ValueError(
                "this process was started by torchrun (RANK and WORLD_SIZE are set), which "
                "already launched the processes; use Distributed(launch='env') there"
            )
        if strategy.world_size is None:
            raise ValueError("Distributed(launch='spawn') needs world_size")
        check_processes(
            strategy.world_size,
            backend=strategy.backend,
            device=device,
            batch_size=spec.batch_size,
            option="--distributed",
        )
        return
    missing = [name for name in LAUNCH_VARIABLES if name not in os.environ]
    if missing:
        raise ValueError(
            f"{', '.join(missing)} not set: Distributed(launch='env') expects to be started by "
            "torchrun; use launch='spawn' to start the processes from here"
        )
    total = int(os.environ["WORLD_SIZE"])
    if strategy.world_size is not None and strategy.world_size != total:
        raise ValueError(
            f"--distributed {strategy.world_size} does not match the {total} processes "
            "torchrun started (--nnodes x --nproc-per-node)"
        )
    check_processes(
        total,
        backend=strategy.backend,
        device=device,
        batch_size=spec.batch_size,
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", total)),
        option="torchrun --nproc-per-node",
    )


def run(strategy: Distributed, spec: RunSpec) -> TrainResult | None:
    """Train ``spec`` with ``strategy`` (checked): spawned here, or as one torchrun process."""
    from graphrec.training.api import train_here
    from graphrec.training.strategies import FullBatch

    env = launch_mode(strategy) == "env"
    model_class = type(spec.model) if isinstance(spec.model, Recommender) else spec.model
    if not resolve_model(model_class).trainable:
        # A counting baseline: nothing to distribute, it is fitted in one process.
        if env and os.environ["RANK"] != "0":
            return None
        return train_here(spec, FullBatch())
    if env:
        total = int(os.environ["WORLD_SIZE"])
        return _train_rank(
            strategy,
            spec,
            rank=int(os.environ["RANK"]),
            world_size=total,
            local_rank=int(os.environ.get("LOCAL_RANK", 0)),
            local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", total)),
        )
    return _spawn(strategy, spec)


def _spawn(strategy: Distributed, spec: RunSpec) -> TrainResult:
    world_size = strategy.world_size
    device = resolve_device(spec.device)
    with tempfile.TemporaryDirectory(prefix="graphrec-distributed-") as scratch:
        launch = (world_size, _free_port(), scratch, strategy, spec)
        try:
            mp.spawn(_spawned_rank, args=launch, nprocs=world_size, join=True)
        except (mp.ProcessRaisedException, mp.ProcessExitedException) as exc:
            error = _first_error(Path(scratch), world_size)
            if error is None:
                raise
            raise error from exc
        saved = torch.load(Path(scratch) / _RESULT_FILE, map_location="cpu", weights_only=True)

    net = build_model(spec.model, spec.data, spec.kwargs)
    net.load_state_dict(saved["state_dict"])
    return TrainResult(
        model=net.to(device),
        config=saved["config"],
        history=saved["history"],
        best_epoch=saved["best_epoch"],
        metrics=saved["metrics"],
        seconds=saved["seconds"],
        stopped_early=saved["stopped_early"],
    )


def _train_rank(
    strategy: Distributed,
    spec: RunSpec,
    *,
    rank: int,
    world_size: int,
    local_rank: int,
    local_world_size: int,
) -> TrainResult | None:
    """One process's training; the result on rank 0, :obj:`None` elsewhere."""
    from graphrec.training.api import train_here

    device = resolve_device(spec.device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    torch.set_num_threads(max(1, available_cpus() // local_world_size))
    dist.init_process_group(
        choose_backend(strategy.backend, device), rank=rank, world_size=world_size
    )
    try:
        return train_here(spec, strategy, device=device, main=rank == 0)
    finally:
        dist.destroy_process_group()


def _spawned_rank(
    rank: int, world_size: int, port: int, scratch: str, strategy: Distributed, spec: RunSpec
) -> None:
    """The body of a spawned process: rank 0 leaves its result in ``scratch``; a failing
    rank leaves its exception there."""
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    try:
        result = _train_rank(
            strategy,
            spec,
            rank=rank,
            world_size=world_size,
            local_rank=rank,
            local_world_size=world_size,
        )
    except BaseException as exc:
        _write_atomically(Path(scratch) / f"error-{rank}.pkl", _pickled_error(exc))
        raise
    if result is not None:
        payload = {
            "state_dict": {key: value.cpu() for key, value in result.model.state_dict().items()},
            "config": result.config,
            "history": result.history,
            "best_epoch": result.best_epoch,
            "metrics": result.metrics,
            "seconds": result.seconds,
            "stopped_early": result.stopped_early,
        }
        partial = Path(scratch) / f"{_RESULT_FILE}.tmp"
        torch.save(payload, partial)
        os.replace(partial, Path(scratch) / _RESULT_FILE)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pickled_error(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:  # an exception holding something unpicklable
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _first_error(scratch: Path, world_size: int) -> BaseException | None:
    """The exception of the lowest rank that left one (the others may have been stopped)."""
    for rank in range(world_size):
        path = scratch / f"error-{rank}.pkl"
        if path.exists():
            error = pickle.loads(path.read_bytes())
            if not isinstance(error, KeyboardInterrupt):
                return error
    return None


def _write_atomically(path: Path, content: bytes) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_bytes(content)
    os.replace(partial, path)
